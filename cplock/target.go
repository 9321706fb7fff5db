package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"strings"
	"syscall"
)

// inspectTarget refuses a program that the dynamic loader would run
// without the preload library lib: set-user-ID or set-group-ID, with file
// capabilities (the loader's secure mode ignores LD_PRELOAD), statically
// linked (no loader at all), or of another architecture than lib. A script
// is judged by its interpreter. It reports whether the program is a Go
// program. A file it cannot read or parse is left to execve to judge.
func inspectTarget(path, lib string) (goProgram bool, err error) {
	for depth := 0; depth < 4; depth++ {
		f, err := os.Open(path)
		if err != nil {
			return false, nil // execute-only, say: execve decides
		}
		head := make([]byte, 256)
		n, _ := f.ReadAt(head, 0)
		head = head[:n]
		if bytes.HasPrefix(head, []byte("#!")) {
			f.Close()
			line, _, _ := bytes.Cut(head[2:], []byte("\n"))
			fields := strings.Fields(string(line))
			if len(fields) == 0 {
				return false, nil
			}
			path = fields[0]
			continue
		}
		defer f.Close()
		ef, err := elf.NewFile(f)
		if err != nil {
			return false, nil
		}
		if err := secure(f, path); err != nil {
			return false, err
		}
		if !hasInterp(ef) {
			return false, failf("%s is statically linked: cplock run locks a program through "+
				"the dynamic loader (LD_PRELOAD), which a static program does not have; link it "+
				"dynamically, or have it call plock() itself (-lplock)", path)
		}
		if err := sameArch(ef, path, lib); err != nil {
			return false, err
		}
		return ef.Section(".go.buildinfo") != nil, nil
	}
	return false, nil
}

// secure refuses a program that the loader runs in secure-execution mode.
func secure(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	const why = "the dynamic loader ignores LD_PRELOAD for it, so cplock run cannot lock it"
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
			"RLIMIT_MEMLOCK", path, path, why)
	}
	return nil
}

func hasInterp(ef *elf.File) bool {
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// sameArch refuses a program that lib cannot be loaded into.
func sameArch(ef *elf.File, path, lib string) error {
	lf, err := elf.Open(lib)
	if err != nil {
		return failf("%s: %v", lib, err)
	}
	defer lf.Close()
	if ef.Class != lf.Class || ef.Machine != lf.Machine {
		return failf("%s is a %v %v program and the preload library %s is %v %v: it needs a "+
			"libplock-preload.so built for its architecture (PLOCK_PRELOAD=...)",
			path, ef.Class, ef.Machine, lib, lf.Class, lf.Machine)
	}
	return nil
}
