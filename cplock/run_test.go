package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// run --lock OP -- sleep: status of the sleep shows exactly the classes
// of OP locked, and the kernel's VmLck agrees.
func TestRunLocksWhatOpSays(t *testing.T) {
	const L, U = "locked", "unlocked"
	cases := []struct {
		op                string
		text, data, shlib string
	}{
		{"proc", L, L, U},
		{"PROCLOCK", L, L, U},
		{"text", L, U, U},
		{"TxtLock", L, U, U},
		{"data", U, L, U},
		{"shlib", U, U, L},
		{"text+data", L, L, U},
		{"PROCSHLIBLOCK", L, L, L},
		{"text+shlib", L, U, L},
		{"DATSHLIBLOCK", U, L, L},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			cp, pid := runLocked(t, c.op, "sleep", "30")
			if kids := childrenOf(t, cp.cmd.Process.Pid); !slices.Equal(kids, []int{pid}) {
				t.Errorf("cplock's children %v, --pid-file says %d", kids, pid)
			}
			st := statusJSON(t, pid, false)
			s := states(st)
			want := map[string]string{"text": c.text, "data": c.data, "stack": c.data,
				"shlib-text": c.shlib, "shlib-data": c.shlib}
			for class, w := range want {
				if s[class] != w {
					t.Errorf("%s is %s, want %s (states %v)", class, s[class], w, s)
				}
			}
			if k := vmlck(t, pid); k == 0 {
				t.Errorf("VmLck of the sleep is 0")
			}
			if c.op == "proc" {
				// The default of "cplock check" is what this needs.
				need, _ := parseBytes(defaultCheckBytes)
				if k := vmlck(t, pid); k > need {
					t.Errorf("sleep locked with proc has VmLck %d, more than check's default %d", k, need)
				}
				for _, cl := range st.Classes {
					if cl.Class == "text" && (cl.Locked != cl.Size || cl.Resident != cl.Size) {
						t.Errorf("text is not all resident and locked: %+v", cl)
					}
				}
			}
		})
	}
}

func TestRunExitStatus(t *testing.T) {
	needRoot(t)
	cases := []struct {
		script string
		code   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -TERM $$", 128 + 15},
		{"kill -KILL $$", 128 + 9},
	}
	for _, c := range cases {
		t.Run(c.script, func(t *testing.T) {
			r := cplock(t, "run", "--lock", "proc", "--", "sh", "-c", c.script)
			r.expect(t, c.code)
			if r.stderr != "" {
				t.Errorf("stderr: %q", r.stderr)
			}
		})
	}
}

// Signals sent to cplock reach the program, which decides what happens.
func TestRunForwardsSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			env := append(os.Environ(), helperEnv+"=waitsig")
			cp := start(t, env, cplockBin, "run", "--lock", "text", "--", selfBin)
			if l := cp.line(t); l != "ready" {
				t.Fatalf("helper said %q", l)
			}
			if err := cp.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if l := cp.line(t); l != "got "+sig.String() {
				t.Errorf("program said %q, want %q", l, "got "+sig.String())
			}
			if code := cp.wait(t); code != 100+int(sig) {
				t.Errorf("cplock exited %d, want the program's %d", code, 100+int(sig))
			}
		})
	}
	// A program that does not catch SIGTERM dies of it: 143.
	cp, pid := runLocked(t, "proc", "sleep", "30")
	cp.cmd.Process.Signal(syscall.SIGTERM)
	if code := cp.wait(t); code != 143 {
		t.Errorf("cplock run sleep, SIGTERM: exit %d, want 143", code)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("the sleep %d outlived cplock", pid)
	}
}

