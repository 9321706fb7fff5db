package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cplock/plock"
	"github.com/cplock/plock/internal/bytesize"
)

// cmdLock is "cplock lock OP PID".
func cmdLock(args []string, stdout io.Writer) error {
	fs := newFlags("lock")
	unchecked := fs.Bool("seccomp-unchecked", false, "")
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
	if err := whole(func() error { return plock.LockProcessFlags(pid, op, flags(*unchecked)) }); err != nil {
		return failf("cannot lock process %d%s: %v", pid, named(pid), err)
	}
	st, err := plock.StatusOf(pid)
	if err != nil {
		fmt.Fprintf(stdout, "process %d%s: %v applied\n", pid, named(pid), op)
		return nil
	}
	fmt.Fprintf(stdout, "process %d%s: %v applied; VmLck %s\n", pid, named(pid), op, bytesize.Format(st.VmLck))
	if note := growthNote(st); op.Classes().Has(plock.LockedData) && note != "" {
		fmt.Fprintf(stdout, "note: its %s\n", note)
	}
	return nil
}

// growthNote says, after a data lock, what RLIMIT_MEMLOCK leaves of the
// process's later memory, which is locked too; "" where the limit does not
// apply. The headroom is the library's (plock_status).
func growthNote(st plock.Report) string {
	if st.Headroom == plock.Unlimited {
		return ""
	}
	return "later memory is locked too and counts against RLIMIT_MEMLOCK " +
		bytesize.Format(st.MemlockSoft) + ": after " + bytesize.Format(st.Headroom) +
		" more, its mmap and malloc fail"
}

// cmdUnlock is "cplock unlock PID".
func cmdUnlock(args []string, stdout io.Writer) error {
	fs := newFlags("unlock")
	unchecked := fs.Bool("seccomp-unchecked", false, "")
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
	if err := whole(func() error {
		return plock.LockProcessFlags(pid, plock.Unlock, flags(*unchecked))
	}); err != nil {
		return failf("cannot unlock process %d%s: %v", pid, named(pid), err)
	}
	vmlck := ""
	if st, err := plock.StatusOf(pid); err == nil {
		vmlck = "; VmLck " + bytesize.Format(st.VmLck)
	}
	fmt.Fprintf(stdout, "process %d%s: unlocked%s\n", pid, named(pid), vmlck)
	return nil
}

// flags are the plock.ProcessFlags of --seccomp-unchecked.
func flags(unchecked bool) plock.ProcessFlags {
	if unchecked {
		return plock.SeccompUnchecked
	}
	return 0
}

// whole runs f, which works inside another process, with SIGINT, SIGTERM
// and SIGHUP held back, so that the process is whole again before cplock
// may die; a signal that came meanwhile then kills cplock, as it would have
// at once.
func whole(f func() error) error {
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	err := f()
	signal.Stop(sigs)
	select {
	case s := <-sigs:
		signal.Reset(s)
		sig := s.(syscall.Signal)
		_ = syscall.Kill(os.Getpid(), sig)
		time.Sleep(time.Second) // the signal's default action ends cplock
		os.Exit(128 + int(sig))
	default:
	}
	return err
}

// named is " (NAME)" for process pid, or "" if it has none to read.
func named(pid int) string {
	if name, ok := comm(pid); ok {
		return " (" + name + ")"
	}
	return ""
}
