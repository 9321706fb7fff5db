package main

// testdata/patient.c, the target of the kill tests (kill_test.go), run and
// questioned; and the proof that it notices what a tracer leaves wrong in
// it (TestPatientNotices): the test itself traces the patient,
// changes one thing (a register, a vector register, the signal mask, the
// stack the round fills, a word of memory, a call's result) while the
// patient's register round holds its test values, lets it go, and the
// patient must die of SIGABRT saying exactly what changed. And the test's
// own checks (patient.check) must see a stopped or traced patient. The
// changes of registers and of the round's stack, and how a call is cut
// short, are each architecture's: patient_amd64_test.go,
// patient_arm64_test.go.

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

var (
	patientOnce sync.Once
	patientBin  string
	patientErr  error
)

// buildPatient builds testdata/patient.c into binDir, once.
func buildPatient(t *testing.T) string {
	t.Helper()
	patientOnce.Do(func() {
		bin := filepath.Join(binDir, "patient")
		if prebuilt {
			patientBin = bin // copied by setup
			return
		}
		out, err := exec.Command("cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-pthread",
			"-o", bin, "testdata/patient.c").CombinedOutput()
		if err != nil {
			patientErr = fmt.Errorf("cc testdata/patient.c: %v\n%s", err, out)
			return
		}
		patientBin = bin
	})
	if patientErr != nil {
		t.Fatal(patientErr)
	}
	return patientBin
}

// lockedBuffer collects what a pipe says, for reading at any time.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// collectPipe copies r into a new lockedBuffer until r ends.
func collectPipe(r *os.File) *lockedBuffer {
	l := &lockedBuffer{}
	go func() {
		defer r.Close()
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			l.mu.Lock()
			l.b.Write(buf[:n])
			l.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return l
}

// patient is a running testdata/patient.c whose parent is this test (its
// starter, or its subreaper once cplock run died), so that its wait status
// tells how it ended.
type patient struct {
	mode    string
	pid     int
	threads int
	ctl     *os.File // its stdin: one byte asks for an answer
	out     *os.File // its stdout
	rd      *bufio.Reader
	feed    *os.File // its fd 3 (multi): the reader thread's pipe
	stderr  *lockedBuffer
	fed     int               // bytes written to feed
	last    map[string]uint64 // the counters of the last answer
	exited  chan struct{}     // closed when it has been waited for
	ws      syscall.WaitStatus
	stops   []string // stops that Wait4 reported (a tracee of ours)
	ready   string   // its first line
}

// startPatient starts patient MODE, child of the test, and waits for its
// "ready".
func startPatient(t *testing.T, mode string) *patient {
	t.Helper()
	return spawnPatient(t, mode, true)
}

// spawnPatient is startPatient; without wait, nothing waits for the
// patient (a test that traces it does) until p.wait is called. args follow
// the mode (multi's sleeper's milliseconds).
func spawnPatient(t *testing.T, mode string, wait bool, args ...string) *patient {
	t.Helper()
	bin := buildPatient(t)
	inR, inW := pipe(t)
	outR, outW := pipe(t)
	errR, errW := pipe(t)
	files := []*os.File{inR, outW, errW}
	var feedR, feedW *os.File
	if mode == "multi" {
		feedR, feedW = pipe(t)
		files = append(files, feedR)
	}
	proc, err := os.StartProcess(bin, append([]string{"patient", mode}, args...), &os.ProcAttr{Files: files})
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	p := &patient{mode: mode, pid: proc.Pid, threads: 1, ctl: inW, out: outR,
		rd: bufio.NewReader(outR), feed: feedW, stderr: collectPipe(errR)}
	if mode == "multi" {
		p.threads = 5
	}
	proc.Release() // waited for by PID: p.wait
	t.Cleanup(func() {
		if p.exited != nil {
			p.kill()
			return
		}
		// Nothing waits for it: the test traced it, and did not finish.
		var ws syscall.WaitStatus
		syscall.Kill(p.pid, syscall.SIGKILL)
		syscall.Wait4(p.pid, &ws, syscall.WALL, nil)
		p.close()
	})
	if wait {
		p.wait()
	}
	l, err := p.line(5 * time.Second)
	if err != nil || !strings.HasPrefix(l, "ready "+mode) {
		if !wait {
			p.wait()
		}
		p.kill()
		t.Fatalf("patient %s said %q (%v); %s", mode, l, err, p.describeEnd())
	}
	p.ready = l
	return p
}

func pipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	return r, w
}

