// Package headertest checks the C headers against the Go package: it
// parses include/sys/lock.h and include/plock.h with modernc.org/cc/v4 and
// compares what they declare with the constants of package plock and with
// what bindings.go reads through cgo, and it compiles both headers with the
// host's gcc and g++ in every language mode they promise.
//
// It is a package of its own so that the plock test binary stays small: its
// text must fit under the 8 MiB RLIMIT_MEMLOCK of the unprivileged tests.
package headertest

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/cc/v4"

	"github.com/cplock/plock"
)

const repo = "../.."

// translate parses and type-checks src with the host's configuration and
// the repository's include directory.
func translate(t *testing.T, src string) *cc.AST {
	t.Helper()
	cfg, err := cc.NewConfig(runtime.GOOS, runtime.GOARCH)
	require.NoError(t, err)
	inc := filepath.Join(repo, "include")
	cfg.IncludePaths = append([]string{inc}, cfg.IncludePaths...)
	cfg.SysIncludePaths = append([]string{inc}, cfg.SysIncludePaths...)
	cfg.EvalAllMacros = true
	a, err := cc.Translate(cfg, []cc.Source{
		{Name: "<predefined>", Value: cfg.Predefined},
		{Name: "<builtin>", Value: cc.Builtin},
		{Name: "headers.c", Value: src},
	})
	require.NoError(t, err)
	return a
}

func macroInt(t *testing.T, a *cc.AST, name string) int64 {
	t.Helper()
	m, ok := a.Macros[name]
	require.True(t, ok, "%s is not defined", name)
	switch v := m.Value().(type) {
	case cc.Int64Value:
		return int64(v)
	case cc.UInt64Value:
		return int64(v)
	}
	t.Fatalf("%s = %v is no integer constant", name, m.Value())
	return 0
}

func TestOpConstants(t *testing.T) {
	a := translate(t, "#include <sys/lock.h>\n")
	historical := []struct {
		name string
		val  int64
		op   plock.Op
	}{
		{"UNLOCK", 0, plock.Unlock},
		{"PROCLOCK", 1, plock.ProcLock},
		{"TXTLOCK", 2, plock.TxtLock},
		{"DATLOCK", 4, plock.DatLock},
		{"SHLIBLOCK", 8, plock.ShlibLock},
		{"PROCSHLIBLOCK", 9, plock.ProcShlibLock},
		{"TXTSHLIBLOCK", 10, plock.TxtShlibLock},
		{"DATSHLIBLOCK", 12, plock.DatShlibLock},
	}
	for _, c := range historical {
		v := macroInt(t, a, c.name)
		assert.Equal(t, c.val, v, "%s in <sys/lock.h>", c.name)
		assert.Equal(t, c.val, int64(c.op), "plock.%v", c.op)
		assert.Equal(t, c.name, c.op.String())
	}
	// plock is int plock(int), with C linkage.
	assert.Equal(t, "int plock(int)", prototype(t, a, "plock"))
}

func TestExtendedConstants(t *testing.T) {
	a := translate(t, "#include <plock.h>\n")
	classes := map[string]plock.Class{
		"PLOCK_SEG_OTHER": plock.ClassOther, "PLOCK_SEG_TEXT": plock.ClassText,
		"PLOCK_SEG_DATA": plock.ClassData, "PLOCK_SEG_STACK": plock.ClassStack,
		"PLOCK_SEG_SHLIB_TEXT": plock.ClassShlibText, "PLOCK_SEG_SHLIB_DATA": plock.ClassShlibData,
		"PLOCK_SEG_NCLASS": plock.NumClasses,
	}
	for name, c := range classes {
		assert.Equal(t, int64(c), macroInt(t, a, name), name)
	}
	prots := map[string]plock.Prot{"PLOCK_PROT_READ": plock.ProtRead, "PLOCK_PROT_WRITE": plock.ProtWrite,
		"PLOCK_PROT_EXEC": plock.ProtExec, "PLOCK_PROT_SHARED": plock.ProtShared}
	for name, p := range prots {
		assert.Equal(t, int64(p), macroInt(t, a, name), name)
	}
	assert.Equal(t, int64(1), macroInt(t, a, "PLOCK_STRICT_FUTURE"))
	assert.Equal(t, uint64(plock.Unlimited), uint64(macroInt(t, a, "PLOCK_UNLIMITED")))
	// <plock.h> brings <sys/lock.h> with it.
	assert.Equal(t, int64(plock.DatLock), macroInt(t, a, "DATLOCK"))
}

