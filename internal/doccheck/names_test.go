package doccheck

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// root is the module's top directory, from this package's.
const root = "../.."

// A segment is a piece of a document's line: code (a backticked span, a
// fenced or indented block, a man page's .nf block) or prose.
type segment struct {
	line int
	text string
	code bool
}

// A finding is one name a document gives that the tree does not have.
type finding struct {
	doc  string
	line int
	kind string
	name string
}

// documents returns the documents checked, relative to root: README.md,
// BENCHMARKS.md, docs/*.md, man/*, python/README*, and every doc.go.
func documents(t *testing.T) []string {
	docs := []string{"README.md", "BENCHMARKS.md"}
	for _, g := range []string{"docs/*.md", "man/*", "python/README*"} {
		m, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			rel, _ := filepath.Rel(root, p)
			docs = append(docs, rel)
		}
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "build") {
			return filepath.SkipDir
		}
		if d.Name() == "doc.go" {
			rel, _ := filepath.Rel(root, p)
			docs = append(docs, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// tree is what the documents may name: every file and directory, the
// words of the sources, the Go package's identifiers, the make targets
// and cplock's commands.
type tree struct {
	paths    map[string]bool // relative to root, without a trailing /
	base     map[string]bool // base names of the files
	top      map[string]bool // first components
	words    map[string]bool // identifiers in the sources (not in documents)
	goDecl   map[string]string
	goMember map[string]bool // "Type.Method", "Type.Field"
	targets  []string        // make targets, % patterns included
	suites   string          // the value of the Makefile's TESTS
	commands map[string]bool // cplock's commands
}

var wordRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

func loadTree(t *testing.T, docs []string) *tree {
	tr := &tree{paths: map[string]bool{}, base: map[string]bool{}, top: map[string]bool{},
		words: map[string]bool{}, goDecl: map[string]string{}, goMember: map[string]bool{},
		commands: map[string]bool{}}
	isDoc := map[string]bool{}
	for _, d := range docs {
		isDoc[d] = true
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "build" || d.Name() == "__pycache__") {
			return filepath.SkipDir
		}
		tr.paths[rel] = true
		tr.top[strings.SplitN(rel, "/", 2)[0]] = true
		if d.IsDir() {
			return nil
		}
		tr.base[d.Name()] = true
		switch filepath.Ext(rel) {
		case ".c", ".h", ".go", ".py", ".sh", ".toml", ".map", ".pm", ".in", "":
			if isDoc[rel] || strings.HasPrefix(rel, "internal/doccheck/") {
				return nil // documents, and the names this package's tests make up
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, w := range wordRE.FindAllString(string(b), -1) {
				tr.words[w] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.loadGo(t)
	tr.loadMake(t)
	main, err := os.ReadFile(filepath.Join(root, "cplock/main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`case "([a-z]+)":`).FindAllStringSubmatch(string(main), -1) {
		tr.commands[m[1]] = true
	}
	return tr
}

// loadGo collects the exported declarations of package plock, its
// methods and its struct fields.
func (tr *tree) loadGo(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(root, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					tr.goDecl[d.Name.Name] = "func"
					continue
				}
				typ := d.Recv.List[0].Type
				if s, ok := typ.(*ast.StarExpr); ok {
					typ = s.X
				}
				if id, ok := typ.(*ast.Ident); ok {
					tr.goMember[id.Name+"."+d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						tr.goDecl[s.Name.Name] = "type"
						if st, ok := s.Type.(*ast.StructType); ok {
							for _, fl := range st.Fields.List {
								for _, n := range fl.Names {
									tr.goMember[s.Name.Name+"."+n.Name] = true
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							tr.goDecl[n.Name] = "value"
						}
					}
				}
			}
		}
	}
}

// loadMake collects the targets of the rules of the Makefile and the files
// it includes, and the value of TESTS as make expands it (make print-TESTS).
func (tr *tree) loadMake(t *testing.T) {
	tr.loadRules(t, "Makefile")
	out, err := exec.Command("make", "-s", "--no-print-directory", "-C", root, "print-TESTS").Output()
	if err != nil {
		t.Fatalf("make print-TESTS: %v", err)
	}
	tr.suites = " " + string(out)
}

// loadRules adds the targets of one makefile, and of those it includes.
func (tr *tree) loadRules(t *testing.T, name string) {
	f, err := os.Open(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rule := regexp.MustCompile(`^([^\s#:=][^:=]*?)\s*::?(?:[^=]|$)`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if inc, ok := strings.CutPrefix(l, "include "); ok {
			for _, n := range strings.Fields(inc) {
				tr.loadRules(t, n)
			}
			continue
		}
		if m := rule.FindStringSubmatch(l); m != nil {
			tr.targets = append(tr.targets, strings.Fields(m[1])...)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// hasTarget reports whether make has a rule for target: a literal one, or
// test-SUITE for a suite of TESTS.
func (tr *tree) hasTarget(target string) bool {
	for _, r := range tr.targets {
		if r == target {
			return true
		}
	}
	if suite, ok := strings.CutPrefix(target, "test-"); ok {
		re := regexp.MustCompile(`[\s(:%=,]` + regexp.QuoteMeta(suite) + `(/|\s|\)|$)`)
		return re.MatchString(tr.suites)
	}
	return false
}

var (
	fenceRE    = regexp.MustCompile("^\\s*```")
	tickRE     = regexp.MustCompile("`([^`]+)`")
	linkRE     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	extRE      = regexp.MustCompile(`^[A-Za-z0-9_./*-]*[A-Za-z0-9_*]\.(c|h|go|py|md|sh|txt|in|map|toml|pm|json)$`)
	pathWordRE = regexp.MustCompile(`[A-Za-z0-9_./*-]+\.(?:c|h|go|py|md|sh|txt|in|map|toml|pm|json)\b`)
	cNameRE    = regexp.MustCompile(`\b(?:plock_[a-z0-9_]+|pl_[a-z0-9_]+|PLOCK_[A-Z0-9_]+)\b`)
	goNameRE   = regexp.MustCompile(`\bplock\.([A-Z][A-Za-z0-9_]*)(?:\.([A-Z][A-Za-z0-9_]*))?`)
	goCallRE   = regexp.MustCompile(`(?:^|[^.\w])([A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*)\(`)
	goMemberRE = regexp.MustCompile(`\b([A-Z][A-Za-z0-9]*)\.([A-Z][A-Za-z0-9]*)\b`)
	camelRE    = regexp.MustCompile(`^(?:Test|Benchmark|Fuzz|Example)[A-Z][A-Za-z0-9_]*$`)
	targetRE   = regexp.MustCompile(`^[a-z][a-z0-9_.%-]*$`)
	buildRE    = regexp.MustCompile(`\.(so(\.[0-9]+)*|a|o|pc)$`)
	roffFontRE = regexp.MustCompile(`\\f[BIRP]|\\f\(..|\\&|\\\(..`)
)

// segments splits a document into its code and prose.
func segments(doc string, text string) []segment {
	var segs []segment
	lines := strings.Split(text, "\n")
	switch {
	case strings.HasSuffix(doc, ".md"):
		fenced := false
		for i, l := range lines {
			if fenceRE.MatchString(l) {
				fenced = !fenced
				continue
			}
			if fenced {
				segs = append(segs, segment{i + 1, l, true})
				continue
			}
			for _, m := range tickRE.FindAllStringSubmatch(l, -1) {
				segs = append(segs, segment{i + 1, m[1], true})
			}
			segs = append(segs, segment{i + 1, tickRE.ReplaceAllString(l, " "), false})
			for _, m := range linkRE.FindAllStringSubmatch(l, -1) {
				segs = append(segs, segment{i + 1, m[1], true})
			}
		}
	case strings.HasPrefix(doc, "man/"):
		nofill := false
		for i, l := range lines {
			l = unroff(l)
			switch {
			case strings.HasPrefix(l, ".nf"), strings.HasPrefix(l, ".EX"):
				nofill = true
			case strings.HasPrefix(l, ".fi"), strings.HasPrefix(l, ".EE"):
				nofill = false
			}
			segs = append(segs, segment{i + 1, l, nofill})
		}
	default: // doc.go: the comment; its indented lines are code
		for i, l := range lines {
			if strings.HasPrefix(l, "package ") || strings.HasPrefix(l, "//go:") {
				continue
			}
			l = strings.TrimPrefix(l, "//")
			l = strings.TrimPrefix(l, " ")
			code := strings.HasPrefix(l, "\t")
			segs = append(segs, segment{i + 1, l, code})
		}
	}
	return segs
}

// unroff turns a man page's line into its text: the alternating font
// macros (.BR plock_ctl ()) joined, the escapes dropped.
func unroff(l string) string {
	if !strings.HasPrefix(l, ".") {
		return roffFontRE.ReplaceAllString(strings.ReplaceAll(l, `\-`, "-"), "")
	}
	macro, rest, _ := strings.Cut(l, " ")
	args := roffArgs(rest)
	for i := range args {
		args[i] = roffFontRE.ReplaceAllString(strings.ReplaceAll(args[i], `\-`, "-"), "")
	}
	switch macro {
	case ".BR", ".RB", ".IR", ".RI", ".BI", ".IB":
		return strings.Join(args, "")
	case ".B", ".I", ".SH", ".SS", ".TP", ".IP":
		return strings.Join(args, " ")
	case `.\"`:
		return rest
	}
	return macro
}

// roffArgs splits a macro's arguments, "quoted" ones whole.
func roffArgs(s string) []string {
	var args []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				end = len(s) - 1
			}
			args = append(args, s[1:end+1])
			s = s[min(end+2, len(s)):]
			continue
		}
		a, r, _ := strings.Cut(s, " ")
		args = append(args, a)
		s = r
	}
	return args
}

// checkPath reports whether p, a path a document names, exists: from the
// top, from the document's directory, or under include/ (<sys/lock.h>); a
// bare file name anywhere in the tree. Globs match if they match anything.
func (tr *tree) checkPath(doc, p string) bool {
	p, _, _ = strings.Cut(p, "#")
	p = strings.TrimSuffix(strings.TrimPrefix(p, "./"), "/")
	for _, dir := range []string{"", filepath.Dir(doc), "include"} {
		q := filepath.Clean(filepath.Join(dir, p))
		if strings.ContainsAny(q, "*?[") {
			if m, _ := filepath.Glob(filepath.Join(root, q)); len(m) > 0 {
				return true
			}
			continue
		}
		if tr.paths[q] {
			return true
		}
	}
	if strings.Contains(p, "/") {
		return false
	}
	if tr.base[p] {
		return true
	}
	// A system header: <stdio.h>.
	_, err := os.Stat(filepath.Join("/usr/include", p))
	return strings.HasSuffix(p, ".h") && err == nil
}

// readersOwn are the files an example names that are the reader's own:
// "Build it with cc prog.c".
var readersOwn = map[string]bool{"prog.c": true}

// pathCandidate trims a token to a path a document may mean, or "".
func (tr *tree) pathCandidate(tok string) string {
	tok = strings.Trim(tok, "<>()[]{},;:'\"`")
	tok = strings.TrimRight(tok, ".")
	switch {
	case tok == "", strings.HasPrefix(tok, "/"), strings.HasPrefix(tok, "~"),
		strings.HasPrefix(tok, "-"), strings.ContainsAny(tok, "$=@%"),
		strings.Contains(tok, "://"), strings.HasPrefix(tok, "build/"),
		regexp.MustCompile(`\.(com|org|dev|io|net)/`).MatchString(tok):
		return ""
	}
	if buildRE.MatchString(tok) || readersOwn[tok] {
		return ""
	}
	if extRE.MatchString(tok) {
		return tok
	}
	first, _, ok := strings.Cut(strings.TrimPrefix(tok, "./"), "/")
	if ok && tr.top[first] {
		return tok
	}
	return ""
}

func (tr *tree) check(doc string, segs []segment) []finding {
	var out []finding
	add := func(s segment, kind, name string) {
		out = append(out, finding{doc, s.line, kind, name})
	}
	seen := map[string]bool{}
	once := func(s segment, kind, name string) {
		k := fmt.Sprint(s.line, kind, name)
		if !seen[k] {
			seen[k] = true
			add(s, kind, name)
		}
	}
	for _, s := range segs {
		var toks []string
		if s.code {
			toks = strings.FieldsFunc(s.text, func(r rune) bool {
				return r == ' ' || r == '\t' || r == ',' || r == ';' || r == '|' || r == '&'
			})
		} else {
			toks = pathWordRE.FindAllString(s.text, -1)
		}
		for _, tok := range toks {
			if p := tr.pathCandidate(tok); p != "" && !tr.checkPath(doc, p) {
				once(s, "file", p)
			}
		}
		for _, n := range cNameRE.FindAllString(s.text, -1) {
			if !strings.HasSuffix(n, "_") && !tr.words[n] {
				once(s, "C name", n)
			}
		}
		for _, m := range goNameRE.FindAllStringSubmatch(s.text, -1) {
			kind, ok := tr.goDecl[m[1]]
			switch {
			case !ok:
				once(s, "Go name", "plock."+m[1])
			case m[2] != "" && kind == "type" && !tr.goMember[m[1]+"."+m[2]]:
				once(s, "Go name", "plock."+m[1]+"."+m[2])
			}
		}
		if doc == "doc.go" { // the package's own names, bare: Plock(op), Error.Reason
			for _, m := range goCallRE.FindAllStringSubmatch(s.text, -1) {
				if _, ok := tr.goDecl[m[1]]; !ok {
					once(s, "Go name", m[1])
				}
			}
			for _, m := range goMemberRE.FindAllStringSubmatch(s.text, -1) {
				if tr.goDecl[m[1]] == "type" && !tr.goMember[m[1]+"."+m[2]] {
					once(s, "Go name", m[1]+"."+m[2])
				}
			}
		}
		if !s.code {
			continue
		}
		if w := strings.Trim(s.text, "() "); camelRE.MatchString(w) && !tr.words[w] {
			once(s, "Go test", w)
		}
		fields := strings.Fields(s.text)
		for i, f := range fields {
			switch f {
			case "make":
				for _, a := range fields[i+1:] {
					if strings.Contains(a, "=") || strings.HasPrefix(a, "-") {
						continue
					}
					if !targetRE.MatchString(a) {
						break
					}
					if !tr.hasTarget(a) {
						once(s, "make target", a)
					}
				}
			case "cplock", "$":
				if f == "$" || (i > 0 && fields[i-1] != "$") {
					continue // a command starts its line: "$ cplock lock" or "cplock lock"
				}
				if i+1 < len(fields) && regexp.MustCompile(`^[a-z]+$`).MatchString(fields[i+1]) &&
					!tr.commands[fields[i+1]] {
					once(s, "cplock command", fields[i+1])
				}
			}
		}
	}
	return out
}

// TestNamesExist fails for every file, C function or macro (plock_*,
// pl_*, PLOCK_*), Go identifier (plock.Name, plock.Type.Member, Test...),
// make target (make TARGET) and cplock command that a document names and
// the tree does not have, with the document, the line and the name.
func TestNamesExist(t *testing.T) {
	docs := documents(t)
	tr := loadTree(t, docs)
	var all []finding
	for _, doc := range docs {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, tr.check(doc, segments(doc, string(b)))...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].doc != all[j].doc {
			return all[i].doc < all[j].doc
		}
		return all[i].line < all[j].line
	})
	for _, f := range all {
		t.Errorf("%s:%d: %s %s does not exist", f.doc, f.line, f.kind, f.name)
	}
	t.Logf("%d documents checked", len(docs))
}

// TestCheckerFindsStaleNames gives the checker a document that names one
// thing of each kind that exists and one that does not, and wants exactly
// the ones that do not.
func TestCheckerFindsStaleNames(t *testing.T) {
	docs := documents(t)
	tr := loadTree(t, docs)
	doc := "docs/EXAMPLE.md"
	text := strings.Join([]string{
		"`shim/ops.c`, `shim/nothere.c`, [contract](CONTRACT.md), [gone](GONE.md)",
		"plock_op_classes() and plock_nothere(), pl_seg_classes and pl_nothere",
		"`plock.Plock`, `plock.NoSuch`, `plock.Error.Reason`, `plock.Error.NoField`",
		"`make test-c`, `make nosuch`, `make install PREFIX=/usr`, `make test-nosuite`",
		"`TestRefusalCostsNoAllocation`, `TestNoSuchTest`",
		"```sh",
		"cplock status 1",
		"$ cplock frob 1",
		"```",
		"bindings_test.go exists, nothere_test.go does not",
	}, "\n")
	var got []string
	for _, f := range tr.check(doc, segments(doc, text)) {
		got = append(got, fmt.Sprintf("%d %s %s", f.line, f.kind, f.name))
	}
	want := []string{
		"1 file shim/nothere.c",
		"1 file GONE.md",
		"2 C name plock_nothere",
		"2 C name pl_nothere",
		"3 Go name plock.NoSuch",
		"3 Go name plock.Error.NoField",
		"4 make target nosuch",
		"4 make target test-nosuite",
		"5 Go test TestNoSuchTest",
		"8 cplock command frob",
		"10 file nothere_test.go",
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