// As uid 65534: a limit of 0 (EPERM) or too small (ENOMEM) stops the
// program from starting, unless --allow-unlocked; a sufficient one locks.
func TestRunUnprivileged(t *testing.T) {
	needRoot(t)
	script := []string{"sh", "-c", `grep VmLck /proc/$$/status; echo RAN; exit 4`}
	run := func(memlock string, flags ...string) result {
		a := append([]string{"run"}, flags...)
		a = append(a, "--lock", "proc", "--")
		return unprivileged(t, memlock, cplockBin, append(a, script...)...)
	}
	const unlocked = "VmLck:\t       0 kB\nRAN\n"

	r := run("0:0")
	r.expect(t, 1, "cplock: cannot lock sh: ", "operation not permitted",
		"RLIMIT_MEMLOCK is 0", "CAP_IPC_LOCK", "ulimit -l", "sh was not started")
	if r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("limit 0: the program ran, or more than one line: %q, %q", r.stdout, r.stderr)
	}

	r = run("0:0", "--allow-unlocked")
	r.expect(t, 4, "cplock: warning: cannot lock sh", "operation not permitted", "running sh unlocked")
	if r.stdout != unlocked {
		t.Errorf("limit 0, --allow-unlocked: stdout %q, want %q", r.stdout, unlocked)
	}

	r = run("65536:65536")
	r.expect(t, 1, "cannot allocate memory", "would be locked", "RLIMIT_MEMLOCK is 64",
		"raise it to at least", "ulimit -l", "sh was not started")
	if r.stdout != "" {
		t.Errorf("limit 64 KiB: the program ran: %q", r.stdout)
	}
	// The bytes it names are what the lock needs: a page less fails; for a
	// text lock exactly that is enough; a data lock also needs room for
	// what the program maps after it (here 1 MiB is plenty).
	need := ulimitKiB(t, r.stderr) * 1024
	lim := func(n int) string { return strconv.Itoa(n) + ":" + strconv.Itoa(n) }
	if r := run(lim(need - 4096)); r.code != 1 || !strings.Contains(r.stderr, "cannot allocate memory") {
		t.Errorf("limit %d, a page below what it asked for: exit %d, stderr %q", need-4096, r.code, r.stderr)
	}
	if r := run(lim(need + 1<<20)); r.code != 4 || !strings.Contains(r.stdout, "RAN") {
		t.Errorf("limit %d: exit %d, stdout %q, stderr %q", need+1<<20, r.code, r.stdout, r.stderr)
	}
	text := func(memlock string) result {
		return unprivileged(t, memlock, cplockBin, "run", "--lock", "text", "--", "sh", "-c", "echo RAN")
	}
	r = text("4096:4096")
	r.expect(t, 1, "TXTLOCK", "cannot allocate memory")
	need = ulimitKiB(t, r.stderr) * 1024
	if r := text(lim(need)); r.code != 0 || r.stdout != "RAN\n" {
		t.Errorf("--lock text under the limit it asked for (%d): exit %d, stdout %q, stderr %q",
			need, r.code, r.stdout, r.stderr)
	}

	r = run("65536:65536", "--allow-unlocked")
	r.expect(t, 4, "cplock: warning: cannot lock sh", "running sh unlocked")
	if r.stdout != unlocked {
		t.Errorf("limit 64 KiB, --allow-unlocked: stdout %q, want %q", r.stdout, unlocked)
	}

	r = run("8388608:8388608")
	r.expect(t, 4, "cplock: note: sh's later memory is locked too", "RLIMIT_MEMLOCK 8.0 MiB")
	if !strings.HasSuffix(r.stdout, "RAN\n") || strings.HasPrefix(r.stdout, "VmLck:\t       0 kB") {
		t.Errorf("limit 8 MiB: the program did not run locked: %q", r.stdout)
	}

	// A Go program gets the Go package's rule: no data lock under a
	// finite limit without CAP_IPC_LOCK; a text lock is fine.
	g := runCmd(t, append(os.Environ(), helperEnv+"=waitsig"), "prlimit",
		unprivArgs("8388608:8388608", cplockBin, "run", "--lock", "data", "--", selfBin)...)
	g.expect(t, 1, "is a Go program", "Go runtime would abort")
	if g.stdout != "" {
		t.Errorf("the Go program ran: %q", g.stdout)
	}
	cp := start(t, append(os.Environ(), helperEnv+"=sleep"), "prlimit",
		unprivArgs("8388608:8388608", cplockBin, "run", "--lock", "text", "--", selfBin)...)
	if l := cp.line(t); l != "ready" {
		t.Errorf("Go program with --lock text: %q; stderr %s", l, cp.stderr.String())
	}
}

// ulimitKiB returns N of the "(ulimit -l N)" that cplock advised.
func ulimitKiB(t *testing.T, stderr string) int {
	t.Helper()
	i := strings.Index(stderr, "(ulimit -l ")
	if i < 0 {
		t.Fatalf("no (ulimit -l N) in %q", stderr)
	}
	f := strings.Fields(stderr[i+len("(ulimit -l "):])
	kib, err := strconv.Atoi(strings.TrimRight(f[0], "),"))
	if err != nil {
		t.Fatalf("no (ulimit -l N) in %q", stderr)
	}
	return kib
}

