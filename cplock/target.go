package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"
)

// inspectTarget refuses a program whose privileges a tracer would take
// away: set-user-ID, set-group-ID, or with file capabilities. The kernel
// does not grant them to a program started under ptrace (cplock run's way
// of locking it) unless the tracer has CAP_SYS_PTRACE, so the program
// would run with privileges other than its own. A script is judged by its
// interpreter. A file it cannot read is left to execve to judge.
func inspectTarget(path string) error {
	for depth := 0; depth < 4; depth++ {
		f, err := os.Open(path)
		if err != nil {
			return nil // execute-only, say: execve decides
		}
		head := make([]byte, 256)
		n, _ := f.ReadAt(head, 0)
		head = head[:n]
		if !bytes.HasPrefix(head, []byte("#!")) {
			defer f.Close()
			return secure(f, path)
		}
		f.Close()
		line, _, _ := bytes.Cut(head[2:], []byte("\n"))
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			return nil
		}
		path = fields[0]
	}
	return nil
}

// secure refuses a privileged program.
func secure(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	const why = "the kernel does not grant its privilege to a program started under ptrace, " +
		"which is how cplock run locks it"
	switch {
	case fi.Mode()&os.ModeSetuid != 0:
		return failf("%s is set-user-ID: %s; run a copy without the bit (chmod u-s), or have "+
			"the program call plock() itself", path, why)
	case fi.Mode()&os.ModeSetgid != 0:
		return failf("%s is set-group-ID: %s; run a copy without the bit (chmod g-s), or have "+
			"the program call plock() itself", path, why)
	}
	_, err = syscall.Getxattr(path, "security.capability", nil)
	if err == nil || errors.Is(err, syscall.ERANGE) {
		return failf("%s has file capabilities (getcap %s): %s; remove them (setcap -r) and "+
			"grant CAP_IPC_LOCK another way (systemd AmbientCapabilities=CAP_IPC_LOCK), or raise "+
			"RLIMIT_MEMLOCK; or lock it once it runs (cplock lock OP PID)", path, path, why)
	}
	return nil
}
