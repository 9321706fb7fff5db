//go:build linux && cgo

package plock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---- the model of the contract's state rules (docs/CONTRACT.md), written
// here again on purpose: the tests' oracle, independent of the C library

var validOps = []Op{Unlock, ProcLock, TxtLock, DatLock, ShlibLock, ProcShlibLock, TxtShlibLock, DatShlibLock}

// invalidOps are values that are no operation: between, above and below
// the valid ones, and the OR of all three classes (which no op is).
var invalidOps = []Op{-1, 3, 14, 16}

// modelClasses is the contract's table: the classes each op locks. The C
// library owns the table the package runs (shim/plock.c); this copy is
// independent on purpose, as the oracle the package is tested against.
var modelClasses = map[Op]Classes{
	Unlock:        0,
	ProcLock:      LockedText | LockedData,
	TxtLock:       LockedText,
	DatLock:       LockedData,
	ShlibLock:     LockedShlib,
	ProcShlibLock: LockedText | LockedData | LockedShlib,
	TxtShlibLock:  LockedText | LockedShlib,
	DatShlibLock:  LockedData | LockedShlib,
}

// modelStep is the contract's "State and EINVAL" for a dynamic
// program run with CAP_IPC_LOCK.
func modelStep(state Classes, op Op) (Classes, string) {
	c, ok := modelClasses[op]
	switch {
	case !ok:
		return state, "EINVAL"
	case op == Unlock && state == 0:
		return state, "EINVAL"
	case op == Unlock:
		return 0, "OK"
	case c&state != 0:
		return state, "EINVAL"
	}
	return state | c, "OK"
}

// classBit is the class of State that locks segments of class c
// (independent of the C library's table on purpose, as modelClasses).
func classBit(c Class) Classes {
	switch c {
	case ClassText:
		return LockedText
	case ClassData, ClassStack:
		return LockedData
	case ClassShlibText, ClassShlibData:
		return LockedShlib
	}
	return 0
}

// errnoName is "OK" for nil, the errno's name for EINVAL, EPERM, ENOMEM,
// EACCES and EAGAIN, and the error's text otherwise.
func errnoName(err error) string {
	for _, e := range []syscall.Errno{syscall.EINVAL, syscall.EPERM, syscall.ENOMEM, syscall.EACCES, syscall.EAGAIN} {
		if errors.Is(err, e) {
			return map[syscall.Errno]string{syscall.EINVAL: "EINVAL", syscall.EPERM: "EPERM",
				syscall.ENOMEM: "ENOMEM", syscall.EACCES: "EACCES", syscall.EAGAIN: "EAGAIN"}[e]
		}
	}
	if err == nil {
		return "OK"
	}
	return err.Error()
}

// checkLocks compares what is locked in this process with state: through
// Segments, and through the smaps oracle alone. It returns the mismatches.
func checkLocks(state Classes) []string {
	var bad []string
	segs, err := Segments()
	if err != nil {
		return []string{"Segments: " + err.Error()}
	}
	maps, err := readSmaps("self")
	if err != nil {
		return []string{"smaps: " + err.Error()}
	}
	// Every segment of a plock class is locked exactly when its class is,
	// by the shim's own account and by the kernel's (VmFlags "lo").
	for _, s := range segs {
		bit := classBit(s.Class)
		if bit == 0 {
			continue
		}
		want := state&bit != 0
		if s.IsLocked != want {
			bad = append(bad, fmt.Sprintf("Segments: %v %x-%x %q IsLocked=%v, want %v", s.Class, s.Start, s.End, s.Path, s.IsLocked, want))
		}
		for _, m := range maps {
			if m.Start < s.End && s.Start < m.End && m.Lo != want {
				bad = append(bad, fmt.Sprintf("smaps: %v %x-%x %q lo=%v, want %v", s.Class, m.Start, m.End, m.Path, m.Lo, want))
			}
		}
	}
	// The oracle alone, by names and permissions, with no classifier.
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return append(bad, err.Error())
	}
	sawText, sawLibc, sawStack := false, false, false
	for _, m := range maps {
		var want, decided bool
		switch {
		case m.Path == "[vdso]" || m.Path == "[vvar]" || m.Path == "[vvar_vclock]" || m.Path == "[vsyscall]":
			want, decided = false, true
		case m.Perms[3] == 's' || m.Perms[:3] == "---":
			// Not locked by the call; but under MCL_FUTURE the kernel
			// marks every new mapping locked, these too.
		case m.Path == exe && m.Perms[1] != 'w':
			want, decided, sawText = state&LockedText != 0, true, true
		case m.Path == exe || m.Path == "[heap]":
			want, decided = state&LockedData != 0, true
		case m.Path == "[stack]":
			want, decided, sawStack = state&LockedData != 0, true, true
		case m.Path == "" && m.Perms == "rw-p":
			want, decided = state&LockedData != 0, true
		case strings.HasPrefix(filepath.Base(m.Path), "libc.so"):
			want, decided, sawLibc = state&LockedShlib != 0, true, true
		}
		if decided && m.Lo != want {
			bad = append(bad, fmt.Sprintf("oracle: %x-%x %s %q lo=%v, want %v", m.Start, m.End, m.Perms, m.Path, m.Lo, want))
		}
	}
	if !sawText || !sawLibc || !sawStack {
		bad = append(bad, fmt.Sprintf("oracle: text %v, libc %v, [stack] %v seen", sawText, sawLibc, sawStack))
	}
	return bad
}

