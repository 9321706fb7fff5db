package plock

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// LockfCmd is a command of Lockf, with the values of <unistd.h>.
type LockfCmd int

// The commands of Lockf.
const (
	LockfUnlock  LockfCmd = 0 // F_ULOCK: unlock the section
	LockfLock    LockfCmd = 1 // F_LOCK: lock it, waiting while another process holds it
	LockfTryLock LockfCmd = 2 // F_TLOCK: lock it, or fail at once with EACCES or EAGAIN
	LockfTest    LockfCmd = 3 // F_TEST: fail with EACCES or EAGAIN if another process holds it
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
		err := lockf(fd, cmd, length)
		if err == nil {
			return nil
		}
		if err == syscall.EINTR {
			continue
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
