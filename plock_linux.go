package plock

/*
#include <plock.h>

// plock_ctl on the caller, its reason returned by value: Go's pointer to
// a reason would escape to the heap, and one cgo call is all that Plock
// costs when it fails with EINVAL.
static struct plock_reason plock_go(int op, int flags)
{
	struct plock_reason why;

	plock_ctl(0, op, flags, &why);
	return why;
}
*/
import "C"

// Plock locks or unlocks classes of segments of the calling process in
// memory, with the System V semantics of plock(2): see the package
// documentation. A failure is an *Error that says why, and what would make
// the call succeed.
//
// It differs from C's plock in one way: a data lock (DatLock, ProcLock and
// their shared-library forms) by a process without CAP_IPC_LOCK whose
// RLIMIT_MEMLOCK is finite fails with ENOMEM and changes nothing, because
// the Go runtime would abort at its next heap growth.
func Plock(op Op) error { return plock(op, strictFuture) }

// plock applies op with the flags of plock_ctl; the tests call it with 0,
// which is C's plock(op), to show what strictFuture prevents.
func plock(op Op, flags int) error {
	why := C.plock_go(C.int(op), C.int(flags))
	if why.err == 0 {
		return nil
	}
	return reasonError(op, 0, &why)
}

// State returns the classes Plock has locked in this process: none, or a
// set of Text, Data and Shlib. Text+Data is what ProcLock makes. It makes
// no system call.
func State() Classes {
	return Classes(C.plock_state())
}

// Classes returns the classes op locks (none for Unlock), from the C
// library's one table of the operations, and false if op is no operation.
func (op Op) Classes() (Classes, bool) {
	c := C.plock_op_classes(C.int(op))
	if c < 0 {
		return 0, false
	}
	return Classes(c), true
}