// prototype renders the declaration of function name as C.
func prototype(t *testing.T, a *cc.AST, name string) string {
	t.Helper()
	for _, n := range a.Scope.Nodes[name] {
		d, ok := n.(*cc.Declarator)
		if !ok {
			continue
		}
		ft, ok := d.Type().(*cc.FunctionType)
		require.True(t, ok, "%s is no function", name)
		var ps []string
		for _, p := range ft.Parameters() {
			ps = append(ps, ctype(p.Type()))
		}
		if ft.IsVariadic() {
			ps = append(ps, "...")
		}
		return fmt.Sprintf("%s %s(%s)", ctype(ft.Result()), name, strings.Join(ps, ", "))
	}
	t.Fatalf("%s is not declared", name)
	return ""
}

// ctype renders a type as C, by its typedef name where it has one.
func ctype(ty cc.Type) string {
	if td := ty.Typedef(); td != nil {
		return td.Name()
	}
	switch x := ty.(type) {
	case *cc.PointerType:
		return ctype(x.Elem()) + " *"
	case *cc.StructType:
		tag := x.Tag()
		return "struct " + tag.SrcStr()
	}
	return ty.String()
}

func TestPrototypes(t *testing.T) {
	a := translate(t, "#include <plock.h>\n")
	want := []string{
		"int plock(int)",
		"int plock_state(void)",
		"int plock_flags(int, int)",
		"struct plock_segment * plock_segments(int, size_t *)",
		"int plock_status(int, struct plock_status *)",
		"const char * plock_segment_class_name(int)",
		"int plock_ctl(int, int, int, struct plock_reason *)",
		"const char * plock_why_name(int)",
		"int plock_traceme_refusal(int, struct plock_reason *)",
	}
	for _, w := range want {
		name := w[strings.LastIndex(w[:strings.Index(w, "(")], " ")+1 : strings.Index(w, "(")]
		assert.Equal(t, w, prototype(t, a, name))
	}
	// bindings.go calls each with as many arguments as the prototype has.
	calls := cgoCalls(t)
	for fn, args := range map[string]int{"plock_ctl": 4, "plock_state": 0, "plock_segments": 2,
		"plock_status": 2, "plock_segment_class_name": 1, "plock_why_name": 1,
		"plock_traceme_refusal": 2} {
		require.Contains(t, calls, fn, "bindings.go does not call %s", fn)
		assert.Equal(t, args, calls[fn], "arguments of %s", fn)
	}
}

// TestCgoBoundary: bindings.go is the one file of package plock that
// imports "C", so the checks above, which read what it calls and how it
// converts, see every use of the C library.
func TestCgoBoundary(t *testing.T) {
	var files []string
	for _, f := range parseBindings(t) {
		for _, imp := range f.Imports {
			if imp.Path.Value == `"C"` {
				files = append(files, filepath.Base(bindings.fset.Position(f.Package).Filename))
			}
		}
	}
	assert.Equal(t, []string{"bindings.go"}, files)
}

// structFields returns the fields of struct tag: name -> C type.
func structFields(t *testing.T, a *cc.AST, tag string) map[string]cc.Type {
	t.Helper()
	for _, n := range a.Scope.Nodes[tag] {
		if s, ok := n.(*cc.StructOrUnionSpecifier); ok {
			st, ok := s.Type().(*cc.StructType)
			require.True(t, ok)
			f := map[string]cc.Type{}
			for i := 0; i < st.NumFields(); i++ {
				f[st.FieldByIndex(i).Name()] = st.FieldByIndex(i).Type()
			}
			return f
		}
	}
	t.Fatalf("struct %s is not declared", tag)
	return nil
}

