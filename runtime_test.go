//go:build linux && cgo

package plock

import (
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Go runtime and MCL_FUTURE: why a data lock of a Go program without
// CAP_IPC_LOCK under a finite limit is refused.

var sink [][]byte

// growHeap allocates and touches 256 MiB, 1 MiB at a time, reporting
// each MiB.
func growHeap() {
	for i := 1; i <= 256; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		sink = append(sink, b)
		report("grown", i)
	}
	report("survived", true)
}

// occupyThreads has n goroutines lock themselves to an OS thread and sleep
// at once, so the runtime needs n threads (a locked thread waits with its
// goroutine). With keep, each unlocks before it ends, and its thread goes
// back to the runtime's idle pool instead of exiting.
func occupyThreads(n int, keep bool) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			time.Sleep(100 * time.Millisecond)
			if keep {
				runtime.UnlockOSThread()
			}
		}()
	}
	wg.Wait()
}

// growThreads needs 16 new OS threads.
func growThreads() {
	occupyThreads(16, false)
	report("survived", true)
}

// futureOn turns on MCL_FUTURE|MCL_ONFAULT directly, as a program calling
// mlockall itself would, and reports "future".
func futureOn() {
	const mclFuture, mclOnfault = 2, 4
	_, _, e := syscall.Syscall(syscall.SYS_MLOCKALL, mclFuture|mclOnfault, 0, 0)
	if e != 0 {
		fail("mlockall: %v", e)
	}
	report("future", true)
}

// spareThreads leaves 8 idle OS threads, so that the runtime needs no new
// one for a while. dropafter calls Status after the drop, when a new
// thread's stack would no longer fit under the limit; the runtime starts
// threads on its own (for a goroutine while another thread sits in a
// system call or cgo call), and without spares it might die before
// reporting.
func spareThreads() { occupyThreads(8, true) }

func init() {
	// cplock: C's plock(DATLOCK), without PLOCK_STRICT_FUTURE, then growth.
	helpers["cplock"] = func(string) {
		var data uint64
		segs, err := Segments()
		must(err, "segments")
		for _, s := range segs {
			if s.Class == ClassData || s.Class == ClassStack {
				data += s.Size
			}
		}
		report("data", data)
		report("errno", errnoName(plock(DatLock, false)))
		st, err := Status()
		must(err, "status")
		report("status", st)
		growHeap()
	}
	// strict: Plock(DatLock), then growth.
	helpers["strict"] = func(string) {
		err := Plock(DatLock)
		report("errno", errnoName(err))
		report("message", fmt.Sprint(err))
		st, err := Status()
		must(err, "status")
		report("status", st)
		growHeap()
	}
	// mclfuture: mlockall(MCL_FUTURE|MCL_ONFAULT) itself, then growth.
	// What it reports comes first: once MCL_FUTURE is on, the runtime
	// may die at any mapping or thread it makes.
	helpers["mclfuture"] = func(string) {
		st, err := Status()
		must(err, "status")
		report("status", st)
		futureOn()
		growHeap()
	}
	// mclthreads: MCL_FUTURE as in mclfuture, then goroutines that each
	// need an OS thread of their own, which the runtime creates with
	// pthread_create.
	helpers["mclthreads"] = func(string) {
		futureOn()
		growThreads()
	}
	// dropafter: as root, Plock(DatLock); then become uid 65534, as
	// daemons do, and grow.
	helpers["dropafter"] = func(string) {
		spareThreads()
		must(Plock(DatLock), "Plock(DatLock) as root")
		st, err := Status()
		must(err, "status")
		report("root", st)
		must(syscall.Setgroups(nil), "setgroups")
		must(syscall.Setgid(65534), "setgid")
		must(syscall.Setuid(65534), "setuid") // every thread: glibc's setxid broadcast
		st, err = Status()
		must(err, "status")
		report("dropped", st)
		growHeap()
	}
}

const runtimeAbort = "fatal error: runtime: cannot map pages in arena address space"

// abortRE matches how the runtime dies, with exit status 2, when the kernel
// refuses it memory (mmap fails with EAGAIN, errno 11, under MCL_FUTURE).
// Which of four messages it prints depends on which mapping fails first:
// mostly the pages of a heap arena it has reserved (the fatal error docs/CONTRACT.md
// quotes); the reservation of a new arena ("out of memory"); memory for the
// runtime's own metadata, where it exits without a fatal error; or the
// stack of a new OS thread (8 MiB, counted whole against the limit), where
// cgo's pthread_create fails and the runtime's SIGABRT handler exits.
var abortRE = regexp.MustCompile(`(?m)^(runtime: mmap\(0x[0-9a-f]+, \d+\) returned 0x0, 11\n` +
	regexp.QuoteMeta(runtimeAbort) + `|runtime: out of memory: cannot allocate \d+-byte block \(\d+ in use\)\n` +
	`fatal error: out of memory|` + regexp.QuoteMeta(`runtime: mmap: too much locked memory (check 'ulimit -l').`) +
	`|` + regexp.QuoteMeta(threadAbort) + `\nSIGABRT: abort)$`)

const threadAbort = "runtime/cgo: pthread_create failed: Resource temporarily unavailable"

// tsanAbortRE is how a program under the race detector dies when it is its
// ThreadSanitizer runtime that the kernel refuses memory first (exit 66):
// for its shadow memory at a fixed address, or for an internal structure.
var tsanAbortRE = regexp.MustCompile(`(?m)^==\d+==ERROR: ThreadSanitizer failed to allocate 0x[0-9a-f]+ \(\d+\) bytes ` +
	`(at address [0-9a-f]+ \(errno: 11\)|of \w+ \(error code: 11\))$`)

