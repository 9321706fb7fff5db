package main

// cplock killed at any instant leaves its target running correctly (issue
// 16, item 1): SIGKILL at random points of lock and unlock, SIGTERM, SIGINT
// and SIGHUP likewise, and SIGKILL of cplock run while it starts the
// program. The target, testdata/patient.c (patient_test.go), checks its
// own registers, flags, vector state, red zone, signal mask, pending
// signals and memory, and aborts with a "CORRUPT ..." line when anything
// changed; the test checks it answers, makes progress in every thread,
// reads its pipe intact, and is neither stopped nor traced.

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killPlan returns how many kill points a set draws, and the time a
// subtest's points must fit in. Under -test.short (the test VMs, whose CPU
// qemu emulates: a call takes about 20 times as long there) fewer points
// are drawn, over more time.
func killPlan() (points int, budget time.Duration) {
	if testing.Short() {
		return 30, 150 * time.Second
	}
	return 200, 55 * time.Second
}

// lockOp is one cplock command of the cycle the kill points go through.
type lockOp struct {
	name string
	args []string // before the PID
}

var lockCycle = []lockOp{
	{"lock proc", []string{"lock", "proc"}},
	{"unlock", []string{"unlock"}},
	{"lock data", []string{"lock", "data"}},
	{"unlock", []string{"unlock"}},
	{"lock text", []string{"lock", "text"}},
	{"unlock", []string{"unlock"}},
}

// pointOutcome is what one kill point did.
type pointOutcome struct {
	op       string
	delay    time.Duration // drawn
	at       time.Duration // the signal went this long after the origin of the span
	frac     float64       // at, as a fraction of the span
	traced   bool          // the patient had a tracer right before the signal
	sig      syscall.Signal
	cplock   string // how cplock ended: "exit 0", "killed", or a failure
	harm     string // "" if the patient was well afterwards
	harmKind string // a short name of the harm, for the tally
}

// schedule returns n delays, fractions of a whole, stratified: one drawn
// uniformly from each n-th of [0, 1), shuffled.
func schedule(rng *rand.Rand, n int) []float64 {
	f := make([]float64, n)
	for i := range f {
		f[i] = (float64(i) + rng.Float64()) / float64(n)
	}
	rng.Shuffle(n, func(i, j int) { f[i], f[j] = f[j], f[i] })
	return f
}

