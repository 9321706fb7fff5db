//go:build !linux || !cgo

package plock

import (
	"fmt"
	"os/exec"
	"syscall"
)

// Without cgo, or on a system other than Linux, the package builds and
// every call returns ErrNoCgo: the C library that does the work is
// compiled by cgo, for Linux only. This file is the twin of bindings.go,
// and has the functions of process.go, which needs Linux's ptrace.

func ctl(pid int, op Op, flags int) error { return ErrNoCgo }

// opClasses needs the C library's table of the ops: none without it.
func opClasses(op Op) Classes { return 0 }

func state() Classes { return 0 }

func segments(pid int) ([]Segment, error) { return nil, ErrNoCgo }

func status(pid int) (Report, error) { return Report{}, ErrNoCgo }

func lockf(fd int, cmd LockfCmd, length int64) error { return ErrNoCgo }

func syscallName(nr int) string { return fmt.Sprintf("syscall %d", nr) }

func reasonName(r Reason) string { return fmt.Sprintf("Reason(%d)", int(r)) }

func className(c Class) string { return fmt.Sprintf("Class(%d)", int(c)) }

// LockProcess returns ErrNoCgo.
func LockProcess(pid int, op Op) error { return ErrNoCgo }

// UnlockProcess returns ErrNoCgo.
func UnlockProcess(pid int) error { return ErrNoCgo }

// LockProcessFlags returns ErrNoCgo.
func LockProcessFlags(pid int, op Op, flags ProcessFlags) error { return ErrNoCgo }

// StartLocked returns ErrNoCgo and starts nothing.
func StartLocked(cmd *exec.Cmd, op Op, allowUnlocked bool) error { return ErrNoCgo }

// RunOptions is what RunLocked takes.
type RunOptions struct {
	Follow, AllowUnlocked bool
	Started               func(err error)
	Failed                func(pid int, err error)
}

// RunLocked returns ErrNoCgo and starts nothing.
func RunLocked(cmd *exec.Cmd, op Op, o RunOptions) (syscall.WaitStatus, error) {
	var none syscall.WaitStatus // a struct on Windows, a number elsewhere
	return none, ErrNoCgo
}
