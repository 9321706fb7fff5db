//go:build linux && cgo

package plock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The model of the contract's state rules (docs/CONTRACT.md), written here
// again on purpose: the tests' oracle, independent of the C library; and
// TestModel, which runs every short sequence of ops against it.

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
// With -test.short (the test VMs, whose emulated CPUs run the 924 processes
// of the whole set in minutes), the sequences of one and two ops only.
func modelSequences() [][]Op {
	all := append(append([]Op{}, validOps...), invalidOps...)
	var seqs [][]Op
	for _, a := range all {
		seqs = append(seqs, []Op{a})
		for _, b := range all {
			seqs = append(seqs, []Op{a, b})
		}
	}
	if testing.Short() {
		return seqs
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
