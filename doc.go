// Package plock locks a process's memory with plock(2), the System V call
// that Linux never had, built on mlock(2) by this module's C library, which
// cgo compiles (no make step, no installed library).
//
//	if err := plock.Plock(plock.ProcLock); err != nil {
//		log.Printf("running unlocked: %v", err) // the error says what to grant
//	} else {
//		defer plock.Plock(plock.Unlock)
//	}
//
// State, Segments and Status show what is locked and what limits locking;
// LockProcess and StartLocked lock another process; Lockf is lockf(3),
// POSIX advisory locks on sections of a file.
//
// The package needs cgo on Linux. Built without cgo (CGO_ENABLED=0) or for
// another system, it compiles, and every call fails with an error that
// wraps ErrNoCgo.
//
// # Operations and state
//
// Plock(op) locks or unlocks classes of segments: text, data (with the
// stack) and shared libraries. State returns the set of classes locked:
//
//	Unlock         removes every lock Plock made   EINVAL if nothing is locked
//	ProcLock       text and data                   EINVAL if text or data is locked
//	TxtLock        text                            EINVAL if text is locked
//	DatLock        data                            EINVAL if data is locked
//	ShlibLock      shared libraries                EINVAL if they are locked, or the
//	                                               program has none (a static binary)
//	ProcShlibLock  ProcLock and ShlibLock          EINVAL if text, data or shlib is locked
//	TxtShlibLock   TxtLock and ShlibLock           EINVAL if text or shlib is locked
//	DatShlibLock   DatLock and ShlibLock           EINVAL if data or shlib is locked
//
// Any other value is EINVAL. TxtLock then DatLock, in either order, is the
// state ProcLock makes. EINVAL is decided from the state alone, before any
// system call. A call that fails changes nothing: the state, and which pages
// are locked, are as before it. The values are those of <sys/lock.h>.
//
// Locks are not inherited by child processes, and exec ends them. Plock is
// safe to call from any goroutine; calls are serialised.
//
// # Errors
//
// A failed Plock returns an *Error. It wraps the syscall.Errno (EINVAL,
// EPERM, which is fs.ErrPermission, or ENOMEM), and it carries the Reason
// the C library decided where it decided the outcome, with what it measured
// (the RLIMIT_MEMLOCK the call needs, the limit, CAP_IPC_LOCK). Its message
// says what would make the call succeed.
//
// # What each class means on Linux
//
// The classes come from /proc/self/smaps, through the one classifier of the
// C library; Segments shows its result for every mapping:
//
//   - text (ClassText): the private, non-writable mappings of the program
//     itself.
//   - data (ClassData, ClassStack): the program's private writable
//     mappings, [heap], [stack], and private anonymous memory: in a Go
//     program the whole Go heap, goroutine and thread stacks, and the
//     runtime's tables.
//   - shlib (ClassShlibText, ClassShlibData): private mappings of every
//     other file mapped executable, such as libc and the dynamic loader. A
//     Go program built with cgo has them.
//   - never locked (ClassOther): shared mappings, mappings of other files,
//     [vdso] and [vvar].
//
// Text and shared libraries are locked eagerly: when Plock returns, every
// page is resident and locked. Anonymous memory is locked on fault
// (MLOCK_ONFAULT): pages present are locked at once, pages touched later
// when touched, and nothing untouched is allocated, because the Go runtime
// reserves far more address space than it uses.
//
// A data lock also locks later growth, with mlockall(MCL_FUTURE|MCL_ONFAULT).
// MCL_FUTURE applies to new mappings only, not to memory reserved PROT_NONE
// and opened later with mprotect (glibc's per-thread malloc arenas, which the
// runtime's cgo threads use, grow that way). So private anonymous PROT_NONE
// reservations are data and are locked themselves, on fault: they cost no
// memory until touched, but RLIMIT_MEMLOCK counts them at their full size (a
// glibc thread arena reserves 64 MiB). Unlock releases everything Plock
// locked and ends MCL_FUTURE.
//
// # Privilege, RLIMIT_MEMLOCK and the Go runtime
//
// A process with CAP_IPC_LOCK may lock any amount. Without it, everything
// locked counts against RLIMIT_MEMLOCK (often 8 MiB), and Linux counts a
// mapping locked on fault at its full size, touched or not. Plock fails with
// EPERM when the limit is 0, and with ENOMEM when the pages do not fit.
// Status reports what applies: VmLck, the limit, CAP_IPC_LOCK, whether later
// growth is locked, and the Headroom left.
//
// While MCL_FUTURE is on, Linux checks every new mapping against the limit,
// and a new thread's stack (8 MiB) counts whole. The Go runtime cannot
// survive a refused mapping: it ends the program with exit status 2 and one
// of
//
//	fatal error: runtime: cannot map pages in arena address space
//	fatal error: out of memory
//	runtime: mmap: too much locked memory (check 'ulimit -l').
//	runtime/cgo: pthread_create failed: Resource temporarily unavailable
//
// (measured on Linux 6.18 with Go 1.26), at its next heap growth or the next
// thread it starts, which it does by itself. So in this package a data lock
// (DatLock, ProcLock, DatShlibLock, ProcShlibLock) by a process without
// CAP_IPC_LOCK whose RLIMIT_MEMLOCK is finite fails with ENOMEM, changing
// nothing, with ReasonStrict (the C library's PLOCK_STRICT_FUTURE). Text and
// shared-library locks are not affected: a process without privilege can
// still lock its code with TxtShlibLock, which costs a few MiB.
//
// To lock data from Go, give the process CAP_IPC_LOCK (setcap
// cap_ipc_lock+ep on the binary; AmbientCapabilities=CAP_IPC_LOCK in a
// systemd unit; --cap-add IPC_LOCK for a container), or an unlimited
// RLIMIT_MEMLOCK (LimitMEMLOCK=infinity; ulimit -l unlimited).
//
// Do not lock data as root and then drop privileges: the lock stays, now
// counted against the limit of the unprivileged user, and the runtime's
// next mapping fails (measured: VmLck about 109 MiB under an 8 MiB limit,
// and "fatal error: runtime: cannot map pages in arena address space" at
// the next heap growth). Keep CAP_IPC_LOCK across the change of user (as
// an ambient capability), lock only text and shared libraries, or Unlock
// first.
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
// are advisory, belong to the process rather than to a descriptor or
// goroutine (they never conflict within one process), and are all released
// when the process closes any descriptor of the file. LockfContext waits
// like LockfLock but gives up when its context ends; it polls, so a waiting
// goroutine holds no thread.
package plock