// opResult is what the "seq" helper reports after each op.
type opResult struct {
	Op       Op
	Errno    string
	State    Classes
	Message  string
	Mismatch []string
}

func init() {
	// seq: runs a comma-separated list of op values, each through Plock,
	// and after each checks the state and the locks.
	helpers["seq"] = func(arg string) {
		for i, op := range parseOps(arg) {
			err := Plock(op)
			r := opResult{Op: op, Errno: errnoName(err), State: State()}
			if err != nil {
				r.Message = err.Error()
				var pe *Error
				if !errors.As(err, &pe) || pe.Op != op {
					r.Mismatch = append(r.Mismatch, fmt.Sprintf("error %T %v is no *Error of %v", err, err, op))
				}
			} else {
				r.Mismatch = checkLocks(r.State)
			}
			report("op"+strconv.Itoa(i), r)
		}
	}
}

func parseOps(s string) []Op {
	var ops []Op
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		must(err, "op "+f)
		ops = append(ops, Op(n))
	}
	return ops
}

func joinOps(ops []Op) string {
	s := make([]string, len(ops))
	for i, op := range ops {
		s[i] = strconv.Itoa(int(op))
	}
	return strings.Join(s, ",")
}

// modelSequences returns every sequence of one or two ops from the valid
// and invalid ones, and every sequence of three whose first two are valid
// (an invalid op changes nothing, so longer prefixes with one add nothing).
func modelSequences() [][]Op {
	all := append(append([]Op{}, validOps...), invalidOps...)
	var seqs [][]Op
	for _, a := range all {
		seqs = append(seqs, []Op{a})
		for _, b := range all {
			seqs = append(seqs, []Op{a, b})
		}
	}
	for _, a := range validOps {
		for _, b := range validOps {
			for _, c := range all {
				seqs = append(seqs, []Op{a, b, c})
			}
		}
	}
	return seqs
}

// parallel runs f(i) for i in [0,n) on a few workers.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 2*runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// TestModel runs every op sequence of modelSequences through Plock, each in
// a fresh process, and checks each result, each state and, after each
// success, the locks of every segment against the model.
func TestModel(t *testing.T) {
	needRoot(t)
	seqs := modelSequences()
	var mu sync.Mutex
	parallel(len(seqs), func(i int) {
		ops := seqs[i]
		r := runHelper(t, "seq", joinOps(ops), helperOpts{})
		mu.Lock()
		defer mu.Unlock()
		if !assert.NoErrorf(t, r.err, "%v: helper failed: %s", ops, r.stderr) {
			return
		}
		var state Classes
		for k, op := range ops {
			var got opResult
			r.get(t, "op"+strconv.Itoa(k), &got)
			want := ""
			state, want = modelStep(state, op)
			assert.Equalf(t, want, got.Errno, "%v: op %d (%v): %s", ops, k, op, got.Message)
			assert.Equalf(t, state, got.State, "%v: State after op %d (%v)", ops, k, op)
			assert.Emptyf(t, got.Mismatch, "%v: locks after op %d (%v)", ops, k, op)
			if want == "EINVAL" {
				assert.Containsf(t, got.Message, "plock "+op.String()+": invalid argument", "%v", ops)
			}
		}
	})
	t.Logf("%d sequences, each in its own process", len(seqs))
}

