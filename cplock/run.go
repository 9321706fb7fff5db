package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
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

// strictFuture is PLOCK_STRICT_FUTURE of <plock.h>: the preload library
// applies the Go package's rule for a data lock in a Go program.
const strictFuture = 1

// forwarded are the signals cplock passes on to the program.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

var ops = map[string]plock.Op{
	"PROCLOCK":      plock.ProcLock,
	"TXTLOCK":       plock.TxtLock,
	"DATLOCK":       plock.DatLock,
	"SHLIBLOCK":     plock.ShlibLock,
	"PROCSHLIBLOCK": plock.ProcShlibLock,
	"TXTSHLIBLOCK":  plock.TxtShlibLock,
	"DATSHLIBLOCK":  plock.DatShlibLock,
}

// The short forms, as classes: proc is text+data.
var shortOps = map[string]plock.Op{
	"proc":  plock.TxtLock | plock.DatLock,
	"text":  plock.TxtLock,
	"data":  plock.DatLock,
	"shlib": plock.ShlibLock,
}

// parseOp parses an op of --lock: an SVID name in any case, or short forms
// joined by "+".
func parseOp(s string) (plock.Op, error) {
	if op, ok := ops[strings.ToUpper(s)]; ok {
		return op, nil
	}
	if strings.EqualFold(s, "UNLOCK") {
		return 0, errors.New("--lock UNLOCK: nothing is locked when a program starts")
	}
	var classes plock.Op
	for _, part := range strings.Split(strings.ToLower(s), "+") {
		c, ok := shortOps[part]
		if !ok {
			return 0, fmt.Errorf("unknown lock operation %q: want proc, text, data, shlib "+
				"(joined with +), or PROCLOCK, TXTLOCK, DATLOCK, SHLIBLOCK, PROCSHLIBLOCK, "+
				"TXTSHLIBLOCK, DATSHLIBLOCK", s)
		}
		classes |= c
	}
	switch classes {
	case plock.TxtLock | plock.DatLock:
		return plock.ProcLock, nil
	case plock.TxtLock | plock.DatLock | plock.ShlibLock:
		return plock.ProcShlibLock, nil
	}
	return classes, nil // the others are the ops' own values
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run")
	lockFlag := fs.String("lock", "", "")
	allow := fs.Bool("allow-unlocked", false, "")
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
	lib, err := findPreload()
	if err != nil {
		return err
	}
	goProgram, err := inspectTarget(path, lib)
	if err != nil {
		return err
	}
	flags := 0
	if goProgram {
		flags = strictFuture
	}

	r, w, err := os.Pipe()
	if err != nil {
		return failf("%v", err)
	}
	defer r.Close()
	cmd := exec.Command(path, pos[1:]...)
	cmd.Args[0] = name
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.ExtraFiles = []*os.File{w} // descriptor 3 in the program
	cmd.Env = preloadEnv(os.Environ(), lib, op, flags, 3, *allow)

	// Catch the signals before the program exists, so that none is lost.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	err = cmd.Start()
	w.Close()
	if err != nil {
		return startFailure(name, err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()

	rep, reported := readReport(r)
	switch {
	case !reported:
		fmt.Fprintf(stderr, "cplock: warning: %s ran without the lock: the dynamic loader did not "+
			"run %s in it\n", name, lib)
	case rep.Errno != 0 && !*allow:
		_ = cmd.Wait() // it exits before main()
		return failf("%s; %s was not started (--allow-unlocked runs it anyway)",
			explainFailure(name, op, goProgram, rep), name)
	case rep.Errno != 0:
		fmt.Fprintf(stderr, "cplock: warning: %s; running %s unlocked\n",
			explainFailure(name, op, goProgram, rep), name)
	case rep.Future && !rep.Cap && rep.Memlock != plock.Unlimited:
		left := uint64(0)
		if rep.Memlock > rep.VmLck {
			left = rep.Memlock - rep.VmLck
		}
		fmt.Fprintf(stderr, "cplock: note: %s's later memory is locked too and counts against "+
			"RLIMIT_MEMLOCK %s: after %s more, its mmap and malloc fail\n",
			name, human(rep.Memlock), human(left))
	}
	if *pidFile != "" {
		if err := writePIDFile(*pidFile, cmd.Process.Pid); err != nil {
			fmt.Fprintf(stderr, "cplock: warning: --pid-file: %v\n", err)
		} else {
			defer os.Remove(*pidFile)
		}
	}
	err = cmd.Wait()
	if cmd.ProcessState == nil {
		return failf("%s: %v", name, err)
	}
	if code := exitCode(cmd.ProcessState); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// exitCode is the program's exit status as a shell gives it: 128+N if
// signal N killed it.
func exitCode(ps *os.ProcessState) int {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return 128 + int(ws.Signal())
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

// preloadEnv returns env for the program: the request of shim/preload.c,
// and lib first in LD_PRELOAD.
func preloadEnv(env []string, lib string, op plock.Op, flags, fd int, allow bool) []string {
	var out []string
	preload := lib
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PLOCK_PRELOAD_"):
			continue
		case k == "LD_PRELOAD":
			if v != "" {
				preload += ":" + v
			}
			continue
		}
		out = append(out, kv)
	}
	allowed := "0"
	if allow {
		allowed = "1"
	}
	return append(out,
		"LD_PRELOAD="+preload,
		"PLOCK_PRELOAD_LIB="+lib,
		"PLOCK_PRELOAD_OP="+strconv.Itoa(int(op)),
		"PLOCK_PRELOAD_FLAGS="+strconv.Itoa(flags),
		"PLOCK_PRELOAD_FD="+strconv.Itoa(fd),
		"PLOCK_PRELOAD_ALLOW="+allowed)
}

// preloadReport is the line shim/preload.c writes after its plock().
type preloadReport struct {
	Op, Errno, State int
	Future, Cap      bool
	VmLck, Need      uint64
	Memlock, Hard    uint64
}

// readReport reads the report from r; false if the descriptor was closed
// without one (the constructor did not run).
func readReport(r io.Reader) (preloadReport, bool) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return preloadReport{}, false
	}
	return parseReport(line)
}

