package plock

// #include <plock.h>
import "C"

import (
	"strconv"
	"syscall"
)

// reasonError is the error of a failed plock_ctl on process pid (0: the
// caller), from the reason the C library reported; nil if why says the call
// succeeded. It asks the kernel nothing more.
func reasonError(op Op, pid int, why *C.struct_plock_reason) error {
	if why.err == 0 {
		return nil
	}
	e := &Error{
		Op:         op,
		PID:        pid,
		Err:        syscall.Errno(why.err),
		Reason:     Reason(why.why),
		Classes:    Classes(why.classes),
		Need:       uint64(why.need),
		VmLck:      uint64(why.vmlck),
		Memlock:    uint64(why.memlock),
		CapIPCLock: why.cap_ipc_lock != 0,
	}
	if why.flags&reasonRollback != 0 {
		e.RollbackFailed = true
		e.Unrestored = uint64(why.unrestored)
	}
	if e.Reason == ReasonPtrace {
		e.ptrace = ptraceHint(why)
	}
	return e
}

// String returns the C library's name of r, "locked", "limit", ..., or
// "Reason(N)" for a value that is no reason.
func (r Reason) String() string {
	if s := C.GoString(C.plock_why_name(C.int(r))); s != "?" {
		return s
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}
