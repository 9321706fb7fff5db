package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

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
