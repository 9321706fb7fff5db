//go:build linux && cgo

package plock

/*
#include <plock.h>
*/
import "C"

import (
	"debug/buildinfo"
	"errors"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
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
		return reasonlessError(op, pid, syscall.ESRCH)
	}
	f := C.int(flags & SeccompUnchecked)
	if op != Unlock && goProgram(pid) {
		f |= strictFuture
	}
	why := ctl(pid, op, f)
	if why.err == 0 {
		return nil
	}
	return reasonError(op, pid, &why)
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
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	// Until its entry point the child dies with us, never by the SIGTRAP
	// of its exec (PLOCK_AT_ENTRY in <plock.h>); the C library sets both
	// back before the program runs.
	if cmd.SysProcAttr.Pdeathsig == 0 {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	// The child's tracer is the thread that starts it, and every ptrace
	// request must come from that thread (and the parent-death signal
	// comes when that thread ends).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !signal.Ignored(syscall.SIGTRAP) {
		signal.Ignore(syscall.SIGTRAP)
		defer signal.Reset(syscall.SIGTRAP)
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) {
			// Was it the child's PTRACE_TRACEME, or execve's own EPERM?
			var why C.struct_plock_reason
			if C.plock_traceme_refusal(C.int(op), &why) != C.PLOCK_PTRACE_UNKNOWN {
				return reasonError(op, 0, &why)
			}
		}
		return err
	}
	pid := cmd.Process.Pid
	flags := C.int(atEntry)
	if goProgram(pid) {
		flags |= strictFuture
	}
	why := ctl(pid, op, flags)
	if why.err == 0 {
		return nil
	}
	err := reasonError(op, pid, &why)
	switch {
	case why.why == C.int(ReasonGone):
	case allowUnlocked:
		// Still held at its entry point if plock_ctl left it so.
		_ = syscall.PtraceDetach(pid)
	default:
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	return err
}

// goProgram reports whether process pid runs a Go program: its executable
// has Go's build information.
func goProgram(pid int) bool {
	_, err := buildinfo.ReadFile("/proc/" + strconv.Itoa(pid) + "/exe")
	return err == nil
}

// reasonlessError is the error of a call refused before plock_ctl.
func reasonlessError(op Op, pid int, errno syscall.Errno) error {
	why := C.struct_plock_reason{op: C.int(op), err: C.int(errno), why: C.int(ReasonGone)}
	if errno != syscall.ESRCH {
		why.why = C.int(ReasonSystem)
	}
	return reasonError(op, pid, &why)
}
