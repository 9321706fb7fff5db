// Manpage writes cplock(1) from cplock's package documentation, so that the
// command has one manual: cplock/doc.go, which "cplock help" prints, is the
// source, and man/cplock.1 is made from it (go generate ./cplock; the test
// of this package fails when the committed page is not what it makes).
//
// Usage:
//
//	go run ./internal/manpage [-o FILE] DOC.GO
//
// The overview, before the first heading, is the page's DESCRIPTION, and
// its first code block after "Usage:" its SYNOPSIS; each "# command"
// heading is a subsection of COMMANDS. Paragraphs, code blocks and lists
// map to .PP, .nf and .IP; the version is the Makefile's VERSION.
package main

import (
	"flag"
	"fmt"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

func main() {
	out := flag.String("o", "", "write the page to `file` instead of standard output")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: manpage [-o FILE] DOC.GO")
		os.Exit(2)
	}
	page, err := generate(flag.Arg(0))
	if err == nil && *out != "" {
		err = os.WriteFile(*out, []byte(page), 0o644)
	} else if err == nil {
		_, err = os.Stdout.WriteString(page)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "manpage:", err)
		os.Exit(1)
	}
}

// generate returns cplock(1) made from the package comment of the Go file
// docFile; the version comes from the Makefile in docFile's module.
func generate(docFile string) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), docFile, nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		return "", err
	}
	if f.Doc == nil {
		return "", fmt.Errorf("%s has no package comment", docFile)
	}
	mk, err := os.ReadFile(filepath.Join(filepath.Dir(docFile), "..", "Makefile"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^VERSION\s*=\s*(\S+)$`).FindSubmatch(mk)
	if m == nil {
		return "", fmt.Errorf("no VERSION in the Makefile")
	}
	var p comment.Parser
	return roff(p.Parse(f.Doc.Text()), string(m[1])), nil
}

// roff renders the parsed manual as a man(7) page.
func roff(d *comment.Doc, version string) string {
	var b strings.Builder
	b.WriteString(`.\" cplock(1). Made from cplock/doc.go by internal/manpage: edit that file,` + "\n")
	b.WriteString(`.\" then run "go generate ./cplock".` + "\n")
	fmt.Fprintf(&b, ".TH CPLOCK 1 \"\" \"plock for Linux %s\" \"User Commands\"\n", version)
	b.WriteString(".ad l\n.nh\n")
	b.WriteString(".SH NAME\ncplock \\- lock a program or a running process in memory, as plock(3) does\n")

	blocks := d.Content
	overview := len(blocks)
	for i, blk := range blocks {
		if _, ok := blk.(*comment.Heading); ok {
			overview = i
			break
		}
	}
	// SYNOPSIS: the code block after the overview's "Usage:".
	synopsis := -1
	for i := 0; i+1 < overview; i++ {
		if p, ok := blocks[i].(*comment.Paragraph); ok && plain(p.Text) == "Usage:" {
			if _, ok := blocks[i+1].(*comment.Code); ok {
				synopsis = i
				break
			}
		}
	}
	if synopsis >= 0 {
		b.WriteString(".SH SYNOPSIS\n.nf\n")
		for _, l := range strings.Split(strings.TrimRight(blocks[synopsis+1].(*comment.Code).Text, "\n"), "\n") {
			b.WriteString(escape(strings.TrimPrefix(l, "\t")) + "\n")
		}
		b.WriteString(".fi\n")
	}
	b.WriteString(".SH DESCRIPTION\n")
	for i, blk := range blocks[:overview] {
		if synopsis >= 0 && (i == synopsis || i == synopsis+1) {
			continue
		}
		block(&b, blk)
	}
	if overview < len(blocks) {
		b.WriteString(".SH COMMANDS\n")
	}
	for _, blk := range blocks[overview:] {
		if h, ok := blk.(*comment.Heading); ok {
			fmt.Fprintf(&b, ".SS \"cplock %s\"\n", escape(plain(h.Text)))
			continue
		}
		block(&b, blk)
	}
	b.WriteString(".SH SEE ALSO\n.BR plock (3),\n.BR mlock (2),\n.BR mlockall (2),\n" +
		".BR ptrace (2),\n.BR prlimit (1),\n.BR setcap (8)\n")
	return b.String()
}

// block renders one paragraph, code block or list.
func block(b *strings.Builder, blk comment.Block) {
	switch x := blk.(type) {
	case *comment.Paragraph:
		b.WriteString(".PP\n")
		text(b, x.Text)
	case *comment.Code:
		// Go's code blocks are indented with tabs: stops every 8 columns.
		b.WriteString(".PP\n.RS 4\n.nf\n.ta 8n +8n +8n +8n +8n +8n +8n +8n\n")
		for _, l := range strings.Split(strings.TrimRight(x.Text, "\n"), "\n") {
			b.WriteString(escape(l) + "\n")
		}
		b.WriteString(".fi\n.RE\n")
	case *comment.List:
		for i, it := range x.Items {
			if i == 0 {
				b.WriteString(".IP \\(bu 2\n")
			} else {
				b.WriteString(".IP \\(bu\n")
			}
			for j, c := range it.Content {
				if p, ok := c.(*comment.Paragraph); ok {
					if j > 0 {
						b.WriteString(".IP\n")
					}
					text(b, p.Text)
				}
			}
		}
		b.WriteString(".PP\n")
	}
}

// text writes a paragraph's text, one source line per line.
func text(b *strings.Builder, t []comment.Text) {
	for _, l := range strings.Split(strings.TrimRight(plain(t), "\n"), "\n") {
		b.WriteString(escape(strings.TrimLeft(l, " ")) + "\n")
	}
}

// plain returns the words of t: links as their text.
func plain(t []comment.Text) string {
	var s strings.Builder
	for _, x := range t {
		switch x := x.(type) {
		case comment.Plain:
			s.WriteString(string(x))
		case comment.Italic:
			s.WriteString(string(x))
		case *comment.Link:
			s.WriteString(plain(x.Text))
		case *comment.DocLink:
			s.WriteString(plain(x.Text))
		}
	}
	return s.String()
}

// escape makes a line of text safe for roff: backslashes and minus signs
// escaped, and a line that would start with a control character (. or ')
// guarded with \&.
func escape(l string) string {
	l = strings.ReplaceAll(l, `\`, `\e`)
	l = strings.ReplaceAll(l, "-", `\-`)
	if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
		l = `\&` + l
	}
	return l
}
