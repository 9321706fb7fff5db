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

// Lock the program's text (its code) in memory, as os.plock(PLOCK_TEXT)
// does in the Python tutorial.
func ExamplePlock_text() {
	if err := plock.Plock(plock.TxtLock); err != nil {
		fmt.Println("cannot lock text:", err)
		return
	}
	fmt.Println("locked:", plock.State())
	if err := plock.Plock(plock.Unlock); err != nil {
		fmt.Println(err)
	}
	// Output: locked: TXTLOCK
}

// Lock the data segment: the heap, the stacks, and every later allocation.
func ExamplePlock_data() {
	if err := plock.Plock(plock.DatLock); err != nil {
		fmt.Println("cannot lock data:", err)
		return
	}
	buf := make([]byte, 1<<20) // allocated after the lock: locked as it is touched
	for i := range buf {
		buf[i] = 1
	}
	st, err := plock.Status()
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println("locked:", plock.State(), "future growth locked:", st.FutureLocked)
	plock.Plock(plock.Unlock)
	// Output: locked: DATLOCK future growth locked: true
}

// Lock text and data for a critical section, then unlock. Unlock removes
// every lock; a second Unlock is EINVAL.
func ExamplePlock_unlock() {
	if err := plock.Plock(plock.ProcLock); err != nil {
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
	// locked: TXTLOCK|DATLOCK
	// after unlock: UNLOCK
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
	switch {
	case st.CapIPCLock || st.MemlockSoft == plock.Unlimited:
		fmt.Println("any lock is possible")
	case st.MemlockSoft == 0:
		fmt.Println("no lock is possible: RLIMIT_MEMLOCK is 0")
	default:
		fmt.Printf("text and shared libraries, up to %d bytes\n", st.Headroom)
	}
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

// Lock one record of a file: seek to it, then lock its length from there,
// as the lockf tutorial's partial_lock does.
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
// ends, with context.DeadlineExceeded, as the lockf tutorial's
// lock_timeout does with F_TLOCK and retries.
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
	for _, s := range segs {
		if s.Class != plock.ClassOther {
			fmt.Printf("%-10v %v %8d KiB locked=%v %s\n", s.Class, s.Prot, s.Size>>10, s.IsLocked, s.Path)
		}
	}
}
