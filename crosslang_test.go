//go:build linux && cgo

package plock

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Go runner of the cross-language cases (testdata/crosslang/cases.txt;
// the C and Python runners are in tests/crosslang). Each case runs in a
// helper process of its own, which prints the case's line from what it
// measured. With $PLOCK_CROSSLANG_OUT set, the lines are also written to
// that file, for "make test-crosslang" to compare with the other runners'.

const casesFile = "testdata/crosslang/cases.txt"

// crossCase is one line of the table.
type crossCase struct {
	id   string
	ops  []string // as written: names, or numbers
	line string   // the whole line, as expected
}

func readCases(t *testing.T) []crossCase {
	f, err := os.Open(casesFile)
	require.NoError(t, err)
	defer f.Close()
	var cases []crossCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 2, line)
		ops, ok := strings.CutPrefix(f[1], "ops=")
		require.True(t, ok, line)
		cases = append(cases, crossCase{id: f[0], ops: strings.Split(ops, ","), line: strings.Join(f, " ")})
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, cases)
	return cases
}

// opByName is the inverse of Op.String for the eight operations.
func opByName(s string) (Op, bool) {
	for _, op := range validOps {
		if op.String() == s {
			return op, true
		}
	}
	n, err := strconv.Atoi(s)
	return Op(n), err == nil
}

// caseLine is the line of a case: what runs and what it gave.
func caseLine(id string, ops, res []string, state Classes, segs []Segment) string {
	var st []string
	for _, bit := range []Op{TxtLock, DatLock, ShlibLock} {
		if state&Classes(bit) != 0 {
			st = append(st, bit.String())
		}
	}
	if len(st) == 0 {
		st = []string{"none"}
	}
	// The classes all of whose segments are locked (and that have some).
	var locked []string
	for _, c := range []Class{ClassText, ClassData, ClassStack, ClassShlibText, ClassShlibData} {
		n, all := 0, true
		for _, s := range segs {
			if s.Class == c {
				n++
				all = all && s.IsLocked
			}
		}
		if n > 0 && all {
			locked = append(locked, c.String())
		}
	}
	if len(locked) == 0 {
		locked = []string{"-"}
	}
	return id + " ops=" + strings.Join(ops, ",") + " res=" + strings.Join(res, ",") +
		" state=" + strings.Join(st, "|") + " locked=" + strings.Join(locked, ",")
}

func init() {
	// crosslang: runs one case, "ID OP,OP,...", and reports its line.
	helpers["crosslang"] = func(arg string) {
		id, list, _ := strings.Cut(arg, " ")
		ops := strings.Split(list, ",")
		var res []string
		for _, name := range ops {
			op, ok := opByName(name)
			if !ok {
				fail("bad op %q", name)
			}
			res = append(res, errnoName(Plock(op)))
		}
		segs, err := Segments()
		must(err, "segments")
		report("line", caseLine(id, ops, res, State(), segs))
	}
}

func TestCrossLanguageCases(t *testing.T) {
	needRoot(t)
	cases := readCases(t)
	lines := make([]string, len(cases))
	parallel(len(cases), func(i int) {
		c := cases[i]
		r := runHelper(t, "crosslang", c.id+" "+strings.Join(c.ops, ","), helperOpts{})
		if r.err != nil {
			lines[i] = c.id + " helper failed: " + r.err.Error() + ": " + r.stderr
			return
		}
		if err := func() (err error) {
			raw, ok := r.values["line"]
			if !ok {
				lines[i] = c.id + " no line"
				return nil
			}
			lines[i], err = strconv.Unquote(string(raw))
			return err
		}(); err != nil {
			lines[i] = c.id + " " + err.Error()
		}
	})
	for i, c := range cases {
		assert.Equal(t, c.line, lines[i], "case %s", c.id)
	}
	if out := os.Getenv("PLOCK_CROSSLANG_OUT"); out != "" {
		require.NoError(t, os.WriteFile(out, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
}
