package shimtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// chunkSizes turns fuzz bytes into chunk sizes: 1..256, and a few larger.
func chunkSizes(b []byte) []int {
	var sizes []int
	for i, c := range b {
		n := int(c) + 1
		if i%7 == 6 {
			n *= 97 // now and then a chunk that spans many lines
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// check verifies what must hold of any result of Parse.
func check(t *testing.T, maps []Map, err syscall.Errno, flags int) {
	t.Helper()
	if err != 0 {
		if err != syscall.EIO && err != syscall.ENOMEM {
			t.Fatalf("parse failed with %v; only EIO or ENOMEM are allowed", err)
		}
		return
	}
	var exe *Map
	for i := range maps {
		m := &maps[i]
		if m.End < m.Start {
			t.Fatalf("entry %d: end %#x before start %#x", i, m.End, m.Start)
		}
		if i > 0 && m.Start < maps[i-1].End {
			t.Fatalf("entry %d at %#x overlaps or precedes entry %d ending at %#x", i, m.Start, i-1, maps[i-1].End)
		}
		if m.Seg >= NumSeg || m.Kind > KindSpecial || m.Prot&^(ProtRead|ProtWrite|ProtExec|ProtShared) != 0 || m.Lo > 1 {
			t.Fatalf("entry %d out of range: %+v", i, *m)
		}
		if flags&Smaps == 0 && (m.Rss != 0 || m.Lo != 0 || m.NoLock != 0) {
			t.Fatalf("entry %d: Rss or lo set from maps input: %+v", i, *m)
		}
		if flags&Paths == 0 && m.Path != "" {
			t.Fatalf("entry %d: path %q kept without Paths", i, m.Path)
		}
		if strings.HasPrefix(m.Path, " ") || strings.Contains(m.Path, "\n") {
			t.Fatalf("entry %d: path %q keeps padding or a newline", i, m.Path)
		}
		// The classes, as docs/CONTRACT.md's "Segments" defines them:
		// written out here again on purpose, as the test's oracle.
		w := m.Prot&ProtWrite != 0
		none := m.Prot&(ProtRead|ProtWrite|ProtExec) == 0
		switch {
		case m.Prot&ProtShared != 0 || m.NoLock != 0 || m.Kind == KindSpecial ||
			none && m.Kind != KindAnon:
			if m.Seg != SegOther {
				t.Fatalf("entry %d: shared, never-locked, file-backed PROT_NONE or special "+
					"mapping classed %d: %+v", i, m.Seg, *m)
			}
		case none:
			if m.Seg != SegData {
				t.Fatalf("entry %d: anonymous PROT_NONE reservation classed %d: %+v", i, m.Seg, *m)
			}
		case m.Kind == KindHeap && m.Seg != SegData,
			m.Kind == KindStack && m.Seg != SegStack,
			m.Kind == KindAnon && w && m.Seg != SegData,
			m.Kind == KindAnon && !w && m.Seg != SegOther:
			t.Fatalf("entry %d: anonymous mapping classed %d: %+v", i, m.Seg, *m)
		case m.Kind == KindFile:
			switch m.Seg {
			case SegText, SegShlibText:
				if w {
					t.Fatalf("entry %d: writable file mapping classed text: %+v", i, *m)
				}
			case SegData, SegShlibData:
				if !w {
					t.Fatalf("entry %d: read-only file mapping classed data: %+v", i, *m)
				}
			case SegStack:
				t.Fatalf("entry %d: file mapping classed stack: %+v", i, *m)
			}
			if (m.Seg == SegText || m.Seg == SegData) && exe == nil {
				exe = m
			}
		}
	}
	// One file is the program; a file is never both program and shared library.
	for i := range maps {
		m := &maps[i]
		if m.Kind != KindFile || exe == nil {
			continue
		}
		same := m.Inode == exe.Inode && m.Major == exe.Major && m.Minor == exe.Minor
		prog := m.Seg == SegText || m.Seg == SegData
		if prog != same && m.Seg != SegOther {
			t.Fatalf("entry %d classed %d, but the program is inode %d (%d:%d): %+v", i, m.Seg, exe.Inode, exe.Major, exe.Minor, *m)
		}
	}
}

// format writes a table back as /proc/PID/maps or smaps would show it.
func format(maps []Map, flags int) []byte {
	var b bytes.Buffer
	for _, m := range maps {
		p := []byte("---p")
		for i, bit := range []uint8{ProtRead, ProtWrite, ProtExec} {
			if m.Prot&bit != 0 {
				p[i] = "rwx"[i]
			}
		}
		if m.Prot&ProtShared != 0 {
			p[3] = 's'
		}
		fmt.Fprintf(&b, "%x-%x %s %08x %02x:%02x %d                   %s\n",
			m.Start, m.End, p, m.Offset, m.Major, m.Minor, m.Inode, m.Path)
		if flags&Smaps != 0 {
			fmt.Fprintf(&b, "Size:           %8d kB\nRss:            %8d kB\n", (m.End-m.Start)/1024, m.Rss/1024)
			b.WriteString("VmFlags: rd mr mw me")
			if m.Lo != 0 {
				b.WriteString(" lo")
			}
			if m.NoLock != 0 {
				b.WriteString(" pf")
			}
			b.WriteString(" ac \n")
		}
	}
	return b.Bytes()
}

// parseAll checks one input: in one piece and in chunks the result is the
// same and valid, and a table written back parses to itself.
func parseAll(t *testing.T, data []byte, chunks []int, flags int, phdr uint64) []Map {
	t.Helper()
	whole, err := Parse(data, nil, flags, phdr)
	check(t, whole, err, flags)
	split, err2 := Parse(data, chunks, flags, phdr)
	if err != err2 || !reflect.DeepEqual(whole, split) {
		t.Fatalf("one chunk: %d entries, err %v; chunks %v: %d entries, err %v", len(whole), err, chunks, len(split), err2)
	}
	// A NUL in a name cuts the name short in C; the kernel writes none.
	if err != 0 || flags&Paths == 0 || bytes.IndexByte(data, 0) >= 0 {
		return whole
	}
	again, err := Parse(format(whole, flags), nil, flags, phdr)
	if err != 0 || !reflect.DeepEqual(whole, again) {
		t.Fatalf("table written back does not parse to itself: err %v\n%+v\n%+v", err, whole, again)
	}
	return whole
}

// realSeeds are /proc/self/maps and smaps of processes on the machine that
// wrote them: a dynamic, a static, an AddressSanitizer and a "ld.so ./prog"
// C program, a Go program, and a Python one that mapped files with odd names.
func realSeeds(t testing.TB) map[string][]byte {
	files, err := filepath.Glob("testdata/real/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds in testdata/real: %v", err)
	}
	seeds := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds[filepath.Base(f)] = b
	}
	return seeds
}

// odd are crafted lines the kernel may write, and some it never does.
var odd = []string{
	"", "\n", "\n\n\n",
	"00400000-00401000 r-xp 00000000 08:01 42 /bin/with space\n",
	"00400000-00401000 r-xp 00000000 08:01 42    /bin/new\\012line (deleted)\n",
	"00400000-00401000 r-xp 00000000 08:01 42 /bin/gone (deleted)\n00401000-00402000 rw-p 00001000 08:01 42 /bin/gone (deleted)\n",
	"7fff0000-7fff1000 rw-p 00000000 00:00 0                          [stack]\n",
	"7fff0000-7fff1000 rw-p 00000000 00:00 0 [stack:1234]\n",
	"7fff0000-7fff1000 rw-p 00000000 00:00 0 [anon:go heap]\n",
	"7fff0000-7fff1000 r--p 00000000 00:00 0 [vvar]\n7fff1000-7fff2000 r-xp 00000000 00:00 0 [vdso]\n",
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n",
	"1000-2000 rw-s 00000000 00:05 7 /dev/zero (deleted)\n",
	"1000-2000 ---p 00000000 00:00 0\n",
	"2000-1000 rw-p 00000000 00:00 0\n",
	"1000-3000 rw-p 00000000 00:00 0\n2000-4000 rw-p 00000000 00:00 0\n",
	"1000-1000 rw-p 00000000 00:00 0\n1000-1000 rw-p 00000000 00:00 0\n",
	"ffffffffffffffff0-1 rw-p 0 0:0 0\n",
	"1000-2000 rwxq 0 0:0 0\n", "1000-2000 rw", "1000-2000", "1000-", "1",
	"Rss: 4 kB\n",
	"VmFlags: rd wr lo\n1000-2000 rw-p 00000000 00:00 0\n",
	"1000-2000 rw-p 00000000 00:00 0\nRss:  18446744073709551615 kB\n",
	"1000-2000 rw-p 00000000 00:00 0\nRss: 4 kB\nRss: 8 kB\nVmFlags: lo\nVmFlags:lo\nVmFlags: l\nVmFlags: rd lo",
	"1000-2000 rw-p 00000000 00:00 0\nAnonHugePages: 0 kB\nFilePmdMapped: 0 kB\nanon: 1\n",
	"1000-2000 rw-p 00000000 00:00 0\r\n",
	"1000-2000 r-xp 00000000 08:01 7 \x00nul\n",
	"1000-2000 rw-p 00000000 00:00 0\nVmFlags: rd wr mr mw me dp\n2000-3000 rw-p 00000000 00:00 0\nVmFlags: rd wr io pf\n",
	"1000-2000 ---p 00000000 00:00 0\n2000-3000 ---p 00000000 08:01 7 /lib/x.so\n",
	// A name longer than the parser's buffer: 70 KiB under /.
	"1000-2000 r--p 00000000 08:01 9 /" + strings.Repeat("p", 70*1024) + "\n3000-4000 rw-p 00000000 00:00 0\n",
}

func FuzzParse(f *testing.F) {
	for name, b := range realSeeds(f) {
		smaps := strings.HasSuffix(name, ".smaps")
		f.Add(b, []byte{255, 3, 17, 0, 200}, smaps, uint64(0x400000))
		// The program is the file mapped at AT_PHDR: take its third line.
		if lines := bytes.SplitN(b, []byte("\n"), 4); len(lines) > 3 {
			if ms, err := Parse(lines[2], nil, 0, 0); err == 0 && len(ms) == 1 {
				f.Add(b, []byte{63}, smaps, ms[0].Start)
			}
		}
	}
	for _, s := range odd {
		f.Add([]byte(s), []byte{0}, true, uint64(0x400000))
		f.Add([]byte(s), []byte{5, 1}, false, uint64(0x400000))
	}
	f.Fuzz(func(t *testing.T, data, chunks []byte, smaps bool, phdr uint64) {
		flags := Paths
		if smaps {
			flags |= Smaps
		}
		parseAll(t, data, chunkSizes(chunks), flags, phdr)
		parseAll(t, data, chunkSizes(chunks), flags&^Paths, phdr)
	})
}

// TestRealSeeds parses every real seed whole and in 1-byte, odd and
// page-sized chunks, and checks what we know of each.
func TestRealSeeds(t *testing.T) {
	for name, b := range realSeeds(t) {
		flags := Paths
		if strings.HasSuffix(name, ".smaps") {
			flags |= Smaps
		}
		for _, chunks := range [][]int{{1}, {7, 13, 4096}, {16384}} {
			maps := parseAll(t, b, chunks, flags, 0)
			if len(maps) < 5 {
				t.Fatalf("%s: %d entries", name, len(maps))
			}
		}
		if flags&Smaps == 0 {
			if maps, _ := Parse(b, nil, flags, 0); len(maps) != bytes.Count(b, []byte("\n")) {
				t.Fatalf("%s: %d entries for %d lines", name, len(maps), bytes.Count(b, []byte("\n")))
			}
		}
	}
}

// TestOddNames checks names with spaces, escaped newlines, "(deleted)",
// bracketed names, and a name that is no file.
func TestOddNames(t *testing.T) {
	for _, c := range []struct {
		line string
		kind uint8
		path string
	}{
		{"400000-401000 r-xp 00000000 08:01 42         /a b/c d", KindFile, "/a b/c d"},
		{"400000-401000 r-xp 00000000 08:01 42 /x\\012y (deleted)", KindFile, "/x\\012y (deleted)"},
		{"400000-401000 rw-p 00000000 00:00 0 [heap]", KindHeap, "[heap]"},
		{"400000-401000 rw-p 00000000 00:00 0 [heap] ", KindSpecial, "[heap] "},
		{"400000-401000 rw-p 00000000 00:00 0 [stack:77]", KindStack, "[stack:77]"},
		{"400000-401000 rw-p 00000000 00:00 0 [anon:x y]", KindAnon, "[anon:x y]"},
		{"400000-401000 rw-p 00000000 00:00 0 [anon:]", KindAnon, "[anon:]"},
		{"400000-401000 rw-p 00000000 00:00 0 [anon", KindSpecial, "[anon"},
		{"400000-401000 rw-p 00000000 00:00 0 memfd:x (deleted)", KindSpecial, "memfd:x (deleted)"},
		{"400000-401000 rw-p 00000000 00:00 0    ", KindAnon, ""},
	} {
		maps := parseAll(t, []byte(c.line), []int{3}, Paths, 0)
		if len(maps) != 1 || maps[0].Kind != c.kind || maps[0].Path != c.path {
			t.Errorf("%q: got %+v, want kind %d path %q", c.line, maps, c.kind, c.path)
		}
	}
}

// TestLongLines checks lines around and far past LineMax, whole and in
// chunks: a mapping's name of any length is kept whole (a path may be longer
// than any buffer), its kind comes from its start; another long line (an
// smaps field) is cut, and its start still counts.
func TestLongLines(t *testing.T) {
	head := "400000-401000 r--p 00000000 08:01 42 /"
	for _, n := range []int{LineMax - 1, LineMax, LineMax + 1, 4 * LineMax, 80 * 1024} {
		line := head + strings.Repeat("n", n-len(head))
		for _, chunks := range [][]int{nil, {1}, {1000}, {LineMax - 1}, {LineMax}, {LineMax + 1}} {
			for _, nl := range []string{"", "\n"} {
				maps, err := Parse([]byte(line+nl), chunks, Paths, 0)
				check(t, maps, err, Paths)
				if err != 0 || len(maps) != 1 || len(maps[0].Path) != n-len(head)+1 ||
					maps[0].Kind != KindFile {
					t.Fatalf("line of %d bytes, chunks %v: err %v, %d entries", n, chunks, err, len(maps))
				}
			}
		}
	}
	// A long special name and a long anonymous name keep their kinds.
	for _, c := range []struct {
		name string
		kind uint8
	}{
		{"[anon:" + strings.Repeat("a", 2*LineMax) + "]", KindAnon},
		{"[" + strings.Repeat("s", 2*LineMax) + "]", KindSpecial},
	} {
		maps := parseAll(t, []byte("400000-401000 rw-p 00000000 00:00 0 "+c.name+"\n"), []int{777}, Paths, 0)
		if len(maps) != 1 || maps[0].Kind != c.kind || maps[0].Path != c.name {
			t.Errorf("a %d-byte name: %d entries: %+v", len(c.name), len(maps), maps)
		}
	}
	// A field longer than the buffer: cut, and its flags at the start count.
	smaps := "400000-401000 rw-p 00000000 00:00 0\nVmFlags: rd wr lo" +
		strings.Repeat(" xx", LineMax) + "\nRss: 4 kB\n"
	maps := parseAll(t, []byte(smaps), []int{100}, Smaps, 0)
	if len(maps) != 1 || maps[0].Lo != 1 || maps[0].Rss != 4096 {
		t.Errorf("a long VmFlags line: %+v", maps)
	}
}

// TestKeyWithoutHeader: smaps keys before any mapping, and keys in maps.
func TestKeyWithoutHeader(t *testing.T) {
	for _, c := range []struct {
		in    string
		flags int
	}{
		{"Rss: 4 kB\n", Smaps},
		{"VmFlags: lo\n400000-401000 rw-p 00000000 00:00 0\n", Smaps},
		{"400000-401000 rw-p 00000000 00:00 0\nRss: 4 kB\n", 0},
	} {
		if _, err := Parse([]byte(c.in), nil, c.flags, 0); err != syscall.EIO {
			t.Errorf("%q (flags %d): err %v, want EIO", c.in, c.flags, err)
		}
	}
}

// TestManyLines parses 200,000 mappings of maps and of smaps in random
// chunks, and a truncated copy.
func TestManyLines(t *testing.T) {
	const n = 200000
	rng := rand.New(rand.NewPCG(1, 2))
	var maps, smaps bytes.Buffer
	for i := range n {
		start := uint64(0x10000000) + uint64(i)*0x2000
		fmt.Fprintf(&maps, "%x-%x rw-p 00000000 00:00 0 \n", start, start+0x1000)
		fmt.Fprintf(&smaps, "%x-%x rw-p 00000000 00:00 0 \nSize: 4 kB\nRss: 4 kB\nLocked: 0 kB\nVmFlags: rd wr mr mw me lo ac\n", start, start+0x1000)
	}
	var chunks []int
	for range 1000 {
		chunks = append(chunks, 1+rng.IntN(70000))
	}
	for _, c := range []struct {
		b     []byte
		flags int
	}{{maps.Bytes(), 0}, {smaps.Bytes(), Smaps | Paths}} {
		got := parseAll(t, c.b, chunks, c.flags, 0)
		if len(got) != n || got[n-1].Start != 0x10000000+(n-1)*0x2000 {
			t.Fatalf("%d entries, want %d", len(got), n)
		}
		if c.flags&Smaps != 0 && (got[n/2].Rss != 4096 || got[n/2].Lo != 1) {
			t.Fatalf("entry %d: %+v", n/2, got[n/2])
		}
		// Truncated mid-line: a prefix of the table, or EIO.
		cut, err := Parse(c.b[:len(c.b)/2+3], chunks, c.flags, 0)
		check(t, cut, err, c.flags)
		if err == 0 && (len(cut) == 0 || !reflect.DeepEqual(cut[:len(cut)-1], got[:len(cut)-1])) {
			t.Fatalf("truncated input: %d entries, not a prefix", len(cut))
		}
	}
}

// TestTruncatedReads cuts every real seed at many offsets: each parses to
// a prefix of the whole table (the last entry perhaps cut short), or EIO.
// Classes are not compared: they depend on the lines that were cut off.
func TestTruncatedReads(t *testing.T) {
	for name, b := range realSeeds(t) {
		flags := Paths
		if strings.HasSuffix(name, ".smaps") {
			flags |= Smaps
		}
		whole, _ := Parse(b, nil, flags, 0)
		for cut := 0; cut < len(b); cut += 1 + cut/16 {
			got, err := Parse(b[:cut], []int{cut/3 + 1}, flags, 0)
			check(t, got, err, flags)
			if err != 0 {
				continue
			}
			for i := range got {
				g, w := got[i], whole[i]
				if i == len(got)-1 && g.Start == w.Start && g.Prot == w.Prot {
					continue // cut inside its lines: its inode, name, Rss, flags
				}
				// A file is a shared library if any of its mappings is
				// executable, perhaps one past the cut.
				g.Seg, w.Seg = 0, 0
				if g != w {
					t.Fatalf("%s cut at %d: entry %d is %+v, want %+v", name, cut, i, g, w)
				}
			}
		}
	}
}