func requireAbort(t *testing.T, r *helperResult) {
	t.Helper()
	var ee *exec.ExitError
	require.ErrorAs(t, r.err, &ee, "the helper should have died; stdout:\n%s", r.stdout)
	m := abortRE.FindString(r.stderr)
	if raceEnabled && m == "" {
		m = tsanAbortRE.FindString(r.stderr)
		assert.Equal(t, 66, ee.ExitCode(), "ThreadSanitizer exits with 66")
	} else {
		assert.Equal(t, 2, ee.ExitCode(), "the runtime's fatal error exits with 2")
	}
	assert.NotEmpty(t, m, "%.2000s", r.stderr)
	assert.NotContains(t, r.values, "survived")
	var grown int
	if _, ok := r.values["grown"]; ok {
		r.get(t, "grown", &grown)
	}
	assert.Less(t, grown, 16, "it should die within a few MiB of growth")
	t.Logf("died after %d MiB of growth, exit status %d: %q", grown, ee.ExitCode(), m)
}

func TestGoRuntimeAndFutureLocks(t *testing.T) {
	needRoot(t)
	const limit = 8 << 20
	unpriv := helperOpts{unprivileged: true, memlock: limit}

	// What C's plock(DATLOCK) does in an unprivileged Go program: the
	// runtime's data (its arena index in .bss, thread stacks, reserved
	// heap) counts at its full size, far over 8 MiB, so it fails with
	// ENOMEM before locking anything, and the program goes on.
	t.Run("CPlockDatLock", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "cplock", "", unpriv)
		r.requireOK(t)
		var data uint64
		var errno string
		var st Report
		r.get(t, "data", &data)
		r.get(t, "errno", &errno)
		r.get(t, "status", &st)
		assert.Greater(t, data, uint64(limit))
		assert.Equal(t, "ENOMEM", errno)
		assert.Equal(t, Classes(0), st.State)
		assert.False(t, st.FutureLocked)
		assert.Zero(t, st.VmLck)
		assert.Contains(t, r.values, "survived")
	})

	// Go's Plock(DatLock) refuses, says why, and the program goes on.
	t.Run("PlockDatLockRefuses", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "strict", "", unpriv)
		r.requireOK(t)
		var errno, msg string
		var st Report
		r.get(t, "errno", &errno)
		r.get(t, "message", &msg)
		r.get(t, "status", &st)
		assert.Equal(t, "ENOMEM", errno)
		assert.Contains(t, msg, runtimeAbort[len("fatal error: "):])
		assert.Contains(t, msg, "grant CAP_IPC_LOCK")
		assert.False(t, st.FutureLocked)
		assert.Equal(t, uint64(limit)-st.VmLck, st.Headroom)
		assert.Contains(t, r.values, "survived")
	})

	// MCL_FUTURE without the data lock's own accounting: the runtime
	// aborts at its next heap growth. This is what the strict check keeps
	// a program from walking into.
	t.Run("MCLFutureAborts", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "mclfuture", "", unpriv)
		var st Report
		r.get(t, "status", &st)
		assert.False(t, st.CapIPCLock)
		assert.Equal(t, uint64(limit)-st.VmLck, st.Headroom, "Headroom = limit - VmLck")
		require.Contains(t, r.values, "future", "stdout:\n%s\nstderr:\n%.2000s", r.stdout, r.stderr)
		requireAbort(t, r)
	})

	// The same when the runtime needs a new OS thread: its stack counts at
	// its full size against the limit, pthread_create fails with EAGAIN,
	// and cgo aborts the program. A program that does not grow its heap is
	// not safe either. Which allocation of the new thread fails first
	// depends on the machine: on x86-64 its pthread stack (threadAbort);
	// on arm64 (seen under Debian 12's 6.1) the runtime's own memory for
	// it, "out of memory" with runtime.newm on the stack.
	t.Run("MCLFutureThreadAborts", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "mclthreads", "", unpriv)
		require.Contains(t, r.values, "future", "stdout:\n%s\nstderr:\n%.2000s", r.stdout, r.stderr)
		requireAbort(t, r)
		assert.True(t, strings.Contains(r.stderr, threadAbort) || strings.Contains(r.stderr, "runtime.newm("),
			"the program died, but not starting a thread:\n%.2000s", r.stderr)
	})

	// Locking as root and then dropping privileges: Status shows no
	// headroom left, and the next heap growth aborts.
	t.Run("DropPrivilegesAfterDatLock", func(t *testing.T) {
		t.Parallel()
		cmd := helperCmd(t, "dropafter", "", helperOpts{})
		cmd.Args = append([]string{"prlimit", fmt.Sprintf("--memlock=%d:%d", limit, limit), "--", cmd.Path}, cmd.Args[1:]...)
		cmd.Path = lookPath(t, "prlimit")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		r := parseHelper(stdout.String(), stderr.String(), err)
		var root, dropped Report
		r.get(t, "root", &root)
		r.get(t, "dropped", &dropped)
		assert.True(t, root.CapIPCLock)
		assert.Equal(t, LockedData, root.State)
		assert.True(t, root.FutureLocked)
		assert.Equal(t, uint64(Unlimited), root.Headroom)
		assert.Greater(t, root.VmLck, uint64(limit), "the runtime's data counts at its full size")
		assert.False(t, dropped.CapIPCLock)
		assert.True(t, dropped.FutureLocked)
		assert.Zero(t, dropped.Headroom, "VmLck is over the limit: no headroom")
		requireAbort(t, r)
	})
}

func lookPath(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	require.NoError(t, err)
	return p
}