// wait waits for the patient in the background. A stop (it can only be
// our tracee if its new parent is traced by PTRACE_TRACEME: see
// runPoint) is recorded and the patient killed: it would never go on.
func (p *patient) wait() {
	p.exited = make(chan struct{})
	go func() {
		defer close(p.exited)
		for {
			var ws syscall.WaitStatus
			_, err := syscall.Wait4(p.pid, &ws, syscall.WALL, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				p.stops = append(p.stops, "wait4: "+err.Error())
				return
			}
			if ws.Stopped() {
				p.stops = append(p.stops, "stopped by "+signame(ws.StopSignal())+
					" in a ptrace stop of the test")
				syscall.Kill(p.pid, syscall.SIGKILL)
				continue
			}
			p.ws = ws
			return
		}
	}()
}

// line reads a line of its stdout within d.
func (p *patient) line(d time.Duration) (string, error) {
	p.out.SetReadDeadline(time.Now().Add(d))
	l, err := p.rd.ReadString('\n')
	if err != nil {
		return strings.TrimSpace(l), err
	}
	return strings.TrimSuffix(l, "\n"), nil
}

// ask asks for an answer and parses "ok spin=N sleep=N ...".
func (p *patient) ask() (map[string]uint64, error) {
	if _, err := p.ctl.Write([]byte{'?'}); err != nil {
		return nil, fmt.Errorf("writing its stdin: %v", errors.Unwrap(err))
	}
	l, err := p.line(3 * time.Second)
	if err != nil {
		return nil, fmt.Errorf("no answer (%v)", err)
	}
	f := strings.Fields(l)
	if len(f) == 0 || f[0] != "ok" {
		return nil, fmt.Errorf("answered %q", l)
	}
	c := make(map[string]uint64)
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("answered %q", l)
		}
		c[k] = n
	}
	return c, nil
}

// check fails unless the patient is alive and well: it answers, every
// counter of its checks has moved on since its last answer (all threads
// ran, each through a complete check) within 3 s, its reader thread got
// every byte written to its pipe and found each right, and then no thread
// is stopped or has a tracer.
func (p *patient) check() error {
	if p.feed != nil {
		msg := make([]byte, 64)
		for i := range msg {
			msg[i] = byte((p.fed + i) * 7 % 251)
		}
		if _, err := p.feed.Write(msg); err != nil {
			return fmt.Errorf("writing its pipe: %v; %s", errors.Unwrap(err), p.describeEnd())
		}
		p.fed += len(msg)
	}
	moving := []string{"spin", "sleep", "data", "ctl"}
	if p.feed != nil {
		moving = append(moving, "read")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := p.ask()
		if err != nil {
			return fmt.Errorf("%v; %s", err, p.describeEnd())
		}
		stuck := []string{}
		for _, k := range moving {
			if c[k] <= p.last[k] {
				stuck = append(stuck, k)
			}
		}
		if c["bytes"] != uint64(p.fed) {
			stuck = append(stuck, fmt.Sprintf("bytes (%d of %d)", c["bytes"], p.fed))
		}
		if len(stuck) == 0 {
			p.last = c
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stalled for 3 s: no progress in %v (counters %v, before %v); threads: %s",
				stuck, c, p.last, p.threadStates())
		}
		time.Sleep(time.Millisecond)
	}
	// Whatever detaches the patient may take a moment after the patient
	// runs again: a second, no more.
	var bad error
	for settle := time.Now(); time.Since(settle) < time.Second; time.Sleep(5 * time.Millisecond) {
		if bad = p.threadsWell(); bad == nil {
			return nil
		}
	}
	return bad
}

