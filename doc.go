// Package plock locks a process's segments in memory with plock(2), the
// System V call that Linux never had, built on mlock(2) by this module's C
// library (cgo compiles it: no make step, no installed library). It also
// locks another running process, and has lockf(3).
//
//	if err := plock.Plock(plock.ProcLock); err != nil {
//		log.Printf("running unlocked: %v", err) // says what to grant
//	}
//	defer plock.Plock(plock.Unlock)
//
// Errors are *Error values that wrap syscall.Errno, so errors.Is(err,
// syscall.EINVAL) and, for EPERM, errors.Is(err, fs.ErrPermission) hold;
// Error.Reason says why the C library refused the call, and the message what
// would make it succeed. The package needs cgo on Linux; built without it,
// every call returns ErrNoCgo.
//
// The contract, with the reason for each rule, is docs/CONTRACT.md in the
// module; the sections below are what a Go program needs of it.
//
// # Operations and state
//
// Plock(op) locks the classes of segments that op names, which
// op.Classes() returns (ProcLock: text and data, with the stack); Unlock
// removes every lock Plock made. The process's state is the set of classes
// locked, which State returns. An op that would lock a class locked already
// is EINVAL, and so is Unlock with nothing locked, and a shared-library op in
// a program that has no shared objects. What each op locks is the C
// library's one table (plock_op_classes); docs/CONTRACT.md, section 1, is its
// statement in words.
//
// A value that is no op is EINVAL too; every EINVAL is decided from the state
// alone, before any system call. TxtLock then DatLock is the state ProcLock makes. A call that fails
// changes nothing: the state, the pages locked, what the program locked
// itself and its own mlockall(MCL_FUTURE) are as before. Locks are not
// inherited by child processes, and exec ends them. Plock is safe from any
// goroutine; calls are serialised.
//
// # What each class means on Linux
//
// The classes come from /proc/self/maps, through the C library's one
// classifier; Segments shows its result for every mapping:
//
//   - text (ClassText): private, non-writable mappings of the program itself.
//   - data (ClassData, ClassStack): the program's private writable mappings,
//     [heap], [stack], and private anonymous memory, writable or PROT_NONE:
//     the Go heap, goroutine and thread stacks, the runtime's tables, and the
//     reservations that glibc's thread arenas grow into with mprotect, which
//     MCL_FUTURE does not reach. Linux counts a reservation against
//     RLIMIT_MEMLOCK at its full size (a glibc thread arena reserves 64 MiB).
//   - shlib (ClassShlibText, ClassShlibData): private mappings of every other
//     file mapped executable: libc, the dynamic loader. A cgo program has them.
//   - never locked (ClassOther): shared mappings, other files, file-backed
//     PROT_NONE, [vdso], [vvar], and what the kernel never locks.
//
// Files are locked eagerly: when Plock returns, their pages are resident.
// Anonymous memory is locked on fault (MLOCK_ONFAULT): pages present are
// locked at once, pages touched later when touched, and nothing untouched is
// allocated, because the Go runtime reserves far more address space than it
// uses. A data lock also locks later growth (mlockall(MCL_FUTURE|MCL_ONFAULT)).
// Unlock releases everything Plock locked and ends MCL_FUTURE.
//
// # Privilege, RLIMIT_MEMLOCK and the Go runtime
//
// A process with CAP_IPC_LOCK may lock any amount. Without it, everything
// locked counts against RLIMIT_MEMLOCK (often 8 MiB), whole mappings at a
// time. Plock fails with EPERM when the limit is 0, and with ENOMEM when the
// pages do not fit; Error.Need says how much would. Status reports VmLck, the
// limit, CAP_IPC_LOCK and the Headroom left.
//
// While MCL_FUTURE is on, Linux checks every new mapping against the limit,
// and a new thread's stack counts at its whole 8 MiB. The Go runtime cannot
// survive a refused mapping: measured on Linux 6.18 with Go 1.26, it ends
// the program with "fatal error: runtime: cannot map pages in arena address
// space", "fatal error: out of memory", "runtime: mmap: too much locked
// memory" or "runtime/cgo: pthread_create failed", depending on what is
// refused first, and it starts threads by itself. So in this package a data
// lock (DatLock, ProcLock, DatShlibLock, ProcShlibLock) by a process without
// CAP_IPC_LOCK whose RLIMIT_MEMLOCK is finite fails with ENOMEM and changes
// nothing (Reason "strict"). Text and shared-library locks are not affected:
// TxtShlibLock locks a program's code for a few MiB.
//
// To lock data from Go, give the process CAP_IPC_LOCK (setcap
// cap_ipc_lock+ep; AmbientCapabilities=CAP_IPC_LOCK; --cap-add IPC_LOCK), or
// an unlimited RLIMIT_MEMLOCK (LimitMEMLOCK=infinity). Do not lock data as
// root and then drop privileges: the locks stay, counted against the new
// user's limit, and the runtime dies at its next heap growth (measured).
// Keep CAP_IPC_LOCK across the change, or Unlock first.
//
// # Other processes
//
// LockProcess(pid, op) gives a running process op's locks, UnlockProcess(pid)
// removes them, and StartLocked starts a command locked from its entry
// point. Linux has no call that locks another process's memory, so the C
// library stops one thread of the process with ptrace (the others run on),
// makes it execute the mlock2 and mlockall calls itself, and lets it go as
// after a SIGSTOP/SIGCONT pair: a call it was blocked in returns what it
// returns after such a pair (read, nanosleep and futex waits restart). Its
// registers, signal mask and memory are as they were, even if the caller
// is killed mid-call; an rseq critical section is aborted as the kernel
// would; a call the process's seccomp filter forbids is never made
// (ReasonSeccomp). That needs the permission to trace it; the error says
// which is missing. A Go target gets the rule above.
//
// # lockf
//
// Lockf(fd, cmd, length) is POSIX lockf(3) on the section of the open file fd
// that starts at its current offset and spans length bytes (0: to the end of
// the file and beyond; negative: the bytes before the offset). LockfTryLock
// and LockfTest fail with EACCES or EAGAIN (test for both) while another
// process holds any part of it; LockfLock waits, and LockfContext waits until
// its context ends. The locks are advisory, belong to the process, and are
// all released when it closes any descriptor of the file.
package plock
