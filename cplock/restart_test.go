package main

// cplock lock and unlock of a process asleep in a blocking system call:
// the call comes back exactly as it does after SIGSTOP and SIGCONT
// (testdata/blocker.c).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wakeBy is what ends a blocker's call once the disturbance is over.
type wakeBy int

const (
	byFIFO    wakeBy = iota // a write to DIR/wake
	bySignal                // SIGUSR1
	byTimeout               // nothing: the call's own timeout
)

// blockedCalls are blocker.c's calls: the blocking calls a program may be
// asleep in when cplock stops it, the timed ones left to their timeout.
var blockedCalls = []struct {
	name string
	wake wakeBy
}{
	{"read", byFIFO},
	{"recv", byFIFO},
	{"recv-rcvtimeo", byTimeout},
	{"accept", byFIFO},
	{"connect", byFIFO},
	{"poll", byFIFO},
	{"poll-timeout", byTimeout},
	{"ppoll", byFIFO},
	{"ppoll-timeout", byTimeout},
	{"select", byFIFO},
	{"select-timeout", byTimeout},
	{"pselect6", byFIFO},
	{"pselect6-timeout", byTimeout},
	{"epoll_wait", byFIFO},
	{"epoll_wait-timeout", byTimeout},
	{"epoll_pwait", byFIFO},
	{"futex", byFIFO},
	{"futex-timeout", byTimeout},
	{"nanosleep", byTimeout},
	{"clock_nanosleep", byTimeout},
	{"clock_nanosleep-abs", byTimeout},
	{"sigsuspend", bySignal},
	{"pause", bySignal},
	{"sigtimedwait", bySignal},
	{"sigtimedwait-timeout", byTimeout},
	{"semop", byFIFO},
	{"semtimedop", byTimeout},
	{"msgrcv", byFIFO},
	{"waitid", byFIFO},
	{"wait4", byFIFO},
	{"flock", byFIFO},
	{"fcntl-setlkw", byFIFO},
}

// poll, select, epoll_wait and pause are system calls on x86-64 alone (arm64
// has ppoll, pselect6, epoll_pwait and sigsuspend): blocker.c has them where
// they exist.
func init() {
	if runtime.GOARCH == "amd64" {
		return
	}
	kept := blockedCalls[:0]
	for _, c := range blockedCalls {
		base, _, _ := strings.Cut(c.name, "-")
		if base != "poll" && base != "select" && base != "epoll_wait" && base != "pause" {
			kept = append(kept, c)
		}
	}
	blockedCalls = kept
}

// The timed calls' timeout (blocker.c's timeout_ms, passed to it), and when
// a timed call is disturbed after "ready": a third of its timeout, so that
// one restarted with its whole timeout again would come back that much
// late. calibrate sets them from how long cplock takes to reach a sleeping
// process here: the disturbance must reach the call well before its
// timeout, on a fast machine (1.5 s) as under an emulator (seconds).
var callTimeout, disturbAt time.Duration

