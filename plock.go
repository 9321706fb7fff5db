package plock

import (
	"strconv"
	"strings"
)

// Op is an operation of Plock, with the values of <sys/lock.h>.
type Op int

// The operations of Plock. Unlock..DatLock have their System V values; the
// shared-library ones are HP-UX's, the ORs of the operations they combine.
const (
	Unlock        Op = 0  // UNLOCK: remove every lock Plock made
	ProcLock      Op = 1  // PROCLOCK: lock text and data (data includes the stack)
	TxtLock       Op = 2  // TXTLOCK: lock text
	DatLock       Op = 4  // DATLOCK: lock data and the stack
	ShlibLock     Op = 8  // SHLIBLOCK: lock shared-library text and data
	ProcShlibLock Op = 9  // PROCSHLIBLOCK: ProcLock and ShlibLock
	TxtShlibLock  Op = 10 // TXTSHLIBLOCK: TxtLock and ShlibLock
	DatShlibLock  Op = 12 // DATSHLIBLOCK: DatLock and ShlibLock
)

// String returns the <sys/lock.h> name of op, or "Op(N)" for a value that
// is no operation.
func (op Op) String() string {
	switch op {
	case Unlock:
		return "UNLOCK"
	case ProcLock:
		return "PROCLOCK"
	case TxtLock:
		return "TXTLOCK"
	case DatLock:
		return "DATLOCK"
	case ShlibLock:
		return "SHLIBLOCK"
	case ProcShlibLock:
		return "PROCSHLIBLOCK"
	case TxtShlibLock:
		return "TXTSHLIBLOCK"
	case DatShlibLock:
		return "DATSHLIBLOCK"
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// Classes is a set of the three classes of segments that Plock locks: what
// State returns, what an operation locks (Op.Classes), and what is in the
// way of a failed one (Error.Classes). Its bits have the values of the
// operations that lock one class each.
type Classes uint8

// The classes of segments Plock locks.
const (
	Text  Classes = 2 // TXTLOCK: the program's text
	Data  Classes = 4 // DATLOCK: its data, heap, anonymous memory and stack
	Shlib Classes = 8 // SHLIBLOCK: shared libraries' text and data
)

// String returns the classes joined by "+", as "text+data", or "none" for
// the empty set.
func (c Classes) String() string {
	if c == 0 {
		return "none"
	}
	var parts []string
	for _, k := range [...]struct {
		bit  Classes
		name string
	}{{Text, "text"}, {Data, "data"}, {Shlib, "shlib"}} {
		if c&k.bit != 0 {
			parts = append(parts, k.name)
			c &^= k.bit
		}
	}
	if c != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(c), 16))
	}
	return strings.Join(parts, "+")
}

// Flags of the C library's plock_ctl.
const (
	strictFuture = 1 // PLOCK_STRICT_FUTURE: refuse a data lock that the Go runtime would not survive
)
