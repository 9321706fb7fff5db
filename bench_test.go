//go:build linux && cgo

package plock

import "testing"

// BenchmarkPlockEINVAL is the cost of a refused call: one cgo call into
// plock_ctl and the *Error (its message is made only when printed).
func BenchmarkPlockEINVAL(b *testing.B) {
	for b.Loop() {
		if Plock(Unlock) == nil {
			b.Fatal("Unlock with nothing locked succeeded")
		}
	}
}

// BenchmarkState is one cgo call that does nothing: the floor of the above.
func BenchmarkState(b *testing.B) {
	for b.Loop() {
		State()
	}
}
