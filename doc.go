// Package plock locks a process's segments in memory, with the System V
// plock(2) call that Linux never had, built on mlock(2) by the C library of
// this module (cgo compiles it; no make step, no installed library).
//
//	if err := plock.Plock(plock.ProcLock); err != nil {
//		log.Printf("running unlocked: %v", err)
//	}
//	defer plock.Plock(plock.Unlock)
//
// It also has lockf(3), POSIX advisory locks on sections of a file, with a
// context-aware wait (LockfContext).
//
// # Operations and state
//
// Plock(op) locks or unlocks classes of segments. The process's state is
// the set of classes locked, which State returns as an OR of TxtLock,
// DatLock and ShlibLock:
//
//	Unlock         removes every lock Plock made        EINVAL if nothing is locked
//	ProcLock       text and data (with the stack)       EINVAL if text or data is locked
//	TxtLock        text                                 EINVAL if text is locked
//	DatLock        data (with the stack)                EINVAL if data is locked
//	ShlibLock      shared-library text and data         EINVAL if shlib is locked, or there
//	                                                    are no shared libraries (static binary)
//	ProcShlibLock  ProcLock and ShlibLock               EINVAL if text, data or shlib is locked
//	TxtShlibLock   TxtLock and ShlibLock                EINVAL if text or shlib is locked
//	DatShlibLock   DatLock and ShlibLock                EINVAL if data or shlib is locked
//
// Any other value is EINVAL. TxtLock then DatLock, in either order, is the
// state ProcLock makes. EINVAL is decided from the state alone, before any
// system call. A call that fails changes nothing: the state, and which pages
// are locked, are as before it (what it had locked is unlocked again).
// The values are those of <sys/lock.h>: Unlock..DatLock as on SVR4, Solaris,
// AIX and IRIX; the shared-library ones are bit compositions.
//
// Locks are not inherited by child processes, and exec ends them. Plock is
// safe to call from any goroutine; calls are serialised.
//
// # What each class means on Linux
//
// The classes come from /proc/self/smaps, through the one classifier of the
// C library; Segments shows its result for every mapping:
//
//   - text (ClassText): the private, non-writable mappings of the program
//     itself (the file that holds the program headers, even when it was
//     started through the dynamic loader).
//   - data (ClassData, ClassStack): the program's private writable
//     mappings, [heap], [stack], and private writable anonymous memory. In
//     a Go program that is the whole Go heap, goroutine and thread stacks,
//     and the runtime's own tables.
//   - shlib (ClassShlibText, ClassShlibData): private mappings of every
//     other file mapped executable: libc, the dynamic loader, and so on. A
//     Go program built with cgo (this package's users are) has them.
//   - never locked (ClassOther): shared mappings, mappings of other files,
//     PROT_NONE reservations, [vdso] and [vvar].
//
// Text and shared libraries are locked eagerly: when Plock returns, every
// page is resident and locked. Anonymous memory is locked on fault
// (MLOCK_ONFAULT): pages present are locked at once, pages touched later are
// locked when touched, and nothing untouched is allocated, because the Go
// runtime reserves far more address space than it uses. Touch a buffer
// before or after locking if it must never fault.
//
// A data lock also locks later growth, with mlockall(MCL_FUTURE|MCL_ONFAULT):
// new mappings are locked as they are touched. Text and shared-library locks
// cover the mappings present at the call. Unlock releases everything Plock
// locked and ends MCL_FUTURE.
//
// MCL_FUTURE applies to new mappings only, not to memory reserved PROT_NONE
// and opened later with mprotect (glibc's per-thread malloc arenas, which the
// runtime's cgo threads use, grow that way). So private anonymous PROT_NONE
// reservations are data and are locked themselves, on fault: they cost no
// memory until touched, but RLIMIT_MEMLOCK counts them at their full size (a
// glibc thread arena reserves 64 MiB).
//
// # Privilege, RLIMIT_MEMLOCK and MCL_FUTURE
//
// A process with CAP_IPC_LOCK may lock any amount. Without it, everything
// locked counts against RLIMIT_MEMLOCK (often 8 MiB; ulimit -l), and Linux
// counts a mapping locked on fault at its full size, touched or not. Plock
// fails with EPERM (errors.Is(err, fs.ErrPermission)) when the limit is 0,
// and with ENOMEM when the pages do not fit; the error says what limit
// would do.
//
// Status reports what applies to the process: VmLck (what the kernel counts
// as locked), the limit, whether CAP_IPC_LOCK is in effect, whether later
// growth is locked, and Headroom, the bytes that may still be locked
// (limit - VmLck, or Unlimited with CAP_IPC_LOCK or no limit).
//
// While MCL_FUTURE is on, Linux checks every new mapping against the limit
// (mmap fails with EAGAIN past it), and a new thread's stack, 8 MiB, counts
// at its whole size. In C, malloc returns NULL and pthread_create fails with
// EAGAIN. The Go runtime cannot survive that: it ends the program, with exit
// status 2 and, measured on Linux 6.18 with Go 1.26, one of
//
//	fatal error: runtime: cannot map pages in arena address space
//	fatal error: out of memory
//	runtime: mmap: too much locked memory (check 'ulimit -l').
//	runtime/cgo: pthread_create failed: Resource temporarily unavailable
//
// depending on which mapping is refused first: its heap (the first is by
// far the most common when the program allocates), its own metadata, or the
// stack of an OS thread it starts. The runtime starts threads by itself, when
// a goroutine is runnable while another sits in a system call, so even a
// program that allocates nothing dies soon. So in this package a data lock (DatLock, ProcLock,
// DatShlibLock, ProcShlibLock) by a process without CAP_IPC_LOCK whose
// RLIMIT_MEMLOCK is finite fails with ENOMEM and changes nothing, and the
// error says why (the C library's plock_flags with PLOCK_STRICT_FUTURE).
// With a limit of 0, EPERM comes first. Text and shared-library locks are
// not affected: a program without privilege can still lock its code with
// TxtShlibLock, which costs a few MiB.
//
// (Without that refusal an unprivileged Go program would rarely get as far
// as the abort anyway: its data is tens of MiB of address space from the
// start, 32 MiB of it the runtime's heap-arena index in .bss on linux/amd64,
// so the data lock itself fails with ENOMEM under any small limit. Under a
// large finite limit it would succeed, and the program would die later.)
//
// To lock data from Go, give the process CAP_IPC_LOCK (setcap
// cap_ipc_lock+ep on the binary; AmbientCapabilities=CAP_IPC_LOCK in a
// systemd unit; --cap-add IPC_LOCK for a container), or an unlimited
// RLIMIT_MEMLOCK (LimitMEMLOCK=infinity; ulimit -l unlimited).
//
// Do not lock data as root and then drop privileges. The lock stays, now
// counted against the limit of the unprivileged user, and everything the
// runtime maps afterwards fails: measured, a program that did Plock(DatLock)
// as root under an 8 MiB limit and then set its uid to 65534 had VmLck of
// about 109 MiB, a Headroom of 0, and died at its next heap growth with
// "fatal error: runtime: cannot map pages in arena address space". Keep
// CAP_IPC_LOCK across the change of user (as an ambient capability), or lock
// only text and shared libraries, or Unlock before dropping privileges.
// When FutureLocked is true, check Status().Headroom before memory-hungry
// work.
//
// # lockf
//
// Lockf(fd, cmd, length) is POSIX lockf(3): LockfLock, LockfTryLock,
// LockfTest and LockfUnlock (F_LOCK, F_TLOCK, F_TEST, F_ULOCK) on the
// section of the open file fd that starts at its current offset and spans
// length bytes; 0 means to the end of the file and beyond, a negative length
// the bytes before the offset. Seek to a record before locking it.
//
// LockfTryLock and LockfTest fail with EACCES or EAGAIN (test for both) while
// another process holds any part of the section; LockfLock waits. The locks
// are advisory (they bind only processes that use them), belong to the
// process rather than to a descriptor or goroutine (they never conflict
// within one process), and are all released when the process closes any
// descriptor of the file, not only the one it locked through.
//
// LockfContext(ctx, fd, length) waits for the lock like LockfLock but gives
// up when ctx ends, returning ctx.Err() (context.DeadlineExceeded for a
// timeout). It polls with LockfTryLock, so a waiting goroutine holds no
// thread.
package plock
