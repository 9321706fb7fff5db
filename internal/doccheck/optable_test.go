package doccheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cplock/plock"
)

// A docOp is one row of a document's table of the ops.
type docOp struct {
	name  string
	value int
	what  string // what it locks, in words
	line  int
}

var parenRE = regexp.MustCompile(`\([^)]*\)`)

// classesOf reads the classes a row's words name: "text", "data",
// "shared libraries"; a row that removes locks names none. Parenthesised
// words are comments ("data (data includes the stack)") and do not count.
func classesOf(what string) plock.Classes {
	w := strings.ToLower(parenRE.ReplaceAllString(what, ""))
	if strings.Contains(w, "remove") {
		return 0
	}
	var c plock.Classes
	if regexp.MustCompile(`\btext\b`).MatchString(w) {
		c |= plock.LockedText
	}
	if regexp.MustCompile(`\bdata\b`).MatchString(w) {
		c |= plock.LockedData
	}
	if strings.Contains(w, "shared librar") {
		c |= plock.LockedShlib
	}
	return c
}

// contractOps reads the table of section 1 of docs/CONTRACT.md:
// | `NAME` | VALUE | what it locks |
func contractOps(t *testing.T) []docOp {
	row := regexp.MustCompile("^\\| `([A-Z]+)` \\| ([0-9]+) \\| (.*) \\|$")
	return readOps(t, "docs/CONTRACT.md", func(lines []string, i int) (docOp, bool) {
		m := row.FindStringSubmatch(lines[i])
		if m == nil {
			return docOp{}, false
		}
		v, _ := strconv.Atoi(m[2])
		return docOp{m[1], v, m[3], i + 1}, true
	})
}

// manOps reads the list of plock(3)'s DESCRIPTION:
// .B NAME \fR(VALUE)
// what it does, up to the next macro.
func manOps(t *testing.T) []docOp {
	head := regexp.MustCompile(`^\.B ([A-Z]+) \\fR\(([0-9]+)\)$`)
	return readOps(t, "man/plock.3", func(lines []string, i int) (docOp, bool) {
		m := head.FindStringSubmatch(lines[i])
		if m == nil {
			return docOp{}, false
		}
		var what []string
		for _, l := range lines[i+1:] {
			if strings.HasPrefix(l, ".TQ") || strings.HasPrefix(l, ".PP") || strings.HasPrefix(l, ".TP") {
				break
			}
			what = append(what, unroff(l))
		}
		v, _ := strconv.Atoi(m[2])
		return docOp{m[1], v, strings.Join(what, " "), i + 1}, true
	})
}

func readOps(t *testing.T, doc string, row func([]string, int) (docOp, bool)) []docOp {
	b, err := os.ReadFile(filepath.Join(root, doc))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var ops []docOp
	for i := range lines {
		if op, ok := row(lines, i); ok {
			ops = append(ops, op)
		}
	}
	return ops
}

// TestOpTables: the contract's table of the ops and plock(3)'s have every
// op of <sys/lock.h> once, with its value, and say that it locks the
// classes the C library's one table (plock_op_classes in shim/ops.c,
// through plock.Op.Classes) gives it, no more and no fewer.
func TestOpTables(t *testing.T) {
	all := append([]plock.Op{plock.Unlock}, plock.Ops...)
	for doc, ops := range map[string][]docOp{"docs/CONTRACT.md": contractOps(t), "man/plock.3": manOps(t)} {
		byName := map[string]docOp{}
		for _, o := range ops {
			if _, dup := byName[o.name]; dup {
				t.Errorf("%s:%d: %s is in the table twice", doc, o.line, o.name)
			}
			byName[o.name] = o
		}
		if len(ops) != len(all) {
			t.Errorf("%s: %d ops in the table, <sys/lock.h> has %d", doc, len(ops), len(all))
		}
		for _, op := range all {
			o, ok := byName[op.String()]
			if !ok {
				t.Errorf("%s: no row for %s", doc, op)
				continue
			}
			if o.value != int(op) {
				t.Errorf("%s:%d: %s is %d, <sys/lock.h> has %d", doc, o.line, o.name, o.value, int(op))
			}
			if got := classesOf(o.what); got != op.Classes() {
				t.Errorf("%s:%d: %s %q locks %v, plock_op_classes says %v",
					doc, o.line, o.name, o.what, got, op.Classes())
			}
		}
	}
}
