package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/cplock/plock"
)

// Exit statuses of "cplock run" for a command it could not start, as a
// shell's.
const (
	exitNotFound   = 127
	exitCannotExec = 126
)

// forwarded are the signals cplock passes on to the program.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// The short forms name classes (proc is text and data); the op that locks
// them is found through the library's table of the ops.
var shortForms = map[string]plock.Classes{
	"proc":  plock.LockedText | plock.LockedData,
	"text":  plock.LockedText,
	"data":  plock.LockedData,
	"shlib": plock.LockedShlib,
}

// parseOp parses an op of --lock: an SVID name in any case, or short forms
// joined by "+".
func parseOp(s string) (plock.Op, error) {
	if strings.EqualFold(s, "UNLOCK") {
		return 0, errors.New("--lock UNLOCK: nothing is locked when a program starts")
	}
	for _, op := range plock.Ops {
		if strings.EqualFold(s, op.String()) {
			return op, nil
		}
	}
	var classes plock.Classes
	for _, part := range strings.Split(strings.ToLower(s), "+") {
		c, ok := shortForms[part]
		if !ok {
			classes = 0
			break
		}
		classes |= c
	}
	for _, op := range plock.Ops {
		if classes != 0 && op.Classes() == classes {
			return op, nil
		}
	}
	return 0, fmt.Errorf("unknown lock operation %q: want proc, text, data, shlib "+
		"(joined with +), or PROCLOCK, TXTLOCK, DATLOCK, SHLIBLOCK, PROCSHLIBLOCK, "+
		"TXTSHLIBLOCK, DATSHLIBLOCK", s)
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run")
	lockFlag := fs.String("lock", "", "")
	allow := fs.Bool("allow-unlocked", false, "")
	follow := fs.Bool("follow", false, "")
	pidFile := fs.String("pid-file", "", "")
	pos, err := parseFlags("run", fs, args, false)
	if err == errHelp {
		fmt.Fprint(stdout, helpText("run"))
		return nil
	}
	if err != nil {
		return err
	}
	if *lockFlag == "" {
		return usageErrorf("run", "--lock OP is required")
	}
	op, err := parseOp(*lockFlag)
	if err != nil {
		return usageErrorf("run", "%v", err)
	}
	if len(pos) == 0 {
		return usageErrorf("run", "no command to run")
	}
	name := pos[0]
	path, err := exec.LookPath(name)
	if err != nil {
		return lookupFailure(name, err)
	}
	if err := inspectTarget(path); err != nil {
		return err
	}
	// An exec.Cmd starts once: one more, untraced, if it cannot be traced.
	command := func() *exec.Cmd {
		c := exec.Command(path, pos[1:]...)
		c.Args[0] = name
		c.Stdin, c.Stdout, c.Stderr = os.Stdin, stdout, stderr
		return c
	}
	cmd := command()

	// Catch the signals before the program exists, so that none is lost.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	forward := func(p *os.Process) {
		go func() {
			for {
				select {
				case s := <-sigs:
					_ = p.Signal(s)
				case <-done:
					return
				}
			}
		}()
	}
	unlocked := func(err error) {
		fmt.Fprintf(stderr, "cplock: warning: cannot lock %s: %v; running %s unlocked\n",
			name, err, name)
	}
	pidOut := func(p *os.Process) {
		if *pidFile == "" {
			return
		}
		if err := writePIDFile(*pidFile, p.Pid); err != nil {
			fmt.Fprintf(stderr, "cplock: warning: --pid-file: %v\n", err)
		}
	}
	var stopped error // the program was not started, or killed before it ran
	ran := false      // the first program ran: a failure later is at an exec
	started := func(err error) {
		ran = true
		forward(cmd.Process)
		switch {
		case err != nil:
			unlocked(err)
		case op.Classes().Has(plock.LockedData):
			if st, err := plock.StatusOf(cmd.Process.Pid); err == nil {
				if note := growthNote(st); note != "" {
					fmt.Fprintf(stderr, "cplock: note: %s's %s\n", name, note)
				}
			}
		}
		pidOut(cmd.Process)
	}
	if *pidFile != "" {
		defer os.Remove(*pidFile)
	}
	failed := func(pid int, err error) {
		what := fmt.Sprintf("process %d (%s)", pid, commOf(pid))
		if *allow {
			fmt.Fprintf(stderr, "cplock: warning: cannot lock %s: %v; it runs unlocked\n", what, err)
			return
		}
		fmt.Fprintf(stderr, "cplock: cannot lock %s: %v; it was killed before its first "+
			"instruction (--allow-unlocked runs it anyway)\n", what, err)
	}
	ws, err := plock.RunLocked(cmd, op, plock.RunOptions{Follow: *follow, AllowUnlocked: *allow,
		Started: started, Failed: failed})
	var perr *plock.Error
	switch {
	case cmd.Process == nil && !errors.As(err, &perr):
		return startFailure(name, err)
	case cmd.Process == nil && !*allow:
		// It could not be traced: the reason is plock's.
		return failf("cannot lock %s: %v; %s was not started (--allow-unlocked runs it anyway)",
			name, err, name)
	case cmd.Process == nil:
		again := command()
		if err := again.Start(); err != nil {
			return startFailure(name, err)
		}
		unlocked(err)
		forward(again.Process)
		pidOut(again.Process)
		werr := again.Wait()
		if again.ProcessState == nil {
			return failf("%s: %v", name, werr)
		}
		ws = again.ProcessState.Sys().(syscall.WaitStatus)
	case err != nil && errors.As(err, &perr) && perr.PID == cmd.Process.Pid:
		stopped = err
	case err != nil:
		return failf("%s: %v", name, err)
	}
	if stopped != nil {
		what := "was not started"
		if ran {
			what = "was killed before the new program's first instruction"
		}
		return failf("cannot lock %s: %v; %s %s (--allow-unlocked runs it anyway)",
			name, stopped, name, what)
	}
	if code := waitCode(ws); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// waitCode is a wait status as a shell gives it: 128+N if signal N killed
// the program.
func waitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// exitCode is waitCode for a process's state.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
		return waitCode(ws)
	}
	return ps.ExitCode()
}

func lookupFailure(name string, err error) error {
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return &exitError{code: exitNotFound, msg: name + ": command not found"}
	case errors.Is(err, fs.ErrNotExist):
		return &exitError{code: exitNotFound, msg: name + ": no such file"}
	case errors.Is(err, exec.ErrDot):
		return &exitError{code: exitNotFound, msg: name + ": found only in the current " +
			"directory through PATH; run it as ./" + name}
	case errors.Is(err, fs.ErrPermission):
		return &exitError{code: exitCannotExec, msg: name + ": permission denied"}
	}
	return &exitError{code: exitCannotExec, msg: fmt.Sprintf("%s: %v", name, err)}
}

func startFailure(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // "fork/exec NAME: " says nothing more
	}
	if errors.Is(err, fs.ErrNotExist) {
		return &exitError{code: exitNotFound, msg: fmt.Sprintf("%s: %v", name, err)}
	}
	return &exitError{code: exitCannotExec, msg: fmt.Sprintf("%s: %v", name, err)}
}

func writePIDFile(path string, pid int) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
