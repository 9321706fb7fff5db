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
func BenchmarkPlockEINVAL(b *testing.B) {
	if err := Plock(ProcLock); err != nil {
		b.Skip("needs CAP_IPC_LOCK or an unlimited RLIMIT_MEMLOCK: ", err)
	}
	defer Plock(Unlock)
	b.ReportAllocs()
	for b.Loop() {
		if err := Plock(ProcLock); !errors.Is(err, syscall.EINVAL) {
			b.Fatalf("Plock(ProcLock) while locked: %v", err)
		}
	}
}
