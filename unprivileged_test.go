//go:build linux && cgo

package plock

import (
	"errors"
	"io/fs"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Plock unprivileged: uid 65534, no capabilities, a lowered RLIMIT_MEMLOCK.

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