// goUses returns, for the cgo struct value named v in function fn of
// bindings.go, how each field is read: the Go conversion around it
// ("uint64", "Class", "C.GoString", ...) or "compare" for a comparison.
func goUses(t *testing.T, fn, v string) map[string]string {
	t.Helper()
	uses := map[string]string{}
	for _, f := range parseBindings(t) {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != fn {
				continue
			}
			var stack []ast.Node
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if n == nil {
					stack = stack[:len(stack)-1]
					return true
				}
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == v {
						uses[sel.Sel.Name] = useOf(stack)
					}
				}
				stack = append(stack, n)
				return true
			})
		}
	}
	require.NotEmpty(t, uses, "%s reads no field of %s", fn, v)
	return uses
}

func useOf(stack []ast.Node) string {
	for i := len(stack) - 1; i >= 0; i-- {
		switch p := stack[i].(type) {
		case *ast.CallExpr:
			switch f := p.Fun.(type) {
			case *ast.Ident:
				if f.Name == "max" || f.Name == "min" {
					continue
				}
				return f.Name
			case *ast.SelectorExpr:
				return f.X.(*ast.Ident).Name + "." + f.Sel.Name
			}
		case *ast.BinaryExpr:
			return "compare"
		case *ast.ParenExpr:
			continue
		}
		break
	}
	return "?"
}

var bindings struct {
	fset  *token.FileSet
	files []*ast.File
}

// parseBindings parses the Go files of package plock for Linux with cgo
// (the test files aside).
func parseBindings(t *testing.T) []*ast.File {
	t.Helper()
	if bindings.files == nil {
		ctx := build.Default
		ctx.GOOS, ctx.CgoEnabled = "linux", true
		pkg, err := ctx.ImportDir(repo, 0)
		require.NoError(t, err)
		bindings.fset = token.NewFileSet()
		for _, name := range append(pkg.GoFiles, pkg.CgoFiles...) {
			f, err := parser.ParseFile(bindings.fset, filepath.Join(repo, name), nil, parser.ParseComments)
			require.NoError(t, err)
			bindings.files = append(bindings.files, f)
		}
	}
	return bindings.files
}

// preambleCall is a call of a function of <plock.h> in C source.
var preambleCall = regexp.MustCompile(`\b(plock_[a-z_]+)\(([^()]*)\)`)

// cgoCalls returns the C functions bindings.go calls, with their number of
// arguments: from Go (C.name(...)) and from its cgo preamble, which cgo
// compiles against the same header.
func cgoCalls(t *testing.T) map[string]int {
	calls := map[string]int{}
	for _, f := range parseBindings(t) {
		for _, imp := range f.Imports {
			if imp.Path.Value != `"C"` {
				continue
			}
			for _, d := range f.Decls {
				if g, ok := d.(*ast.GenDecl); ok && len(g.Specs) == 1 && g.Specs[0] == imp && g.Doc != nil {
					for _, m := range preambleCall.FindAllStringSubmatch(g.Doc.Text(), -1) {
						n := 0
						if strings.TrimSpace(m[2]) != "" {
							n = strings.Count(m[2], ",") + 1
						}
						calls[m[1]] = n
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "C" {
						calls[sel.Sel.Name] = len(c.Args)
					}
				}
			}
			return true
		})
	}
	return calls
}

// compatible says whether Go reading a C value of type ty as use keeps
// every value.
func compatible(ty cc.Type, use string) bool {
	unsigned := cc.IsIntegerType(ty) && !cc.IsSignedInteger(ty)
	switch use {
	case "uint64", "uintptr":
		return unsigned && ty.Size() == 8
	case "uint32":
		return unsigned && ty.Size() == 4
	case "Class", "Prot", "Op", "int", "compare", "Classes", "Reason", "ptraceCause", "syscall.Errno":
		return cc.IsIntegerType(ty) && cc.IsSignedInteger(ty) && ty.Size() == 4
	case "C.GoString":
		p, ok := ty.(*cc.PointerType)
		return ok && p.Elem().Kind() == cc.Char
	}
	return false
}

