package plock

/*
#cgo CFLAGS: -I${SRCDIR}/include -std=gnu11
#cgo LDFLAGS: -lpthread
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <plock.h>

// One cgo call for Plock: the state before the call (for the hint), and
// plock_flags' result and errno.
struct plock_go_result { int state, err; };

static struct plock_go_result plock_go(int op, int flags)
{
	struct plock_go_result r;

	r.state = plock_state();
	r.err = plock_flags(op, flags) == 0 ? 0 : errno;
	return r;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// Op is an operation of Plock, with the values of <sys/lock.h>.
type Op int

// The operations of Plock. The first four have their System V values; the
// shared-library ones are HP-UX's, as bit compositions.
const (
	Unlock        Op = C.UNLOCK        // remove every lock Plock made
	ProcLock      Op = C.PROCLOCK      // lock text and data (data includes the stack)
	TxtLock       Op = C.TXTLOCK       // lock text
	DatLock       Op = C.DATLOCK       // lock data and stack
	ShlibLock     Op = C.SHLIBLOCK     // lock shared-library text and data
	ProcShlibLock Op = C.PROCSHLIBLOCK // ProcLock and ShlibLock
	TxtShlibLock  Op = C.TXTSHLIBLOCK  // TxtLock and ShlibLock
	DatShlibLock  Op = C.DATSHLIBLOCK  // DatLock and ShlibLock
)

var opNames = map[Op]string{
	Unlock:        "UNLOCK",
	ProcLock:      "PROCLOCK",
	TxtLock:       "TXTLOCK",
	DatLock:       "DATLOCK",
	ShlibLock:     "SHLIBLOCK",
	ProcShlibLock: "PROCSHLIBLOCK",
	TxtShlibLock:  "TXTSHLIBLOCK",
	DatShlibLock:  "DATSHLIBLOCK",
}

// String returns the <sys/lock.h> name of op. A state returned by State
// that is no single op, such as TxtLock|DatLock, is shown as its parts
// joined by "|"; any other value as "Op(N)".
func (op Op) String() string {
	if s, ok := opNames[op]; ok {
		return s
	}
	if op > 0 && op&^(TxtLock|DatLock|ShlibLock) == 0 {
		var parts []string
		for _, bit := range []Op{TxtLock, DatLock, ShlibLock} {
			if op&bit != 0 {
				parts = append(parts, opNames[bit])
			}
		}
		return strings.Join(parts, "|")
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

// classes returns the classes op locks as an OR of TxtLock, DatLock and
// ShlibLock, and false if op is no operation.
func (op Op) classes() (Op, bool) {
	switch op {
	case Unlock:
		return 0, true
	case ProcLock:
		return TxtLock | DatLock, true
	case TxtLock, DatLock, ShlibLock:
		return op, true
	case ProcShlibLock:
		return TxtLock | DatLock | ShlibLock, true
	case TxtShlibLock:
		return TxtLock | ShlibLock, true
	case DatShlibLock:
		return DatLock | ShlibLock, true
	}
	return 0, false
}

// Error is the error of a failed Plock. It wraps the syscall.Errno, so
// errors.Is(err, syscall.EINVAL) and, for EPERM, errors.Is(err,
// fs.ErrPermission) hold.
type Error struct {
	Op   Op            // the operation that failed
	Err  syscall.Errno // EINVAL, EPERM or ENOMEM
	Hint string        // why, and what would make the call succeed
}

func (e *Error) Error() string {
	s := "plock " + e.Op.String() + ": " + e.Err.Error()
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Plock locks or unlocks segments of the calling process in memory, with
// the System V semantics of plock(2): see the package documentation.
//
// It differs from C's plock in one way: a data lock (DatLock, ProcLock and
// their shared-library forms) by a process without CAP_IPC_LOCK whose
// RLIMIT_MEMLOCK is finite fails with ENOMEM and changes nothing, because
// the Go runtime would abort at its next heap growth.
func Plock(op Op) error { return plock(op, true) }

// plock is plock_flags(op, PLOCK_STRICT_FUTURE) when strict, and C's
// plock(op) otherwise; the tests call the latter to show what the strict
// flag prevents.
func plock(op Op, strict bool) error {
	var flags C.int
	if strict {
		flags = C.PLOCK_STRICT_FUTURE
	}
	r := C.plock_go(C.int(op), flags)
	if r.err == 0 {
		return nil
	}
	errno := syscall.Errno(r.err)
	return &Error{Op: op, Err: errno, Hint: hint(op, Op(r.state), errno)}
}

// State returns what Plock has locked: 0, or an OR of TxtLock, DatLock and
// ShlibLock. TxtLock|DatLock is what ProcLock makes.
func State() Op {
	return Op(C.plock_state())
}

// lockedAlready holds the EINVAL hints for each overlap of an op with the
// state, made once: the EINVAL path is meant to cost no more than a call.
var lockedAlready = func() (h [TxtLock | DatLock | ShlibLock + 1]string) {
	for c := range h {
		h[c] = Op(c).String() + " is locked already; Plock(Unlock) first"
	}
	return h
}()

// hint says why op failed and what would make it succeed.
func hint(op Op, state Op, errno syscall.Errno) string {
	classes, valid := op.classes()
	switch errno {
	case syscall.EINVAL:
		switch {
		case !valid:
			return "not an operation of <sys/lock.h>"
		case op == Unlock:
			return "nothing is locked"
		case classes&state != 0:
			return lockedAlready[classes&state]
		case classes&ShlibLock != 0:
			return "the program has no shared libraries (a static executable)"
		}
	case syscall.EPERM:
		return "RLIMIT_MEMLOCK is 0 and the process lacks CAP_IPC_LOCK: " +
			"raise the limit (ulimit -l, LimitMEMLOCK=) or grant CAP_IPC_LOCK"
	case syscall.ENOMEM:
		st, err := Status()
		if err != nil {
			break
		}
		if classes&DatLock != 0 && !st.CapIPCLock && st.MemlockSoft != Unlimited {
			return fmt.Sprintf("refused: a data lock also locks all later heap growth "+
				"(mlockall MCL_FUTURE), and without CAP_IPC_LOCK under RLIMIT_MEMLOCK %s "+
				"the Go runtime aborts the program (\"fatal error: runtime: cannot map pages "+
				"in arena address space\") once its memory outgrows the limit; "+
				"grant CAP_IPC_LOCK (setcap cap_ipc_lock+ep, --cap-add IPC_LOCK, "+
				"AmbientCapabilities=CAP_IPC_LOCK), make RLIMIT_MEMLOCK unlimited "+
				"(ulimit -l unlimited, LimitMEMLOCK=infinity), or lock only text and "+
				"shared libraries (TxtShlibLock)",
				formatBytes(st.MemlockSoft))
		}
		need := st.VmLck
		if segs, err := Segments(); err == nil {
			for _, s := range segs {
				if !s.IsLocked && s.Class.op()&classes != 0 {
					need += s.Size
				}
			}
		}
		if st.CapIPCLock || st.MemlockSoft == Unlimited {
			return fmt.Sprintf("no limit applies, but the system could not lock %s more "+
				"(%s would be locked): free memory, or lock less (TxtLock locks the least)",
				formatBytes(need-st.VmLck), formatBytes(need))
		}
		return fmt.Sprintf("%s would be locked, RLIMIT_MEMLOCK is %s: raise it to at least %s "+
			"(ulimit -l %d, LimitMEMLOCK=%d) or grant CAP_IPC_LOCK",
			formatBytes(need), formatBytes(st.MemlockSoft), formatBytes(need), (need+1023)/1024, need)
	}
	return ""
}

func formatBytes(n uint64) string {
	if n == Unlimited {
		return "unlimited"
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Class is what Plock does with a mapping.
type Class int

// The classes of mappings, as the shim classifies them.
const (
	ClassOther     Class = C.PLOCK_SEG_OTHER      // never locked by Plock
	ClassText      Class = C.PLOCK_SEG_TEXT       // the program, not writable: TxtLock
	ClassData      Class = C.PLOCK_SEG_DATA       // the program writable, heap, anonymous: DatLock
	ClassStack     Class = C.PLOCK_SEG_STACK      // the main thread's stack: DatLock
	ClassShlibText Class = C.PLOCK_SEG_SHLIB_TEXT // shared objects, not writable: ShlibLock
	ClassShlibData Class = C.PLOCK_SEG_SHLIB_DATA // shared objects, writable: ShlibLock
	NumClasses           = C.PLOCK_SEG_NCLASS
)

// String returns "text", "data", "stack", "shlib-text", "shlib-data" or "other".
func (c Class) String() string {
	return C.GoString(C.plock_segment_class_name(C.int(c)))
}

// op returns the class of Plock's state that locks c.
func (c Class) op() Op {
	switch c {
	case ClassText:
		return TxtLock
	case ClassData, ClassStack:
		return DatLock
	case ClassShlibText, ClassShlibData:
		return ShlibLock
	}
	return 0
}

// Prot is the protection of a mapping.
type Prot int

// Bits of Prot.
const (
	ProtRead   Prot = C.PLOCK_PROT_READ
	ProtWrite  Prot = C.PLOCK_PROT_WRITE
	ProtExec   Prot = C.PLOCK_PROT_EXEC
	ProtShared Prot = C.PLOCK_PROT_SHARED // a MAP_SHARED mapping
)

// String returns the permissions as /proc/PID/maps shows them: "r-xp".
func (p Prot) String() string {
	b := []byte("---p")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	if p&ProtShared != 0 {
		b[3] = 's'
	}
	return string(b)
}

// Segment is one mapping of a process, classified as Plock classifies it.
type Segment struct {
	Class       Class
	Start, End  uintptr // End is one past the last byte
	Prot        Prot
	Offset      uint64 // in the file
	DevMajor    uint32
	DevMinor    uint32
	Inode       uint64 // 0 for anonymous memory
	Path        string // file, "[heap]", "[stack]", ..., or "" for anonymous memory
	Size        uint64 // End - Start
	Resident    uint64 // bytes resident (Rss)
	Locked      uint64 // bytes resident and locked
	IsLocked    bool   // the mapping is locked (VmFlags "lo")
	LockOnFault bool   // Plock locks it on fault rather than eagerly
}

// Segments lists the mappings of the calling process in address order.
func Segments() ([]Segment, error) { return SegmentsOf(0) }

// SegmentsOf lists the mappings of process pid (0 for the caller). Reading
// another user's process needs the same permission as reading its
// /proc/PID/smaps.
func SegmentsOf(pid int) ([]Segment, error) {
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

// Unlimited is the value of a limit that has none.
const Unlimited = math.MaxUint64

// Report is what limits memory locking in a process.
type Report struct {
	PID  int  // the process; 0 for the caller
	Self bool // the caller: State and FutureLocked are known only then

	State Op // what Plock has locked (Self only)

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
		State:        Op(max(st.state, 0)),
		FutureLocked: st.future == 1,
		VmLck:        uint64(st.vmlck),
		MemlockSoft:  uint64(st.memlock_cur),
		MemlockHard:  uint64(st.memlock_max),
		CapIPCLock:   st.cap_ipc_lock != 0,
		Headroom:     uint64(st.headroom),
	}, nil
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
		who = fmt.Sprintf("process %d", e.PID)
	}
	s := fmt.Sprintf("plock: %s of %s: %v", e.What, who, e.Err)
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

// LockfCmd is a command of Lockf, with the values of <unistd.h>.
type LockfCmd int

// The commands of Lockf.
const (
	LockfUnlock  LockfCmd = C.F_ULOCK // unlock the section
	LockfLock    LockfCmd = C.F_LOCK  // lock it, waiting while another process holds it
	LockfTryLock LockfCmd = C.F_TLOCK // lock it, or fail at once with EACCES or EAGAIN
	LockfTest    LockfCmd = C.F_TEST  // fail with EACCES or EAGAIN if another process holds it
)

func (c LockfCmd) String() string {
	switch c {
	case LockfUnlock:
		return "F_ULOCK"
	case LockfLock:
		return "F_LOCK"
	case LockfTryLock:
		return "F_TLOCK"
	case LockfTest:
		return "F_TEST"
	}
	return fmt.Sprintf("LockfCmd(%d)", int(c))
}

// Lockf applies, tests or removes a POSIX advisory lock on a section of the
// open file fd: length bytes from the file's current offset (0: to the end
// of the file and beyond; negative: the -length bytes before the offset).
// The locks belong to the process and are released when it closes any
// descriptor of the file. A failure is a *LockfError that wraps the
// syscall.Errno: LockfTryLock and LockfTest on a section that another
// process holds fail with EACCES or EAGAIN (test for both).
func Lockf(fd int, cmd LockfCmd, length int64) error {
	for {
		r, err := C.lockf(C.int(fd), C.int(cmd), C.off_t(length))
		if r == 0 {
			return nil
		}
		if err == syscall.EINTR {
			continue
		}
		if err == nil {
			err = syscall.EIO
		}
		return &LockfError{Cmd: cmd, Fd: fd, Err: err}
	}
}

// LockfError is the error of Lockf and LockfContext.
type LockfError struct {
	Cmd LockfCmd
	Fd  int
	Err error
}

func (e *LockfError) Error() string {
	return fmt.Sprintf("lockf %v on fd %d: %v", e.Cmd, e.Fd, e.Err)
}

func (e *LockfError) Unwrap() error { return e.Err }

// LockfContext locks length bytes of fd from its current offset, as
// Lockf(fd, LockfLock, length), but stops waiting when ctx ends and then
// returns ctx.Err(). It polls with LockfTryLock, backing off from 1ms to
// 50ms, so a waiting call holds no thread.
func LockfContext(ctx context.Context, fd int, length int64) error {
	delay := time.Millisecond
	for {
		err := Lockf(fd, LockfTryLock, length)
		if err == nil || !(errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EAGAIN)) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}
