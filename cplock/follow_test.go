package main

// cplock run follows the program (issue 17): whatever it executes runs
// locked from its own entry point, and with --follow so do its children.
// Every check is made by the locked process itself, from its own
// /proc/self/smaps ("lo" in VmFlags) and VmLck (target smaps, govmlck
// smaps): nothing of libplock judges it.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smapsLine is what "target smaps" and "gotarget smaps" print.
var smapsLine = regexp.MustCompile(`^pid (\d+) exe (\d+)/(\d+) locked, stack (\d), VmLck (-?\d+) kB$`)

type selfSeen struct {
	pid, locked, mappings, stack, vmlck int
}

// selfReports parses every smaps line of out.
func selfReports(t *testing.T, out string) []selfSeen {
	t.Helper()
	var r []selfSeen
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := smapsLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var s selfSeen
		for i, p := range []*int{&s.pid, &s.locked, &s.mappings, &s.stack, &s.vmlck} {
			*p, _ = strconv.Atoi(m[i+1])
		}
		r = append(r, s)
	}
	return r
}

// wholly reports whether the process saw its executable's text and data
// and its stack locked, and VmLck above 0.
func (s selfSeen) wholly() bool {
	return s.mappings > 0 && s.locked == s.mappings && s.stack == 1 && s.vmlck > 0
}

// runIn runs cplock args in dir.
func runIn(t *testing.T, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cplockBin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	if cmd.ProcessState == nil || ctx.Err() != nil {
		t.Fatalf("cplock %s: did not finish\nstderr: %s", strings.Join(args, " "), errb.String())
	}
	return result{stdout: out.String(), stderr: errb.String(), code: exitCode(cmd.ProcessState)}
}

