package main

import (
	"os"
	"strings"
	"testing"
)

// TestCommittedPageIsGenerated: man/cplock.1 is what this program makes of
// cplock/doc.go, so that cplock help and man cplock say the same. After an
// edit of doc.go, "go generate ./cplock" rewrites the page.
func TestCommittedPageIsGenerated(t *testing.T) {
	want, err := generate("../../cplock/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../man/cplock.1")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) == want {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("man/cplock.1 is not made from cplock/doc.go (run go generate ./cplock): line %d is\n\t%q\nwant\n\t%q", i+1, gl, wl)
		}
	}
}

// TestEveryCommandHasASection: each command that the overview lists has
// its subsection in the page, and the page's synopsis has its usage line.
func TestEveryCommandHasASection(t *testing.T) {
	page, err := generate("../../cplock/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	syn, _, _ := strings.Cut(page, ".SH DESCRIPTION")
	for _, cmd := range []string{"status", "run", "lock", "unlock", "check", "help"} {
		if !strings.Contains(page, ".SS \"cplock "+cmd+"\"\n") {
			t.Errorf("no subsection for cplock %s", cmd)
		}
		if !strings.Contains(syn, "\ncplock "+cmd+" ") && !strings.Contains(syn, "\ncplock "+cmd+"\n") {
			t.Errorf("no usage line for cplock %s in the synopsis", cmd)
		}
	}
}
