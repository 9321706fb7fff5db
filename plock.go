//go:build linux && cgo

package plock

/*
#cgo CFLAGS: -I${SRCDIR}/include -I${SRCDIR} -std=gnu11
#cgo LDFLAGS: -lpthread
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <plock.h>

// plock_ctl in one cgo call.  The reason comes back by value, so that Go
// keeps it on its stack: a refused call allocates nothing but its error.
// why.err is 0 on success.
static struct plock_reason plock_ctl_go(int pid, int op, int flags)
{
	struct plock_reason why;

	(void)plock_ctl(pid, op, flags, &why);
	return why;
}
*/
import "C"

import (
	"sync/atomic"
	"syscall"
)

// Flags of plock_ctl (<plock.h>).
const (
	strictFuture = 1 // PLOCK_STRICT_FUTURE
	atEntry      = 2 // PLOCK_AT_ENTRY
)

// Plock locks or unlocks segments of the calling process in memory, with
// the System V semantics of plock(2): see the package documentation. A
// failure is an *Error that says why and what would make the call succeed.
//
// It differs from C's plock in one way: a data lock (DatLock, ProcLock and
// their shared-library forms) by a process without CAP_IPC_LOCK whose
// RLIMIT_MEMLOCK is finite fails with ENOMEM and changes nothing, because
// the Go runtime would abort at its next heap growth.
func Plock(op Op) error { return plock(op, true) }

// plock is plock_ctl(0, op, PLOCK_STRICT_FUTURE) when strict, and C's
// plock(op) otherwise; the tests call the latter to show what the strict
// flag prevents.
func plock(op Op, strict bool) error {
	var flags C.int
	if strict {
		flags = strictFuture
	}
	why := ctl(0, op, flags)
	if why.err == 0 {
		return nil
	}
	return reasonError(op, 0, &why)
}

// ctl is plock_ctl(pid, op, flags, &why): why.err is 0 if the call
// succeeded, and why says why not.
func ctl(pid int, op Op, flags C.int) C.struct_plock_reason {
	return C.plock_ctl_go(C.int(pid), C.int(op), flags)
}

// Classes returns the classes op locks (ProcLock: text and data), as the C
// library's one table of the ops says; none for Unlock and for a value that
// is no operation.
func (op Op) Classes() Classes {
	c := C.plock_op_classes(C.int(op))
	if c < 0 {
		return 0
	}
	return Classes(c)
}

// State returns the classes Plock has locked in the calling process.
func State() Classes {
	return Classes(C.plock_state())
}

// reasonError is the error of a failed plock_ctl on process pid (0: the
// caller), as its struct plock_reason tells it.
func reasonError(_ Op, pid int, why *C.struct_plock_reason) error {
	if e := refusal(pid, why); e != nil {
		return e
	}
	e := &Error{
		Op:         Op(why.op), // op, as plock_ctl received it
		PID:        pid,
		Err:        syscall.Errno(why.err),
		Reason:     Reason(why.why),
		Classes:    Classes(why.classes),
		Need:       uint64(why.need),
		VmLck:      uint64(why.vmlck),
		Memlock:    uint64(why.memlock),
		CapIPCLock: why.cap_ipc_lock != 0,
		cause:      ptraceCause(why.cause),
		detail:     int(why.detail),
	}
	if why.flags&reasonRollback != 0 {
		e.Unrestored = uint64(why.unrestored)
	}
	return e
}

// refusals are the errors of the calls of Plock that the state refused
// with EINVAL before any system call, made once each and shared: such an
// error says no more than its op, reason and classes, and the EINVAL path
// of Plock is meant to cost no more than its cgo call. Allocating a fresh
// Error there doubled that cost (its allocation, and the garbage collector's
// work for it).
var refusals [DatShlibLock + 1][ReasonVfork + 1][LockedText | LockedData | LockedShlib + 1]atomic.Pointer[Error]

// refusal returns the shared error of a refusal, and nil if why says more
// than a refusal does: what reasonError would make, made once.
func refusal(pid int, why *C.struct_plock_reason) *Error {
	if pid != 0 || why.op < 0 || why.op > C.int(DatShlibLock) || why.err != C.int(syscall.EINVAL) ||
		why.why <= 0 || why.why > C.int(ReasonVfork) || why.classes < 0 ||
		why.classes > C.int(LockedText|LockedData|LockedShlib) || why.flags != 0 ||
		why.cap_ipc_lock != 0 || why.cause != 0 || why.detail != 0 || why.need != 0 ||
		why.vmlck != 0 || why.memlock != C.PLOCK_UNLIMITED || why.unrestored != 0 {
		return nil
	}
	p := &refusals[why.op][why.why][why.classes]
	if e := p.Load(); e != nil {
		return e
	}
	e := &Error{Op: Op(why.op), Err: syscall.EINVAL, Reason: Reason(why.why),
		Classes: Classes(why.classes), Memlock: Unlimited}
	p.Store(e)
	return e
}

// syscallName is plock_syscall_name.
func syscallName(nr int) string { return C.GoString(C.plock_syscall_name(C.int(nr))) }

// reasonName is plock_why_name.
func reasonName(r Reason) string { return C.GoString(C.plock_why_name(C.int(r))) }

// className is plock_segment_class_name.
func className(c Class) string { return C.GoString(C.plock_segment_class_name(C.int(c))) }