// threadsWell fails unless the patient has all its threads, none stopped
// or dead, none with a tracer.
func (p *patient) threadsWell() error {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", p.pid))
	if len(tasks) != p.threads {
		return fmt.Errorf("%d threads, want %d: %s", len(tasks), p.threads, p.threadStates())
	}
	for _, task := range tasks {
		state, tracer := taskState(task)
		if strings.ContainsAny(state, "TtZX") || tracer != "0" {
			return fmt.Errorf("thread %s: state %s, TracerPid %s: %s", filepath.Base(task), state,
				tracer, p.threadStates())
		}
	}
	return nil
}

// taskState is a thread's state letter (/proc/PID/task/TID/stat) and its
// TracerPid.
func taskState(task string) (state, tracer string) {
	state, tracer = "?", "?"
	if b, err := os.ReadFile(task + "/stat"); err == nil {
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 0 {
				state = f[0]
			}
		}
	}
	if b, err := os.ReadFile(task + "/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "TracerPid:"); ok {
				tracer = strings.TrimSpace(v)
			}
		}
	}
	return state, tracer
}

func (p *patient) threadStates() string {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", p.pid))
	var s []string
	for _, task := range tasks {
		state, tracer := taskState(task)
		wchan, _ := os.ReadFile(task + "/wchan")
		sc, _ := os.ReadFile(task + "/syscall")
		s = append(s, fmt.Sprintf("%s %s tracer %s wchan %s syscall %s", filepath.Base(task), state,
			tracer, wchan, strings.Fields(string(sc) + " ?")[0]))
	}
	if len(s) == 0 {
		return "none (" + p.describeEnd() + ")"
	}
	return strings.Join(s, "; ")
}

// describeEnd says how the patient ended, if it did within a second, and
// what it wrote on stderr.
func (p *patient) describeEnd() string {
	s := "still running"
	select {
	case <-p.exited:
		s = describeStatus(p.ws)
		if len(p.stops) > 0 {
			s += " (" + strings.Join(p.stops, "; ") + ")"
		}
	case <-time.After(time.Second):
	}
	if e := strings.TrimSpace(p.stderr.String()); e != "" {
		s += "; stderr: " + e
	}
	return s
}

func describeStatus(ws syscall.WaitStatus) string {
	switch {
	case ws.Signaled():
		s := "died of " + signame(ws.Signal())
		if ws.CoreDump() {
			s += " (core dumped)"
		}
		return s
	case ws.Exited():
		return fmt.Sprintf("exited %d", ws.ExitStatus())
	}
	return fmt.Sprintf("wait status %#x", uint32(ws))
}

func signame(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGSEGV: "SIGSEGV", syscall.SIGBUS: "SIGBUS", syscall.SIGTRAP: "SIGTRAP",
		syscall.SIGABRT: "SIGABRT", syscall.SIGKILL: "SIGKILL", syscall.SIGILL: "SIGILL",
		syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT", syscall.SIGHUP: "SIGHUP",
		syscall.SIGSTOP: "SIGSTOP", syscall.SIGFPE: "SIGFPE", syscall.SIGSYS: "SIGSYS",
		syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2", syscall.SIGPIPE: "SIGPIPE",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}

// kill ends the patient, unless it has ended, and waits for it.
func (p *patient) kill() {
	select {
	case <-p.exited:
	default:
		syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.exited
	}
	p.close()
}

func (p *patient) close() {
	p.ctl.Close()
	p.out.Close()
	if p.feed != nil {
		p.feed.Close()
	}
}

// finish closes its stdin, at which it must exit 0.
func (p *patient) finish() error {
	p.ctl.Close()
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.kill()
		return fmt.Errorf("did not exit in 5 s at the end of its stdin")
	}
	p.close()
	if !p.ws.Exited() || p.ws.ExitStatus() != 0 {
		return fmt.Errorf("at the end of its stdin: %s", p.describeEnd())
	}
	return nil
}