// newRand is seeded from CPLOCK_KILL_SEED, or the clock; the seed is logged.
func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CPLOCK_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (CPLOCK_KILL_SEED=%d repeats the draw)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// timedCplock runs cplock args to its end and returns its duration from
// Start, failing t unless it exits 0; started, if not nil, is called right
// after Start.
func timedCplock(t *testing.T, started func(time.Time), args ...string) time.Duration {
	t.Helper()
	cmd := exec.Command(cplockBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if started != nil {
		started(t0)
	}
	err := cmd.Wait()
	d := time.Since(t0)
	if err != nil {
		t.Fatalf("cplock %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return d
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// killLockPoints sends sigs (one drawn for each point) to cplock lock and
// unlock of a patient MODE at random instants, and checks the patient
// after each. It measures a whole call on this patient first, and how long
// the patient has a tracer during one. Then killPoints instants spread
// uniformly over the whole call from its start; and killPoints more spread
// uniformly over the traced span alone, from the moment the test sees the
// tracer (a fraction of a call that lasts a few milliseconds, most of
// which is cplock starting: but it is the part a kill can harm). A harmed
// patient is replaced, so that every point counts; the harms are reported
// together at the end.
func killLockPoints(t *testing.T, mode string, sigs []syscall.Signal) {
	needRoot(t)
	killPoints, killBudget := killPlan()
	rng := newRand(t)
	p := startPatient(t, mode)
	defer func() { p.kill() }()
	if err := p.check(); err != nil {
		t.Fatalf("the patient, before any cplock: %v", err)
	}
	dur, span := calibrateLock(t, p)

	begin := time.Now()
	for _, traced := range []bool{false, true} {
		set := "over the whole call"
		if traced {
			set = "over the traced span"
		}
		fracs := schedule(rng, killPoints)
		var outs []pointOutcome
		start := time.Now()
		for i := 0; i < killPoints && time.Since(begin) < killBudget; i++ {
			op := lockCycle[i%len(lockCycle)]
			whole := dur[op.name]
			if traced {
				whole = span[op.name]
			}
			o := pointOutcome{op: op.name, sig: sigs[rng.IntN(len(sigs))],
				delay: time.Duration(fracs[i] * float64(whole))}
			lockPoint(t, p, op, traced, &o)
			o.frac = float64(o.at) / float64(whole)
			if o.harm != "" && !p.alive() {
				p.kill()
				p = startPatient(t, mode)
				if err := p.check(); err != nil {
					t.Fatalf("a new patient: %v", err)
				}
			}
			outs = append(outs, o)
		}
		reportPoints(t, fmt.Sprintf("cplock lock/unlock of patient %s, %s", mode, set), outs,
			time.Since(start))
	}
	if err := p.finish(); err != nil {
		t.Errorf("the patient at the end: %v", err)
	}
}

// lockPoint runs cplock op on p and sends it o.sig o.delay after its
// start, or with fromTracer o.delay after the test first sees p traced,
// and judges what cplock did and how the patient is. o.at is when the
// signal went, from the same origin.
func lockPoint(t *testing.T, p *patient, op lockOp, fromTracer bool, o *pointOutcome) {
	t.Helper()
	cmd := exec.Command(cplockBin, append(op.args, strconv.Itoa(p.pid))...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() { cmd.Wait(); close(ended) }()
	t0 := time.Now()
	if fromTracer {
	watch:
		for !traced(p.pid) {
			select {
			case <-ended:
				break watch // never seen traced: o.traced says so
			default:
			}
		}
		t0 = time.Now()
	}
	sleepUntil(t0, o.delay)
	o.traced = traced(p.pid)
	o.at = time.Since(t0)
	cmd.Process.Signal(o.sig)
	<-ended
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Exited() && ws.ExitStatus() == 0:
		o.cplock = "exit 0"
	case ws.Signaled() && ws.Signal() == o.sig:
		o.cplock = "killed"
	default:
		o.cplock = describeStatus(ws) + ": " + strings.TrimSpace(out.String())
		o.harm = fmt.Sprintf("cplock %s, sent %s: %s", op.name, signame(o.sig), o.cplock)
		o.harmKind = "cplock " + describeStatus(ws) + " after " + signame(o.sig)
	}
	if err := p.check(); err != nil {
		if o.harm != "" {
			o.harm += "; "
		}
		o.harm += "the patient: " + err.Error()
		o.harmKind = harmKind(p, err)
	}
}

// sleepUntil returns d after t0, spinning for the last 1.5 ms: time.Sleep
// alone can wake a millisecond late, a good part of the call the signal
// is to fall inside.
func sleepUntil(t0 time.Time, d time.Duration) {
	if d > 2*time.Millisecond {
		time.Sleep(d - 1500*time.Microsecond)
	}
	for time.Since(t0) < d {
	}
}

// calibrateLock runs each op of lockCycle on p uninterrupted (each must
// leave p well): the median duration of each, from start to exit; and,
// watched as lockPoint watches (which costs a CPU and slows cplock down),
// the median span from the first to the last sight of a tracer, plus a
// tenth.
func calibrateLock(t *testing.T, p *patient) (dur, span map[string]time.Duration) {
	t.Helper()
	times := make(map[string][]time.Duration)
	spans := make(map[string][]time.Duration)
	for round := 0; round < 8; round++ {
		for _, op := range lockCycle {
			args := append(op.args, strconv.Itoa(p.pid))
			if round < 4 {
				times[op.name] = append(times[op.name], timedCplock(t, nil, args...))
			} else {
				spans[op.name] = append(spans[op.name], tracedSpan(t, p.pid, args...))
			}
			if err := p.check(); err != nil {
				t.Fatalf("the patient after an uninterrupted cplock %s: %v", op.name, err)
			}
		}
	}
	dur = make(map[string]time.Duration)
	span = make(map[string]time.Duration)
	var cal []string
	for _, op := range lockCycle {
		if _, ok := dur[op.name]; ok {
			continue
		}
		dur[op.name] = median(times[op.name])
		span[op.name] = median(spans[op.name])
		if span[op.name] <= 0 {
			// Shorter than most looks at /proc take (an unlock holds
			// one thread for well under a millisecond): the longest
			// seen.
			span[op.name] = slices.Max(spans[op.name])
		}
		if span[op.name] <= 0 {
			// Never seen (a loaded machine starves the watcher): the
			// whole call, from the start.
			t.Logf("cplock %s: the patient was never seen traced; its span is the whole call", op.name)
			span[op.name] = dur[op.name]
		}
		span[op.name] += span[op.name] / 10
		cal = append(cal, fmt.Sprintf("%s %v (traced %v)", op.name,
			dur[op.name].Round(10*time.Microsecond), span[op.name].Round(10*time.Microsecond)))
	}
	t.Logf("a whole call on patient %s (median of %d, from start to exit), and the span "+
		"it is seen traced (median of %d): %s", p.mode, len(times["lock proc"]), len(spans["lock proc"]),
		strings.Join(cal, ", "))
	return dur, span
}

// tracedSpan runs cplock args, watching /proc/PID/status of pid as
// lockPoint does: how long from the first to the last sight of a tracer
// (0 if never seen).
func tracedSpan(t *testing.T, pid int, args ...string) time.Duration {
	t.Helper()
	var first, last time.Time
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if traced(pid) {
				if first.IsZero() {
					first = time.Now()
				}
				last = time.Now()
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	timedCplock(t, nil, args...)
	close(done)
	<-watched
	return last.Sub(first)
}

// harmKind names what happened to a harmed patient, for the tally.
func harmKind(p *patient, err error) string {
	select {
	case <-p.exited:
	case <-time.After(time.Second):
	}
	if e := p.stderr.String(); strings.Contains(e, "CORRUPT ") {
		l := e[strings.Index(e, "CORRUPT "):]
		l, _, _ = strings.Cut(l, "\n")
		f := strings.Fields(l)
		if len(f) > 1 {
			k, _, _ := strings.Cut(f[1], " got=")
			return "CORRUPT " + k
		}
	}
	select {
	case <-p.exited:
		return describeStatus(p.ws)
	default:
	}
	s := err.Error()
	if i := strings.IndexAny(s, ":("); i > 0 {
		s = s[:i]
	}
	return "alive but " + strings.TrimSpace(s)
}

// reportPoints logs where the signals fell and what they did, and fails t with
// a summary and samples if any point harmed the patient or fewer than
// killPoints fit in killBudget.
func reportPoints(t *testing.T, what string, outs []pointOutcome, took time.Duration) {
	t.Helper()
	killPoints, killBudget := killPlan()
	var hist [11]int // tenths of the span, and after it
	tally := map[string]int{}
	kinds := map[string]int{}
	traced := 0
	var harmed []pointOutcome
	for _, o := range outs {
		b := int(o.frac * 10)
		if b > 10 {
			b = 10
		}
		if b < 0 {
			b = 0
		}
		hist[b]++
		if strings.Contains(o.cplock, ":") {
			tally["other"]++
		} else {
			tally[o.cplock]++
		}
		if o.traced {
			traced++
		}
		if o.harm != "" {
			harmed = append(harmed, o)
			kinds[o.harmKind]++
		}
	}
	t.Logf("%s: %d points in %v; the signal fell, by tenth of the span "+
		"(the last column: after it): %v; cplock: %v; %d fell while the patient had a tracer",
		what, len(outs), took.Round(time.Millisecond), hist, tally, traced)
	if len(harmed) > 0 {
		var ks []string
		for k, n := range kinds {
			ks = append(ks, fmt.Sprintf("%d× %s", n, k))
		}
		sort.Strings(ks)
		// The first of each kind, then the first others, up to eight.
		var sample []string
		taken, kindSeen := map[int]bool{}, map[string]bool{}
		for pass := 0; pass < 2; pass++ {
			for i, o := range harmed {
				if len(sample) == 8 || taken[i] || (pass == 0 && kindSeen[o.harmKind]) {
					continue
				}
				taken[i], kindSeen[o.harmKind] = true, true
				sample = append(sample, fmt.Sprintf("  %s of cplock %s at %v (%.0f%% of the span, "+
					"tracer %v): %s", signame(o.sig), o.op, o.at.Round(time.Microsecond), 100*o.frac,
					o.traced, o.harm))
			}
		}
		t.Errorf("%s: %d of %d points harmed the patient: %s\n%s", what, len(harmed), len(outs),
			strings.Join(ks, ", "), strings.Join(sample, "\n"))
	}
	if len(outs) < killPoints {
		t.Errorf("%s: only %d of %d points in %v", what, len(outs), killPoints, killBudget)
	}
}

// SIGKILL of cplock lock or unlock at any instant leaves the patient
// running correctly; so do SIGTERM, SIGINT and SIGHUP, after which cplock
// exits as killed by the signal (or exits 0, if it came too late to
// matter).
func TestKilledAtAnyInstant(t *testing.T) {
	needRoot(t)
	for _, mode := range []string{"single", "multi"} {
		t.Run("SIGKILL/"+mode, func(t *testing.T) {
			killLockPoints(t, mode, []syscall.Signal{syscall.SIGKILL})
		})
	}
	t.Run("SIGTERM+SIGINT+SIGHUP/multi", func(t *testing.T) {
		killLockPoints(t, "multi", []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP})
	})
	t.Run("run/SIGKILL", func(t *testing.T) { killRunPoints(t, false) })
	t.Run("run-exec/SIGKILL", func(t *testing.T) { killRunPoints(t, true) })
}

// subreaper makes the test the parent of what cplock leaves when it dies
// (PR_SET_CHILD_SUBREAPER), for the rest of t; what is left at its end is
// killed and reaped.
func subreaper(t *testing.T) {
	const prSetChildSubreaper = 36
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		t.Fatalf("PR_SET_CHILD_SUBREAPER: %v", e)
	}
	t.Cleanup(func() {
		syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 0, 0)
		for _, k := range children(os.Getpid()) {
			var ws syscall.WaitStatus
			syscall.Kill(k, syscall.SIGKILL)
			syscall.Wait4(k, &ws, syscall.WALL, nil)
		}
	})
}

// runStart is one "cplock run --lock proc -- patient single", or with
// viaExec "cplock run --lock proc -- sh -c 'exec patient single'": the
// lock at sh's entry point, sh running locked, its exec, and the lock at
// the patient's entry point.
type runStart struct {
	cmd    *exec.Cmd
	ctl    *os.File
	out    *os.File
	stderr *lockedBuffer
	t0     time.Time
}

func startRun(t *testing.T, viaExec bool) *runStart {
	t.Helper()
	inR, inW := pipe(t)
	outR, outW := pipe(t)
	errR, errW := pipe(t)
	cmd := exec.Command(cplockBin, "run", "--lock", "proc", "--", buildPatient(t), "single")
	if viaExec {
		cmd = exec.Command(cplockBin, "run", "--lock", "proc", "--", "sh", "-c",
			`exec "$0" single`, buildPatient(t))
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &runStart{cmd: cmd, ctl: inW, out: outR, stderr: collectPipe(errR), t0: time.Now()}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	inR.Close()
	outW.Close()
	errW.Close()
	return r
}

// SIGKILL of cplock run at random points of the program's start-up, from
// cplock's fork to the program's first output (spread uniformly over the
// time this takes, measured first, from the moment the test sees the
// child): the program then never ran its main (it printed nothing and is
// gone), or it runs correctly; it never dies of what cplock left in it
// (SIGTRAP of a breakpoint, say), and is never left stopped.
//
// viaExec: the program execs the patient (runStart), so that the kill
// points fall in the first lock, while sh runs, in the lock at the exec and
// after it: the patient never runs its main, or runs it correctly; a kill
// in the lock at the exec kills it (PTRACE_O_EXITKILL, only then), a kill
// at any other instant leaves it running, untraced.
func killRunPoints(t *testing.T, viaExec bool) {
	needRoot(t)
	killPoints, killBudget := killPlan()
	buildPatient(t)
	subreaper(t)
	rng := newRand(t)
	me := os.Getpid()
	if kids := children(me); len(kids) != 0 {
		t.Fatalf("the test has children already: %v", kids)
	}

	// The start-up, uninterrupted and watched as runPoint watches it:
	// from the first sight of cplock's child to the program's "ready".
	var spans []time.Duration
	for i := 0; i < 6; i++ {
		r := startRun(t, viaExec)
		forked, ok := waitFork(r)
		if !ok {
			t.Fatalf("cplock run had no child in 5 s; stderr %s", r.stderr.String())
		}
		rd := bufio.NewReader(r.out)
		r.out.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, err := rd.ReadString('\n')
		ready := time.Now()
		if err != nil || !strings.HasPrefix(l, "ready single") {
			t.Fatalf("cplock run patient single said %q (%v); stderr %s", l, err, r.stderr.String())
		}
		spans = append(spans, ready.Sub(forked))
		r.ctl.Close()
		if err := r.cmd.Wait(); err != nil {
			t.Fatalf("cplock run patient single, at the end of its stdin: %v; stderr %s", err,
				r.stderr.String())
		}
		r.out.Close()
	}
	span := median(spans)
	what := "cplock run --lock proc -- patient single"
	if viaExec {
		what = "cplock run --lock proc -- sh -c 'exec patient single'"
	}
	t.Logf("%s: from the fork to \"ready\" %v (median of %d)", what,
		span.Round(10*time.Microsecond), len(spans))

	fracs := schedule(rng, killPoints)
	var outs []pointOutcome
	ends := map[string]int{}
	begin := time.Now()
	for i := 0; i < killPoints && time.Since(begin) < killBudget; i++ {
		o := pointOutcome{op: "run", sig: syscall.SIGKILL, delay: time.Duration(fracs[i] * float64(span))}
		end := runPoint(t, &o, viaExec)
		o.frac = float64(o.at) / float64(span)
		ends[end]++
		outs = append(outs, o)
	}
	t.Logf("what the program did: %v", ends)
	reportPoints(t, what, outs, time.Since(begin))
}

// waitFork watches cplock run until it has a child: when it was first seen.
func waitFork(r *runStart) (time.Time, bool) {
	for time.Since(r.t0) < 5*time.Second {
		if len(children(r.cmd.Process.Pid)) > 0 {
			return time.Now(), true
		}
	}
	return time.Time{}, false
}

// runPoint starts cplock run, SIGKILLs it o.delay after the test first sees
// its child, and judges what is left: the program, now the test's child,
// must have printed nothing and be gone, or be running correctly. It
// returns what the program did.
func runPoint(t *testing.T, o *pointOutcome, viaExec bool) string {
	t.Helper()
	r := startRun(t, viaExec)
	t0, ok := waitFork(r)
	if !ok {
		t0 = time.Now()
	}
	sleepUntil(t0, o.delay)
	o.at = time.Since(t0)
	kids := children(r.cmd.Process.Pid)
	if len(kids) == 1 {
		_, tracer := taskState(fmt.Sprintf("/proc/%d", kids[0]))
		o.traced = tracer != "0" && tracer != "?"
	}
	r.cmd.Process.Signal(syscall.SIGKILL)
	r.cmd.Wait()
	o.cplock = "killed"
	if ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() {
		o.cplock = describeStatus(ws) + ": " + r.stderr.String()
	}
	// cplock's children are the test's now, dead or alive.
	kids = children(os.Getpid())
	harm := func(kind, format string, args ...any) string {
		o.harm, o.harmKind = fmt.Sprintf(format, args...), kind
		return kind
	}
	// A child that exited before it could exec the program (os/exec's
	// probe of clone(CLONE_PIDFD), say) is the test's to reap, and no harm.
	var gone []string
	for _, k := range slices.Clone(kids) {
		if comm, state := commState(k); comm != "patient" && state == "Z" {
			var ws syscall.WaitStatus
			syscall.Wait4(k, &ws, syscall.WALL, nil)
			kids = slices.DeleteFunc(kids, func(x int) bool { return x == k })
			if ws.Signaled() && ws.Signal() != syscall.SIGKILL {
				return harm("before exec: "+describeStatus(ws), "cplock's child %s %s before it "+
					"executed the program", comm, describeStatus(ws))
			}
			gone = append(gone, comm+" child "+describeStatus(ws))
		}
	}
	if len(kids) == 0 {
		r.ctl.Close()
		r.out.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, _ := bufio.NewReader(r.out).ReadString('\n')
		r.out.Close()
		if b != "" {
			return harm("ran, then gone", "the program printed %q, and is gone", b)
		}
		if len(gone) > 0 {
			return "never ran: " + strings.Join(gone, ", ")
		}
		return "never forked"
	}
	if len(kids) > 1 {
		for _, k := range kids {
			syscall.Kill(k, syscall.SIGKILL)
			var ws syscall.WaitStatus
			syscall.Wait4(k, &ws, syscall.WALL, nil)
		}
		return harm("several children", "cplock left %d processes: %v", len(kids), kids)
	}
	p := &patient{mode: "single", pid: kids[0], threads: 1, ctl: r.ctl, out: r.out,
		rd: bufio.NewReader(r.out), stderr: r.stderr}
	comm, _ := commState(p.pid)
	p.wait()
	defer p.kill()
	l, err := p.line(3 * time.Second)
	if err == nil && strings.HasPrefix(l, "ready single") {
		if err := p.check(); err != nil {
			return harm(harmKind(p, err), "the program ran its main: %v", err)
		}
		if err := p.finish(); err != nil {
			return harm("ran, then wrong exit", "the program: %v", err)
		}
		return "ran correctly"
	}
	select {
	case <-p.exited:
	case <-time.After(time.Second):
	}
	select {
	case <-p.exited:
		p.close()
	default:
		return harm("stuck", "the program printed %q (%v) in 3 s and runs on: %s", l, err,
			p.threadStates())
	}
	switch {
	case len(p.stops) > 0:
		return harm("stopped, traced by its new parent", "the program (%s when found) printed %q "+
			"and was left %s", comm, l, strings.Join(p.stops, "; "))
	case l != "":
		return harm("wrote, then "+describeStatus(p.ws), "the program printed %q and %s", l,
			p.describeEnd())
	case p.ws.Signaled() && p.ws.Signal() != syscall.SIGKILL:
		return harm("before main: "+describeStatus(p.ws), "the program (%s when found) printed "+
			"nothing and %s", comm, p.describeEnd())
	}
	return "never ran: " + comm + " " + describeStatus(p.ws)
}
