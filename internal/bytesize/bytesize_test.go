package bytesize

import "testing"

func TestFormat(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 132 << 10: "132 KiB", 1887437: "1.8 MiB",
		8 << 20: "8.0 MiB", 1 << 30: "1.0 GiB", 1 << 62: "4.0 EiB", Unlimited: "unlimited",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestKiB(t *testing.T) {
	for n, want := range map[uint64]uint64{0: 0, 1: 1, 1024: 1, 1025: 2, 8 << 20: 8192, Unlimited: 1 << 54} {
		if got := KiB(n); got != want {
			t.Errorf("KiB(%d) = %d, want %d", n, got, want)
		}
	}
}