// The program's children do not inherit the lock, and its environment is
// its own: an LD_PRELOAD of the user's stays, cplock adds nothing.
func TestRunChildrenDoNotInherit(t *testing.T) {
	needRoot(t)
	env := append(os.Environ(), "LD_PRELOAD=libm.so.6")
	// "; exit": a shell may exec the last command of its -c string in
	// place (busybox's does), which would be no child but an exec, locked.
	r := runCmd(t, env, cplockBin, "run", "--lock", "proc", "--", "sh", "-c",
		`grep VmLck /proc/$$/status; sh -c 'grep VmLck /proc/$$/status; env'; exit`)
	r.expect(t, 0)
	lines := strings.Split(r.stdout, "\n")
	if strings.HasPrefix(lines[0], "VmLck:\t       0 kB") || lines[1] != "VmLck:\t       0 kB" {
		t.Errorf("want the program locked and its child not: %q", lines[:2])
	}
	environ := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "LD_PRELOAD=") })
	for _, kv := range lines[2:] {
		k, _, _ := strings.Cut(kv, "=")
		if kv != "" && kv != "LD_PRELOAD=libm.so.6" && k != "PWD" && k != "SHLVL" && k != "_" &&
			!slices.Contains(environ, kv) {
			t.Errorf("the program's environment has %q, which cplock's has not", kv)
		}
	}
	if !slices.Contains(lines, "LD_PRELOAD=libm.so.6") {
		t.Errorf("the user's LD_PRELOAD is gone:\n%s", r.stdout)
	}
	// cplock writes nothing on the program's stdout, nor on stderr.
	r = cplock(t, "run", "--lock", "proc", "--", "echo", "hello")
	r.expect(t, 0)
	if r.stdout != "hello\n" || r.stderr != "" {
		t.Errorf("stdout %q, stderr %q; want only the program's hello", r.stdout, r.stderr)
	}
}

// A program linked with libplock that calls plock() itself after cplock
// locked it from outside: the locks are its own plock state (the library
// keeps it, plock_handoff), as if main began with plock(OP). So its own
// PROCLOCK is EINVAL once text or data is locked, and works after a
// shared-library lock, which leaves text and data to it.
func TestRunProgramCallingPlock(t *testing.T) {
	for _, c := range []struct{ op, stdout, stderr string }{
		{"proc", "", "legacy: plock(PROCLOCK): Invalid argument\n"},
		{"text", "", "legacy: plock(PROCLOCK): Invalid argument\n"},
		{"shlib", "legacy: text and data locked in memory\nlegacy: unlocked\n", ""},
	} {
		r := cplock(t, "run", "--lock", c.op, "--", legacyBin)
		code := 0
		if c.stderr != "" {
			code = 1
		}
		r.expect(t, code)
		if r.stdout != c.stdout || r.stderr != c.stderr {
			t.Errorf("--lock %s: stdout %q, stderr %q; want %q, %q", c.op, r.stdout, r.stderr,
				c.stdout, c.stderr)
		}
	}
}

// Programs that cplock run cannot lock are refused, and not run.
func TestRunRefuses(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	copyOf := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(sh)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	setuid := copyOf("setuid-sh", 0o755|os.ModeSetuid)
	setgid := copyOf("setgid-sh", 0o755|os.ModeSetgid)
	withCaps := copyOf("caps-sh", 0o755)
	if out, err := exec.Command("setcap", "cap_ipc_lock+ep", withCaps).CombinedOutput(); err != nil {
		t.Fatalf("setcap: %v: %s", err, out)
	}
	plain := copyOf("plain-sh", 0o644)
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("neither ELF nor a script\n"), 0o755)
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!"+setuid+"\n"), 0o755)

	cases := []struct {
		prog string
		code int
		msg  string
	}{
		{setuid, 1, setuid + " is set-user-ID: the kernel does not grant its privilege"},
		{setgid, 1, setgid + " is set-group-ID"},
		{withCaps, 1, withCaps + " has file capabilities"},
		{script, 1, setuid + " is set-user-ID"}, // judged by its interpreter
		{"no-such-command-here", 127, "cplock: no-such-command-here: command not found"},
		{filepath.Join(dir, "missing"), 127, "no such file"},
		{plain, 126, plain + ": permission denied"},
		{garbage, 126, "cplock: " + garbage + ": exec format error\n"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.prog), func(t *testing.T) {
			r := cplock(t, "run", "--lock", "proc", "--", c.prog, "-c", "echo RAN")
			r.expect(t, c.code, c.msg)
			if r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("want no output and one line on stderr: %q, %q", r.stdout, r.stderr)
			}
		})
	}
}

// --pid-file holds the program's PID while it runs, and is removed after.
func TestRunPIDFile(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	cp := start(t, nil, cplockBin, "run", "--pid-file", pidFile, "--lock", "text", "--",
		"sh", "-c", `echo $$; exec sleep 30`)
	l := cp.line(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(pidFile)
		if err == nil {
			if strings.TrimSpace(string(b)) != l {
				t.Errorf("pid file %q, program's PID %s", b, l)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no pid file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cp.cmd.Process.Signal(syscall.SIGTERM)
	cp.wait(t)
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}
