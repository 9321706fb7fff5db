package main

import (
	"github.com/cplock/plock/internal/bytesize"

	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/cplock/plock"
)

// cmdLock is "cplock lock OP PID".
func cmdLock(args []string, stdout io.Writer) error {
	fs := newFlags("lock")
	pos, err := parseFlags("lock", fs, args, true)
	if err == errHelp {
		fmt.Fprint(stdout, helpText("lock"))
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("lock", "want an operation and a process ID, got %d arguments", len(pos))
	}
	if strings.EqualFold(pos[0], "UNLOCK") {
		return usageErrorf("lock", "to unlock a process, run cplock unlock PID")
	}
	op, err := parseOp(pos[0])
	if err != nil {
		return usageErrorf("lock", "%v", err)
	}
	pid, err := parsePID("lock", pos[1])
	if err != nil {
		return err
	}
	if err := plock.LockProcess(pid, op); err != nil {
		return failf("cannot lock process %d%s: %v", pid, comm(pid), err)
	}
	st, err := plock.StatusOf(pid)
	if err != nil {
		fmt.Fprintf(stdout, "process %d%s: %v applied\n", pid, comm(pid), op)
		return nil
	}
	fmt.Fprintf(stdout, "process %d%s: %v applied; VmLck %s\n", pid, comm(pid), op, bytesize.Format(st.VmLck))
	if op.Classes().Has(plock.LockedData) && !st.CapIPCLock && st.MemlockSoft != plock.Unlimited {
		fmt.Fprintf(stdout, "note: its later memory is locked too and counts against its "+
			"RLIMIT_MEMLOCK %s: after %s more, its mmap and malloc fail\n",
			bytesize.Format(st.MemlockSoft), bytesize.Format(st.Headroom))
	}
	return nil
}

// cmdUnlock is "cplock unlock PID".
func cmdUnlock(args []string, stdout io.Writer) error {
	fs := newFlags("unlock")
	pos, err := parseFlags("unlock", fs, args, true)
	if err == errHelp {
		fmt.Fprint(stdout, helpText("unlock"))
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("unlock", "want one process ID, got %d arguments", len(pos))
	}
	pid, err := parsePID("unlock", pos[0])
	if err != nil {
		return err
	}
	if err := plock.UnlockProcess(pid); err != nil {
		return failf("cannot unlock process %d%s: %v", pid, comm(pid), err)
	}
	vmlck := ""
	if st, err := plock.StatusOf(pid); err == nil {
		vmlck = "; VmLck " + bytesize.Format(st.VmLck)
	}
	fmt.Fprintf(stdout, "process %d%s: unlocked%s\n", pid, comm(pid), vmlck)
	return nil
}

func parsePID(cmd, s string) (int, error) {
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return 0, usageErrorf(cmd, "%q is not a process ID (a positive number)", s)
	}
	return pid, nil
}

// comm is " (NAME)" for process pid, or "" if it has none to read.
func comm(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return " (" + strings.TrimSpace(string(b)) + ")"
}
