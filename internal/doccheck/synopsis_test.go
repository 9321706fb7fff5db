package doccheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestManSynopsisIsTheHeaders: plock(3) documents every function of
// <sys/lock.h> and <plock.h>, each under NAME, in the SYNOPSIS with the
// header's own prototype, and (but plock) with a link of make install's
// MAN3_LINKS; and it documents no function the headers lack.
func TestManSynopsisIsTheHeaders(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	proto := regexp.MustCompile(`(?m)^(?:extern )?[a-z][a-z0-9_ ]*[ *](plock[a-z0-9_]*)(\(.*\))?;$`)
	decls := map[string]string{}
	for _, h := range []string{"include/sys/lock.h", "include/plock.h"} {
		for _, m := range proto.FindAllStringSubmatch(read(h), -1) {
			decls[m[1]] = m[0]
		}
	}
	if len(decls) < 10 {
		t.Fatalf("only %d declarations found in the headers: %v", len(decls), decls)
	}

	man := strings.Split(read("man/plock.3"), "\n")
	var name string
	synopsis := map[string]string{}
	section := ""
	for _, l := range man {
		if h, ok := strings.CutPrefix(l, ".SH "); ok {
			section = h
			continue
		}
		switch section {
		case "NAME":
			name += " " + l
		case "SYNOPSIS":
			if m := proto.FindStringSubmatch(unroff(l)); m != nil {
				synopsis[m[1]] = m[0]
			}
		}
	}
	mk := read("Makefile")
	links := regexp.MustCompile(`(?m)^MAN3_LINKS\s*=((?:.*\\\n)*.*)$`).FindStringSubmatch(mk)
	if links == nil {
		t.Fatal("no MAN3_LINKS in the Makefile")
	}
	linked := map[string]bool{}
	for _, f := range strings.Fields(strings.ReplaceAll(links[1], "\\", " ")) {
		linked[f] = true
	}
	names := map[string]bool{}
	for _, f := range strings.FieldsFunc(name, func(r rune) bool { return r == ',' || r == ' ' }) {
		names[f] = true
	}

	for fn, decl := range decls {
		if got, ok := synopsis[fn]; !ok {
			t.Errorf("plock(3) SYNOPSIS lacks %s", decl)
		} else if got != decl {
			t.Errorf("plock(3) SYNOPSIS has\n\t%s\nthe header\n\t%s", got, decl)
		}
		isFunc := strings.HasSuffix(decl, ");")
		if isFunc && !names[fn] {
			t.Errorf("plock(3) NAME lacks %s", fn)
		}
		if isFunc && fn != "plock" && !linked[fn] {
			t.Errorf("the Makefile's MAN3_LINKS lacks %s: man %s would find nothing", fn, fn)
		}
	}
	for fn := range synopsis {
		if _, ok := decls[fn]; !ok {
			t.Errorf("plock(3) SYNOPSIS has %s, which no header declares", fn)
		}
	}
}
