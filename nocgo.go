//go:build !linux || !cgo

package plock

import (
	"fmt"
	"os/exec"
	"syscall"
)

// Without cgo, or on a system other than Linux, the package builds and
// every call returns ErrNoCgo: the C library that does the work is
// compiled by cgo, for Linux only.

// Plock returns ErrNoCgo.
func Plock(op Op) error { return ErrNoCgo }

// State returns no class.
func State() Classes { return 0 }

// Classes needs the C library's table of the ops: none without it.
func (op Op) Classes() Classes { return 0 }

// Segments returns ErrNoCgo.
func Segments() ([]Segment, error) { return nil, ErrNoCgo }

// SegmentsOf returns ErrNoCgo.
func SegmentsOf(pid int) ([]Segment, error) { return nil, ErrNoCgo }

// Status returns ErrNoCgo.
func Status() (Report, error) { return Report{}, ErrNoCgo }

// StatusOf returns ErrNoCgo.
func StatusOf(pid int) (Report, error) { return Report{}, ErrNoCgo }

// LockProcess returns ErrNoCgo.
func LockProcess(pid int, op Op) error { return ErrNoCgo }

// UnlockProcess returns ErrNoCgo.
func UnlockProcess(pid int) error { return ErrNoCgo }

// LockProcessFlags returns ErrNoCgo.
func LockProcessFlags(pid int, op Op, flags ProcessFlags) error { return ErrNoCgo }

// StartLocked returns ErrNoCgo and starts nothing.
func StartLocked(cmd *exec.Cmd, op Op, allowUnlocked bool) error { return ErrNoCgo }

func lockf(fd int, cmd LockfCmd, length int64) error { return ErrNoCgo }

func syscallName(nr int) string { return fmt.Sprintf("syscall %d", nr) }

func reasonName(r Reason) string { return fmt.Sprintf("Reason(%d)", int(r)) }

func className(c Class) string { return fmt.Sprintf("Class(%d)", int(c)) }

// RunOptions is what RunLocked takes.
type RunOptions struct {
	Follow, AllowUnlocked bool
	Started               func(err error)
	Failed                func(pid int, err error)
}

// RunLocked returns ErrNoCgo and starts nothing.
func RunLocked(cmd *exec.Cmd, op Op, o RunOptions) (syscall.WaitStatus, error) { return 0, ErrNoCgo }
