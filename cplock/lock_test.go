package main

// cplock run of any program with nothing but the cplock binary, and
// cplock lock and unlock of running processes (testdata/target.c).

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A cplock built by "go build -o DIR/cplock ./cplock" alone in an empty
// directory runs a dynamic C program, a static C program and a pure Go
// program locked: each reads VmLck > 0 in its own /proc/self/status, and
// cplock status shows its text and data locked.
func TestRunAnyProgramAlone(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	alone := filepath.Join(dir, "cplock")
	build := exec.Command(goTool, "build", "-o", alone, ".")
	if prebuilt {
		build = exec.Command("cp", cplockBin, alone) // built alone already
	}
	out, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("the directory holds %d files, want cplock alone", len(ents))
	}
	for _, c := range []struct{ name, prog, arg string }{
		{"dynamic-c", targetBin, "vmlck"},
		{"static-c", targetStatic, "vmlck"},
		{"pure-go", goTarget, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			args := []string{"run", "--lock", "proc", "--pid-file", pidFile, "--", c.prog}
			if c.arg != "" {
				args = append(args, c.arg)
			}
			s, stdin := startStdin(t, alone, args...)
			l := s.line(t)
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "VmLck:"), "kB")))
			if err != nil || kb == 0 {
				t.Errorf("the program's own VmLck: %q, want > 0", l)
			}
			if r := s.line(t); r != "ready" {
				t.Fatalf("want ready, got %q", r)
			}
			pid := waitPIDFile(t, pidFile)
			st := states(statusJSON(t, pid, false))
			if st["text"] != "locked" || st["data"] != "locked" || st["stack"] != "locked" {
				t.Errorf("status of %s: %v", c.name, st)
			}
			if st["shlib-text"] == "locked" {
				t.Errorf("proc locked the shared libraries: %v", st)
			}
			stdin.Close()
			if code := s.wait(t); code != 0 {
				t.Errorf("exit status %d; stderr %s", code, s.stderr.String())
			}
		})
	}
}

// startStdin is start with a pipe to its stdin, which the caller closes.
func startStdin(t *testing.T, name string, args ...string) (*started, io.WriteCloser) {
	t.Helper()
	s := &started{cmd: exec.Command(name, args...)}
	s.cmd.WaitDelay = 5 * time.Second
	s.cmd.Stderr = &s.stderr
	in, err := s.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.stdout = bufio.NewReader(out)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); s.kill() })
	return s, in
}

func waitPIDFile(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no PID in %s", path)
	return 0
}

// target is a testdata/target.c process, started directly (not by cplock).
type target struct {
	*started
	fifo string
	pid  int
}

// startTarget starts target MODE [FIFO], through prefix (prlimit, setpriv)
// if given, and waits for its "ready".
func startTarget(t *testing.T, mode string, prefix ...string) *target {
	t.Helper()
	// Under /tmp itself, where uid 65534 can reach it (t.TempDir's parent is 0700).
	dir, err := os.MkdirTemp("", "cplock-fifo-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(fifo, 0o666)
	args := append(append([]string{}, prefix...), targetBin, mode)
	if mode != "checksum" {
		args = append(args, fifo)
	}
	s := start(t, nil, args[0], args[1:]...)
	if l := s.line(t); l != "ready" {
		t.Fatalf("target %s: %q; stderr %s", mode, l, s.stderr.String())
	}
	tg := &target{started: s, fifo: fifo, pid: s.cmd.Process.Pid}
	if len(prefix) > 0 {
		// prlimit and setpriv exec the target: same PID.
		if comm := strings.TrimSpace(readFile(t, fmt.Sprintf("/proc/%d/comm", tg.pid))); comm != "target" {
			t.Fatalf("PID %d is %q, not the target", tg.pid, comm)
		}
	}
	return tg
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitIn waits until every thread of pid that is not running is blocked
// (state S), so that the lock meets them inside their system calls.
func waitIn(t *testing.T, pid int, nr int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		f := strings.Fields(readFile(t, fmt.Sprintf("/proc/%d/syscall", pid)))
		if len(f) > 0 && f[0] == strconv.Itoa(nr) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d never blocked in system call %d", pid, nr)
}

// feed writes the message the target expects into its FIFO.
func (tg *target) feed(t *testing.T) {
	t.Helper()
	msg := make([]byte, 64*1024)
	for i := range msg {
		msg[i] = byte(i * 7 % 251)
	}
	f, err := os.OpenFile(tg.fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(msg); err != nil {
		t.Fatal(err)
	}
}

func (tg *target) expectExit0(t *testing.T) {
	t.Helper()
	if code := tg.wait(t); code != 0 {
		t.Errorf("target exited %d (3: a call failed, EINTR; 4: wrong data); stderr %s",
			code, tg.stderr.String())
	}
}

func tracerPids(t *testing.T, pid int) []string {
	t.Helper()
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var traced []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "TracerPid:"); ok && strings.TrimSpace(v) != "0" {
				traced = append(traced, f+": "+l)
			}
		}
	}
	return traced
}

