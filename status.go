package plock

import (
	"strconv"

	"github.com/cplock/plock/internal/bytesize"
)

// Unlimited is the value of a limit that has none: PLOCK_UNLIMITED, the
// largest uint64.
const Unlimited = 1<<64 - 1

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

// String returns the report on one line, as "locked text+data, later
// mappings locked; VmLck 332 KiB, RLIMIT_MEMLOCK 8.0 MiB (hard 8.0 MiB),
// CAP_IPC_LOCK, headroom unlimited". For another process it begins with
// "process PID:" and leaves out what only the process itself can know.
func (r Report) String() string {
	var s string
	if r.Self {
		s = "locked " + r.State.String() + ", later mappings "
		if !r.FutureLocked {
			s += "not "
		}
		s += "locked; "
	} else {
		s = "process " + strconv.Itoa(r.PID) + ": "
	}
	s += "VmLck " + bytesize.Format(r.VmLck) + ", RLIMIT_MEMLOCK " + bytesize.Format(r.MemlockSoft) +
		" (hard " + bytesize.Format(r.MemlockHard) + "), "
	if !r.CapIPCLock {
		s += "no "
	}
	return s + "CAP_IPC_LOCK, headroom " + bytesize.Format(r.Headroom)
}

// Status reports on the calling process.
func Status() (Report, error) { return StatusOf(0) }
