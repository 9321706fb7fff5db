//go:build linux && cgo

package plock

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The package as other modules build it: with plain go build, with cgo and
// without, and for other systems.

// goTool is the go command of the toolchain that built the tests.
var goTool = filepath.Join(runtime.GOROOT(), "bin", "go")

// consumer writes a module in a temporary directory that requires this one
// through a replace directive, with main.go as its program, and returns
// its directory.
func consumer(t *testing.T, main string) string {
	t.Helper()
	repo, err := os.Getwd()
	require.NoError(t, err)
	dir := t.TempDir()
	gomod := "module example.com/consumer\n\ngo 1.26\n\nrequire github.com/cplock/plock v0.0.0\n\n" +
		"replace github.com/cplock/plock => " + repo + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644))
	return dir
}

// goCmd runs the go command in dir with env added, and returns its output.
func goCmd(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(goTool, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOFLAGS=-mod=mod"), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestOutsideModule builds a program in a module of its own with plain go
// build, runs it and checks that it locked its memory.
func TestOutsideModule(t *testing.T) {
	needRoot(t, "the program locks its data, which needs CAP_IPC_LOCK")
	dir := consumer(t, `package main

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
	out, err := goCmd(t, dir, []string{"CGO_ENABLED=1"}, "build", "-o", "locked", ".")
	require.NoError(t, err, "go build:\n%s", out)
	b, err := exec.Command(filepath.Join(dir, "locked")).CombinedOutput()
	require.NoError(t, err, "%s", b)
	m := regexp.MustCompile(`^state=text\+data vmlck=(\d+) future=true\n$`).FindStringSubmatch(string(b))
	require.NotNil(t, m, "%s", b)
	v, _ := strconv.ParseUint(m[1], 10, 64)
	assert.Greater(t, v, uint64(0))
}

// noCgoProgram calls every function of the package and says, for each,
// whether its error is ErrNoCgo and ENOSYS, with the message.
const noCgoProgram = `package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"

	"github.com/cplock/plock"
)

func show(name string, err error) {
	fmt.Printf("%s nocgo=%v enosys=%v: %v\n", name, errors.Is(err, plock.ErrNoCgo),
		errors.Is(err, syscall.ENOSYS), err)
}

func main() {
	show("Plock", plock.Plock(plock.ProcLock))
	_, err := plock.Segments()
	show("Segments", err)
	_, err = plock.SegmentsOf(1)
	show("SegmentsOf", err)
	_, err = plock.Status()
	show("Status", err)
	_, err = plock.StatusOf(1)
	show("StatusOf", err)
	show("Lockf", plock.Lockf(0, plock.LockfTest, 0))
	show("LockfContext", plock.LockfContext(context.Background(), 0, 0))
	show("LockProcess", plock.LockProcess(1, plock.TxtLock))
	show("UnlockProcess", plock.UnlockProcess(1))
	cmd := exec.Command("true")
	show("StartLocked", plock.StartLocked(cmd, plock.ProcLock, false))
	c, ok := plock.ProcLock.Classes()
	fmt.Println("State", plock.State(), "Classes", c, ok, "started", cmd.Process != nil)
}
`

// TestWithoutCgo: a program built with CGO_ENABLED=0 builds, and every call
// fails with ErrNoCgo, which says what to do; and the package builds and
// vets for another system. (internal/headertest checks that both builds
// have the same API.)
func TestWithoutCgo(t *testing.T) {
	dir := consumer(t, noCgoProgram)
	out, err := goCmd(t, dir, []string{"CGO_ENABLED=0"}, "build", "-o", "nocgo", ".")
	require.NoError(t, err, "go build with CGO_ENABLED=0:\n%s", out)
	b, err := exec.Command(filepath.Join(dir, "nocgo")).CombinedOutput()
	require.NoError(t, err, "%s", b)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, lines, 11, "%s", b)
	const msg = ": plock needs cgo on Linux, and this program was built without cgo (CGO_ENABLED=0): " +
		"build it for Linux with CGO_ENABLED=1 and a C compiler (gcc)"
	for _, l := range lines[:10] {
		name, _, _ := strings.Cut(l, " ")
		if name == "Segments" || name == "Status" {
			name += "Of" // they are SegmentsOf(0) and StatusOf(0)
		}
		if name == "LockfContext" {
			name = "Lockf" // it fails at its first Lockf
		}
		assert.Regexp(t, `^\w+ nocgo=true enosys=true: plock\.`+name+regexp.QuoteMeta(msg)+`$`, l)
	}
	assert.Equal(t, "State none Classes none false started false", lines[10])

	// Another system: cgo is off when cross-compiling, and the shim is
	// Linux's anyway. go vet compiles the tests that build there too.
	for _, goos := range []string{"darwin"} {
		for _, verb := range []string{"build", "vet"} {
			out, err := goCmd(t, ".", []string{"GOOS=" + goos, "GOARCH=amd64"}, verb, ".")
			assert.NoError(t, err, "GOOS=%s go %s:\n%s", goos, verb, out)
		}
	}
}
