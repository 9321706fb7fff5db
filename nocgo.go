//go:build !cgo || !linux

package plock

// The package in a program built without cgo (CGO_ENABLED=0) or for a
// system other than Linux: it compiles, with the same API, and every call
// fails with an error that wraps ErrNoCgo (and syscall.ENOSYS), instead of
// the build failing with "undefined: plock.Plock".

import (
	"fmt"
	"os/exec"
	"strconv"
)

func noCgo(fn string) error { return fmt.Errorf("plock.%s: %w", fn, ErrNoCgo) }

// Plock fails with ErrNoCgo: see the package documentation.
func Plock(op Op) error { return noCgo("Plock") }

func plock(op Op, flags int) error { return noCgo("Plock") }

func ptraceMessage(cause, detail int32) string { return "" }

// State returns none: nothing can be locked.
func State() Classes { return 0 }

// Classes returns 0, false: the table of the operations is the C library's.
func (op Op) Classes() (Classes, bool) { return 0, false }

// SegmentsOf fails with ErrNoCgo.
func SegmentsOf(pid int) ([]Segment, error) { return nil, noCgo("SegmentsOf") }

// String returns "Class(N)": the names are the C library's.
func (c Class) String() string { return "Class(" + strconv.Itoa(int(c)) + ")" }

// StatusOf fails with ErrNoCgo.
func StatusOf(pid int) (Report, error) { return Report{}, noCgo("StatusOf") }

// String returns "Reason(N)": the names are the C library's.
func (r Reason) String() string { return "Reason(" + strconv.Itoa(int(r)) + ")" }

// Lockf fails with ErrNoCgo.
func Lockf(fd int, cmd LockfCmd, length int64) error { return noCgo("Lockf") }

// LockProcess fails with ErrNoCgo.
func LockProcess(pid int, op Op) error { return noCgo("LockProcess") }

// UnlockProcess fails with ErrNoCgo.
func UnlockProcess(pid int) error { return noCgo("UnlockProcess") }

// StartLocked fails with ErrNoCgo, and does not start cmd.
func StartLocked(cmd *exec.Cmd, op Op, allowUnlocked bool) error {
	return noCgo("StartLocked")
}
