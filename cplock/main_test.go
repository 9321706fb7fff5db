package main

// End-to-end tests: they build cplock and the programs they run once
// (TestMain), and run them against real processes and the real /proc.
// Unprivileged cases run as uid 65534 with no capabilities, through
// setpriv, under a RLIMIT_MEMLOCK lowered with prlimit.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cplock/plock"
)

var (
	binDir       string // world-readable: cplock, helpers
	cplockBin    string
	selfBin      string // this test binary, as a helper program
	legacyBin    string // examples/legacy.c, with the shim's sources
	targetBin    string // testdata/target.c, dynamically linked
	targetStatic string // testdata/target.c, statically linked
	blockerBin   string // testdata/blocker.c: blocks in one system call
	goTarget     string // testdata/govmlck, CGO_ENABLED=0
	noptraceBin  string // ../testdata/noptrace.c: a command under a seccomp filter
	goTool       string
)

// helperEnv selects a helper mode of this test binary (see helper).
const helperEnv = "CPLOCK_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	code, err := setup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cplock tests: setup: %v\n", err)
		code = 1
	} else {
		code = m.Run()
	}
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// setup builds everything the tests run into binDir.
func setup() (int, error) {
	dir, err := os.MkdirTemp("", "cplock-test-")
	if err != nil {
		return 1, err
	}
	binDir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		return 1, err
	}
	cplockBin = filepath.Join(dir, "cplock")
	selfBin = filepath.Join(dir, "helper")
	legacyBin = filepath.Join(dir, "legacy")
	targetBin = filepath.Join(dir, "target")
	targetStatic = filepath.Join(dir, "target-static")
	blockerBin = filepath.Join(dir, "blocker")
	goTarget = filepath.Join(dir, "gotarget")
	noptraceBin = filepath.Join(dir, "noptrace")
	goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	if dir := os.Getenv(prebuiltEnv); dir != "" {
		prebuilt = true
		return copyPrebuilt(dir)
	}
	shim, err := filepath.Glob("../shim/*.c")
	if err != nil || len(shim) == 0 {
		return 1, fmt.Errorf("no ../shim/*.c: %v", err)
	}
	steps := [][]string{
		{goTool, "build", "-o", cplockBin, "."},
		append([]string{"cc", "-std=gnu11", "-I../include", "-o", legacyBin, "../examples/legacy.c"},
			append(shim, "-lpthread")...),
		{"cc", "-pthread", "-o", targetBin, "testdata/target.c"},
		{"cc", "-pthread", "-static", "-o", targetStatic, "testdata/target.c"},
		{"cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", blockerBin, "testdata/blocker.c"},
		{"cc", "-Wall", "-Werror", "-o", noptraceBin, "../testdata/noptrace.c"},
		{"cp", os.Args[0], selfBin},
		{"chmod", "0755", cplockBin, legacyBin, targetBin, targetStatic, blockerBin, selfBin, noptraceBin},
	}
	gobuild := exec.Command(goTool, "build", "-o", goTarget, "./testdata/govmlck")
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := gobuild.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("CGO_ENABLED=0 go build ./testdata/govmlck: %v\n%s", err, out)
	}
	for _, s := range steps {
		out, err := exec.Command(s[0], s[1:]...).CombinedOutput()
		if err != nil {
			return 1, fmt.Errorf("%s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	return 0, nil
}

// prebuiltEnv names a directory that holds the programs setup builds,
// already built (tests/vm/vm.mk, for a test VM with neither go nor cc, or
// another architecture): cplock, legacy, target, target-static, blocker,
// gotarget, noptrace and patient.
const prebuiltEnv = "CPLOCK_TEST_PREBUILT"

// prebuilt: setup copied the programs from prebuiltEnv's directory.
var prebuilt bool

// copyPrebuilt copies the programs of dir into binDir.
func copyPrebuilt(dir string) (int, error) {
	for _, name := range []string{"cplock", "legacy", "target", "target-static", "blocker",
		"gotarget", "noptrace", "patient"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return 1, fmt.Errorf("%s: %v", prebuiltEnv, err)
		}
		if err := os.WriteFile(filepath.Join(binDir, name), b, 0o755); err != nil {
			return 1, err
		}
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		return 1, err
	}
	return 0, os.WriteFile(selfBin, self, 0o755)
}

// helper runs this binary as a helper program and returns its exit status.
//
//	datlock	plock.Plock(DatLock), print "locked", wait for stdin to close
//	waitsig	print "ready", wait for SIGINT, SIGTERM, SIGHUP or SIGQUIT,
//		print "got NAME" and exit with 100+N
//	sleep	print "ready", sleep for a minute
func helper(mode string) int {
	switch mode {
	case "datlock":
		if err := plock.Plock(plock.DatLock); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		return 0
	case "waitsig":
		c := make(chan os.Signal, 1)
		signal.Notify(c, forwarded...)
		fmt.Println("ready")
		s := <-c
		fmt.Printf("got %v\n", s)
		return 100 + int(s.(syscall.Signal))
	case "sleep":
		fmt.Println("ready")
		time.Sleep(time.Minute)
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 2
}

// result is what a finished cplock did.
type result struct {
	stdout, stderr string
	code           int
}

// cplock runs cplock with args and waits for it (at most 30 s).
func cplock(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, nil, cplockBin, args...)
}

// unprivileged runs name as uid 65534 without capabilities and with
// RLIMIT_MEMLOCK soft and hard limits memlock (as prlimit takes them).
func unprivileged(t *testing.T, memlock string, name string, args ...string) result {
	t.Helper()
	return runCmd(t, nil, "prlimit", unprivArgs(memlock, name, args...)...)
}

func unprivArgs(memlock, name string, args ...string) []string {
	a := []string{"--memlock=" + memlock, "setpriv", "--reuid=65534", "--regid=65534",
		"--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--", name}
	return append(a, args...)
}

func runCmd(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = env
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if cmd.ProcessState == nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	r.code = exitCode(cmd.ProcessState)
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out\nstderr: %s", name, strings.Join(args, " "), r.stderr)
	}
	return r
}

