//go:build linux && cgo

package plock_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cplock/plock"
)

// Lock what the process may lock, and run either way: a data lock needs
// CAP_IPC_LOCK (or no RLIMIT_MEMLOCK) in a Go program, and the code alone
// (TxtShlibLock) fits under a small limit. The error says what to grant.
func ExamplePlock() {
	for _, op := range []plock.Op{plock.ProcShlibLock, plock.TxtShlibLock} {
		err := plock.Plock(op)
		if err == nil {
			defer plock.Plock(plock.Unlock)
			break
		}
		log.Printf("running with less locked: %v", err)
	}
	fmt.Println("critical work done")
	// Output: critical work done
}

// Lock the program's text, its code, and unlock it again.
func ExamplePlock_text() {
	if err := plock.Plock(plock.TxtLock); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("locked:", plock.State())
	if err := plock.Plock(plock.Unlock); err != nil {
		fmt.Println(err)
	}
	fmt.Println("after Unlock:", plock.State())
	// Output:
	// locked: text
	// after Unlock: none
}

// An operation that the state does not allow fails with EINVAL, decided
// before any system call, and changes nothing.
func ExamplePlock_einval() {
	err := plock.Plock(plock.Unlock) // nothing is locked
	fmt.Println(errors.Is(err, syscall.EINVAL))
	fmt.Println(err)
	// Output:
	// true
	// plock UNLOCK: invalid argument: nothing is locked
}

// An *Error says why the call failed, as the C library decided it, with
// what it measured: a program can choose what to do from it.
func ExampleError() {
	for _, op := range []plock.Op{plock.Unlock, plock.Op(3)} {
		var e *plock.Error
		if errors.As(plock.Plock(op), &e) {
			switch e.Reason {
			case plock.ReasonStrict, plock.ReasonLimit, plock.ReasonZeroLimit:
				fmt.Println(op, "needs a higher RLIMIT_MEMLOCK, or CAP_IPC_LOCK:", e.Need, "bytes")
			default:
				fmt.Println(op, e.Reason, e.Err)
			}
		}
	}
	// Output:
	// UNLOCK nothing invalid argument
	// Op(3) badop invalid argument
}

// State is a set of classes; test a class with &.
func ExampleState() {
	fmt.Println("locked:", plock.State())
	if plock.State()&plock.Data == 0 {
		fmt.Println("the heap may be paged out")
	}
	// Output:
	// locked: none
	// the heap may be paged out
}

// Op.Classes says what an operation locks, from the C library's table.
func ExampleOp_Classes() {
	for _, op := range []plock.Op{plock.ProcLock, plock.TxtShlibLock, plock.Op(3)} {
		c, ok := op.Classes()
		fmt.Println(op, c, ok)
	}
	// Output:
	// PROCLOCK text+data true
	// TXTSHLIBLOCK text+shlib true
	// Op(3) none false
}

// Status says what limits locking here, before trying.
func ExampleStatus() {
	st, err := plock.Status()
	if err != nil {
		fmt.Println(err)
		return
	}
	// Plock refuses a data lock unless no limit applies (CAP_IPC_LOCK, or
	// RLIMIT_MEMLOCK unlimited); other locks fit within st.Headroom.
	if !st.CapIPCLock && st.MemlockSoft != plock.Unlimited {
		log.Printf("only text and shared libraries can be locked here: %v", st)
	}
	fmt.Println("this process:", st.Self, "locked:", st.State)
	// Output: this process: true locked: none
}

// Report.String shows a report on one line.
func ExampleReport_String() {
	r := plock.Report{Self: true, State: plock.Text | plock.Data, FutureLocked: true, VmLck: 332 << 10,
		MemlockSoft: 8 << 20, MemlockHard: 8 << 20, CapIPCLock: true, Headroom: plock.Unlimited}
	fmt.Println(r)
	// Output: locked text+data, later mappings locked; VmLck 332 KiB, RLIMIT_MEMLOCK 8.0 MiB (hard 8.0 MiB), CAP_IPC_LOCK, headroom unlimited
}

// Segments shows how the C library classifies each mapping, and whether
// the kernel has it locked: here, which classes this program has.
func ExampleSegments() {
	segs, err := plock.Segments()
	if err != nil {
		fmt.Println(err)
		return
	}
	bytes := map[plock.Class]uint64{}
	for _, s := range segs {
		bytes[s.Class] += s.Size
	}
	for c := plock.ClassText; c < plock.NumClasses; c++ {
		fmt.Println(c, bytes[c] > 0)
	}
	// Output:
	// text true
	// data true
	// stack true
	// shlib-text true
	// shlib-data true
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
