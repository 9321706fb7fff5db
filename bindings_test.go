//go:build linux && cgo

package plock

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of the bindings themselves (bindings.go, nocgo.go): what a
// struct plock_reason becomes as an error, the shared error of a refusal,
// the C library's names, and the package built by plain go build from
// another module, with cgo and without.

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
	// So is that of each value up to the last op.
	assert.Same(t, Plock(Op(3)), Plock(Op(3)))
	// A value above the ops gets an error of its own, which says the same.
	assert.NotSame(t, Plock(Op(99)), Plock(Op(99)))
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

	// Other systems: the package builds there without the shim, which is
	// Linux's (shim_cgo.c carries the build constraint of bindings.go), and
	// go vet compiles the tests that build there too.  Windows, because
	// syscall's types differ there (WaitStatus is a struct).
	for _, goos := range []string{"darwin", "windows"} {
		for _, verb := range []string{"build", "vet"} {
			cmd := exec.Command(goCommand(), verb, ".")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=arm64", "CGO_ENABLED=0")
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "GOOS=%s go %s:\n%s", goos, verb, out)
		}
	}
}

// The Makefile builds libplock from every C file of shim/ (a wildcard);
// shim_cgo.c must #include exactly those for the Go package, or the two
// would be different libraries.
func TestShimCgoIncludesEveryShimSource(t *testing.T) {
	src, err := os.ReadFile("shim_cgo.c")
	require.NoError(t, err)
	var included []string
	for _, m := range regexp.MustCompile(`(?m)^#include "(shim/[^"]+\.c)"$`).FindAllSubmatch(src, -1) {
		included = append(included, string(m[1]))
	}
	files, err := filepath.Glob("shim/*.c")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	assert.ElementsMatch(t, files, included, "shim_cgo.c's #includes against shim/*.c")
}