// ---- errors.Is, messages and names, in this process (nothing locked)

func TestErrorWrapsErrno(t *testing.T) {
	err := Plock(Unlock) // nothing is locked in the test process
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.EINVAL)
	assert.NotErrorIs(t, err, fs.ErrPermission)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, Unlock, pe.Op)
	assert.Equal(t, syscall.EINVAL, pe.Err)
	assert.Equal(t, "plock UNLOCK: invalid argument: nothing is locked", err.Error())

	err = Plock(Op(3))
	assert.ErrorIs(t, err, syscall.EINVAL)
	assert.Equal(t, "plock Op(3): invalid argument: not an operation of <sys/lock.h>", err.Error())
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, ReasonBadOp, pe.Reason)
	assert.Equal(t, "badop", pe.Reason.String())
	assert.Equal(t, Classes(0), State())

	perm := &Error{Op: TxtLock, Err: syscall.EPERM}
	assert.ErrorIs(t, perm, fs.ErrPermission, "EPERM must satisfy fs.ErrPermission")
}

// TestRefusalCostsNoAllocation: the EINVAL path of Plock, decided from the
// state, is one cgo call and returns an error made once, equal to the one
// reasonError would make.
func TestRefusalCostsNoAllocation(t *testing.T) {
	first := Plock(Unlock) // nothing is locked
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		if !errors.Is(Plock(Unlock), syscall.EINVAL) {
			t.Fatal("Plock(Unlock) with nothing locked did not fail with EINVAL")
		}
	}))
	assert.Same(t, first, Plock(Unlock))
	assert.Equal(t, &Error{Op: Unlock, Err: syscall.EINVAL, Reason: ReasonNothing, Memlock: Unlimited}, first)
	// A value out of the table of refusals is made anew, and says the same.
	assert.Equal(t, "plock Op(99): invalid argument: not an operation of <sys/lock.h>", Plock(Op(99)).Error())
}

func TestNames(t *testing.T) {
	names := map[Op]string{Unlock: "UNLOCK", ProcLock: "PROCLOCK", TxtLock: "TXTLOCK", DatLock: "DATLOCK",
		ShlibLock: "SHLIBLOCK", ProcShlibLock: "PROCSHLIBLOCK", TxtShlibLock: "TXTSHLIBLOCK", DatShlibLock: "DATSHLIBLOCK",
		Op(3): "Op(3)", Op(-1): "Op(-1)", Op(16): "Op(16)"}
	for op, s := range names {
		assert.Equal(t, s, op.String())
	}
	for c, s := range map[Class]string{ClassOther: "other", ClassText: "text", ClassData: "data", ClassStack: "stack",
		ClassShlibText: "shlib-text", ClassShlibData: "shlib-data", Class(NumClasses): "?"} {
		assert.Equal(t, s, c.String())
	}
	assert.Equal(t, "r-xp", (ProtRead | ProtExec).String())
	assert.Equal(t, "rw-s", (ProtRead | ProtWrite | ProtShared).String())
	assert.Equal(t, "---p", Prot(0).String())
	for c, s := range map[LockfCmd]string{LockfUnlock: "F_ULOCK", LockfLock: "F_LOCK", LockfTryLock: "F_TLOCK", LockfTest: "F_TEST", 7: "LockfCmd(7)"} {
		assert.Equal(t, s, c.String())
	}
	for c, s := range map[Classes]string{0: "none", LockedText: "text", LockedText | LockedData: "text+data",
		LockedText | LockedData | LockedShlib: "text+data+shlib", LockedShlib | 1: "shlib+Classes(1)"} {
		assert.Equal(t, s, c.String())
	}
	for r, s := range map[Reason]string{ReasonNone: "none", ReasonLocked: "locked", ReasonLimit: "limit",
		ReasonSystem: "system", numReasons: "?"} {
		assert.Equal(t, s, r.String())
	}
	assert.Equal(t, "this process: locked text+data (later memory too), VmLck 1.0 MiB, "+
		"RLIMIT_MEMLOCK unlimited (hard unlimited), headroom unlimited, CAP_IPC_LOCK",
		Report{Self: true, State: LockedText | LockedData, FutureLocked: true, VmLck: 1 << 20,
			MemlockSoft: Unlimited, MemlockHard: Unlimited, CapIPCLock: true, Headroom: Unlimited}.String())
	assert.Equal(t, "process 7: VmLck 0 B, RLIMIT_MEMLOCK 8.0 MiB (hard 8.0 MiB), headroom 8.0 MiB, no CAP_IPC_LOCK",
		Report{PID: 7, MemlockSoft: 8 << 20, MemlockHard: 8 << 20, Headroom: 8 << 20}.String())
}

