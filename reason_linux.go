package plock

// #include <plock.h>
import "C"

import (
	"strconv"
	"sync/atomic"
	"syscall"
)

// reasonError is the error of a failed plock_ctl on process pid (0: the
// caller), from the reason the C library reported; nil if why says the call
// succeeded. It asks the kernel nothing more.
func reasonError(op Op, pid int, why *C.struct_plock_reason) error {
	if why.err == 0 {
		return nil
	}
	if e := refusal(op, pid, why); e != nil {
		return e
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
		e.ptraceCause, e.ptraceDetail = int32(why.cause), int32(why.detail)
	}
	return e
}

// refusals are the errors of the calls of Plock that the state refused with
// EINVAL before any system call, made once each and shared: such an error
// says no more than its op, reason and classes, and the EINVAL path of
// Plock is meant to cost no more than the cgo call (no allocation).
var refusals [DatShlibLock + 1][ReasonVfork + 1][Text | Data | Shlib + 1]atomic.Pointer[Error]

// refusal returns the shared error of a refusal, and nil if why says more
// than a refusal does.
func refusal(op Op, pid int, why *C.struct_plock_reason) *Error {
	if pid != 0 || op < 0 || op > DatShlibLock || why.err != C.int(syscall.EINVAL) ||
		why.why <= 0 || why.why > C.int(ReasonVfork) || why.classes < 0 ||
		why.classes > C.int(Text|Data|Shlib) || why.flags != 0 || why.cap_ipc_lock != 0 ||
		why.cause != 0 || why.detail != 0 || why.need != 0 || why.vmlck != 0 ||
		why.memlock != C.PLOCK_UNLIMITED || why.unrestored != 0 {
		return nil
	}
	p := &refusals[op][why.why][why.classes]
	if e := p.Load(); e != nil {
		return e
	}
	e := &Error{Op: op, Err: syscall.EINVAL, Reason: Reason(why.why), Classes: Classes(why.classes),
		Memlock: Unlimited}
	p.Store(e)
	return e
}

// ptraceMessage says why the kernel refused to let the caller trace a
// process, and what to grant, in ptraceHint's words (process.go).
func ptraceMessage(cause, detail int32) string {
	return ptraceHint(&C.struct_plock_reason{cause: C.int(cause), detail: C.int(detail)})
}

// String returns the C library's name of r, "locked", "limit", ..., or
// "Reason(N)" for a value that is no reason.
func (r Reason) String() string {
	if s := C.GoString(C.plock_why_name(C.int(r))); s != "?" {
		return s
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}