// lockUnlock runs cplock lock proc and unlock on pid: VmLck > 0 right
// after the lock, text and data locked, 0 after the unlock, no tracer left.
func lockUnlock(t *testing.T, pid int) {
	t.Helper()
	r := cplock(t, "lock", "proc", strconv.Itoa(pid))
	r.expect(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("process %d (target): PROCLOCK applied", pid)) {
		t.Errorf("lock said %q", r.stdout)
	}
	if k := vmlck(t, pid); k == 0 {
		t.Errorf("VmLck 0 right after cplock lock")
	}
	st := states(statusJSON(t, pid, false))
	if st["text"] != "locked" || st["data"] != "locked" {
		t.Errorf("after lock: %v", st)
	}
	if tr := tracerPids(t, pid); len(tr) != 0 {
		t.Errorf("still traced after lock: %v", tr)
	}
	r = cplock(t, "unlock", strconv.Itoa(pid))
	r.expect(t, 0)
	if k := vmlck(t, pid); k != 0 {
		t.Errorf("VmLck %d after cplock unlock", k)
	}
	if tr := tracerPids(t, pid); len(tr) != 0 {
		t.Errorf("still traced after unlock: %v", tr)
	}
}

// A C program blocked in read() on a FIFO: locked and unlocked, it then
// reads the data written afterwards intact, without EINTR.
func TestLockBlockedInRead(t *testing.T) {
	tg := startTarget(t, "fifo")
	waitIn(t, tg.pid, int(syscall.SYS_READ))
	lockUnlock(t, tg.pid)
	waitIn(t, tg.pid, int(syscall.SYS_READ))
	tg.feed(t)
	tg.expectExit0(t)
}

// A C program computing a checksum between 1 ms nanosleeps: locked and
// unlocked three times while it runs, its sleeps return 0 and its checksum
// is right.
func TestLockDuringNanosleep(t *testing.T) {
	tg := startTarget(t, "checksum")
	for i := 0; i < 3; i++ {
		lockUnlock(t, tg.pid)
	}
	tg.expectExit0(t)
}

// The same with 8 threads busy in mmap and munmap.
func TestLockThreads(t *testing.T) {
	needRoot(t)
	tg := startTarget(t, "threads")
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", tg.pid))
		if len(files) == 9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("target has %d threads, want 9", len(files))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		lockUnlock(t, tg.pid)
	}
	tg.feed(t)
	tg.expectExit0(t)
}

// As uid 65534, a process of the same user whose RLIMIT_MEMLOCK is 0 is
// refused with the reason, and runs on unharmed; another user's process
// is refused for the permission to trace it.
func TestLockUnprivileged(t *testing.T) {
	needRoot(t)
	a := unprivArgs("0:0", "")
	tg := startTarget(t, "fifo", append([]string{"prlimit"}, a[:len(a)-1]...)...)
	waitIn(t, tg.pid, int(syscall.SYS_READ))
	pid := strconv.Itoa(tg.pid)
	r := unprivileged(t, "8388608:8388608", cplockBin, "lock", "proc", pid)
	r.expect(t, 1, "cplock: cannot lock process "+pid+" (target)", "operation not permitted",
		"RLIMIT_MEMLOCK is 0", "CAP_IPC_LOCK")
	if k := vmlck(t, tg.pid); k != 0 {
		t.Errorf("VmLck %d after a refused lock", k)
	}
	if tr := tracerPids(t, tg.pid); len(tr) != 0 {
		t.Errorf("still traced after a refused lock: %v", tr)
	}
	r = unprivileged(t, "8388608:8388608", cplockBin, "unlock", pid)
	r.expect(t, 0) // nothing locked: munlockall works under any limit

	root := startTarget(t, "fifo")
	waitIn(t, root.pid, int(syscall.SYS_READ))
	r = unprivileged(t, "8388608:8388608", cplockBin, "lock", "text", strconv.Itoa(root.pid))
	r.expect(t, 1, "operation not permitted", "another user", "CAP_SYS_PTRACE")
	root.feed(t)
	root.expectExit0(t)

	waitIn(t, tg.pid, int(syscall.SYS_READ))
	tg.feed(t)
	tg.expectExit0(t)
}

