//go:build linux && cgo

package plock

import (
	"debug/buildinfo"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Another process: LockProcess, StartLocked and RunLocked, over ctl
// (bindings.go), with ptrace(2) for RunLocked's following. They need Linux
// and cgo; nocgo.go has their stubs for the other builds.

// Flags of plock_ctl (<plock.h>) besides strictFuture.
const (
	atEntry   = 2  // PLOCK_AT_ENTRY
	traced    = 8  // PLOCK_TRACED
	followOpt = 16 // PLOCK_FOLLOW
	startedOp = 32 // PLOCK_STARTED
)

// LockProcess applies op's locks to the running process pid: the mappings
// that plock(op) would lock if pid called it itself, classified as
// Segments classifies them. UnlockProcess removes them.
//
// Linux has no system call that locks another process's memory: LockProcess
// stops pid with ptrace(2), makes it execute mlock2 and mlockall itself,
// restores it and lets it run on as before. A thread blocked in a system
// call (read, nanosleep, a futex) sees no EINTR and loses no data. That
// needs the permission to trace pid: the same user and ptrace allowed
// (kernel.yama.ptrace_scope 0), or CAP_SYS_PTRACE. The locks count against
// pid's own RLIMIT_MEMLOCK and CAP_IPC_LOCK, and a Go program gets
// Plock's rule: a data lock without CAP_IPC_LOCK under a finite limit fails
// with ENOMEM. Another process has no Plock state: op locks the classes it
// names that are not locked yet. A failure changes nothing in pid, and the
// error says why and what would make the call succeed.
//
// A system call that pid's seccomp filter forbids is never made: the error
// then has ReasonSeccomp. A filter that the caller may not read (that needs
// CAP_SYS_ADMIN) is refused the same way; LockProcessFlags with
// SeccompUnchecked goes on regardless.
func LockProcess(pid int, op Op) error { return LockProcessFlags(pid, op, 0) }

// LockProcessFlags is LockProcess with flags.
func LockProcessFlags(pid int, op Op, flags ProcessFlags) error {
	if pid <= 0 {
		return &Error{Op: op, PID: pid, Err: syscall.ESRCH, Reason: ReasonGone}
	}
	f := int(flags & SeccompUnchecked)
	if op != Unlock && goProgram(pid) {
		f |= strictFuture
	}
	return ctl(pid, op, f)
}

// UnlockProcess removes every lock of the running process pid: it makes pid
// call munlockall(), which also ends its MCL_FUTURE. Permission and errors
// are as for LockProcess.
func UnlockProcess(pid int) error { return LockProcess(pid, Unlock) }

// StartLocked starts cmd as cmd.Start does, and applies op's locks to the
// new program at its entry point: after the dynamic loader has mapped its
// shared objects, before the program's first instruction, as if its main
// began with plock(op). It works for any program: dynamically or statically
// linked, Go (which gets Plock's rule), or a script (its interpreter is
// locked). cmd.SysProcAttr.Ptrace is set; the calling goroutine is locked
// to its thread while StartLocked runs, as ptrace asks.
//
// An error from cmd.Start is returned as it is, and cmd.Process is nil;
// but if the child was refused PTRACE_TRACEME (a seccomp filter, Yama, a
// tracer that follows forks, which all refuse with EPERM), the error is
// an *Error with ReasonPtrace that says so, and cmd was not started even
// with allowUnlocked (an exec.Cmd starts once: start another). If the
// locks fail, the error says why (it wraps the syscall.Errno), and
// the program has been started: with allowUnlocked it runs on unlocked;
// otherwise it is killed at its entry point and waited for. If it exited by
// itself before its entry point (the loader found no library, say), the
// error wraps ESRCH and cmd.Wait reports its status.
func StartLocked(cmd *exec.Cmd, op Op, allowUnlocked bool) error {
	// The child's tracer is the thread that starts it, and every ptrace
	// request must come from that thread (and the parent-death signal
	// comes when that thread ends).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := startTraced(cmd, op); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	flags := atEntry
	if goProgram(pid) {
		flags |= strictFuture
	}
	err := ctl(pid, op, flags)
	if err == nil {
		return nil
	}
	switch {
	case err.(*Error).Reason == ReasonGone: // ctl fails with an *Error
	case allowUnlocked:
		// Still held at its entry point if plock_ctl left it so.
		_ = syscall.PtraceDetach(pid)
	default:
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	return err
}

// startTraced starts cmd as the calling thread's tracee (PTRACE_TRACEME in
// the child, which stops at its exec). Until its entry point the child dies
// with us, never by the SIGTRAP of its exec (PLOCK_AT_ENTRY in <plock.h>):
// a parent-death signal, and SIGTRAP ignored across the fork and exec; the C
// library sets both back before the program runs. The caller has locked
// its goroutine to its thread. An EPERM of the child's PTRACE_TRACEME, not
// of execve, is the library's *Error with ReasonPtrace.
func startTraced(cmd *exec.Cmd, op Op) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	if cmd.SysProcAttr.Pdeathsig == 0 {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if !signal.Ignored(syscall.SIGTRAP) {
		signal.Ignore(syscall.SIGTRAP)
		defer signal.Reset(syscall.SIGTRAP)
	}
	err := cmd.Start()
	if err != nil && errors.Is(err, syscall.EPERM) {
		if refused := tracemeRefusal(op); refused != nil {
			return refused
		}
	}
	return err
}

// goProgram reports whether process pid runs a Go program: its executable
// has Go's build information.
func goProgram(pid int) bool {
	_, err := buildinfo.ReadFile("/proc/" + strconv.Itoa(pid) + "/exe")
	return err == nil
}

// RunOptions says how RunLocked follows a program.
type RunOptions struct {
	// Follow locks the program's children too: every new process that
	// does not share its parent's memory (fork, clone without CLONE_VM)
	// from its first instruction, and every program any of them
	// executes, vfork children included. Without it children start
	// unlocked (locks are not inherited), and only the program's own
	// execs are locked.
	Follow bool
	// AllowUnlocked lets a program whose lock fails run on, unlocked.
	AllowUnlocked bool
	// Started, if not nil, is called once, when the program is locked at
	// its entry point (err nil) or runs unlocked after all (err says
	// why), right before its first instruction.
	Started func(err error)
	// Failed, if not nil, is called for every later lock that fails (at
	// an exec, or of a child): the process and why. Unless AllowUnlocked,
	// the process is killed before its first instruction.
	Failed func(pid int, err error)
}

// ptrace(2) values that package syscall lacks.
const (
	ptraceSeize     = 0x4206
	ptraceListen    = 0x4208
	ptraceEventStop = 0x80

	optSysgood  = 0x1
	optFork     = 0x2
	optVfork    = 0x4
	optClone    = 0x8
	optExec     = 0x10
	optExitKill = 0x100000

	kcmpVM = 1
)

// RunLocked starts cmd with op's locks as StartLocked does, and stays its
// tracer until it exits, so that the lock follows the program: every
// program it executes (a shebang's interpreter, sh -c 'exec prog', env)
// is locked again at its entry point, after its dynamic loader and before
// its first instruction. With o.Follow its children are locked too. It
// returns the program's wait status once it has exited, and collects it:
// cmd.Wait must not be called (RunLocked has, to end cmd's copying of
// its standard streams).
//
// The calling goroutine is locked to its thread meanwhile, as ptrace asks.
// Every signal is passed on to the process it was meant for, and a stop
// (SIGSTOP, SIGTSTP) is a stop (PTRACE_LISTEN): the program runs no
// instruction until SIGCONT. A process is held only while it is locked,
// before its first instruction: if the caller dies then, the kernel kills
// that process (it never ran the program unlocked); at any other moment
// the caller's death leaves every process running, untraced.
//
// Errors: as StartLocked's, when the program could not be started (then
// cmd.Process is nil) or its first lock failed without AllowUnlocked (then
// it was killed before its first instruction, and the status says so).
// When a later lock of the program itself fails without AllowUnlocked, it
// is killed before the new program's first instruction, and the error says
// why, with its status.
func RunLocked(cmd *exec.Cmd, op Op, o RunOptions) (syscall.WaitStatus, error) {
	runtime.LockOSThread() // as in StartLocked
	defer runtime.UnlockOSThread()
	if err := startTraced(cmd, op); err != nil {
		return 0, err
	}
	f := &follower{op: op, o: o, pid: cmd.Process.Pid, tasks: map[int]bool{},
		parent: map[int]born{}, early: map[int]bool{}}
	f.opts = optSysgood | optExec | optClone
	if o.Follow {
		f.opts |= optFork | optVfork
	}
	ws, err := f.run()
	_ = cmd.Wait() // collected already: this ends the copying goroutines
	return ws, err
}

type born struct{ parent, event int }

type follower struct {
	op     Op
	o      RunOptions
	pid    int          // the program
	opts   int          // the ptrace options outside a lock
	tasks  map[int]bool // every thread traced, by thread ID
	parent map[int]born // a new task's parent, from its PTRACE_EVENT_*
	early  map[int]bool // new tasks whose first stop came before that event
	err    error        // the program was killed: why
}

func wait4(pid int) (int, syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		wpid, err := syscall.Wait4(pid, &ws, syscall.WALL, nil)
		if err != syscall.EINTR {
			return wpid, ws, err
		}
	}
}

func ptrace(req, pid, addr, data int) error {
	_, _, e := syscall.Syscall6(syscall.SYS_PTRACE, uintptr(req), uintptr(pid), uintptr(addr),
		uintptr(data), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// start turns the PTRACE_TRACEME child, stopped at the SIGTRAP of its
// execve(), into a seized tracee (PTRACE_LISTEN and PTRACE_INTERRUPT need
// that), stopped at the same place: a SIGSTOP queued before the detach
// stops it before it returns to user mode, PTRACE_SEIZE of a stopped
// process reports that stop, and a SIGCONT ends the group-stop. Until the seize its parent-death signal
// (SIGKILL) kills it with us; from the seize, PTRACE_O_EXITKILL.
func (f *follower) start() (syscall.WaitStatus, bool, error) {
	p := f.pid
	_, ws, err := wait4(p)
	if err != nil || !ws.Stopped() {
		return ws, false, err
	}
	if err := syscall.Kill(p, syscall.SIGSTOP); err != nil {
		return ws, false, err
	}
	if err := syscall.PtraceDetach(p); err != nil {
		return ws, false, err
	}
	if err := ptrace(ptraceSeize, p, 0, f.opts|optExitKill); err != nil {
		syscall.Kill(p, syscall.SIGKILL)
		_, ws, _ = wait4(p)
		return ws, false, err
	}
	// The SIGSTOP's signal-delivery-stop, or the group-stop it caused.
	if _, ws, err = wait4(p); err != nil || !ws.Stopped() {
		return ws, false, err
	}
	// A group-stop stays in effect after the tracer is gone: the kernel
	// would put the process back into it when we detach or die. SIGCONT
	// ends it (and leaves a ptrace-stopped tracee stopped); the SIGCONT
	// itself is delivered later, ignored by default as after any stop.
	if err := syscall.Kill(p, syscall.SIGCONT); err != nil {
		return ws, false, err
	}
	f.tasks[p] = true
	return ws, true, nil
}

func (f *follower) run() (syscall.WaitStatus, error) {
	ws, ok, err := f.start()
	if !ok {
		return ws, err
	}
	first := f.lock(f.pid, true, true)
	if first != nil && !f.o.AllowUnlocked && !errors.Is(first, syscall.ESRCH) {
		syscall.Kill(f.pid, syscall.SIGKILL)
		ws = f.drain()
		return ws, first
	}
	if f.o.Started != nil && !errors.Is(first, syscall.ESRCH) {
		f.o.Started(first)
	}
	f.resume(f.pid, 0)
	for {
		wpid, ws, err := wait4(-1)
		if err != nil {
			return 0, err // ECHILD: the program was collected elsewhere
		}
		if ws.Exited() || ws.Signaled() {
			delete(f.tasks, wpid)
			if wpid == f.pid {
				return ws, f.err
			}
			continue
		}
		if !ws.Stopped() {
			continue
		}
		if !f.tasks[wpid] {
			f.newTask(wpid)
			continue
		}
		sig := ws.StopSignal()
		switch int(ws) >> 16 {
		case syscall.PTRACE_EVENT_EXEC:
			if old, err := syscall.PtraceGetEventMsg(wpid); err == nil && int(old) != wpid {
				delete(f.tasks, int(old)) // the thread that exec'd, now wpid
			}
			f.locked(wpid, f.lock(wpid, false, true))
		case syscall.PTRACE_EVENT_FORK, syscall.PTRACE_EVENT_VFORK, syscall.PTRACE_EVENT_CLONE:
			if kid, err := syscall.PtraceGetEventMsg(wpid); err == nil {
				f.parent[int(kid)] = born{wpid, int(ws) >> 16}
				if f.early[int(kid)] {
					delete(f.early, int(kid))
					f.adopt(int(kid))
				}
			}
			f.resume(wpid, 0)
		case ptraceEventStop:
			switch sig {
			case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
				// A group-stop: it stays stopped until SIGCONT, which
				// reports it again (with SIGTRAP).
				ptrace(ptraceListen, wpid, 0, 0)
			default:
				f.resume(wpid, 0)
			}
		case 0:
			if sig == syscall.SIGTRAP|0x80 {
				sig = 0 // a syscall-stop: none is asked for
			}
			f.resume(wpid, int(sig))
		default:
			f.resume(wpid, 0)
		}
	}
}

// drain collects the program's end after it was killed.
func (f *follower) drain() syscall.WaitStatus {
	for {
		wpid, ws, err := wait4(f.pid)
		if err != nil || (wpid == f.pid && (ws.Exited() || ws.Signaled())) {
			return ws
		}
		if ws.Stopped() {
			f.resume(wpid, 0)
		}
	}
}

func (f *follower) resume(tid, sig int) {
	_ = syscall.PtraceCont(tid, sig)
}

// lock locks process pid, held at the start of a new program (exec: run
// to its entry point first) or of a fork child.
func (f *follower) lock(pid int, first, execed bool) error {
	flags := traced
	if f.o.Follow {
		flags |= followOpt
	}
	if first {
		flags |= startedOp
	}
	if execed {
		flags |= atEntry
	}
	if goProgram(pid) {
		flags |= strictFuture
	}
	return ctl(pid, f.op, flags)
}

// locked decides what happens to a process whose lock at an exec or a
// fork gave err: on it goes, locked; or unlocked, with AllowUnlocked; or
// it is killed before its first instruction.
func (f *follower) locked(pid int, err error) {
	switch {
	case err == nil:
		f.resume(pid, 0)
	case errors.Is(err, syscall.ESRCH):
		// Gone: its exit is on its way.
	case f.o.AllowUnlocked:
		if f.o.Failed != nil {
			f.o.Failed(pid, err)
		}
		ptrace(syscall.PTRACE_SETOPTIONS, pid, 0, f.opts)
		f.resume(pid, 0)
	default:
		if f.o.Failed != nil && pid != f.pid {
			f.o.Failed(pid, err)
		}
		if pid == f.pid {
			f.err = err
		}
		syscall.Kill(pid, syscall.SIGKILL)
		f.resume(pid, 0)
	}
}

// newTask is the first stop of a thread or process we did not know: a new
// one, attached by the kernel (PTRACE_O_TRACECLONE, FORK, VFORK). Its
// parent's event says whose it is; it may come before or after this stop.
func (f *follower) newTask(tid int) {
	if _, ok := f.parent[tid]; !ok {
		f.early[tid] = true
		return
	}
	f.adopt(tid)
}

// adopt decides about a new task stopped at its first stop: a thread runs
// on, traced (its exec would be the process's); a new process that shares
// its parent's memory (vfork, CLONE_VM) runs on, to be locked at its exec;
// another new process is locked from here with Follow, and let go without.
func (f *follower) adopt(tid int) {
	b := f.parent[tid]
	delete(f.parent, tid)
	if tgid(tid) != tid {
		f.tasks[tid] = true
		f.resume(tid, 0)
		return
	}
	if !f.o.Follow {
		_ = syscall.PtraceDetach(tid)
		return
	}
	f.tasks[tid] = true
	if b.event == syscall.PTRACE_EVENT_VFORK || sharesVM(b.parent, tid) {
		f.resume(tid, 0)
		return
	}
	f.locked(tid, f.lock(tid, false, false))
}

// tgid is the thread group of thread tid, from /proc.
func tgid(tid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// sharesVM reports whether a and b share their memory (kcmp(2) KCMP_VM).
func sharesVM(a, b int) bool {
	r, _, e := syscall.Syscall6(sysKcmp, uintptr(a), uintptr(b), kcmpVM, 0, 0, 0)
	return e == 0 && r == 0
}