// expect fails t unless r exited with code and its stderr holds every
// string of want.
func (r result) expect(t *testing.T, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
}

// started is a cplock (or helper) running in the background.
type started struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr bytes.Buffer
}

// start starts name with args, its stdout a pipe the test reads.
func start(t *testing.T, env []string, name string, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(name, args...)}
	// Whatever else holds its stderr open must not hold up Wait.
	s.cmd.WaitDelay = 5 * time.Second
	if env != nil {
		s.cmd.Env = env
	}
	s.cmd.Stderr = &s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.stdout = bufio.NewReader(out)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.kill() })
	return s
}

// line reads a line of its stdout, within 20 s.
func (s *started) line(t *testing.T) string {
	t.Helper()
	c := make(chan string, 1)
	go func() {
		l, _ := s.stdout.ReadString('\n')
		c <- l
	}()
	select {
	case l := <-c:
		return strings.TrimSuffix(l, "\n")
	case <-time.After(20 * time.Second):
		t.Fatalf("%v: no line on stdout in 20 s; stderr: %s", s.cmd.Args, s.stderr.String())
	}
	return ""
}

// wait waits (at most 20 s) for it to exit and returns its status.
func (s *started) wait(t *testing.T) int {
	t.Helper()
	io.Copy(io.Discard, s.stdout)
	c := make(chan struct{})
	go func() {
		s.cmd.Wait()
		close(c)
	}()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("%v did not exit in 20 s", s.cmd.Args)
	}
	return exitCode(s.cmd.ProcessState)
}

// kill ends it with SIGTERM, which cplock passes on to its program.
func (s *started) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		s.cmd.Wait()
	}
}

// runLocked starts "cplock run --lock op" of args with a PID file and
// returns it and the program's PID, once the program is locked.
func runLocked(t *testing.T, op string, args ...string) (*started, int) {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "pid")
	a := append([]string{"run", "--lock", op, "--pid-file", pidFile, "--"}, args...)
	s := start(t, nil, cplockBin, a...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidFile); err == nil {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("pid file: %q", b)
			}
			return s, pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("cplock run wrote no PID file; stderr: %s", s.stderr.String())
	return nil, 0
}

// childrenOf returns the PIDs of pid's children, from every thread's
// /proc/PID/task/TID/children.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil || len(files) == 0 {
		t.Fatalf("no /proc/%d/task/*/children: %v", pid, err)
	}
	var kids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, w := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(w)
			kids = append(kids, n)
		}
	}
	return kids
}

// vmlck reads VmLck of pid from /proc/PID/status, in bytes: an oracle
// independent of libplock.
func vmlck(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmLck:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmLck line %q", l)
			}
			return kb * 1024
		}
	}
	t.Fatalf("/proc/%d/status has no VmLck", pid)
	return 0
}

// jsonStatus is what --json prints, with the documented field names:
// written here from cplock(1), not taken from status.go's types, so that a
// renamed field of the command fails the test (an independent oracle).
type jsonStatus struct {
	PID          int         `json:"pid"`
	Command      string      `json:"command"`
	Classes      []jsonClass `json:"classes"`
	Total        jsonClass   `json:"total"`
	VmLck        uint64      `json:"vmlck"`
	MemlockSoft  *uint64     `json:"memlock_soft"`
	MemlockHard  *uint64     `json:"memlock_hard"`
	CapIPCLock   bool        `json:"cap_ipc_lock"`
	FutureLocked *bool       `json:"future_locked"`
	Headroom     *uint64     `json:"headroom"`
	Mappings     []struct {
		Start       string `json:"start"`
		End         string `json:"end"`
		Perms       string `json:"perms"`
		Class       string `json:"class"`
		Size        uint64 `json:"size"`
		Resident    uint64 `json:"resident"`
		Locked      bool   `json:"locked"`
		LockOnFault bool   `json:"lock_on_fault"`
		Path        string `json:"path"`
	} `json:"mappings"`
}

type jsonClass struct {
	Class          string `json:"class"`
	Mappings       int    `json:"mappings"`
	LockedMappings int    `json:"locked_mappings"`
	Size           uint64 `json:"size"`
	Resident       uint64 `json:"resident"`
	Locked         uint64 `json:"locked"`
	State          string `json:"state"`
}

// statusJSON runs "cplock status --json [-v] PID" and decodes it strictly.
func statusJSON(t *testing.T, pid int, verbose bool) jsonStatus {
	t.Helper()
	args := []string{"status", "--json", strconv.Itoa(pid)}
	if verbose {
		args = append(args, "-v")
	}
	r := cplock(t, args...)
	r.expect(t, 0)
	var st jsonStatus
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	return st
}

// states maps each class to its state in st.
func states(st jsonStatus) map[string]string {
	m := make(map[string]string)
	for _, c := range st.Classes {
		m[c.Class] = c.State
	}
	return m
}

// needRoot skips t, with one line saying so, unless the tests run as root:
// they lock other processes, start helpers as another user, or lock more
// than a default RLIMIT_MEMLOCK allows. CI runs as root and fails if
// anything skipped.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_IPC_LOCK, CAP_SYS_PTRACE, setpriv); run as root to test it")
	}
}
