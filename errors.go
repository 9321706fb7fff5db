package plock

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/cplock/plock/internal/bytesize"
)

// Reason is why a call of Plock (or LockProcess) failed, as the C library
// decided it where it decided the outcome (struct plock_reason of
// <plock.h>). Each reason comes with one errno, named below.
type Reason int

// The reasons.
const (
	ReasonBadOp       Reason = 1  // EINVAL: no operation of <sys/lock.h>
	ReasonLocked      Reason = 2  // EINVAL: Error.Classes are locked already
	ReasonNothing     Reason = 3  // EINVAL: Unlock, and nothing is locked
	ReasonNoShlib     Reason = 4  // EINVAL: a shared-library lock, and the program has none (static)
	ReasonVfork       Reason = 5  // EINVAL: called between vfork and exec, in the parent's memory
	ReasonStrict      Reason = 6  // ENOMEM: a data lock refused for the Go runtime's sake
	ReasonZeroLimit   Reason = 7  // EPERM: RLIMIT_MEMLOCK is 0, and no CAP_IPC_LOCK
	ReasonLimit       Reason = 8  // ENOMEM: Error.Need bytes do not fit under RLIMIT_MEMLOCK
	ReasonNoMem       Reason = 9  // ENOMEM: no limit applies, but the system could not lock Error.Need bytes
	ReasonNoProc      Reason = 10 // ENOENT, EACCES...: /proc/PID/maps cannot be read (no /proc)
	ReasonGone        Reason = 11 // ESRCH: no such process, or it exited
	ReasonPtrace      Reason = 12 // EPERM: the kernel refused to let the caller trace the process
	ReasonUnsupported Reason = 13 // ENOSYS: locking another process is not supported on this architecture
	ReasonSystem      Reason = 14 // any errno: the kernel refused, for none of the reasons above
)

// Bits of struct plock_reason's flags.
const (
	reasonRollback = 1 // PLOCK_REASON_ROLLBACK: the kernel refused a step of the rollback
)

// Error is the error of a failed Plock, LockProcess or StartLocked. It wraps
// the syscall.Errno, so errors.Is(err, syscall.EINVAL) holds, and for EPERM
// errors.Is(err, fs.ErrPermission). Its message says why the call failed
// and what would make it succeed; its fields say the same for a program.
//
// The error of a call that the state refused (EINVAL, with no system call)
// is made once and shared by the calls refused the same way: read an
// Error, do not modify it.
type Error struct {
	Op     Op            // the operation that failed
	PID    int           // the process it was applied to; 0 for the caller
	Err    syscall.Errno // EINVAL, EPERM, ENOMEM, ESRCH, ...
	Reason Reason        // why, as the C library decided it

	// Classes are the classes in the way (ReasonLocked), or else the
	// classes Op locks.
	Classes Classes

	// Need is the RLIMIT_MEMLOCK that the call needs, in bytes: what is
	// locked already plus what Op would lock (ReasonZeroLimit,
	// ReasonLimit, ReasonNoMem, ReasonStrict).
	Need       uint64
	VmLck      uint64 // bytes the kernel counted as locked before the call
	Memlock    uint64 // the RLIMIT_MEMLOCK soft limit, or Unlimited
	CapIPCLock bool   // the process has CAP_IPC_LOCK

	// RollbackFailed says that the kernel refused a step of undoing the
	// call itself, so the call did change something: Unrestored bytes
	// that were locked before it are not locked any more. State and
	// Segments say what is locked now.
	RollbackFailed bool
	Unrestored     uint64

	// ReasonPtrace: why the kernel refused to let the caller trace the
	// process (PLOCK_PTRACE_*), and its detail. Kept as numbers, so that
	// an Error holds no pointer and costs the garbage collector nothing.
	ptraceCause, ptraceDetail int32
}

