package plock

// A stand-in for reasonError, which the package's error file is getting on
// another branch: the lead deletes this file when that is merged. It must
// keep calling ptraceHint for PLOCK_WHY_PTRACE.

/*
#include <plock.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"syscall"
)

// reasonError builds the error of a failed plock_ctl on process pid.
func reasonError(op Op, pid int, why *C.struct_plock_reason) error {
	errno := syscall.Errno(why.err)
	need, memlock := uint64(why.need), uint64(why.memlock)
	var hint string
	switch why.why {
	case C.PLOCK_WHY_GONE:
		hint = "no such process (or it exited)"
	case C.PLOCK_WHY_PTRACE:
		hint = ptraceHint(why)
	case C.PLOCK_WHY_UNSUPPORTED:
		hint = "locking another process is not supported on " + runtime.GOARCH + " yet"
	case C.PLOCK_WHY_ZEROLIMIT:
		hint = fmt.Sprintf("its RLIMIT_MEMLOCK is 0 and it lacks CAP_IPC_LOCK: raise its "+
			"limit to at least %s (ulimit -l %d before it starts, or prlimit --pid %d "+
			"--memlock=%d:%d) or grant it CAP_IPC_LOCK",
			formatBytes(need), (need+1023)/1024, pid, need, need)
	case C.PLOCK_WHY_LIMIT:
		hint = fmt.Sprintf("%s would be locked and its RLIMIT_MEMLOCK is %s: raise it to at "+
			"least %s (ulimit -l %d before it starts, or prlimit --pid %d --memlock=%d:%d) "+
			"or grant it CAP_IPC_LOCK",
			formatBytes(need), formatBytes(memlock), formatBytes(need), (need+1023)/1024,
			pid, need, need)
	case C.PLOCK_WHY_STRICT:
		hint = fmt.Sprintf("it is a Go program, and a data lock also locks all its later heap "+
			"growth: without CAP_IPC_LOCK under RLIMIT_MEMLOCK %s the Go runtime would abort "+
			"at the limit; grant it CAP_IPC_LOCK, make its RLIMIT_MEMLOCK unlimited, or lock "+
			"only text and shared libraries", formatBytes(memlock))
	case C.PLOCK_WHY_NOMEM:
		hint = fmt.Sprintf("the system could not lock %s", formatBytes(need))
	case C.PLOCK_WHY_NOSHLIB:
		hint = "it has no shared libraries (a static executable)"
	case C.PLOCK_WHY_BADOP:
		hint = "not an operation of <sys/lock.h>"
	case C.PLOCK_WHY_NOPROC:
		hint = "its /proc/PID/maps cannot be read"
	}
	return &Error{Op: op, Err: errno, Hint: fmt.Sprintf("process %d: %s", pid, hint)}
}
