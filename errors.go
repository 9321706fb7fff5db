package plock

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"

	"github.com/cplock/plock/internal/bytesize"
	"github.com/cplock/plock/internal/remedy"
)

// ErrNoCgo is the error of every call of a build without cgo or for a
// system other than Linux: plock compiles its C library with cgo, on Linux
// only. It wraps syscall.ENOSYS.
var ErrNoCgo error = noCgoError{}

type noCgoError struct{}

func (noCgoError) Error() string {
	return "plock: not available in this build: it needs cgo (CGO_ENABLED=1 and a C compiler) on Linux"
}

func (noCgoError) Unwrap() error { return syscall.ENOSYS }

// Reason says why a call failed, as the C library decided it: the
// PLOCK_WHY_* values of <plock.h>. Each comes with one errno.
type Reason int

// The reasons.
const (
	ReasonNone        Reason = 0  // the call succeeded
	ReasonBadOp       Reason = 1  // EINVAL: no operation of <sys/lock.h>
	ReasonLocked      Reason = 2  // EINVAL: Error.Classes are locked already
	ReasonNothing     Reason = 3  // EINVAL: Unlock, and nothing is locked
	ReasonNoShlib     Reason = 4  // EINVAL: a shared-library op, and the program has none
	ReasonVfork       Reason = 5  // EINVAL: called between vfork and exec
	ReasonStrict      Reason = 6  // ENOMEM: a data lock of a Go program under a finite limit, refused
	ReasonZeroLimit   Reason = 7  // EPERM: RLIMIT_MEMLOCK is 0 and no CAP_IPC_LOCK
	ReasonLimit       Reason = 8  // ENOMEM: Error.Need does not fit under Error.Memlock
	ReasonNoMem       Reason = 9  // ENOMEM: no limit applies, but the system could not lock Error.Need
	ReasonNoProc      Reason = 10 // /proc/PID/maps could not be read (no /proc)
	ReasonGone        Reason = 11 // ESRCH: no such process, or it exited
	ReasonPtrace      Reason = 12 // EPERM: the kernel refused to let the caller trace the process
	ReasonUnsupported Reason = 13 // ENOSYS: locking another process is not supported on this architecture
	ReasonSystem      Reason = 14 // Error.Err from the kernel, none of the above
	ReasonSeccomp     Reason = 15 // EPERM: the process's seccomp filter forbids a call the lock needs
	ReasonExec        Reason = 16 // ESRCH: the process executed a new program during the call
	numReasons               = 17
)

// String returns the C library's name of r without its prefix, in lower
// case ("locked", "limit", ...), and "?" for any other value.
func (r Reason) String() string { return reasonName(r) }

// ptraceCause is why the kernel refused to trace a process: the
// PLOCK_PTRACE_* values of <plock.h>.
type ptraceCause int

const (
	ptraceUnknown   ptraceCause = 0
	ptraceSelf      ptraceCause = 1
	ptraceKthread   ptraceCause = 2
	ptraceExiting   ptraceCause = 3
	ptraceTraced    ptraceCause = 4
	ptraceOtherUser ptraceCause = 5
	ptraceCaps      ptraceCause = 6
	ptraceNodump    ptraceCause = 7
	ptraceYama      ptraceCause = 8
	ptraceSeccomp   ptraceCause = 9
	numPtraceCauses             = 10
)

// reasonRollback is PLOCK_REASON_ROLLBACK, a bit of plock_reason.flags.
const reasonRollback = 1