// ---- Status, Segments and StatusOf another process

func TestStatus(t *testing.T) {
	needRoot(t)
	st, err := Status()
	require.NoError(t, err)
	assert.True(t, st.Self)
	assert.True(t, st.CapIPCLock, "the tests run as root with CAP_IPC_LOCK")
	assert.Equal(t, uint64(Unlimited), st.Headroom, "with CAP_IPC_LOCK no limit applies")
	var rl syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(8 /* RLIMIT_MEMLOCK */, &rl))
	assert.Equal(t, rl.Cur, st.MemlockSoft)
	assert.Equal(t, rl.Max, st.MemlockHard)
	v, err := vmLck()
	require.NoError(t, err)
	assert.Equal(t, v, st.VmLck)

	segs, err := Segments()
	require.NoError(t, err)
	maps, err := readSmaps("self")
	require.NoError(t, err)
	byStart := map[uintptr]smapsEntry{}
	for _, m := range maps {
		byStart[m.Start] = m
	}
	classes := map[Class]bool{}
	for _, s := range segs {
		classes[s.Class] = true
		assert.Equal(t, uint64(s.End-s.Start), s.Size)
		if m, ok := byStart[s.Start]; ok && m.End == s.End && m.Path == s.Path {
			assert.Equal(t, m.Perms, s.Prot.String(), "%x", s.Start)
		}
	}
	for _, c := range []Class{ClassText, ClassData, ClassStack, ClassShlibText, ClassShlibData, ClassOther} {
		assert.True(t, classes[c], "no %v segment", c)
	}

	// Another process: its limit, no State.
	cmd := exec.Command("prlimit", "--memlock=65536:131072", "sleep", "30")
	require.NoError(t, cmd.Start())
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var other Report
	require.Eventually(t, func() bool {
		other, err = StatusOf(cmd.Process.Pid)
		return err == nil && other.MemlockSoft == 65536
	}, 5*time.Second, 10*time.Millisecond)
	assert.False(t, other.Self)
	assert.Equal(t, uint64(131072), other.MemlockHard)
	oseg, err := SegmentsOf(cmd.Process.Pid)
	require.NoError(t, err)
	assert.NotEmpty(t, oseg)

	_, err = StatusOf(1 << 30)
	var pe *ProcError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, syscall.ESRCH)
	assert.Contains(t, err.Error(), "no such process")
	_, err = SegmentsOf(1 << 30)
	assert.ErrorIs(t, err, syscall.ESRCH)
}

// FutureLocked is the kernel's MCL_FUTURE, so it shows a program's own
// mlockall too, not only a data lock.
func TestStatusOwnMlockall(t *testing.T) {
	r := runHelper(t, "ownfuture", "", helperOpts{})
	r.requireOK(t)
	var on, off Report
	r.get(t, "on", &on)
	r.get(t, "off", &off)
	assert.True(t, on.FutureLocked, "after mlockall(MCL_FUTURE|MCL_ONFAULT)")
	assert.Equal(t, Classes(0), on.State, "plock locked nothing")
	assert.False(t, off.FutureLocked, "after munlockall")
}

