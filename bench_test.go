//go:build linux && cgo

package plock

import (
	"syscall"
	"testing"
)

// BenchmarkPlockEINVAL is the cost of a refused call: one cgo call into
// plock_ctl, and the shared *Error of the refusal (its message is made only
// when printed). Besides ns/op it reports cpu-ns/op, the process's CPU time
// per call, which other load on a shared machine inflates much less than
// the time on the clock.
func BenchmarkPlockEINVAL(b *testing.B) {
	before := cpuTime(b)
	for b.Loop() {
		if Plock(Unlock) == nil {
			b.Fatal("Unlock with nothing locked succeeded")
		}
	}
	b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
}

// BenchmarkState is one cgo call that does nothing: the floor of the above.
func BenchmarkState(b *testing.B) {
	before := cpuTime(b)
	for b.Loop() {
		State()
	}
	b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the CPU time of the process so far (user and system,
// every thread), in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)
}