func script(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// The program that COMMAND finally executes is locked: text, data and
// stack, in its own smaps, and its VmLck. On the old code each of these
// said "exe 0/N locked, stack 0, VmLck 0 kB": the lock ended at the first
// exec.
func TestRunFollowsExec(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	for _, bin := range []string{targetBin, goTarget} {
		if out, err := exec.Command("cp", bin, dir).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
	}
	cases := []struct {
		name string
		args []string
	}{
		{"env shebang", []string{script(t, dir, "envsh", "#!/usr/bin/env sh\nexec ./target smaps\n")}},
		{"sh -c exec", []string{"sh", "-c", "exec ./target smaps"}},
		{"script execs a static Go binary", []string{script(t, dir, "gosh",
			"#!/bin/sh\nexec ./gotarget smaps\n")}},
		{"env execs a static C binary", []string{"env", targetStatic, "smaps"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runIn(t, dir, append([]string{"run", "--lock", "proc", "--"}, c.args...)...)
			r.expect(t, 0)
			seen := selfReports(t, r.stdout)
			if len(seen) != 1 {
				t.Fatalf("the program printed %q, want one smaps line; stderr %s", r.stdout, r.stderr)
			}
			if !seen[0].wholly() {
				t.Errorf("the program saw itself not wholly locked: %s", strings.TrimSpace(r.stdout))
			}
		})
	}
}

// A re-lock at an exec that fails stops the program before the new
// program's first instruction, and cplock says why: here a Go program
// without CAP_IPC_LOCK under a finite RLIMIT_MEMLOCK, which the Go rule
// refuses a data lock, exec'd by a shell that is locked fine. On the old
// code the Go program ran (unlocked) and cplock exited 0.
func TestRunExecLockFails(t *testing.T) {
	needRoot(t)
	args := []string{cplockBin, "run", "--lock", "proc", "--", "sh", "-c", "exec " + goTarget + " smaps"}
	r := unprivileged(t, "4194304", args[0], args[1:]...)
	r.expect(t, 1, "cannot lock", "killed before the new program's first instruction")
	if r.stdout != "" {
		t.Errorf("the Go program ran: %q", r.stdout)
	}
	// With --allow-unlocked it runs, unlocked, after a warning.
	args = []string{cplockBin, "run", "--allow-unlocked", "--lock", "proc", "--", "sh", "-c",
		"exec " + goTarget + " smaps"}
	r = unprivileged(t, "4194304", args[0], args[1:]...)
	r.expect(t, 0, "warning: cannot lock", "runs unlocked")
	if seen := selfReports(t, r.stdout); len(seen) != 1 || seen[0].locked != 0 {
		t.Errorf("with --allow-unlocked the Go program said %q", r.stdout)
	}
}

// --follow: a server that forks 20 children, each locked from its first
// instruction (each child checks its own smaps); without --follow the
// children are unlocked, as SVID says, while the server itself is locked.
// On the old code --follow was an unknown flag (exit 2).
func TestRunFollowForks(t *testing.T) {
	needRoot(t)
	const n = 20
	for _, follow := range []bool{true, false} {
		name := "--follow"
		args := []string{"run", "--follow", "--lock", "proc", "--", targetBin, "fork", strconv.Itoa(n)}
		if !follow {
			name = "without --follow"
			args = []string{"run", "--lock", "proc", "--", targetBin, "fork", strconv.Itoa(n)}
		}
		t.Run(name, func(t *testing.T) {
			r := cplock(t, args...)
			r.expect(t, 0)
			seen := selfReports(t, r.stdout)
			pids := map[int]bool{}
			for _, s := range seen {
				pids[s.pid] = true
				switch {
				case follow && !s.wholly():
					t.Errorf("child %d under --follow: exe %d/%d locked, stack %d, VmLck %d kB",
						s.pid, s.locked, s.mappings, s.stack, s.vmlck)
				case !follow && (s.locked != 0 || s.stack != 0 || s.vmlck != 0):
					t.Errorf("child %d without --follow: exe %d/%d locked, stack %d, VmLck %d kB",
						s.pid, s.locked, s.mappings, s.stack, s.vmlck)
				}
			}
			if len(seen) != n || len(pids) != n {
				t.Errorf("%d lines from %d children, want %d:\n%s", len(seen), len(pids), n, r.stdout)
			}
		})
	}
	// Their execs too: each child execs the checker (sh forks, then execs).
	r := cplock(t, "run", "--follow", "--lock", "proc", "--", "sh", "-c",
		fmt.Sprintf("%s smaps; %s smaps; wait", targetBin, targetStatic))
	r.expect(t, 0)
	seen := selfReports(t, r.stdout)
	if len(seen) != 2 {
		t.Fatalf("want two smaps lines: %q", r.stdout)
	}
	for _, s := range seen {
		if !s.wholly() {
			t.Errorf("a child of sh under --follow, after its exec: %+v", s)
		}
	}
}

// buildCtor builds testdata/ctor.c as libctor.so and testdata/ctormain.c
// linked with it into binDir, once.
func buildCtor(t *testing.T) string {
	t.Helper()
	prog := filepath.Join(binDir, "ctormain")
	if _, err := os.Stat(prog); err == nil {
		return prog
	}
	for _, s := range [][]string{
		{"cc", "-Wall", "-Werror", "-shared", "-fPIC", "-o", filepath.Join(binDir, "libctor.so"),
			"testdata/ctor.c"},
		{"cc", "-Wall", "-Werror", "-o", prog, "testdata/ctormain.c", "-L" + binDir, "-lctor",
			"-Wl,-rpath," + binDir},
		{"chmod", "0755", prog, filepath.Join(binDir, "libctor.so")},
	} {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	return prog
}

// "Not started" means nothing ran: a lock that the limit refuses is
// refused at the exec stop, before the dynamic loader, so the constructor
// of the program's library never writes its file; also when the program is
// exec'd by a shell that was locked. As root, unlimited, it writes it (the
// check can fail). On the old code the constructor ran in the first case
// (the lock was refused at the entry point, after the loader) and the
// program ran unlocked in the second.
func TestRunRefusedRunsNothing(t *testing.T) {
	needRoot(t)
	prog := buildCtor(t)
	// Where uid 65534 can write: binDir is world-readable, t.TempDir not.
	dir, err := os.MkdirTemp(binDir, "ctor-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "ctor-ran")
	t.Setenv("CPLOCK_CTOR_FILE", file)
	ran := func() bool {
		_, err := os.Stat(file)
		os.Remove(file)
		return err == nil
	}

	r := cplock(t, "run", "--lock", "proc", "--", prog)
	r.expect(t, 0)
	if !ran() || !strings.Contains(r.stdout, "main 1") {
		t.Fatalf("as root the program or its constructor did not run: %q %q", r.stdout, r.stderr)
	}

	// The same as uid 65534 with room: the constructor can write there.
	r = unprivileged(t, "8388608", cplockBin, "run", "--lock", "proc", "--", prog)
	r.expect(t, 0)
	if !ran() {
		t.Fatalf("as uid 65534 under 8 MiB the constructor did not run: %q %q", r.stdout, r.stderr)
	}

	r = unprivileged(t, "65536", cplockBin, "run", "--lock", "proc", "--", prog)
	r.expect(t, 1, "cannot allocate memory", "RLIMIT_MEMLOCK is 64 KiB", "was not started")
	if ran() || r.stdout != "" {
		t.Errorf("refused, the program ran (stdout %q) or its library's constructor did", r.stdout)
	}

	// sh fits under 2 MiB; the program's 4 MiB of data do not.
	r = unprivileged(t, "2097152", cplockBin, "run", "--lock", "proc", "--", "sh", "-c", "exec "+prog)
	r.expect(t, 1, "cannot allocate memory", "killed before the new program's first instruction")
	if ran() || r.stdout != "" {
		t.Errorf("refused at the exec, the program ran (stdout %q) or its library's constructor did",
			r.stdout)
	}
}

// buildOwn builds testdata/own.c twice into binDir, once: with libplock's
// sources compiled in (the word in its executable's .symtab), and linked
// with a libplock.so built here (the word exported by the library).
func buildOwn(t *testing.T) (static, shared string) {
	t.Helper()
	static, shared = filepath.Join(binDir, "own-static"), filepath.Join(binDir, "own-shared")
	if _, err := os.Stat(shared); err == nil {
		return static, shared
	}
	shim, _ := filepath.Glob("../shim/*.c")
	lib := filepath.Join(binDir, "libplock.so.0")
	for _, s := range [][]string{
		append([]string{"cc", "-std=gnu11", "-I../include", "-o", static, "testdata/own.c"},
			append(shim, "-lpthread")...),
		append([]string{"cc", "-std=gnu11", "-I../include", "-shared", "-fPIC",
			"-Wl,-soname,libplock.so.0", "-Wl,--version-script=../shim/libplock.map", "-o", lib},
			append(shim, "-lpthread")...),
		{"cc", "-std=gnu11", "-I../include", "-o", shared, "testdata/own.c", lib,
			"-Wl,-rpath," + binDir},
		{"chmod", "0755", static, shared, lib},
	} {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	return static, shared
}

// One owner of the state: a program with libplock sees what cplock run
// --lock proc, or cplock lock proc, locked in it as its own plock state:
// its own plock(PROCLOCK) is EINVAL, and its own plock(UNLOCK) removes the
// locks (VmLck 0 after it). On the old code PROCLOCK returned 0 and UNLOCK
// left the first lock's pages locked (VmLck > 0).
func TestRunLockIsTheProgramsOwn(t *testing.T) {
	needRoot(t)
	static, shared := buildOwn(t)
	want := "state 6\nPROCLOCK -1 EINVAL\nUNLOCK 0 0 VmLck 0\n"
	for _, prog := range []string{static, shared} {
		t.Run("run/"+filepath.Base(prog), func(t *testing.T) {
			r := cplock(t, "run", "--lock", "proc", "--", prog)
			r.expect(t, 0)
			if r.stdout != want {
				t.Errorf("the program said %q, want %q", r.stdout, want)
			}
		})
		t.Run("lock/"+filepath.Base(prog), func(t *testing.T) {
			cmd := exec.Command(prog, "wait")
			in, _ := cmd.StdinPipe()
			var out bytes.Buffer
			rd, wr, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdout = wr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			wr.Close()
			defer cmd.Process.Kill()
			b := make([]byte, 6)
			if n, _ := rd.Read(b); string(b[:n]) != "ready\n" {
				t.Fatalf("the program said %q", b[:n])
			}
			cplock(t, "lock", "proc", strconv.Itoa(cmd.Process.Pid)).expect(t, 0)
			in.Write([]byte("go\n"))
			out.ReadFrom(rd)
			cmd.Wait()
			if out.String() != want {
				t.Errorf("the program said %q, want %q", out.String(), want)
			}
		})
	}
	// A target without libplock is unaffected: cplock lock and unlock as before.
	sl := exec.Command("sleep", "30")
	if err := sl.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sl.Process.Kill(); sl.Wait() }()
	pid := sl.Process.Pid
	cplock(t, "lock", "proc", strconv.Itoa(pid)).expect(t, 0)
	if k := vmlck(t, pid); k == 0 {
		t.Errorf("target without libplock after lock: VmLck 0")
	}
	cplock(t, "unlock", strconv.Itoa(pid)).expect(t, 0)
	if k := vmlck(t, pid); k != 0 {
		t.Errorf("target without libplock after unlock: VmLck %d", k)
	}
}

// Under cplock run (now its tracer for its life) a stop is still a stop:
// SIGSTOP halts the program until SIGCONT (PTRACE_LISTEN), as without a
// tracer; a tracer that resumed it at its group-stop would fail this.
func TestRunStopIsAStop(t *testing.T) {
	needRoot(t)
	cp, pid := runLocked(t, "proc", "sh", "-c", "while :; do echo tick; sleep 0.02; done")
	lines := make(chan string, 1024)
	go func() {
		for {
			l, err := cp.stdout.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- l
		}
	}()
	next := func(d time.Duration) bool {
		select {
		case _, ok := <-lines:
			return ok
		case <-time.After(d):
			return false
		}
	}
	if !next(5 * time.Second) {
		t.Fatalf("the program printed nothing; stderr %s", cp.stderr.String())
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	for len(lines) > 0 {
		<-lines // printed before the stop took effect
	}
	if next(500 * time.Millisecond) {
		t.Errorf("the program ran on after SIGSTOP")
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if !next(5 * time.Second) {
		t.Errorf("the program did not go on after SIGCONT")
	}
}