// alive is false once the patient has been harmed beyond use: it died, or
// it answered no more, or it stalled. A patient that is well again (the
// harm was cplock's exit status alone) goes on.
func (p *patient) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
	}
	return p.check() == nil
}

// traced says whether pid has a tracer now.
func traced(pid int) bool {
	// Any thread: cplock traces one, the worker, which is not the main
	// thread of a process with threads.
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, task := range tasks {
		if _, tracer := taskState(task); tracer != "0" && tracer != "?" {
			return true
		}
	}
	return false
}

// commState is the command name and state letter of process pid.
func commState(pid int) (comm, state string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 || j < i {
		return "?", "?"
	}
	if f := strings.Fields(string(b[j+1:])); len(f) > 0 {
		state = f[0]
	}
	return string(b[i+1 : j]), state
}

// children are the PIDs of pid's children, from every thread's
// /proc/PID/task/TID/children; none if pid is gone.
func children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var kids []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(w); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

const (
	ptraceSeize      = 0x4206
	ptraceInterrupt  = 0x4207
	ptraceGetRegset  = 0x4204
	ptraceSetRegset  = 0x4205
	ptraceGetSigmask = 0x420a
	ptraceSetSigmask = 0x420b
	ptraceEventStop  = 128
)

func ptrace(req, tid int, addr, data uintptr) error {
	_, _, e := syscall.Syscall6(syscall.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// stopped is a patient thread in an interrupt-stop of the test.
type stopped struct {
	tid  int
	regs syscall.PtraceRegs
}

type iovec struct {
	base *byte
	len  uint64
}

// regset reads register set nt (PTRACE_GETREGSET) into b: the part of b
// the kernel filled.
func (s *stopped) regset(nt uintptr, b []byte) ([]byte, error) {
	iov := iovec{&b[0], uint64(len(b))}
	err := ptrace(ptraceGetRegset, s.tid, nt, uintptr(unsafe.Pointer(&iov)))
	return b[:iov.len], err
}

// setRegset writes register set nt from b (PTRACE_SETREGSET).
func (s *stopped) setRegset(nt uintptr, b []byte) error {
	iov := iovec{&b[0], uint64(len(b))}
	return ptrace(ptraceSetRegset, s.tid, nt, uintptr(unsafe.Pointer(&iov)))
}

// patientSyms are addresses in a running patient.
type patientSyms struct {
	loaded, checked uint64 // the register round holds its values in [loaded, checked)
	region          uint64 // the memory filled once
}

func symbolsOf(t *testing.T, p *patient) patientSyms {
	t.Helper()
	f, err := elf.Open(patientBin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	// A PIE: its first mapping (file offset 0) is where address 0 went.
	var base uint64
	for _, l := range strings.Split(readFile(t, fmt.Sprintf("/proc/%d/maps", p.pid)), "\n") {
		f := strings.Fields(l)
		if len(f) == 6 && f[5] == patientBin && f[2] == "00000000" {
			start, _, _ := strings.Cut(f[0], "-")
			base, _ = strconv.ParseUint(start, 16, 64)
			break
		}
	}
	if f.Type != elf.ET_DYN {
		base = 0
	}
	var ps patientSyms
	for _, s := range syms {
		switch s.Name {
		case "patient_loaded":
			ps.loaded = base + s.Value
		case "patient_checked":
			ps.checked = base + s.Value
		case "region":
			ps.region = base + s.Value
		}
	}
	if ps.loaded == 0 || ps.checked == 0 || ps.region == 0 {
		t.Fatalf("no patient_loaded, patient_checked or region in %s", patientBin)
	}
	return ps
}

// harmOnce traces thread tid of p until change accepts the thread where
// it stopped (it returns true once it has changed something), then lets it
// go. It makes at most 300 tries, a few milliseconds apart.
func harmOnce(t *testing.T, tid int, change func(*stopped) (bool, error)) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for try := 0; try < 300; try++ {
		if err := ptrace(ptraceSeize, tid, 0, 0); err != nil {
			t.Fatalf("PTRACE_SEIZE %d: %v", tid, err)
		}
		if err := ptrace(ptraceInterrupt, tid, 0, 0); err != nil {
			t.Fatalf("PTRACE_INTERRUPT %d: %v", tid, err)
		}
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(tid, &ws, syscall.WALL, nil); err != nil {
			t.Fatalf("wait4 %d: %v", tid, err)
		}
		if !ws.Stopped() || ws>>16 != ptraceEventStop {
			t.Fatalf("thread %d: wait status %#x, want an interrupt-stop", tid, uint32(ws))
		}
		s := &stopped{tid: tid}
		if err := syscall.PtraceGetRegs(tid, &s.regs); err != nil {
			t.Fatal(err)
		}
		done, err := change(s)
		if err != nil {
			t.Fatalf("thread %d: %v", tid, err)
		}
		if err := syscall.PtraceDetach(tid); err != nil {
			t.Fatalf("PTRACE_DETACH %d: %v", tid, err)
		}
		if done {
			return
		}
		time.Sleep(time.Duration(try%4) * time.Millisecond)
	}
	t.Fatalf("thread %d never stopped where the change could be made, in 300 tries", tid)
}

// expectCorrupt waits (3 s at most) for p to die of SIGABRT with want on
// its stderr. It returns false if p is still alive: the change was undone
// before it could be seen (a flag changed right before the round sets all
// flags, say); then the caller tries again.
func expectCorrupt(t *testing.T, p *patient, want string) bool {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(p.pid, &ws, syscall.WNOHANG, nil)
		if err != nil {
			t.Fatalf("wait4: %v", err)
		}
		if pid == p.pid {
			p.ws = ws
			time.Sleep(10 * time.Millisecond) // the rest of its stderr
			e := strings.TrimSpace(p.stderr.String())
			if !ws.Signaled() || ws.Signal() != syscall.SIGABRT || !strings.Contains(e, want) {
				t.Errorf("the patient %s; stderr %q; want SIGABRT and %q", describeStatus(ws), e, want)
			} else {
				t.Logf("the patient noticed: %s", e)
			}
			p.exited = make(chan struct{})
			close(p.exited)
			p.close()
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// inRound accepts a thread stopped where the register round holds its
// values.
func inRound(ps patientSyms, s *stopped) bool {
	return s.regs.PC() > ps.loaded && s.regs.PC() < ps.checked
}

// vectorOf reads "vec=" and "xsave=" of the patient's ready line.
func vectorOf(t *testing.T, p *patient) (level string, xsave [4]int) {
	t.Helper()
	for _, f := range strings.Fields(p.ready) {
		if v, ok := strings.CutPrefix(f, "vec="); ok {
			level = v
		}
		if v, ok := strings.CutPrefix(f, "xsave="); ok {
			for i, o := range strings.Split(v, ",") {
				if i < 4 {
					xsave[i], _ = strconv.Atoi(o)
				}
			}
		}
	}
	if level == "" {
		t.Fatalf("no vec= in %q", p.ready)
	}
	return level, xsave
}

// patientHarm is one change that TestPatientNotices makes in a stopped
// patient.
type patientHarm struct {
	name   string
	needs  string // "avx", "avx512": the vector level it needs (x86-64)
	want   string // on the patient's stderr
	change func(ps patientSyms, xsave [4]int, s *stopped) (bool, error)
}

// gprHarm flips bit 40 of the general register that reg picks, in the
// register round.
func gprHarm(name string, want string, reg func(*syscall.PtraceRegs) *uint64) patientHarm {
	return patientHarm{name: name, want: want, change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
		if !inRound(ps, s) {
			return false, nil
		}
		*reg(&s.regs) ^= 1 << 40
		return true, syscall.PtraceSetRegs(s.tid, &s.regs)
	}}
}

func TestPatientNotices(t *testing.T) {
	needRoot(t)
	buildPatient(t)
	harms := append(registerHarms(), []patientHarm{
		{name: "sigmask", want: "CORRUPT what=sigmask sig=28 ",
			change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
				var m uint64
				if err := ptrace(ptraceGetSigmask, s.tid, 8, uintptr(unsafe.Pointer(&m))); err != nil {
					return false, err
				}
				m |= 1 << (syscall.SIGWINCH - 1)
				return true, ptrace(ptraceSetSigmask, s.tid, 8, uintptr(unsafe.Pointer(&m)))
			}},
		// A pending signal swallowed: unblocked, dequeued into a
		// signal-delivery-stop, suppressed, the mask put back.
		{name: "sigpending", want: "CORRUPT what=sigpending sig=10 got=0 want=1 ",
			change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
				var m uint64
				if err := ptrace(ptraceGetSigmask, s.tid, 8, uintptr(unsafe.Pointer(&m))); err != nil {
					return false, err
				}
				open := m &^ (1 << (syscall.SIGUSR1 - 1))
				if err := ptrace(ptraceSetSigmask, s.tid, 8, uintptr(unsafe.Pointer(&open))); err != nil {
					return false, err
				}
				if err := syscall.PtraceCont(s.tid, 0); err != nil {
					return false, err
				}
				var ws syscall.WaitStatus
				if _, err := syscall.Wait4(s.tid, &ws, syscall.WALL, nil); err != nil {
					return false, err
				}
				if !ws.Stopped() || ws.StopSignal() != syscall.SIGUSR1 || ws>>16 != 0 {
					return false, fmt.Errorf("wait status %#x, want the delivery of SIGUSR1", uint32(ws))
				}
				return true, ptrace(ptraceSetSigmask, s.tid, 8, uintptr(unsafe.Pointer(&m)))
			}},
		stackHarm(),
		{name: "memory", want: "CORRUPT what=memory at=region+40000 ",
			change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
				b := make([]byte, 8)
				if _, err := syscall.PtracePeekData(s.tid, uintptr(ps.region+40000), b); err != nil {
					return false, err
				}
				b[0] ^= 0x01
				_, err := syscall.PtracePokeData(s.tid, uintptr(ps.region+40000), b)
				return true, err
			}},
		// EINTR: what a tracer that resumes a thread without restarting
		// its call gives it.
		{name: "nanosleep-EINTR", want: "CORRUPT what=nanosleep result=-4 ",
			change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
				if !inNanosleep(ps, s) {
					return false, nil
				}
				return true, callReturns(s, uint64(^uintptr(syscall.EINTR)+1))
			}},
	}...)
	for _, h := range harms {
		t.Run(h.name, func(t *testing.T) {
			for attempt := 0; attempt < 5; attempt++ {
				p := spawnPatient(t, "single", false)
				level, xsave := vectorOf(t, p)
				if h.needs == "avx" && level == "sse" || h.needs == "avx512" && level != "avx512" {
					p.wait()
					p.kill()
					t.Logf("the patient checks %s registers only: nothing to change", level)
					return
				}
				want := h.want
				if strings.HasPrefix(want, "5[") { // x86-64's: the level names xmm5
					want = map[string]string{"sse": "xmm", "avx": "ymm", "avx512": "zmm"}[level] + want
				}
				ps := symbolsOf(t, p)
				harmOnce(t, p.pid, func(s *stopped) (bool, error) { return h.change(ps, xsave, s) })
				if expectCorrupt(t, p, want) {
					return
				}
				t.Logf("the patient noticed nothing in 3 s: the change was undone before it "+
					"could be seen; again (%d)", attempt+1)
				p.wait()
				p.kill()
			}
			t.Errorf("the patient never noticed the change in 5 attempts")
		})
	}

	// The sleeper of patient multi: a nanosleep that returns early, with 0.
	// It sleeps 50 ms, so that the stop and the resume, which take
	// milliseconds under emulation (the test VMs), come before its end.
	t.Run("nanosleep-short", func(t *testing.T) {
		for attempt := 0; attempt < 5; attempt++ {
			p := spawnPatient(t, "multi", false, "50")
			ps := symbolsOf(t, p)
			tid := sleeperOf(t, p, ps)
			found := time.Now()
			harmOnce(t, tid, func(s *stopped) (bool, error) {
				if !inNanosleep(ps, s) {
					return false, nil
				}
				return true, callReturns(s, 0)
			})
			t.Logf("from the sight of the sleeper in nanosleep to its detach: %v", time.Since(found))
			if expectCorrupt(t, p, "CORRUPT what=nanosleep slept=") {
				return
			}
			t.Logf("the patient noticed nothing: its sleep was over when it was let go; "+
				"again (%d)", attempt+1)
			p.wait()
			p.kill()
		}
		t.Errorf("the patient never noticed a short sleep in 5 attempts")
	})

	t.Run("pipe-data", func(t *testing.T) {
		p := spawnPatient(t, "multi", false)
		if _, err := p.feed.Write([]byte{0, 7, 14, 22}); err != nil {
			t.Fatal(err)
		}
		if !expectCorrupt(t, p, "CORRUPT what=pipe-data at=3 got=22 want=21") {
			t.Errorf("the patient read a wrong byte and said nothing")
		}
	})

	// The test's own checks: a stopped patient, and a traced one.
	t.Run("stopped", func(t *testing.T) {
		p := startPatient(t, "multi")
		defer p.kill()
		if err := p.check(); err != nil {
			t.Fatal(err)
		}
		syscall.Kill(p.pid, syscall.SIGSTOP)
		if err := p.check(); err == nil {
			t.Errorf("check passed a stopped patient")
		} else {
			t.Logf("check: %v", err)
		}
		syscall.Kill(p.pid, syscall.SIGCONT)
		if err := p.check(); err != nil {
			t.Errorf("after SIGCONT: %v", err)
		}
	})
	t.Run("traced", func(t *testing.T) {
		p := spawnPatient(t, "single", false)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := ptrace(ptraceSeize, p.pid, 0, 0); err != nil {
			t.Fatal(err)
		}
		if err := p.check(); err == nil || !strings.Contains(err.Error(), "TracerPid") {
			t.Errorf("check of a traced patient: %v, want an error about its TracerPid", err)
		} else {
			t.Logf("check: %v", err)
		}
		// A seized thread detaches only from a stop.
		ptrace(ptraceInterrupt, p.pid, 0, 0)
		var ws syscall.WaitStatus
		syscall.Wait4(p.pid, &ws, syscall.WALL, nil)
		if err := syscall.PtraceDetach(p.pid); err != nil {
			t.Fatal(err)
		}
		p.wait()
		defer p.kill()
		if err := p.check(); err != nil {
			t.Errorf("after the detach: %v", err)
		}
	})
}

// sleeperOf finds the thread of patient multi that sleeps in nanosleep
// inside its register round (/proc/PID/task/TID/syscall: the call and
// the user pc).
func sleeperOf(t *testing.T, p *patient, ps patientSyms) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.pid))
		for _, e := range ents {
			f := strings.Fields(readFile(t, fmt.Sprintf("/proc/%d/task/%s/syscall", p.pid, e.Name())))
			if len(f) < 3 || f[0] != strconv.Itoa(syscall.SYS_NANOSLEEP) {
				continue
			}
			pc, _ := strconv.ParseUint(strings.TrimPrefix(f[len(f)-1], "0x"), 16, 64)
			if pc > ps.loaded && pc < ps.checked {
				tid, _ := strconv.Atoi(e.Name())
				return tid
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no thread of patient %d sleeps in its register round", p.pid)
	return 0
}