// Error is the error of a failed Plock, LockProcess or StartLocked: what
// the C library reported. It wraps the syscall.Errno, so errors.Is(err,
// syscall.EINVAL) and, for EPERM, errors.Is(err, fs.ErrPermission) hold.
// Its message says why the call failed and what would make it succeed.
//
// The error of a call that the state refused (EINVAL, with no system call)
// is made once and shared by the calls refused the same way: read an
// Error, do not modify it.
type Error struct {
	Op     Op            // the operation that failed
	PID    int           // the process; 0 for the caller
	Err    syscall.Errno // EINVAL, EPERM, ENOMEM, ESRCH, ...
	Reason Reason        // why

	// Classes, for ReasonLocked, are the classes locked already;
	// otherwise the classes Op locks.
	Classes Classes

	// For ReasonZeroLimit, ReasonLimit, ReasonNoMem and ReasonStrict:
	// Need is the bytes RLIMIT_MEMLOCK must allow (VmLck plus every
	// mapping Op would lock that is not locked), VmLck what was locked
	// before the call, Memlock the RLIMIT_MEMLOCK soft limit (or
	// Unlimited), CapIPCLock whether the process has CAP_IPC_LOCK.
	Need       uint64
	VmLck      uint64
	Memlock    uint64
	CapIPCLock bool

	// Unrestored is the bytes that were locked before the call and that
	// the kernel refused to lock again when the call undid its work
	// (0 when the rollback was complete).
	Unrestored uint64

	cause  ptraceCause // ReasonPtrace: why
	detail int         // ReasonPtrace: the tracer's pid, or Yama's ptrace_scope;
	// ReasonSeccomp: the forbidden system call's number, or -1 (unreadable filter)
}

