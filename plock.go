package plock

import (
	"fmt"
	"strings"
)

// Op is an operation of Plock, with the values of <sys/lock.h>.
type Op int

// The operations of Plock. The first four have their System V values; the
// shared-library ones are HP-UX's, as bit compositions.
const (
	Unlock        Op = 0  // remove every lock Plock made
	ProcLock      Op = 1  // lock text and data (data includes the stack)
	TxtLock       Op = 2  // lock text
	DatLock       Op = 4  // lock data and stack
	ShlibLock     Op = 8  // lock shared-library text and data
	ProcShlibLock Op = 9  // ProcLock and ShlibLock
	TxtShlibLock  Op = 10 // TxtLock and ShlibLock
	DatShlibLock  Op = 12 // DatLock and ShlibLock
)

// Ops are the operations that lock, in the order of their values.
var Ops = []Op{ProcLock, TxtLock, DatLock, ShlibLock, ProcShlibLock, TxtShlibLock, DatShlibLock}

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

// String returns the <sys/lock.h> name of op, or "Op(N)".
func (op Op) String() string {
	if s, ok := opNames[op]; ok {
		return s
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

// Classes returns the classes op locks (ProcLock: text and data), as the C
// library's one table of the ops says; none for Unlock and for a value that
// is no operation.
func (op Op) Classes() Classes { return opClasses(op) }

// Classes is a set of the classes Plock locks: what State returns. Its
// bits are those of <sys/lock.h>'s TXTLOCK, DATLOCK and SHLIBLOCK.
type Classes uint8

// The classes of Plock's state.
const (
	LockedText  Classes = 2 // text: TxtLock
	LockedData  Classes = 4 // data and the stack: DatLock
	LockedShlib Classes = 8 // shared-library text and data: ShlibLock
)

// Has reports whether every class of c is in s.
func (s Classes) Has(c Classes) bool { return s&c == c }

// String returns the classes joined by "+", such as "text+data", or
// "none" for the empty set; bits that are no class show as "Classes(N)".
func (s Classes) String() string {
	if s == 0 {
		return "none"
	}
	var parts []string
	for _, c := range []struct {
		bit  Classes
		name string
	}{{LockedText, "text"}, {LockedData, "data"}, {LockedShlib, "shlib"}} {
		if s&c.bit != 0 {
			parts = append(parts, c.name)
		}
	}
	if rest := s &^ (LockedText | LockedData | LockedShlib); rest != 0 {
		parts = append(parts, fmt.Sprintf("Classes(%d)", uint8(rest)))
	}
	return strings.Join(parts, "+")
}

// strictFuture is PLOCK_STRICT_FUTURE, a flag of plock_ctl (<plock.h>).
const strictFuture = 1

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
	flags := 0
	if strict {
		flags = strictFuture
	}
	return ctl(0, op, flags)
}

// State returns the classes Plock has locked in the calling process.
func State() Classes { return state() }

// ProcessFlags change how LockProcessFlags treats another process.
type ProcessFlags int

// SeccompUnchecked goes on with a process whose seccomp filter the caller
// cannot read (reading it needs CAP_SYS_ADMIN) as if the filter allowed the
// lock's system calls, instead of failing with ReasonSeccomp. A filter that
// kills on mlock2 then kills the process. It is PLOCK_SECCOMP_UNCHECKED.
const SeccompUnchecked ProcessFlags = 4
