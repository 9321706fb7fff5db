// A pure Go program for cplock's tests (built with CGO_ENABLED=0): prints
// its own VmLck line and "ready", then reads stdin to its end. With the
// argument "smaps" it prints the line of testdata/target.c's "target
// smaps" instead, from its own /proc/self/smaps, and exits.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

func smaps() {
	exe, _ := os.Readlink("/proc/self/exe")
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	k, m, stack, cur := 0, 0, 0, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		fields := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "VmFlags:"):
			lo := strings.Contains(l+" ", " lo ")
			if cur == exe {
				m++
				if lo {
					k++
				}
			} else if cur == "[stack]" && lo {
				stack = 1
			}
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			cur = ""
			if len(fields) >= 6 {
				cur = fields[5]
			}
		}
	}
	b, _ := os.ReadFile("/proc/self/status")
	vmlck := -1
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmLck:"); ok {
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &vmlck)
		}
	}
	fmt.Printf("pid %d exe %d/%d locked, stack %d, VmLck %d kB\n", os.Getpid(), k, m, stack, vmlck)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "smaps" {
		smaps()
		return
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmLck:") {
			fmt.Println(l)
		}
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}