func parseReport(line string) (preloadReport, bool) {
	var rep preloadReport
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "plock-preload" || f[1] != "1" {
		return rep, false
	}
	for _, kv := range f[2:] {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			i, err := strconv.ParseInt(v, 10, 64) // future=-1
			if err != nil {
				return rep, false
			}
			n = uint64(i)
		}
		switch k {
		case "op":
			rep.Op = int(n)
		case "errno":
			rep.Errno = int(n)
		case "state":
			rep.State = int(n)
		case "future":
			rep.Future = n == 1
		case "vmlck":
			rep.VmLck = n
		case "need":
			rep.Need = n
		case "memlock":
			rep.Memlock = n
		case "hard":
			rep.Hard = n
		case "cap":
			rep.Cap = n == 1
		}
	}
	return rep, true
}

// locksData reports whether op locks data (and so all later growth).
func locksData(op plock.Op) bool {
	switch op {
	case plock.ProcLock, plock.DatLock, plock.ProcShlibLock, plock.DatShlibLock:
		return true
	}
	return false
}

// explainFailure says why plock failed in the program, and what to do.
func explainFailure(name string, op plock.Op, goProgram bool, rep preloadReport) string {
	errno := syscall.Errno(rep.Errno)
	s := fmt.Sprintf("cannot lock %s: plock(%v): %v", name, op, errno)
	kib := (rep.Need + 1023) / 1024
	switch {
	case errno == syscall.EPERM:
		s += fmt.Sprintf(": RLIMIT_MEMLOCK is 0 and %s lacks CAP_IPC_LOCK; "+
			"it needs RLIMIT_MEMLOCK of at least %s (ulimit -l %d) or CAP_IPC_LOCK "+
			"(cplock check --bytes %dK shows how)", name, human(rep.Need), kib, kib)
	case errno == syscall.ENOMEM && goProgram && locksData(op) && !rep.Cap && rep.Memlock != plock.Unlimited:
		s += fmt.Sprintf(": %s is a Go program, and a data lock locks all its later heap "+
			"growth: under RLIMIT_MEMLOCK %s without CAP_IPC_LOCK the Go runtime would abort "+
			"at the limit; grant CAP_IPC_LOCK (systemd AmbientCapabilities=CAP_IPC_LOCK, "+
			"docker --cap-add IPC_LOCK), make RLIMIT_MEMLOCK unlimited (ulimit -l unlimited, "+
			"LimitMEMLOCK=infinity), or lock only its text (--lock text)", name, human(rep.Memlock))
	case errno == syscall.ENOMEM && !rep.Cap && rep.Need > rep.Memlock:
		more := ""
		if locksData(op) {
			more = ", plus what the program maps later, which a data lock locks too"
		}
		s += fmt.Sprintf(": %s would be locked and RLIMIT_MEMLOCK is %s; raise it to at least "+
			"%s (ulimit -l %d)%s, or grant CAP_IPC_LOCK (cplock check --bytes %dK shows how)",
			human(rep.Need), human(rep.Memlock), human(rep.Need), kib, more, kib)
	case errno == syscall.ENOMEM:
		s += fmt.Sprintf(": the system has not enough lockable memory for %s", human(rep.Need))
	}
	return s
}

func writePIDFile(path string, pid int) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// preloadDir is where "make install" puts the preload library; it sets it
// with -ldflags "-X main.preloadDir=...".
var preloadDir string

const preloadName = "libplock-preload.so"

// findPreload returns the absolute path of the preload library.
func findPreload() (string, error) {
	if p := os.Getenv("PLOCK_PRELOAD"); p != "" {
		abs, err := filepath.Abs(p)
		if err == nil {
			err = usable(abs)
		}
		if err != nil {
			return "", failf("PLOCK_PRELOAD=%s: %v", p, err)
		}
		return abs, nil
	}
	var tried []string
	if exe, err := os.Executable(); err == nil {
		if exe, err := filepath.EvalSymlinks(exe); err == nil {
			dir := filepath.Dir(exe)
			tried = append(tried, filepath.Join(dir, preloadName),
				filepath.Join(filepath.Dir(dir), "lib", "plock", preloadName))
		}
	}
	if preloadDir != "" {
		tried = append(tried, filepath.Join(preloadDir, preloadName))
	}
	for _, p := range tried {
		if usable(p) == nil {
			return p, nil
		}
	}
	return "", failf("cannot find the preload library %s (looked for %s); build it with \"make\" "+
		"in the plock source tree and set PLOCK_PRELOAD=/path/to/plock/build/%s, "+
		"or install cplock and the library with \"make install\"",
		preloadName, strings.Join(tried, ", "), preloadName)
}

// usable reports why the loader could not preload p, or nil.
func usable(p string) error {
	if strings.ContainsAny(p, ": ") {
		return errors.New("the path has a colon or a space, which LD_PRELOAD cannot hold")
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	return f.Close()
}