func init() {
	// ownfuture: as root, mlockall(MCL_FUTURE|MCL_ONFAULT) and Status,
	// then munlockall and Status.
	helpers["ownfuture"] = func(string) {
		futureOn()
		st, err := Status()
		must(err, "status")
		report("on", st)
		if _, _, e := syscall.Syscall(syscall.SYS_MUNLOCKALL, 0, 0, 0); e != 0 {
			fail("munlockall: %v", e)
		}
		st, err = Status()
		must(err, "status")
		report("off", st)
	}
}

// ---- unprivileged: uid 65534, no capabilities, a lowered RLIMIT_MEMLOCK

// unprivResult is what the "unpriv" helper reports for each op.
type unprivResult struct {
	Errno         string
	Message       string
	Perm          bool // errors.Is(err, fs.ErrPermission)
	State         Classes
	Before, After Report
	LockedBefore  []string // mappings with "lo", by the oracle
	LockedAfter   []string
	Mismatch      []string // after a success: checkLocks
}

func init() {
	// unpriv: runs each op of the list from the state the previous ones
	// left, and reports each result with the locks before and after.
	helpers["unpriv"] = func(arg string) {
		for i, op := range parseOps(arg) {
			var r unprivResult
			var err error
			r.Before, err = Status()
			must(err, "status")
			maps, err := readSmaps("self")
			must(err, "smaps")
			r.LockedBefore = lockedRanges(maps)
			perr := Plock(op)
			r.Errno, r.State = errnoName(perr), State()
			if perr != nil {
				r.Message = perr.Error()
				r.Perm = errors.Is(perr, fs.ErrPermission)
			} else {
				r.Mismatch = checkLocks(r.State)
			}
			r.After, err = Status()
			must(err, "status")
			maps, err = readSmaps("self")
			must(err, "smaps")
			r.LockedAfter = lockedRanges(maps)
			report("op"+strconv.Itoa(i), r)
		}
	}
}

func runUnpriv(t *testing.T, memlock uint64, ops ...Op) []unprivResult {
	t.Helper()
	r := runHelper(t, "unpriv", joinOps(ops), helperOpts{unprivileged: true, memlock: memlock})
	r.requireOK(t)
	res := make([]unprivResult, len(ops))
	for i := range ops {
		r.get(t, "op"+strconv.Itoa(i), &res[i])
		require.False(t, res[i].Before.CapIPCLock, "the helper must run without CAP_IPC_LOCK")
		require.Equal(t, memlock, res[i].Before.MemlockSoft)
	}
	return res
}

// requireRolledBack checks that a failed call changed nothing.
func requireRolledBack(t *testing.T, r unprivResult, what string) {
	t.Helper()
	assert.Equal(t, r.Before.State, r.State, "%s: state", what)
	assert.Equal(t, r.Before.VmLck, r.After.VmLck, "%s: VmLck", what)
	assert.Equal(t, r.LockedBefore, r.LockedAfter, "%s: locked mappings", what)
	assert.Equal(t, r.Before.FutureLocked, r.After.FutureLocked, "%s: future", what)
}

// mySizes returns the bytes of each class in this process; the helpers
// run the same binary, so their text and shared libraries are as large.
func mySizes(t *testing.T) map[Class]uint64 {
	segs, err := Segments()
	require.NoError(t, err)
	sz := map[Class]uint64{}
	for _, s := range segs {
		sz[s.Class] += s.Size
	}
	return sz
}

var needRE = regexp.MustCompile(`raise it to at least [^(]*\(ulimit -l \d+, LimitMEMLOCK=(\d+)\)`)