// Under a seccomp filter that refuses ptrace (a container's profile may),
// lock and run say so, and what to change; the process is untouched.
func TestLockRefusedBySeccomp(t *testing.T) {
	tg := startTarget(t, "fifo")
	waitIn(t, tg.pid, int(syscall.SYS_READ))
	pid := strconv.Itoa(tg.pid)
	r := runCmd(t, nil, noptraceBin, cplockBin, "lock", "proc", pid)
	r.expect(t, 1, "cplock: cannot lock process "+pid+" (target)", "operation not permitted",
		"seccomp filter that refuses ptrace")
	if k := vmlck(t, tg.pid); k != 0 {
		t.Errorf("VmLck %d after a refused lock", k)
	}
	tg.feed(t)
	tg.expectExit0(t)

	r = runCmd(t, nil, noptraceBin, cplockBin, "run", "--lock", "proc", "--", "sh", "-c", "echo ran")
	r.expect(t, 1, "cplock: cannot lock sh: ", "operation not permitted",
		"seccomp filter that refuses ptrace", "sh was not started")
	if r.stdout != "" {
		t.Errorf("the program ran: %q", r.stdout)
	}
	r = runCmd(t, nil, noptraceBin, cplockBin, "run", "--allow-unlocked", "--lock", "proc", "--",
		"sh", "-c", "echo ran; exit 3")
	r.expect(t, 3, "cplock: warning: cannot lock sh: ", "seccomp filter that refuses ptrace",
		"running sh unlocked")
	if r.stdout != "ran\n" {
		t.Errorf("with --allow-unlocked, the program said %q, want \"ran\\n\"", r.stdout)
	}
}

// A process whose seccomp filter kills (or traps, or fails) the mlock
// family, as systemd's SystemCallFilter=~@memlock does: lock and unlock say
// that the filter forbids mlock2 and make no call in it (it lives, nothing
// is locked). As uid 65534, without CAP_SYS_ADMIN, the filter cannot be
// read: refused for that, unless --seccomp-unchecked.
func TestLockForbiddenBySeccomp(t *testing.T) {
	needRoot(t)
	for _, action := range []string{"kill", "trap", "errno"} {
		t.Run(action, func(t *testing.T) {
			tg := startTarget(t, "fifo", noptraceBin, "--deny-memlock="+action)
			waitIn(t, tg.pid, int(syscall.SYS_READ))
			pid := strconv.Itoa(tg.pid)
			for _, args := range [][]string{{"lock", "proc", pid}, {"unlock", pid}} {
				r := runCmd(t, nil, cplockBin, args...)
				r.expect(t, 1, "operation not permitted",
					"the process's seccomp filter forbids mlock2", "nothing was done")
				if k := vmlck(t, tg.pid); k != 0 {
					t.Errorf("VmLck %d after a refused %s", k, args[0])
				}
			}
			tg.feed(t)
			tg.expectExit0(t)
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		a := unprivArgs("8388608:8388608", "")
		tg := startTarget(t, "fifo", append(append([]string{"prlimit"}, a[:len(a)-1]...),
			noptraceBin, "--deny-memlock=errno")...)
		waitIn(t, tg.pid, int(syscall.SYS_READ))
		pid := strconv.Itoa(tg.pid)
		r := unprivileged(t, "8388608:8388608", cplockBin, "lock", "text", pid)
		r.expect(t, 1, "runs under a seccomp filter, which only CAP_SYS_ADMIN may read",
			"--seccomp-unchecked")
		// Unchecked, the call is made: this filter fails it with EPERM.
		r = unprivileged(t, "8388608:8388608", cplockBin, "lock", "--seccomp-unchecked", "text", pid)
		r.expect(t, 1, "operation not permitted")
		if k := vmlck(t, tg.pid); k != 0 {
			t.Errorf("VmLck %d after a refused lock", k)
		}
		tg.feed(t)
		tg.expectExit0(t)
	})
}

// A pure Go program that runs is locked and unlocked too.
func TestLockGoProgram(t *testing.T) {
	needRoot(t)
	s, stdin := startStdin(t, goTarget)
	defer stdin.Close()
	s.line(t)
	if l := s.line(t); l != "ready" {
		t.Fatalf("go target: %q", l)
	}
	pid := strconv.Itoa(s.cmd.Process.Pid)
	r := cplock(t, "lock", "proc", pid)
	r.expect(t, 0)
	if k := vmlck(t, s.cmd.Process.Pid); k == 0 {
		t.Errorf("Go program: VmLck 0 after lock")
	}
	cplock(t, "unlock", pid).expect(t, 0)
	if k := vmlck(t, s.cmd.Process.Pid); k != 0 {
		t.Errorf("Go program: VmLck %d after unlock", k)
	}
}

// A PID that does not exist: exit 1 and a message; bad arguments: exit 2.
func TestLockErrors(t *testing.T) {
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	gone := strconv.Itoa(c.Process.Pid) // reaped: no such process now
	cplock(t, "lock", "proc", gone).expect(t, 1, "cplock: cannot lock process "+gone, "no such process")
	cplock(t, "unlock", gone).expect(t, 1, "cplock: cannot unlock process "+gone, "no such process")
	for _, args := range [][]string{
		{"lock"}, {"lock", "proc"}, {"lock", "proc", "x"}, {"lock", "proc", "0"},
		{"lock", "proc", "-5"}, {"lock", "bogus", "1"}, {"lock", "UNLOCK", "1"},
		{"lock", "proc", "1", "2"}, {"unlock"}, {"unlock", "x"}, {"unlock", "1", "2"},
		{"lock", "--bogus", "proc", "1"},
	} {
		r := cplock(t, args...)
		r.expect(t, 2, "usage: cplock "+args[0])
	}
}