// calibrate times cplock lock text and unlock of a sleeping process, and
// sets callTimeout to 1.5 s or, on a machine where that pair takes longer
// than 100 ms, fifteen times the pair.
func calibrate(t *testing.T) {
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }()
	pid := strconv.Itoa(sleeper.Process.Pid)
	begin := time.Now()
	for _, args := range [][]string{{"lock", "text", pid}, {"unlock", pid}} {
		if r := runCmd(t, nil, cplockBin, args...); r.code != 0 {
			t.Fatalf("cplock %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	pair := time.Since(begin)
	callTimeout = max(1500*time.Millisecond, 15*pair).Round(100 * time.Millisecond)
	disturbAt = callTimeout / 3
	t.Logf("cplock lock+unlock took %v here: the timed calls' timeout is %v", pair.Round(time.Millisecond), callTimeout)
}

const (
	// How far apart the two runs of a timed call that ran to its timeout
	// may come back, besides the difference of the times they were held.
	elapsedSlack = 250 * time.Millisecond
	// Tries of a timed call whose timing alone was off: a wrong restart
	// is off every time, a scheduling delay on a busy machine is not.
	timingTries = 3
	// Calls run at once (each runs its two runs one after the other):
	// most of the time they sleep.
	callsAtOnce = 8
)

// outcome is one run of the blocker: its line and what disturbed it.
type outcome struct {
	line    string        // the blocker's line, as printed
	call    string        // the line without its elapsed time
	elapsed time.Duration // the call's, as the blocker measured it
	eintr   bool
	cplock  []result      // lock and unlock, in the cplock run
	held    time.Duration // how long the disturbance kept it out of its sleep
	err     error         // the run itself went wrong
}

// pair is one call's two runs.
type pair struct{ cplock, stop outcome }

func runPair(name string, wake wakeBy) pair {
	var p pair
	p.cplock = runBlocker(name, wake, disturbByCplock)
	// SIGSTOP holds the process as long as cplock held it: select,
	// pselect6 and ppoll restart with the time that was left when they
	// were interrupted, and so come back that much later.
	p.stop = runBlocker(name, wake, disturbByStop(p.cplock.held))
	return p
}

// Every blocking call, disturbed once by SIGSTOP then SIGCONT and once by
// cplock lock proc then cplock unlock while it sleeps, and then woken the
// same way (or left to its timeout), returns the same thing in both runs:
// the same result, errno and data, and, for a timed call that runs to its
// timeout, no earlier than that and at the same time. cplock exits 0 every
// time. (Every call runs, whichever subtests -run selects.)
func TestBlockedCallsRestart(t *testing.T) {
	needRoot(t)
	calibrate(t)
	done := make([]chan pair, len(blockedCalls))
	slots := make(chan struct{}, callsAtOnce)
	for i, c := range blockedCalls {
		done[i] = make(chan pair, 1)
		go func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			done[i] <- runPair(c.name, c.wake)
		}()
	}
	for i, c := range blockedCalls {
		t.Run(c.name, func(t *testing.T) {
			p := <-done[i]
			for try := 1; ; try++ {
				if p.stop.err != nil {
					t.Fatalf("SIGSTOP/SIGCONT run: %v", p.stop.err)
				}
				if p.cplock.err != nil {
					t.Fatalf("cplock run: %v", p.cplock.err)
				}
				t.Logf("after SIGSTOP/SIGCONT:        %s  (held %v)", p.stop.line,
					p.stop.held.Round(time.Millisecond))
				t.Logf("after cplock lock and unlock: %s  (held %v)", p.cplock.line,
					p.cplock.held.Round(time.Millisecond))
				wrong, timing := judge(p, c.wake == byTimeout)
				for _, w := range wrong {
					t.Error(w)
				}
				if len(wrong) > 0 || len(timing) == 0 {
					return
				}
				if try == timingTries {
					for _, w := range timing {
						t.Errorf("%s (%d tries)", w, try)
					}
					return
				}
				t.Logf("%s; once more", strings.Join(timing, "; "))
				p = runPair(c.name, c.wake)
			}
		})
	}
}

// judge returns what is wrong with the cplock run against the SIGSTOP
// run: wrong results, and for a timed call wrong times.
func judge(p pair, timed bool) (wrong, timing []string) {
	for _, r := range p.cplock.cplock {
		if r.code != 0 {
			wrong = append(wrong, fmt.Sprintf("cplock exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr))
		}
	}
	if p.cplock.call != p.stop.call {
		wrong = append(wrong, fmt.Sprintf("the call returned differently\nafter SIGSTOP/SIGCONT:        %s\nafter cplock lock and unlock: %s",
			p.stop.line, p.cplock.line))
		return wrong, nil
	}
	// A call that came back with EINTR came back when the disturbance
	// ended: the same errno in both runs is what matters.
	if !timed || p.stop.eintr {
		return wrong, nil
	}
	for _, o := range []outcome{p.stop, p.cplock} {
		if o.elapsed < callTimeout {
			wrong = append(wrong, fmt.Sprintf("came back before its %v timeout: %s", callTimeout, o.line))
		}
	}
	d := p.cplock.elapsed - p.stop.elapsed
	if allowed := elapsedSlack + (p.cplock.held - p.stop.held).Abs(); d.Abs() > allowed {
		timing = append(timing, fmt.Sprintf("the timed call took %v after cplock, %v after SIGSTOP/SIGCONT: %v apart, at most %v allowed",
			p.cplock.elapsed.Round(time.Millisecond), p.stop.elapsed.Round(time.Millisecond),
			d.Abs().Round(time.Millisecond), allowed.Round(time.Millisecond)))
	}
	return wrong, timing
}

// disturbByCplock runs cplock lock proc PID, then cplock unlock PID.
func disturbByCplock(pid int, o *outcome) error {
	for _, args := range [][]string{{"lock", "proc", strconv.Itoa(pid)}, {"unlock", strconv.Itoa(pid)}} {
		r, err := runQuiet(cplockBin, args...)
		if err != nil {
			return err
		}
		o.cplock = append(o.cplock, r)
	}
	return nil
}

// disturbByStop sends SIGSTOP, waits until the process is stopped, holds
// it so for hold, and sends SIGCONT.
func disturbByStop(hold time.Duration) func(int, *outcome) error {
	return func(pid int, _ *outcome) error {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			return err
		}
		start := time.Now()
		for procState(pid) != "T" {
			if time.Since(start) > 10*time.Second {
				return fmt.Errorf("not stopped 10 s after SIGSTOP (state %q)", procState(pid))
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(hold - time.Since(start))
		return syscall.Kill(pid, syscall.SIGCONT)
	}
}

// runBlocker runs "blocker name DIR" until it is asleep in its call,
// disturbs it, wakes it by wake once it is back in the call (unless the
// call came back already), and returns what the call returned.
func runBlocker(name string, wake wakeBy, disturb func(int, *outcome) error) (o outcome) {
	fail := func(format string, a ...any) outcome {
		o.err = fmt.Errorf(format, a...)
		return o
	}
	dir, err := os.MkdirTemp("", "cplock-blocker-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(blockerBin, name, dir)
	cmd.Env = append(os.Environ(), fmt.Sprintf("BLOCKER_TIMEOUT_MS=%d", callTimeout.Milliseconds()))
	// Its helper child may outlive it a little, holding its stderr.
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fail("%v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fail("%v", err)
	}
	if err := cmd.Start(); err != nil {
		return fail("%v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		stdin.Close()
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
			removeIPC(dir)
		}
		if o.err != nil && stderr.Len() > 0 {
			o.err = fmt.Errorf("%w; blocker's stderr: %s", o.err, stderr.String())
		}
	}()
	pid := cmd.Process.Pid
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	l, err := nextLine(lines, 10*time.Second)
	if err != nil {
		return fail("no ready line: %v", err)
	}
	readyAt := time.Now()
	nr, err := strconv.Atoi(strings.TrimPrefix(l, "ready "))
	if err != nil {
		return fail("blocker said %q, want ready NR", l)
	}
	for !inCall(pid, nr) {
		if time.Since(readyAt) > 10*time.Second {
			return fail("not asleep in system call %d 10 s after ready", nr)
		}
		time.Sleep(time.Millisecond)
	}
	if wake == byTimeout {
		time.Sleep(disturbAt - time.Since(readyAt))
	}
	held := sampleHeld(pid)
	err = disturb(pid, &o)
	o.held = held()
	if err != nil {
		return fail("disturbing it: %v", err)
	}
	l = ""

	wait := 10 * time.Second
	if wake == byTimeout {
		wait += callTimeout
	}
	if wake != byTimeout {
		// Back asleep in the call (or in restart_syscall, which goes on
		// with a call that has a restart block), or back already.
		deadline := time.Now().Add(wait)
		for l == "" && !inCall(pid, nr, syscall.SYS_RESTART_SYSCALL) {
			if time.Now().After(deadline) {
				return fail("neither back in system call %d nor returned %v after the disturbance", nr, wait)
			}
			select {
			case l = <-lines:
			case <-time.After(time.Millisecond):
			}
		}
		if l == "" {
			if err := wakeUp(wake, pid, dir); err != nil {
				return fail("waking it: %v", err)
			}
		}
	}
	if l == "" {
		if l, err = nextLine(lines, wait); err != nil {
			return fail("no line after the call: %v", err)
		}
	}
	o.line = l
	stdin.Close()
	select {
	case err := <-exited:
		exited <- err // for the deferred clean-up
		if err != nil {
			return fail("after %q: %v", l, err)
		}
	case <-time.After(10 * time.Second):
		return fail("still running 10 s after its stdin closed")
	}
	return parseOutcome(name, o)
}

// sampleHeld watches pid, every millisecond, until the function it returns
// is called, and that function returns how long pid was not asleep (state
// S) meanwhile: held in a stop, or running cplock's calls.
func sampleHeld(pid int) func() time.Duration {
	stop := make(chan struct{})
	total := make(chan time.Duration)
	go func() {
		var held time.Duration
		prev := time.Now()
		for {
			select {
			case <-stop:
				total <- held
				return
			case <-time.After(time.Millisecond):
			}
			st := procState(pid)
			now := time.Now()
			if st != "S" {
				held += now.Sub(prev)
			}
			prev = now
		}
	}()
	return func() time.Duration {
		close(stop)
		return <-total
	}
}

// removeIPC removes the SysV object that a blocker killed before its end
// names in DIR/ipc (one that ends removes its own).
func removeIPC(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "ipc"))
	if err != nil {
		return
	}
	var kind string
	var id uintptr
	if _, err := fmt.Sscan(string(b), &kind, &id); err != nil {
		return
	}
	const ipcRMID = 0
	switch kind {
	case "sem":
		syscall.Syscall(syscall.SYS_SEMCTL, id, 0, ipcRMID)
	case "msg":
		syscall.Syscall(syscall.SYS_MSGCTL, id, ipcRMID, 0)
	}
}

// parseOutcome splits the elapsed time out of the blocker's line.
func parseOutcome(name string, o outcome) outcome {
	f := strings.Fields(o.line)
	if len(f) < 4 || f[0] != name {
		o.err = fmt.Errorf("blocker said %q", o.line)
		return o
	}
	var rest []string
	for _, w := range f {
		if v, ok := strings.CutPrefix(w, "elapsed="); ok {
			s, err := strconv.ParseFloat(v, 64)
			if err != nil {
				o.err = fmt.Errorf("blocker said %q", o.line)
				return o
			}
			o.elapsed = time.Duration(math.Round(s * 1e9))
			continue
		}
		rest = append(rest, w)
	}
	o.call = strings.Join(rest, " ")
	o.eintr = f[2] == "errno=EINTR"
	return o
}

func wakeUp(wake wakeBy, pid int, dir string) error {
	if wake == bySignal {
		return syscall.Kill(pid, syscall.SIGUSR1)
	}
	f, err := os.OpenFile(filepath.Join(dir, "wake"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write([]byte("w"))
	return err
}

func nextLine(lines <-chan string, wait time.Duration) (string, error) {
	select {
	case l, ok := <-lines:
		if !ok {
			return "", io.EOF
		}
		return l, nil
	case <-time.After(wait):
		return "", fmt.Errorf("none in %v", wait)
	}
}

// inCall says whether pid is asleep (state S) in one of the system calls
// nrs, by /proc/PID/stat and /proc/PID/syscall.
func inCall(pid int, nrs ...int) bool {
	if procState(pid) != "S" {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	for _, nr := range nrs {
		if len(f) > 0 && f[0] == strconv.Itoa(nr) {
			return true
		}
	}
	return false
}

// procState is the state letter of /proc/PID/stat ("" if unreadable).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

// runQuiet is runCmd for a goroutine other than the test's: it returns
// the error that runCmd would fail the test with.
func runQuiet(name string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if cmd.ProcessState == nil {
		return r, err
	}
	r.code = exitCode(cmd.ProcessState)
	if ctx.Err() != nil {
		return r, errors.New(name + " " + strings.Join(args, " ") + ": timed out; stderr: " + r.stderr)
	}
	return r, nil
}
