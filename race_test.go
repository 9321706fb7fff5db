//go:build race

package plock

// raceEnabled: the test binary runs under the race detector, whose
// ThreadSanitizer runtime maps memory of its own.
const raceEnabled = true
