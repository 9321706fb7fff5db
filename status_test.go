//go:build linux && cgo

package plock

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Status, Segments, and StatusOf another process, against the kernel's
// own account (/proc/PID/smaps, getrlimit).

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