func TestUnprivileged(t *testing.T) {
	needRoot(t)
	sz := mySizes(t)
	text, shlib := sz[ClassText], sz[ClassShlibText]+sz[ClassShlibData]
	t.Logf("text %d bytes, shared libraries %d bytes", text, shlib)
	t.Run("EPERMWithLimitZero", func(t *testing.T) {
		t.Parallel()
		ops := []Op{TxtLock, DatLock, ProcLock, ShlibLock, TxtShlibLock, DatShlibLock, ProcShlibLock}
		for i, r := range runUnpriv(t, 0, ops...) {
			assert.Equal(t, "EPERM", r.Errno, ops[i].String())
			assert.True(t, r.Perm, "%v: errors.Is(err, fs.ErrPermission)", ops[i])
			assert.Contains(t, r.Message, "plock "+ops[i].String()+": operation not permitted")
			assert.Contains(t, r.Message, "CAP_IPC_LOCK")
			assert.Contains(t, r.Message, "RLIMIT_MEMLOCK")
			requireRolledBack(t, r, ops[i].String())
		}
	})
	t.Run("DataLockRefusedUnderFiniteLimit", func(t *testing.T) {
		t.Parallel()
		ops := []Op{DatLock, ProcLock, DatShlibLock, ProcShlibLock}
		res := runUnpriv(t, 8<<20, ops...)
		for i, r := range res {
			assert.Equal(t, "ENOMEM", r.Errno, ops[i].String())
			assert.False(t, r.Perm)
			for _, s := range []string{"plock " + ops[i].String() + ": cannot allocate memory",
				"later heap growth", "Go runtime would abort", "cannot map pages in arena address space",
				"8.0 MiB", "CAP_IPC_LOCK", "unlimited", "TxtShlibLock"} {
				assert.Contains(t, r.Message, s, ops[i].String())
			}
			requireRolledBack(t, r, ops[i].String())
			assert.Equal(t, r.After.MemlockSoft-r.After.VmLck, r.After.Headroom)
		}
	})
	t.Run("TxtLockFits", func(t *testing.T) {
		t.Parallel()
		limit := uint64(8 << 20)
		require.Less(t, text, limit, "the text of the test binary must fit under 8 MiB")
		// The shared libraries too, but for the race detector's
		// larger binary.
		ops := []Op{TxtLock, ShlibLock, Unlock}
		if text+shlib >= limit {
			ops = []Op{TxtLock, Unlock}
		}
		res := runUnpriv(t, limit, ops...)
		for i, r := range res {
			require.Equal(t, "OK", r.Errno, "op %d: %s", i, r.Message)
			assert.Empty(t, r.Mismatch)
		}
		assert.Equal(t, LockedText, res[0].State)
		assert.GreaterOrEqual(t, res[0].After.VmLck, text)
		assert.Equal(t, limit-res[0].After.VmLck, res[0].After.Headroom, "Headroom = limit - VmLck")
		assert.False(t, res[0].After.FutureLocked)
		if len(ops) == 3 {
			assert.Equal(t, LockedText|LockedShlib, res[1].State)
			assert.GreaterOrEqual(t, res[1].After.VmLck, text+shlib)
			assert.Equal(t, limit-res[1].After.VmLck, res[1].After.Headroom)
		}
		last := res[len(res)-1]
		assert.Equal(t, Classes(0), last.State)
		assert.Zero(t, last.After.VmLck)
		assert.Empty(t, last.LockedAfter)
	})
	t.Run("TxtLockOverLimit", func(t *testing.T) {
		t.Parallel()
		limit := text / 2 &^ 4095
		r := runUnpriv(t, limit, TxtLock)[0]
		assert.Equal(t, "ENOMEM", r.Errno)
		assert.Contains(t, r.Message, "plock TXTLOCK: cannot allocate memory")
		m := needRE.FindStringSubmatch(r.Message)
		require.NotNil(t, m, r.Message)
		need, err := strconv.ParseUint(m[1], 10, 64)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, need, text, "the limit it asks for must hold the text")
		assert.Less(t, need, text+(1<<20), "and not much more")
		requireRolledBack(t, r, "TXTLOCK")
	})
	t.Run("RollbackOfPartialLock", func(t *testing.T) {
		t.Parallel()
		// Text lies below the shared libraries: TxtShlibLock locks it,
		// then fails on them, and must unlock it again.
		limit := (text + shlib/3) &^ 4095
		require.LessOrEqual(t, limit, uint64(8<<20), "RLIMIT_MEMLOCK can only be lowered")
		res := runUnpriv(t, limit, TxtShlibLock, TxtLock)
		r := res[0]
		assert.Equal(t, "ENOMEM", r.Errno)
		m := needRE.FindStringSubmatch(r.Message)
		require.NotNil(t, m, r.Message)
		need, _ := strconv.ParseUint(m[1], 10, 64)
		assert.GreaterOrEqual(t, need, text+shlib)
		requireRolledBack(t, r, "TXTSHLIBLOCK")
		// The text alone fits: the failure was the libraries', after the
		// text was locked.
		assert.Equal(t, "OK", res[1].Errno, res[1].Message)
		assert.Empty(t, res[1].Mismatch)
	})
}

