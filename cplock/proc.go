package main

import (
	"os"
	"strconv"
	"strings"
)

// parsePID parses the PID argument of command cmd.
func parsePID(cmd, s string) (int, error) {
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return 0, usageErrorf(cmd, "bad PID %q: want a positive number", s)
	}
	return pid, nil
}

// comm is the name of the program that process pid runs, as the kernel
// keeps it (/proc/PID/comm); ok is false if it cannot be read (the process
// is gone, or /proc is not there).
func comm(pid int) (name string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(string(b), "\n"), true
}

// commOf is comm's name for messages that always show one: "?" if none.
func commOf(pid int) string {
	if name, ok := comm(pid); ok {
		return name
	}
	return "?"
}
