// Package bytesize formats byte counts for people: the one formatter of
// sizes that package plock's errors and the cplock command share.
package bytesize

import (
	"fmt"
	"math"
)

// Unlimited is the value of a limit that has none (PLOCK_UNLIMITED).
const Unlimited = math.MaxUint64

// Format formats n bytes as "0 B", "512 B", "4.0 KiB", "132 KiB",
// "1.8 MiB" (binary multiples, one decimal below 10), or "unlimited" for
// Unlimited.
func Format(n uint64) string {
	if n == Unlimited {
		return "unlimited"
	}
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n), 0
	for v >= 1024 && unit < 6 {
		v /= 1024
		unit++
	}
	prefix := "KMGTPE"[unit-1 : unit]
	if v < 10 {
		return fmt.Sprintf("%.1f %siB", v, prefix)
	}
	return fmt.Sprintf("%.0f %siB", v, prefix)
}

// KiB is n in KiB rounded up, as ulimit -l takes it.
func KiB(n uint64) uint64 { return n/1024 + min(n%1024, 1) }