// ---- the Go runtime and MCL_FUTURE

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
	// not safe either.
	t.Run("MCLFutureThreadAborts", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "mclthreads", "", unpriv)
		require.Contains(t, r.values, "future", "stdout:\n%s\nstderr:\n%.2000s", r.stdout, r.stderr)
		requireAbort(t, r)
		assert.Contains(t, r.stderr, threadAbort)
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

// ---- a program outside the module

// TestOutsideModule builds a program in a module of its own that requires
// this one through a replace directive, with plain go build, runs it and
// checks that it locked its memory.
func TestOutsideModule(t *testing.T) {
	needRoot(t)
	exe := buildConsumer(t, "CGO_ENABLED=1", `package main

import (
	"fmt"
	"os"

	"github.com/cplock/plock"
)

func main() {
	if err := plock.Plock(plock.ProcLock); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	st, err := plock.Status()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("state=%v vmlck=%d future=%v\n", plock.State(), st.VmLck, st.FutureLocked)
}
`)
	out, err := exec.Command(exe).CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := regexp.MustCompile(`^state=text\+data vmlck=(\d+) future=true\n$`).FindStringSubmatch(string(out))
	require.NotNil(t, m, "%s", out)
	v, _ := strconv.ParseUint(m[1], 10, 64)
	assert.Greater(t, v, uint64(0))
}

// buildConsumer builds main, the source of a program in a module of its
// own that requires this one through a replace directive, with plain go
// build and the environment setting cgo (e.g. "CGO_ENABLED=1"), and
// returns the program's path.
func buildConsumer(t *testing.T, cgo, main string) string {
	t.Helper()
	repo, err := os.Getwd()
	require.NoError(t, err)
	dir := t.TempDir()
	gomod := "module example.com/consumer\n\ngo 1.26\n\nrequire github.com/cplock/plock v0.0.0\n\n" +
		"replace github.com/cplock/plock => " + repo + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644))
	build := exec.Command(goCommand(), "build", "-o", "consumer", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", cgo)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build with %s:\n%s", cgo, out)
	return filepath.Join(dir, "consumer")
}

// goCommand is the go command of the toolchain running the tests.
func goCommand() string { return filepath.Join(runtime.GOROOT(), "bin", "go") }

// TestOutsideModuleWithoutCgo builds a consumer module with CGO_ENABLED=0:
// it compiles, and every call says that plock needs cgo on Linux.
func TestOutsideModuleWithoutCgo(t *testing.T) {
	exe := buildConsumer(t, "CGO_ENABLED=0", `package main

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/cplock/plock"
)

func main() {
	err := plock.Plock(plock.TxtLock)
	_, serr := plock.Status()
	fmt.Println(errors.Is(err, plock.ErrNoCgo), errors.Is(err, syscall.ENOSYS), errors.Is(serr, plock.ErrNoCgo))
	fmt.Println(err)
}
`)
	out, err := exec.Command(exe).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "true true true\nplock: not available in this build: it needs cgo "+
		"(CGO_ENABLED=1 and a C compiler) on Linux\n", string(out))

	// Another system: the package builds there without the shim, which is
	// Linux's (shim_cgo.c carries the build constraint of plock.go), and
	// go vet compiles the tests that build there too.
	for _, verb := range []string{"build", "vet"} {
		cmd := exec.Command(goCommand(), verb, ".")
		cmd.Env = append(os.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "GOOS=darwin go %s:\n%s", verb, out)
	}
}
