package plock

// #include <unistd.h>
import "C"

import "syscall"

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