func (e *Error) Error() string {
	s := "plock " + e.Op.String()
	if e.PID != 0 {
		s += fmt.Sprintf(" on process %d", e.PID)
	}
	s += ": " + e.Err.Error()
	if h := e.hint(); h != "" {
		s += ": " + h
	}
	if e.Unrestored != 0 {
		s += fmt.Sprintf("; undoing the call, the kernel refused to lock again %s that "+
			"were locked before it: they are unlocked now", bytesize.Format(e.Unrestored))
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// subject names the process of e in a sentence.
func (e *Error) subject() string {
	if e.PID == 0 {
		return "this process"
	}
	return fmt.Sprintf("process %d", e.PID)
}

// hint says why e's call failed and what would make it succeed.
func (e *Error) hint() string {
	switch e.Reason {
	case ReasonBadOp:
		return "not an operation of <sys/lock.h>"
	case ReasonLocked:
		return e.Classes.String() + " is locked already: Plock(Unlock) first"
	case ReasonNothing:
		return "nothing is locked"
	case ReasonNoShlib:
		return e.subject() + " has no shared libraries (a static executable)"
	case ReasonVfork:
		return "called between vfork and exec, in memory that belongs to the parent: " +
			"lock after exec, or in the parent"
	case ReasonStrict:
		return fmt.Sprintf("%s is a Go program, and a data lock also locks all its later heap "+
			"growth (mlockall MCL_FUTURE): without CAP_IPC_LOCK under RLIMIT_MEMLOCK %s the "+
			"Go runtime would abort it (\"fatal error: runtime: cannot map pages in arena "+
			"address space\") once its memory outgrows the limit; %s, %s, or lock only text "+
			"and shared libraries (TxtShlibLock)",
			e.subject(), bytesize.Format(e.Memlock), remedy.GrantIPCLock, remedy.Unlimited)
	case ReasonZeroLimit:
		return fmt.Sprintf("RLIMIT_MEMLOCK is 0 and %s lacks CAP_IPC_LOCK: %s, or %s",
			e.subject(), remedy.Raise(e.Need, e.PID), remedy.GrantIPCLock)
	case ReasonLimit:
		return fmt.Sprintf("%s would be locked, RLIMIT_MEMLOCK is %s: %s, or %s",
			bytesize.Format(e.Need), bytesize.Format(e.Memlock), remedy.Raise(e.Need, e.PID),
			remedy.GrantIPCLock)
	case ReasonNoMem:
		return fmt.Sprintf("no limit applies, but the system could not lock %s more (%s "+
			"would be locked): free memory, or lock less (TxtLock locks the least)",
			bytesize.Format(e.Need-min(e.VmLck, e.Need)), bytesize.Format(e.Need))
	case ReasonNoProc:
		return "/proc/PID/maps of " + e.subject() + " cannot be read: plock needs /proc mounted " +
			"(mount -t proc proc /proc)"
	case ReasonGone:
		return "no such process (or it exited)"
	case ReasonPtrace:
		return "the kernel refused to let this process trace it: " + ptraceHint(e.cause, e.detail)
	case ReasonUnsupported:
		return "locking another process is not supported on " + runtime.GOARCH + " yet"
	case ReasonSeccomp:
		if e.detail < 0 {
			return e.subject() + " runs under a seccomp filter, which only CAP_SYS_ADMIN may " +
				"read, so nothing was done: run as root, or, if you know the filter allows " +
				"mlock2, mlock, munlock, mlockall and munlockall, pass SeccompUnchecked " +
				"(cplock --seccomp-unchecked); a filter that kills on them kills the process"
		}
		return "the process's seccomp filter forbids " + syscallName(e.detail) +
			", which the lock needs; nothing was done (a sandbox such as systemd's " +
			"SystemCallFilter=~@memlock: allow @memlock for it)"
	case ReasonExec:
		return e.subject() + " executed a new program meanwhile, which ended every lock " +
			"of the old one; lock it again"
	}
	return ""
}

// ptraceHint says why the kernel refused to let the caller trace a process,
// and how to grant it: the C library reports which case it is.
func ptraceHint(cause ptraceCause, detail int) string {
	switch cause {
	case ptraceSelf:
		return "a process cannot trace itself: call Plock (plock(3)) in it instead"
	case ptraceKthread:
		return "it is a kernel thread, which has no memory of its own to lock"
	case ptraceExiting:
		return "it is exiting"
	case ptraceTraced:
		return fmt.Sprintf("process %d traces it (or one of its threads) already (a "+
			"debugger, strace?): detach that first", detail)
	case ptraceOtherUser:
		return "it runs as another user (or group), and tracing it needs CAP_SYS_PTRACE: " +
			"run as that user, or as root (sudo), or grant CAP_SYS_PTRACE " +
			"(setcap cap_sys_ptrace+ep on the program, AmbientCapabilities=CAP_SYS_PTRACE)"
	case ptraceCaps:
		return "it has capabilities that the caller lacks, and tracing it needs " +
			"CAP_SYS_PTRACE: run as root (sudo) or grant CAP_SYS_PTRACE"
	case ptraceNodump:
		return "it is not dumpable (it runs a set-user-ID or file-capability program, or " +
			"called prctl(PR_SET_DUMPABLE, 0)), and only CAP_SYS_PTRACE may trace it: " +
			"run as root (sudo) or grant CAP_SYS_PTRACE"
	case ptraceYama:
		switch detail {
		case 1:
			return "Yama's kernel.yama.ptrace_scope is 1: a process may trace only its own " +
				"descendants. Start the program locked instead (cplock run), run as root " +
				"or with CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep), or allow it for all " +
				"(sysctl kernel.yama.ptrace_scope=0)"
		case 2:
			return "Yama's kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may trace: " +
				"run as root (sudo) or grant CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep)"
		}
		return "Yama's kernel.yama.ptrace_scope is 3: no process may be traced until the " +
			"next boot; have the program call plock(3) itself"
	case ptraceSeccomp:
		return "the caller runs under a seccomp filter that refuses ptrace (a container's " +
			"default profile?): allow ptrace (docker run --cap-add SYS_PTRACE, or a " +
			"seccomp profile that permits it)"
	}
	return "a security module such as SELinux or AppArmor? Allow ptrace for the caller"
}

// ProcError is the error of SegmentsOf and StatusOf.
type ProcError struct {
	What string // "segments" or "status"
	PID  int
	Err  error // a syscall.Errno
}

func (e *ProcError) Error() string {
	who := "this process"
	if e.PID != 0 {
		who = fmt.Sprintf("process %d", e.PID)
	}
	s := fmt.Sprintf("plock: %s of %s: %v", e.What, who, e.Err)
	switch {
	case errors.Is(e.Err, syscall.ESRCH):
		s += ": no such process"
	case errors.Is(e.Err, syscall.EACCES), errors.Is(e.Err, syscall.EPERM):
		s += ": reading its /proc/PID/smaps needs its user ID or root"
	}
	return s
}

func (e *ProcError) Unwrap() error { return e.Err }

func procError(what string, pid int, err error) error {
	if err == nil {
		err = syscall.EIO
	}
	return &ProcError{What: what, PID: pid, Err: err}
}
