package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cplock/plock"
)

// human formats n bytes as "0 B", "512 B", "4.0 KiB", "132 KiB", "1.8 MiB",
// or "unlimited" for plock.Unlimited.
func human(n uint64) string {
	if n == plock.Unlimited {
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

// parseBytes parses "4096", "64K", "64M", "1G", "1GiB", "2T" (binary
// multiples, any case).
func parseBytes(s string) (uint64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "IB")
	t = strings.TrimSuffix(t, "B")
	shift := 0
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		case 'T':
			shift = 40
		}
		if shift != 0 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n > math.MaxUint64>>shift {
		return 0, fmt.Errorf("bad size %q: want a number of bytes such as 4096, 64K, 64M or 1G", s)
	}
	return n << shift, nil
}
