//go:build linux && cgo

package plock

import (
	"errors"
	"syscall"
	"testing"
)

// BenchmarkPlockEINVAL is the cost of a Plock that fails with EINVAL:
// ProcLock while text and data are locked, decided by the C library from
// its state alone, before any system call ("make bench" has the same row
// from bench/gobench). It locks this test process, so it runs only when
// asked for (-bench) and unlocks at its end.
//
// Besides ns/op, it reports cpu-ns/op: the process's CPU time (user and
// system, every thread) per call, which other load on the machine inflates
// much less than the time on the clock.
func BenchmarkPlockEINVAL(b *testing.B) {
	if err := Plock(ProcLock); err != nil {
		b.Skip("needs CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK: ", err)
	}
	defer Plock(Unlock)
	b.ReportAllocs()
	before := cpuTime(b)
	for b.Loop() {
		if err := Plock(ProcLock); !errors.Is(err, syscall.EINVAL) {
			b.Fatalf("Plock(ProcLock) while locked: %v", err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the CPU time of the process so far, in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)
}
