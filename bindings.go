//go:build linux && cgo

package plock

// The cgo boundary: every call into the C library, its preamble, and the
// conversions of what it returns into the package's Go types. The other
// files are plain Go over the functions here; nocgo.go is the twin of this
// file for a build without cgo or for another system.

/*
#cgo CFLAGS: -I${SRCDIR}/include -I${SRCDIR} -std=gnu11
#cgo LDFLAGS: -lpthread
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
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
	"embed"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// shimSources are the C sources that shim_cgo.c and internal/shimtest
// #include. cgo compiles them, but the go command hashes only the files of
// the package's own directory into its build cache key, not what they
// #include: embedding them makes them inputs of the package, so an edit to
// shim/*.c rebuilds it. Nothing reads the variable, and the linker drops it
// from binaries.
//
//go:embed shim/*.c shim/*.h include/plock.h include/sys/lock.h
var shimSources embed.FS

// sysKcmp is the number of kcmp(2), which package syscall lacks on amd64.
const sysKcmp = C.SYS_kcmp

// ctl is plock_ctl(pid, op, flags): nil if the call succeeded, and
// otherwise an *Error that says why not.
func ctl(pid int, op Op, flags int) error {
	why := C.plock_ctl_go(C.int(pid), C.int(op), C.int(flags))
	if why.err == 0 {
		return nil
	}
	return reasonError(pid, &why)
}

// tracemeRefusal is the *Error of a child that was refused PTRACE_TRACEME
// for op, as plock_traceme_refusal finds it, or nil if that was not it
// (execve's own EPERM).
func tracemeRefusal(op Op) error {
	var why C.struct_plock_reason
	if C.plock_traceme_refusal(C.int(op), &why) == C.PLOCK_PTRACE_UNKNOWN {
		return nil
	}
	return reasonError(0, &why)
}

// opClasses is plock_op_classes: the classes op locks, and none for
// Unlock and for a value that is no operation (-1).
func opClasses(op Op) Classes {
	return Classes(max(C.plock_op_classes(C.int(op)), 0))
}

// state is plock_state.
func state() Classes { return Classes(C.plock_state()) }

// segments is plock_segments(pid), converted.
func segments(pid int) ([]Segment, error) {
	var n C.size_t
	p, err := C.plock_segments(C.int(pid), &n)
	if p == nil {
		return nil, procError("segments", pid, err)
	}
	defer C.free(unsafe.Pointer(p))
	cs := unsafe.Slice(p, int(n))
	segs := make([]Segment, len(cs))
	for i, c := range cs {
		segs[i] = Segment{
			Class:       Class(c.seg_class),
			Start:       uintptr(c.start),
			End:         uintptr(c.end),
			Prot:        Prot(c.prot),
			Offset:      uint64(c.offset),
			DevMajor:    uint32(c.dev_major),
			DevMinor:    uint32(c.dev_minor),
			Inode:       uint64(c.inode),
			Path:        C.GoString(c.path),
			Size:        uint64(c.size),
			Resident:    uint64(c.resident),
			Locked:      uint64(c.locked_bytes),
			IsLocked:    c.locked != 0,
			LockOnFault: c.lock_on_fault != 0,
		}
	}
	return segs, nil
}

// status is plock_status(pid), converted.
func status(pid int) (Report, error) {
	var st C.struct_plock_status
	if r, err := C.plock_status(C.int(pid), &st); r != 0 {
		return Report{}, procError("status", pid, err)
	}
	return Report{
		PID:          pid,
		Self:         st.state >= 0,
		State:        Classes(max(st.state, 0)),
		FutureLocked: st.future == 1,
		VmLck:        uint64(st.vmlck),
		MemlockSoft:  uint64(st.memlock_cur),
		MemlockHard:  uint64(st.memlock_max),
		CapIPCLock:   st.cap_ipc_lock != 0,
		Headroom:     uint64(st.headroom),
	}, nil
}

// lockf is lockf(3) of the C library.
func lockf(fd int, cmd LockfCmd, length int64) error {
	if r, err := C.lockf(C.int(fd), C.int(cmd), C.off_t(length)); r != 0 {
		if err == nil {
			err = syscall.EIO
		}
		return err
	}
	return nil
}

// syscallName is plock_syscall_name.
func syscallName(nr int) string { return C.GoString(C.plock_syscall_name(C.int(nr))) }

// reasonName is plock_why_name.
func reasonName(r Reason) string { return C.GoString(C.plock_why_name(C.int(r))) }

// className is plock_segment_class_name.
func className(c Class) string { return C.GoString(C.plock_segment_class_name(C.int(c))) }

// reasonError is the error of a failed plock_ctl on process pid (0: the
// caller), as its struct plock_reason tells it.
func reasonError(pid int, why *C.struct_plock_reason) error {
	op := Op(why.op) // as plock_ctl received it
	shared := pid == 0 && syscall.Errno(why.err) == syscall.EINVAL && op >= 0 && op <= DatShlibLock
	if shared {
		if r := refusals[op].Load(); r != nil && r.why == *why {
			return r.err
		}
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
		cause:      ptraceCause(why.cause),
		detail:     int(why.detail),
	}
	if why.flags&reasonRollback != 0 {
		e.Unrestored = uint64(why.unrestored)
	}
	if shared {
		refusals[op].Store(&refusal{*why, e})
	}
	return e
}

// refusals[op] is the last refusal of Plock(op): a call that failed with
// EINVAL, which the state refused before any system call. The calls refused
// the same way after it (an equal struct plock_reason) share its error: the
// EINVAL path of Plock is meant to cost no more than its cgo call, and
// allocating a fresh Error there doubled that cost (its allocation, and the
// garbage collector's work for it). A value above the ops is no op at all,
// and gets an Error of its own.
var refusals [DatShlibLock + 1]atomic.Pointer[refusal]

type refusal struct {
	why C.struct_plock_reason
	err *Error
}
