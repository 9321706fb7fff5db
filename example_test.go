//go:build linux && cgo

package plock_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cplock/plock"
)

// Lock the program's text (its code) in memory. Any process may: it needs
// no privilege while the text fits under RLIMIT_MEMLOCK.
func ExamplePlock_text() {
	if err := plock.Plock(plock.TxtLock); err != nil {
		fmt.Println("cannot lock text:", err)
		return
	}
	fmt.Println("locked:", plock.State())
	if err := plock.Plock(plock.Unlock); err != nil {
		fmt.Println(err)
	}
	// Output: locked: text
}

// Lock the data segment: the heap, the stacks, and every later allocation,
// where Status says it is allowed. A Go program may lock data only with
// CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK: under a finite limit the Go
// runtime would abort once its heap outgrew it, so Plock refuses, with
// ReasonStrict.
func ExamplePlock_data() {
	st, err := plock.Status()
	if err != nil {
		fmt.Println(err)
		return
	}
	allowed := st.CapIPCLock || st.MemlockSoft == plock.Unlimited
	err = plock.Plock(plock.DatLock)
	var pe *plock.Error
	switch {
	case err == nil:
		buf := make([]byte, 1<<20) // allocated after the lock: locked as it is touched
		for i := range buf {
			buf[i] = 1
		}
		plock.Plock(plock.Unlock)
	case errors.As(err, &pe) && pe.Reason == plock.ReasonStrict:
		log.Print(err) // says how to grant CAP_IPC_LOCK
	default:
		fmt.Println(err)
	}
	fmt.Println("locked as Status predicted:", (err == nil) == allowed)
	// Output: locked as Status predicted: true
}

// Lock for a critical section, then unlock. Unlock removes every lock; a
// second Unlock is EINVAL.
func ExamplePlock_unlock() {
	if err := plock.Plock(plock.TxtShlibLock); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("locked:", plock.State())
	// ... the critical section ...
	if err := plock.Plock(plock.Unlock); err != nil {
		fmt.Println(err)
	}
	fmt.Println("after unlock:", plock.State())
	err := plock.Plock(plock.Unlock)
	fmt.Println(errors.Is(err, syscall.EINVAL), err)
	// Output:
	// locked: text+shlib
	// after unlock: none
	// true plock UNLOCK: invalid argument: nothing is locked
}

// Check what locking is possible before trying: Status tells whether
// CAP_IPC_LOCK applies, the RLIMIT_MEMLOCK limit and the headroom left.
func ExampleStatus() {
	st, err := plock.Status()
	if err != nil {
		fmt.Println(err)
		return
	}
	log.Print(st) // "this process: locked none, VmLck 0 B, RLIMIT_MEMLOCK 8.0 MiB ..."
	switch {
	case st.CapIPCLock || st.MemlockSoft == plock.Unlimited:
		log.Print("any lock is possible")
	case st.MemlockSoft == 0:
		log.Print("no lock is possible: RLIMIT_MEMLOCK is 0")
	default:
		log.Printf("text and shared libraries, up to %d bytes", st.Headroom)
	}
	fmt.Println("locked so far:", st.State)
	// Output: locked so far: none
}

// Error says why a call failed, as the C library decided it, with the
// numbers behind it.
func ExampleError() {
	err := plock.Plock(plock.Unlock) // nothing is locked
	var pe *plock.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Reason, pe.Err == syscall.EINVAL)
		fmt.Println(err)
	}
	// Output:
	// nothing true
	// plock UNLOCK: invalid argument: nothing is locked
}

// Check support: the operations of <sys/lock.h> are all there, and Plock
// tells the ones that fail apart: EINVAL (a wrong state or value), EPERM
// (no privilege), ENOMEM (over the limit).
func ExamplePlock_checkSupport() {
	for _, op := range []plock.Op{plock.TxtLock, plock.Op(3)} {
		err := plock.Plock(op)
		switch {
		case err == nil:
			fmt.Println(op, "works")
			plock.Plock(plock.Unlock)
		case errors.Is(err, syscall.EINVAL):
			fmt.Println(op, "is not supported")
		case errors.Is(err, fs.ErrPermission):
			fmt.Println(op, "needs CAP_IPC_LOCK or a RLIMIT_MEMLOCK above 0")
		default:
			fmt.Println(op, "failed:", err)
		}
	}
	// Output:
	// TXTLOCK works
	// Op(3) is not supported
}

// Fall back gracefully: lock what can be locked, say why the rest was not,
// and run either way. Without CAP_IPC_LOCK a data lock fails (see the
// package documentation), and TxtShlibLock still keeps the code resident.
func ExamplePlock_fallback() {
	logger := log.New(os.Stderr, "", 0)
	locked := false
	for _, op := range []plock.Op{plock.ProcShlibLock, plock.TxtShlibLock} {
		err := plock.Plock(op)
		if err == nil {
			locked = true
			break
		}
		logger.Printf("warning: %v", err)
	}
	if !locked {
		logger.Print("running without memory locks")
	}
	fmt.Println("critical work done")
	if locked {
		plock.Plock(plock.Unlock)
	}
	// Output: critical work done
}

// Lock one record of a file: seek to it, then lock its length from there.
func ExampleLockf() {
	const recordSize = 100
	path := filepath.Join(os.TempDir(), fmt.Sprintf("plock-example-%d", os.Getpid()))
	defer os.Remove(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close() // releases every lock this process has on the file

	update := func(record int, data []byte) error {
		if _, err := f.Seek(int64(record*recordSize), io.SeekStart); err != nil {
			return err
		}
		if err := plock.Lockf(int(f.Fd()), plock.LockfLock, recordSize); err != nil {
			return err
		}
		defer func() {
			f.Seek(int64(record*recordSize), io.SeekStart)
			plock.Lockf(int(f.Fd()), plock.LockfUnlock, recordSize)
		}()
		_, err := f.Write(data)
		return err
	}
	for i, b := range []byte{'X', 'Y'} {
		rec := make([]byte, recordSize)
		for j := range rec {
			rec[j] = b
		}
		if err := update(i, rec); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("updated record", i)
	}
	// Output:
	// updated record 0
	// updated record 1
}

// Wait for a lock, but not forever: LockfContext gives up when the context
// ends, with context.DeadlineExceeded.
func ExampleLockfContext() {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("plock-example-ctx-%d", os.Getpid()))
	defer os.Remove(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	switch err := plock.LockfContext(ctx, int(f.Fd()), 0); {
	case err == nil:
		fmt.Println("lock acquired")
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Println("timeout waiting for lock")
	default:
		fmt.Println(err)
	}
	// Output: lock acquired
}

// Segments shows how the C library classifies each mapping, and whether
// the kernel has it locked.
func ExampleSegments() {
	segs, err := plock.Segments()
	if err != nil {
		fmt.Println(err)
		return
	}
	var size [plock.NumClasses]uint64
	for _, s := range segs {
		log.Printf("%-10v %v %8d KiB locked=%v %s", s.Class, s.Prot, s.Size>>10, s.IsLocked, s.Path)
		size[s.Class] += s.Size
	}
	for c, n := range size {
		if n > 0 {
			fmt.Print(plock.Class(c), " ")
		}
	}
	fmt.Println()
	// Output: other text data stack shlib-text shlib-data
}
