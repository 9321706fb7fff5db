package main

import (
	"fmt"
	"io"
	"os/user"

	"github.com/cplock/plock"
	"github.com/cplock/plock/internal/bytesize"
	"github.com/cplock/plock/internal/remedy"
)

// defaultCheckBytes is check's N without --bytes: about what
// plock(PROCLOCK) locks in a small C program (sleep(1) under "cplock run
// --lock proc": ~500 KiB of VmLck, measured).
const defaultCheckBytes = "1M"

func cmdCheck(args []string, stdout io.Writer) error {
	fs := newFlags("check")
	size := fs.String("bytes", defaultCheckBytes, "")
	pos, err := parseFlags("check", fs, args, true)
	if err == errHelp {
		fmt.Fprint(stdout, helpText("check"))
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("check", "unexpected argument %q", pos[0])
	}
	n, err := parseBytes(*size)
	if err != nil {
		return usageErrorf("check", "--bytes: %v", err)
	}
	// The limits of cplock are those of the programs started next to it.
	rep, err := plock.Status()
	if err != nil {
		return failf("%v", err)
	}
	if explainCheck(stdout, n, rep) {
		return nil
	}
	return &exitError{code: 1}
}

// explainCheck prints whether n bytes can be locked under rep's limits and,
// if not, how to make it possible; it returns whether they can.
func explainCheck(w io.Writer, n uint64, rep plock.Report) bool {
	soft, hard := rep.MemlockSoft, rep.MemlockHard
	limits := fmt.Sprintf("RLIMIT_MEMLOCK is %s (hard limit %s)", bytesize.Format(soft), bytesize.Format(hard))
	switch {
	case rep.CapIPCLock:
		fmt.Fprintf(w, "yes: %s can be locked: CAP_IPC_LOCK is in effect, so RLIMIT_MEMLOCK "+
			"(%s) does not apply.\n", bytesize.Format(n), bytesize.Format(soft))
		return true
	case soft == plock.Unlimited:
		fmt.Fprintf(w, "yes: %s can be locked: RLIMIT_MEMLOCK is unlimited.\n", bytesize.Format(n))
		return true
	case n <= soft:
		fmt.Fprintf(w, "yes: %s can be locked: %s, and no CAP_IPC_LOCK.\n", bytesize.Format(n), limits)
		fmt.Fprintf(w, "\nA data lock (cplock run --lock proc or data; plock(PROCLOCK) or "+
			"DATLOCK) also locks the memory the program maps later, which then counts against "+
			"the limit: past %s, its mmap and malloc fail. A Go program needs CAP_IPC_LOCK "+
			"or an unlimited RLIMIT_MEMLOCK for a data lock.\n", bytesize.Format(soft))
		return true
	}

	kib := bytesize.KiB(n)
	who := "USER"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	fmt.Fprintf(w, "no: %s cannot be locked: %s, and this process lacks CAP_IPC_LOCK.\n\n", bytesize.Format(n), limits)
	fmt.Fprintf(w, "Raise RLIMIT_MEMLOCK to at least %s (%d KiB), in one of these ways:\n", bytesize.Format(n), kib)
	if hard == plock.Unlimited || n <= hard {
		fmt.Fprintf(w, "  %s\n      in the shell that starts the program "+
			"(up to the hard limit: no privilege needed)\n", remedy.Ulimit(n))
	} else {
		fmt.Fprintf(w, "  %s\n      in the shell that starts the program, as root "+
			"(above the hard limit %s it needs CAP_SYS_RESOURCE)\n", remedy.Ulimit(n), bytesize.Format(hard))
	}
	fmt.Fprintf(w, "  %s  -  memlock  %d\n      a line in /etc/security/limits.conf "+
		"(KiB; from the next login)\n", who, kib)
	fmt.Fprintf(w, "  %s\n      in the [Service] section of the program's systemd unit\n", remedy.Systemd(n))
	fmt.Fprintf(w, "  %s ...\n      for a container\n", remedy.DockerUlimit(n))
	fmt.Fprintf(w, "Or grant CAP_IPC_LOCK, and no limit applies:\n")
	fmt.Fprintf(w, "  %s\n      in the [Service] section of a systemd unit "+
		"(works with cplock run)\n", remedy.Ambient)
	fmt.Fprintf(w, "  %s ...\n      for a container\n", remedy.DockerCap)
	fmt.Fprintf(w, "  sudo %s /path/to/program\n      for a program that calls "+
		"plock() itself (not with cplock run, which refuses a file-capability program; "+
		"cplock lock PID with CAP_SYS_PTRACE works on it once it runs)\n", remedy.Setcap)
	return false
}
