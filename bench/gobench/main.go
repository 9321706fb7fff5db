// Command gobench measures the Go side of plock for bench/run.sh:
//
//	gobench einval CALLS	ns per Plock(ProcLock) that fails with EINVAL
//	gobench mem plock|mlockall MIB
//				VmLck and VmRSS (bytes) of a program that locks
//				itself with Plock(DatLock) or, as Vault does, with
//				mlockall(MCL_CURRENT|MCL_FUTURE), then allocates MIB
//				in 1 MiB pieces, keeping a quarter of them live
//
// Benchmarks, never assertions: it exits non-zero only if a call fails.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cplock/plock"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gobench:", err)
	os.Exit(1)
}

// status returns the value of a "Key: N kB" line of /proc/self/status in bytes.
func status(key string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fail(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == key+":" {
			n, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				fail(err)
			}
			return n * 1024
		}
	}
	fail(errors.New("no " + key + " in /proc/self/status"))
	return 0
}

var keep [][]byte

func main() {
	if len(os.Args) < 3 {
		fail(errors.New("usage: gobench einval CALLS | gobench mem plock|mlockall MIB"))
	}
	switch os.Args[1] {
	case "einval":
		n, err := strconv.Atoi(os.Args[2])
		if err != nil {
			fail(err)
		}
		if err := plock.Plock(plock.ProcLock); err != nil {
			fail(err)
		}
		for range 1000 {
			_ = plock.Plock(plock.ProcLock)
		}
		t := time.Now()
		for range n {
			if err := plock.Plock(plock.ProcLock); !errors.Is(err, syscall.EINVAL) {
				fail(fmt.Errorf("Plock(ProcLock) when locked: %v", err))
			}
		}
		d := time.Since(t)
		if err := plock.Plock(plock.Unlock); err != nil {
			fail(err)
		}
		fmt.Printf("goeinval %d %.1f\n", n, float64(d.Nanoseconds())/float64(n))
	case "mem":
		mib, err := strconv.Atoi(os.Args[3])
		if err != nil {
			fail(err)
		}
		switch os.Args[2] {
		case "plock":
			err = plock.Plock(plock.DatLock)
		case "mlockall":
			err = syscall.Mlockall(syscall.MCL_CURRENT | syscall.MCL_FUTURE)
		default:
			err = errors.New("mem plock|mlockall")
		}
		if err != nil {
			fail(err)
		}
		for i := range mib {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			if i%4 == 0 {
				keep = append(keep, b)
			}
		}
		runtime.GC()
		fmt.Printf("gomem %s %d vmlck %d rss %d\n", os.Args[2], mib, status("VmLck"), status("VmRSS"))
	default:
		fail(errors.New("unknown mode " + os.Args[1]))
	}
}
