//go:build linux

package plock

/*
#cgo CFLAGS: -I${SRCDIR}
#include <errno.h>
#include <plock.h>
#include "shim/internal.h"

// plock_ctl, and its errno.
static int plock_ctl_go(int pid, int op, int flags, struct plock_reason *why)
{
	return plock_ctl(pid, op, flags, why) == 0 ? 0 : errno;
}
*/
import "C"

import (
	"debug/buildinfo"
	"fmt"
	"os/exec"
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
func LockProcess(pid int, op Op) error {
	if pid <= 0 {
		return reasonlessError(op, pid, syscall.ESRCH)
	}
	var flags C.int
	if op != Unlock && goProgram(pid) {
		flags = C.PLOCK_STRICT_FUTURE
	}
	var why C.struct_plock_reason
	if C.plock_ctl_go(C.int(pid), C.int(op), flags, &why) == 0 {
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
// An error from cmd.Start is returned as it is, and cmd.Process is nil.
// If the locks fail, the error says why (it wraps the syscall.Errno), and
// the program has been started: with allowUnlocked it runs on unlocked;
// otherwise it is killed at its entry point and waited for. If it exited by
// itself before its entry point (the loader found no library, say), the
// error wraps ESRCH and cmd.Wait reports its status.
func StartLocked(cmd *exec.Cmd, op Op, allowUnlocked bool) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	// The child's tracer is the thread that starts it, and every ptrace
	// request must come from that thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	flags := C.int(C.PLOCK_AT_ENTRY)
	if goProgram(pid) {
		flags |= C.PLOCK_STRICT_FUTURE
	}
	var why C.struct_plock_reason
	if C.plock_ctl_go(C.int(pid), C.int(op), flags, &why) == 0 {
		return nil
	}
	err := reasonError(op, pid, &why)
	switch {
	case why.why == C.PLOCK_WHY_GONE:
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

// ptraceHint says why the kernel refused to let the caller trace a process,
// and how to grant it: plock_ctl reports which case it is.
func ptraceHint(why *C.struct_plock_reason) string {
	detail := why.detail
	switch why.cause {
	case C.PLOCK_PTRACE_SELF:
		return "a process cannot trace itself: call Plock (plock(3)) in it instead"
	case C.PLOCK_PTRACE_KTHREAD:
		return "it is a kernel thread, which has no memory of its own to lock"
	case C.PLOCK_PTRACE_EXITING:
		return "it is exiting"
	case C.PLOCK_PTRACE_TRACED:
		return fmt.Sprintf("process %d traces it already (a debugger, strace?): "+
			"detach that first", int(detail))
	case C.PLOCK_PTRACE_OTHER_USER:
		return "it runs as another user (or group), and tracing it needs CAP_SYS_PTRACE: " +
			"run as that user, or as root (sudo), or grant CAP_SYS_PTRACE " +
			"(setcap cap_sys_ptrace+ep on the program, AmbientCapabilities=CAP_SYS_PTRACE)"
	case C.PLOCK_PTRACE_CAPS:
		return "it has capabilities that the caller lacks, and tracing it needs " +
			"CAP_SYS_PTRACE: run as root (sudo) or grant CAP_SYS_PTRACE"
	case C.PLOCK_PTRACE_NODUMP:
		return "it is not dumpable (it runs a set-user-ID or file-capability program, or " +
			"called prctl(PR_SET_DUMPABLE, 0)), and only CAP_SYS_PTRACE may trace it: " +
			"run as root (sudo) or grant CAP_SYS_PTRACE"
	case C.PLOCK_PTRACE_YAMA:
		switch detail {
		case 1:
			return "Yama's kernel.yama.ptrace_scope is 1: a process may trace only its own " +
				"descendants. Start the program locked instead (cplock run), run as root " +
				"or with CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep), or allow it for all " +
				"(sysctl kernel.yama.ptrace_scope=0)"
		case 2:
			return "Yama's kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may trace: " +
				"run as root (sudo) or grant CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep)"
		}
		return "Yama's kernel.yama.ptrace_scope is 3: no process may be traced until the " +
			"next boot; have the program call plock(3) itself"
	case C.PLOCK_PTRACE_SECCOMP:
		return "the caller runs under a seccomp filter that refuses ptrace (a container's " +
			"default profile?): allow ptrace (docker run --cap-add SYS_PTRACE, or a " +
			"seccomp profile that permits it)"
	}
	return "the kernel refused to trace it (a security module such as SELinux or " +
		"AppArmor?): allow ptrace for the caller"
}

// reasonlessError is the error of a call refused before plock_ctl.
func reasonlessError(op Op, pid int, errno syscall.Errno) error {
	why := C.struct_plock_reason{op: C.int(op), err: C.int(errno), why: C.PLOCK_WHY_GONE}
	if errno != syscall.ESRCH {
		why.why = C.PLOCK_WHY_SYSTEM
	}
	return reasonError(op, pid, &why)
}
