// Package bytesize formats byte counts for people: the one formatter of
// package plock's messages and of the cplock command.
package bytesize

import (
	"math"
	"strconv"
)

// Unlimited is the value of a limit that has none (PLOCK_UNLIMITED,
// RLIM_INFINITY): Format shows it as "unlimited".
const Unlimited = math.MaxUint64

// Format returns n bytes as "0 B", "1023 B", "1.0 KiB", "9.9 KiB", "132 KiB",
// "1.8 MiB", "16 EiB": binary units, one decimal below 10 and none from 10
// up, and "unlimited" for Unlimited.
func Format(n uint64) string {
	if n == Unlimited {
		return "unlimited"
	}
	if n < 1024 {
		return strconv.FormatUint(n, 10) + " B"
	}
	const prefixes = "KMGTPE"
	v, unit := float64(n)/1024, 0
	for v >= 1024 && unit < len(prefixes)-1 {
		v /= 1024
		unit++
	}
	// What would print as "1024 KiB" is "1.0 MiB".
	if v >= 1023.5 && unit < len(prefixes)-1 {
		v /= 1024
		unit++
	}
	prec := 0
	if v < 9.95 {
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + prefixes[unit:unit+1] + "iB"
}
