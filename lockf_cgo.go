//go:build linux && cgo

package plock

/*
#include <unistd.h>
*/
import "C"

import "syscall"

// lockf is lockf(3) of the C library.
func lockf(fd int, cmd LockfCmd, length int64) error {
	if r, err := C.lockf(C.int(fd), C.int(cmd), C.off_t(length)); r != 0 {
		if err == nil {
			err = syscall.EIO
		}
		return err
	}
	return nil
}
