//go:build linux && cgo

package plock

/*
#include <plock.h>
*/
import "C"

// Status reports on the calling process.
func Status() (Report, error) { return StatusOf(0) }

// StatusOf reports on process pid (0 for the caller).
func StatusOf(pid int) (Report, error) {
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