func (e *Error) Error() string {
	s := "plock " + e.Op.String()
	if e.PID != 0 {
		s += " on process " + strconv.Itoa(e.PID)
	}
	s += ": " + e.Err.Error()
	if h := e.hint(); h != "" {
		s += ": " + h
	}
	if e.RollbackFailed {
		s += "; and undoing it, the kernel refused a step too: " + bytesize.Format(e.Unrestored) +
			" that was locked before the call is not locked any more"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// hint says why the call failed and what would make it succeed.
func (e *Error) hint() string {
	switch e.Reason {
	case ReasonBadOp:
		return "not an operation of <sys/lock.h>"
	case ReasonLocked:
		return e.Classes.String() + " is locked already: Unlock first"
	case ReasonNothing:
		return "nothing is locked"
	case ReasonNoShlib:
		return e.who("the program has", "process %d has") +
			" no shared libraries (a static executable, and nothing dlopen()ed)"
	case ReasonVfork:
		return "called between vfork and exec, in memory that belongs to the parent: " +
			"lock after exec, or in the parent"
	case ReasonStrict:
		return e.who("", "process %d is a Go program, and ") + goRuntimeRule(e.Memlock) +
			": " + e.grantCap() + ", " + e.unlimited() +
			", or lock only text and shared libraries (TxtShlibLock)"
	case ReasonZeroLimit:
		s := e.who("RLIMIT_MEMLOCK is 0 and the process lacks CAP_IPC_LOCK: ",
			"process %d's RLIMIT_MEMLOCK is 0 and it lacks CAP_IPC_LOCK: ")
		if e.PID == 0 && e.Classes&Data != 0 {
			// Plock's data lock needs one of these (ReasonStrict).
			return s + e.grantCap() + " or " + e.unlimited()
		}
		return s + e.raise() + " or " + e.grantCap()
	case ReasonLimit:
		return bytesize.Format(e.Need) + " would be locked and " +
			e.who("RLIMIT_MEMLOCK", "process %d's RLIMIT_MEMLOCK") + " is " +
			bytesize.Format(e.Memlock) + ": " + e.raise() + " or " + e.grantCap()
	case ReasonNoMem:
		more := e.Need
		if e.VmLck < more {
			more -= e.VmLck
		}
		return "no limit applies, but the system could not lock " + bytesize.Format(more) +
			" more (" + bytesize.Format(e.Need) + " in all): free memory, or lock less " +
			"(TxtLock locks the least)"
	case ReasonNoProc:
		return e.who("/proc/self/maps", "/proc/%d/maps") + " cannot be read: " +
			"plock needs /proc (mount -t proc proc /proc)"
	case ReasonGone:
		return "it exited, or never existed"
	case ReasonPtrace:
		return ptraceMessage(e.ptraceCause, e.ptraceDetail)
	case ReasonUnsupported:
		return "locking another process is not supported on " + runtime.GOARCH + " yet"
	}
	return ""
}

// who returns self for the caller, and other with "%d" replaced by the PID
// for another process.
func (e *Error) who(self, other string) string {
	if e.PID == 0 {
		return self
	}
	return strings.Replace(other, "%d", strconv.Itoa(e.PID), 1)
}

// The remedies, each written once.

// raise is the remedy of a limit that is too low: raise it to Need.
func (e *Error) raise() string {
	n := strconv.FormatUint(e.Need, 10)
	kib := strconv.FormatUint((e.Need+1023)/1024, 10)
	s := "raise it to at least " + bytesize.Format(e.Need) + " (ulimit -l " + kib
	if e.PID != 0 {
		s += " before it starts, prlimit --pid " + strconv.Itoa(e.PID) + " --memlock=" + n + ":" + n +
			" while it runs"
	}
	return s + ", systemd LimitMEMLOCK=" + n + ")"
}

// unlimited is the remedy for a Go program's data lock under a limit.
func (e *Error) unlimited() string {
	return "make " + e.who("RLIMIT_MEMLOCK", "its RLIMIT_MEMLOCK") +
		" unlimited (ulimit -l unlimited, systemd LimitMEMLOCK=infinity)"
}

// grantCap is the remedy of every limit: CAP_IPC_LOCK lifts it.
func (e *Error) grantCap() string {
	return e.who("grant CAP_IPC_LOCK", "grant it CAP_IPC_LOCK") +
		" (setcap cap_ipc_lock+ep on the program, systemd AmbientCapabilities=CAP_IPC_LOCK, " +
		"docker run --cap-add IPC_LOCK)"
}

// goRuntimeRule says why a Go program's data lock is refused under a
// finite RLIMIT_MEMLOCK (PLOCK_STRICT_FUTURE).
func goRuntimeRule(memlock uint64) string {
	return "a data lock also locks all later heap growth (mlockall MCL_FUTURE), and without " +
		"CAP_IPC_LOCK under RLIMIT_MEMLOCK " + bytesize.Format(memlock) + " the Go runtime would " +
		"abort the program (\"fatal error: runtime: cannot map pages in arena address " +
		"space\") once its memory outgrew the limit"
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
		who = "process " + strconv.Itoa(e.PID)
	}
	s := "plock: " + e.What + " of " + who + ": " + e.Err.Error()
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

// ErrNoCgo is the error of every call in a program built without cgo
// (CGO_ENABLED=0) or for a system other than Linux: the package is the C
// library of this module, compiled by cgo, and it locks memory the way
// Linux does. Calls return it wrapped with the function's name; it wraps
// syscall.ENOSYS, so errors.Is(err, syscall.ENOSYS) holds too.
var ErrNoCgo error = noCgoError{}

type noCgoError struct{}

func (noCgoError) Error() string {
	why := "without cgo (CGO_ENABLED=0)"
	if runtime.GOOS != "linux" {
		why = "for " + runtime.GOOS
	}
	return "plock needs cgo on Linux, and this program was built " + why +
		": build it for Linux with CGO_ENABLED=1 and a C compiler (gcc)"
}

func (noCgoError) Unwrap() error { return syscall.ENOSYS }
