package plock

import (
	"fmt"

	"github.com/cplock/plock/internal/bytesize"
)

// Unlimited is the value of a limit that has none (PLOCK_UNLIMITED).
const Unlimited = bytesize.Unlimited

// Report is what limits memory locking in a process.
type Report struct {
	PID  int  // the process; 0 for the caller
	Self bool // the caller: State and FutureLocked are known only then

	State Classes // what Plock has locked (Self only)

	// FutureLocked says that memory mapped later is locked (MCL_FUTURE,
	// by DatLock or by the program's own mlockall). It is known only for
	// Self, and false when unknown: for another process, or when the
	// process is at vm.max_map_count and the probe cannot map a page.
	FutureLocked bool

	VmLck       uint64 // bytes the kernel counts as locked
	MemlockSoft uint64 // RLIMIT_MEMLOCK, or Unlimited
	MemlockHard uint64
	CapIPCLock  bool // CAP_IPC_LOCK is in effect: no limit applies

	// Headroom is how many more bytes the process may lock: MemlockSoft -
	// VmLck, or Unlimited. While FutureLocked, every new mapping counts
	// against it, so a program whose heap grows past it fails to map
	// memory (a C program's malloc returns NULL).
	Headroom uint64
}

// String returns the report on one line, sizes for people:
// "this process: locked text+data (later memory too), VmLck 1.2 MiB,
// RLIMIT_MEMLOCK 8.0 MiB (hard 8.0 MiB), headroom 6.8 MiB, no CAP_IPC_LOCK".
func (r Report) String() string {
	s := "this process: locked " + r.State.String()
	if !r.Self {
		s = fmt.Sprintf("process %d:", r.PID)
	} else if r.FutureLocked {
		s += " (later memory too)"
	}
	if s[len(s)-1] != ':' {
		s += ","
	}
	s += fmt.Sprintf(" VmLck %s, RLIMIT_MEMLOCK %s (hard %s), headroom %s, ",
		bytesize.Format(r.VmLck), bytesize.Format(r.MemlockSoft), bytesize.Format(r.MemlockHard),
		bytesize.Format(r.Headroom))
	if r.CapIPCLock {
		return s + "CAP_IPC_LOCK"
	}
	return s + "no CAP_IPC_LOCK"
}

// Status reports on the calling process.
func Status() (Report, error) { return StatusOf(0) }

// StatusOf reports on process pid (0 for the caller).
func StatusOf(pid int) (Report, error) { return status(pid) }