func TestStructs(t *testing.T) {
	a := translate(t, "#include <plock.h>\n")
	for _, c := range []struct {
		tag, fn, v string
		want       map[string]string
	}{
		{"plock_segment", "segments", "c", map[string]string{
			"start": "uintptr_t", "end": "uintptr_t", "offset": "uint64_t", "inode": "uint64_t",
			"dev_major": "unsigned", "dev_minor": "unsigned", "seg_class": "int", "prot": "int",
			"locked": "int", "lock_on_fault": "int", "size": "uint64_t", "resident": "uint64_t",
			// cc keeps no qualifier of a member's pointee: path is
			// const char * in the header.
			"locked_bytes": "uint64_t", "path": "char *"}},
		{"plock_status", "status", "st", map[string]string{
			"state": "int", "future": "int", "cap_ipc_lock": "int", "vmlck": "uint64_t",
			"memlock_cur": "uint64_t", "memlock_max": "uint64_t", "headroom": "uint64_t"}},
		{"plock_reason", "reasonError", "why", map[string]string{
			"why": "int", "err": "int", "op": "int", "classes": "int", "flags": "int",
			"cap_ipc_lock": "int", "cause": "int", "detail": "int", "need": "uint64_t",
			"vmlck": "uint64_t", "memlock": "uint64_t", "unrestored": "uint64_t"}},
	} {
		fields := structFields(t, a, c.tag)
		got := map[string]string{}
		for name, ty := range fields {
			got[name] = ctype(ty)
		}
		assert.Equal(t, c.want, got, "struct %s", c.tag)
		uses := goUses(t, c.fn, c.v)
		assert.ElementsMatch(t, keys(fields), keys(uses), "%s reads every field of struct %s, and no other", c.fn, c.tag)
		for name, use := range uses {
			if ty, ok := fields[name]; ok {
				assert.True(t, compatible(ty, use), "struct %s.%s is %s, read in Go as %s", c.tag, name, ctype(ty), use)
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// TestCompile compiles each header alone, and a use of both, as C89, C99,
// C11, C++98 and C++17 with every warning an error.
func TestCompile(t *testing.T) {
	inc := filepath.Join(repo, "include")
	dir := t.TempDir()
	units := map[string]string{
		"lock": "#include <sys/lock.h>\nint f(void) { return plock(PROCLOCK) + plock(UNLOCK); }\n",
		"plock": "#include <plock.h>\n#include <stdlib.h>\n" +
			"int g(void)\n{\n\tsize_t n = 0;\n\tstruct plock_status st;\n" +
			"\tstruct plock_segment *s = plock_segments(0, &n);\n" +
			"\tint r = plock_flags(DATSHLIBLOCK, PLOCK_STRICT_FUTURE) + plock_state() + plock_status(0, &st);\n" +
			"\tconst char *name = plock_segment_class_name(PLOCK_SEG_SHLIB_DATA);\n" +
			"\tif (s != NULL && n > 0 && s[0].seg_class == PLOCK_SEG_TEXT && st.headroom != PLOCK_UNLIMITED)\n" +
			"\t\tr += name[0];\n\tfree(s);\n\treturn r + TXTSHLIBLOCK;\n}\n",
	}
	modes := []struct{ tool, lang, std string }{
		{"gcc", "c", "c89"}, {"gcc", "c", "c99"}, {"gcc", "c", "c11"},
		{"g++", "c++", "c++98"}, {"g++", "c++", "c++17"},
	}
	for name, src := range units {
		file := filepath.Join(dir, name+".src")
		require.NoError(t, os.WriteFile(file, []byte(src), 0o644))
		for _, m := range modes {
			t.Run(name+"/"+m.std, func(t *testing.T) {
				t.Parallel()
				out, err := exec.Command(m.tool, "-x", m.lang, "-std="+m.std, "-Wall", "-Wextra", "-pedantic",
					"-Werror", "-I", inc, "-c", "-o", os.DevNull, file).CombinedOutput()
				assert.NoError(t, err, "%s -std=%s:\n%s", m.tool, m.std, out)
				assert.Empty(t, string(out))
			})
		}
	}
}

// goConstants returns every constant of package plock whose value is
// written as an integer literal, by name: what go doc shows.
func goConstants(t *testing.T) map[string]int64 {
	consts := map[string]int64{}
	for _, f := range parseBindings(t) {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.INT {
						v, err := strconv.ParseInt(lit.Value, 0, 64)
						require.NoError(t, err, name.Name)
						consts[name.Name] = v
					}
				}
			}
		}
	}
	return consts
}

// TestGoConstants: every constant the Go package writes as a number equals
// the macro of the headers it stands for, and every macro of a family has
// its Go constant. A wrong number in Go fails here.
func TestGoConstants(t *testing.T) {
	a := translate(t, "#include <plock.h>\n#include <unistd.h>\n")
	goc := goConstants(t)
	pairs := map[string]string{
		"Unlock": "UNLOCK", "ProcLock": "PROCLOCK", "TxtLock": "TXTLOCK", "DatLock": "DATLOCK",
		"ShlibLock": "SHLIBLOCK", "ProcShlibLock": "PROCSHLIBLOCK", "TxtShlibLock": "TXTSHLIBLOCK",
		"DatShlibLock": "DATSHLIBLOCK",
		"LockedText":   "TXTLOCK", "LockedData": "DATLOCK", "LockedShlib": "SHLIBLOCK",
		"ClassOther": "PLOCK_SEG_OTHER", "ClassText": "PLOCK_SEG_TEXT", "ClassData": "PLOCK_SEG_DATA",
		"ClassStack": "PLOCK_SEG_STACK", "ClassShlibText": "PLOCK_SEG_SHLIB_TEXT",
		"ClassShlibData": "PLOCK_SEG_SHLIB_DATA", "NumClasses": "PLOCK_SEG_NCLASS",
		"ProtRead": "PLOCK_PROT_READ", "ProtWrite": "PLOCK_PROT_WRITE", "ProtExec": "PLOCK_PROT_EXEC",
		"ProtShared":   "PLOCK_PROT_SHARED",
		"strictFuture": "PLOCK_STRICT_FUTURE", "atEntry": "PLOCK_AT_ENTRY",
		"reasonRollback": "PLOCK_REASON_ROLLBACK",
		"ReasonNone":     "PLOCK_WHY_NONE", "ReasonBadOp": "PLOCK_WHY_BADOP", "ReasonLocked": "PLOCK_WHY_LOCKED",
		"ReasonNothing": "PLOCK_WHY_NOTHING", "ReasonNoShlib": "PLOCK_WHY_NOSHLIB",
		"ReasonVfork": "PLOCK_WHY_VFORK", "ReasonStrict": "PLOCK_WHY_STRICT",
		"ReasonZeroLimit": "PLOCK_WHY_ZEROLIMIT", "ReasonLimit": "PLOCK_WHY_LIMIT",
		"ReasonNoMem": "PLOCK_WHY_NOMEM", "ReasonNoProc": "PLOCK_WHY_NOPROC", "ReasonGone": "PLOCK_WHY_GONE",
		"ReasonPtrace": "PLOCK_WHY_PTRACE", "ReasonUnsupported": "PLOCK_WHY_UNSUPPORTED",
		"ReasonSystem": "PLOCK_WHY_SYSTEM", "ReasonSeccomp": "PLOCK_WHY_SECCOMP",
		"ReasonExec": "PLOCK_WHY_EXEC", "numReasons": "PLOCK_WHY_NREASON",
		"SeccompUnchecked": "PLOCK_SECCOMP_UNCHECKED",
		"ptraceUnknown":    "PLOCK_PTRACE_UNKNOWN", "ptraceSelf": "PLOCK_PTRACE_SELF",
		"ptraceKthread": "PLOCK_PTRACE_KTHREAD", "ptraceExiting": "PLOCK_PTRACE_EXITING",
		"ptraceTraced": "PLOCK_PTRACE_TRACED", "ptraceOtherUser": "PLOCK_PTRACE_OTHER_USER",
		"ptraceCaps": "PLOCK_PTRACE_CAPS", "ptraceNodump": "PLOCK_PTRACE_NODUMP",
		"ptraceYama": "PLOCK_PTRACE_YAMA", "ptraceSeccomp": "PLOCK_PTRACE_SECCOMP",
		"numPtraceCauses": "PLOCK_PTRACE_NCAUSE",
		"LockfUnlock":     "F_ULOCK", "LockfLock": "F_LOCK", "LockfTryLock": "F_TLOCK", "LockfTest": "F_TEST",
	}
	covered := map[string]bool{}
	for g, m := range pairs {
		v, ok := goc[g]
		if !assert.True(t, ok, "plock.%s is not written as a number in Go", g) {
			continue
		}
		assert.Equal(t, macroInt(t, a, m), v, "plock.%s = %d, but %s = %d", g, v, m, macroInt(t, a, m))
		covered[m] = true
	}
	assert.Equal(t, uint64(plock.Unlimited), uint64(macroInt(t, a, "PLOCK_UNLIMITED")))
	// Every macro of the families the Go package mirrors has its constant.
	family := regexp.MustCompile(`^(PLOCK_(SEG|PROT|WHY|PTRACE|REASON)_[A-Z_]+|PLOCK_STRICT_FUTURE|PLOCK_AT_ENTRY|PLOCK_SECCOMP_UNCHECKED|[A-Z]*LOCK)$`)
	for name := range a.Macros {
		if family.MatchString(name) && !covered[name] && name != "PLOCK_UNLIMITED" {
			t.Errorf("%s of <plock.h> has no Go constant", name)
		}
	}
}

// TestLayouts: every struct of <plock.h>, as cc/v4 lays it out (the
// oracle, independent of gcc and cgo), has the fields, offsets and sizes
// of the struct cgo gives package plock, and the same size.
func TestLayouts(t *testing.T) {
	a := translate(t, "#include <plock.h>\n")
	inc := filepath.ToSlash(filepath.Join(repo, "include")) + "/"
	var tags []string
	for name, nodes := range a.Scope.Nodes {
		for _, n := range nodes {
			if s, ok := n.(*cc.StructOrUnionSpecifier); ok && strings.HasPrefix(s.Position().Filename, inc) {
				tags = append(tags, name)
			}
		}
	}
	assert.ElementsMatch(t, keys(cgoStructs), tags, "the structs of the headers, and layout.go's")
	type field struct {
		Name         string
		Offset, Size int64
	}
	for _, tag := range tags {
		var st *cc.StructType
		for _, n := range a.Scope.Nodes[tag] {
			if s, ok := n.(*cc.StructOrUnionSpecifier); ok {
				st, _ = s.Type().(*cc.StructType)
			}
		}
		require.NotNil(t, st, "struct %s", tag)
		var want []field
		for i := 0; i < st.NumFields(); i++ {
			f := st.FieldByIndex(i)
			want = append(want, field{f.Name(), f.Offset(), f.Type().Size()})
		}
		rt, ok := cgoStructs[tag]
		if !assert.True(t, ok, "layout.go has no struct %s", tag) {
			continue
		}
		var got []field
		for i := 0; i < rt.NumField(); i++ {
			if f := rt.Field(i); f.Name != "_" { // cgo's padding
				got = append(got, field{f.Name, int64(f.Offset), int64(f.Type.Size())})
			}
		}
		assert.Equal(t, want, got, "struct %s: cc/v4's layout, and cgo's", tag)
		assert.Equal(t, st.Size(), int64(rt.Size()), "sizeof(struct %s)", tag)
	}
}

// TestAPIWithoutCgo: the build without cgo (nocgo.go) has the exported
// functions and methods of the build with cgo, with the same signatures,
// so that a program that compiles with one compiles with the other.
func TestAPIWithoutCgo(t *testing.T) {
	withCgo, withoutCgo := api(t, true), api(t, false)
	assert.Equal(t, withCgo, withoutCgo, "the API with cgo, and without")
	assert.Contains(t, withCgo, "func Plock(op Op) error")
}

// api returns the exported functions and methods of package plock's build
// for Linux with or without cgo, one signature each, sorted.
func api(t *testing.T, cgo bool) []string {
	t.Helper()
	ctx := build.Default
	ctx.GOOS, ctx.CgoEnabled = "linux", cgo
	pkg, err := ctx.ImportDir(repo, 0)
	require.NoError(t, err)
	fset := token.NewFileSet()
	var sigs []string
	for _, name := range append(pkg.GoFiles, pkg.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(repo, name), nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() {
				continue
			}
			fd.Body, fd.Doc = nil, nil
			if fd.Recv != nil {
				for _, r := range fd.Recv.List {
					r.Names = nil // the receiver's type, not its name
				}
			}
			var b strings.Builder
			require.NoError(t, printer.Fprint(&b, fset, fd))
			sigs = append(sigs, b.String())
		}
	}
	sort.Strings(sigs)
	return sigs
}
