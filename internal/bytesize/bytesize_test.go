package bytesize

import "testing"

func TestFormat(t *testing.T) {
	for n, want := range map[uint64]string{
		0:               "0 B",
		1:               "1 B",
		1023:            "1023 B",
		1024:            "1.0 KiB",
		1536:            "1.5 KiB",
		10188:           "9.9 KiB",  // 9.949 KiB
		10189:           "10 KiB",   // 9.9502 KiB: "10.0" with one decimal
		132 << 10:       "132 KiB",  // cplock status's sizes
		1887437:         "1.8 MiB",  // 1.80000019 MiB
		1048064:         "1.0 MiB",  // 1023.5 KiB: not "1024 KiB"
		1047552:         "1023 KiB", // 1023.0 KiB
		8 << 20:         "8.0 MiB",  // the usual RLIMIT_MEMLOCK
		213 << 20:       "213 MiB",
		1 << 30:         "1.0 GiB",
		5 << 40:         "5.0 TiB",
		3 << 50:         "3.0 PiB",
		1 << 60:         "1.0 EiB",
		Unlimited - 1:   "16 EiB",
		Unlimited:       "unlimited",
		1<<30 + 512<<20: "1.5 GiB",
		1<<20 - 1:       "1.0 MiB",
		10<<20 - 52428:  "10 MiB",  // 9.9500008 MiB
		10<<20 - 52429:  "9.9 MiB", // 9.9499998 MiB
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
