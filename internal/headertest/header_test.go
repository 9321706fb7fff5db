// The headers against the Go package. The oracle is each header as
// modernc.org/cc/v4 parses it, independent on purpose of gcc and of cgo:
//
//   - every integer macro of <sys/lock.h> and <plock.h> has the value of
//     the Go constant that stands for it (read from the package's source by
//     go/types, so that a wrong number fails here), or is listed as having
//     none, with the reason; and every constant of the package stands for a
//     macro;
//   - every struct of <plock.h> has the fields (name, C type, offset, size)
//     listed here, cgo gives Go the same layout, and package plock reads
//     every field, with a conversion that keeps its values;
//   - every function of the headers has the prototype listed here, and the
//     package calls it with as many arguments;
//   - the package has the same API with cgo and without;
//   - both headers compile with gcc and g++ in every language mode they
//     promise.
//
// It is a package of its own so that the plock test binary stays small: its
// text must fit under the 8 MiB RLIMIT_MEMLOCK of the unprivileged tests.
package headertest

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/parser"
	"go/printer"
	"go/token"
	"go/types"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/cc/v4"
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

var headers struct {
	once sync.Once
	ast  *cc.AST
	err  any
}

// plockH is <plock.h> (which includes <sys/lock.h>) and <unistd.h>, for
// lockf's commands, parsed once.
func plockH(t *testing.T) *cc.AST {
	t.Helper()
	headers.once.Do(func() {
		defer func() { headers.err = recover() }()
		headers.ast = translate(t, "#define _DEFAULT_SOURCE\n#include <plock.h>\n#include <unistd.h>\n")
	})
	require.Nil(t, headers.err)
	require.NotNil(t, headers.ast, "the headers did not parse")
	return headers.ast
}

// ours reports whether a position is in one of the project's headers.
func ours(pos interface{ String() string }) bool {
	return strings.HasPrefix(filepath.ToSlash(pos.String()), filepath.ToSlash(filepath.Join(repo, "include"))+"/")
}

// macroValue returns the value of an integer macro.
func macroValue(t *testing.T, a *cc.AST, name string) *big.Int {
	t.Helper()
	m, ok := a.Macros[name]
	require.True(t, ok, "%s is not defined", name)
	switch v := m.Value().(type) {
	case cc.Int64Value:
		return big.NewInt(int64(v))
	case cc.UInt64Value:
		return new(big.Int).SetUint64(uint64(v))
	}
	t.Fatalf("%s = %v is no integer constant", name, m.Value())
	return nil
}

// goConstants are the Go constants each macro stands for.
var goConstants = map[string][]string{
	// <sys/lock.h>: the operations; the three of one class each are the
	// bits of Classes too.
	"UNLOCK":        {"Unlock"},
	"PROCLOCK":      {"ProcLock"},
	"TXTLOCK":       {"TxtLock", "Text"},
	"DATLOCK":       {"DatLock", "Data"},
	"SHLIBLOCK":     {"ShlibLock", "Shlib"},
	"PROCSHLIBLOCK": {"ProcShlibLock"},
	"TXTSHLIBLOCK":  {"TxtShlibLock"},
	"DATSHLIBLOCK":  {"DatShlibLock"},
	// <plock.h>
	"PLOCK_STRICT_FUTURE":   {"strictFuture"},
	"PLOCK_SEG_OTHER":       {"ClassOther"},
	"PLOCK_SEG_TEXT":        {"ClassText"},
	"PLOCK_SEG_DATA":        {"ClassData"},
	"PLOCK_SEG_STACK":       {"ClassStack"},
	"PLOCK_SEG_SHLIB_TEXT":  {"ClassShlibText"},
	"PLOCK_SEG_SHLIB_DATA":  {"ClassShlibData"},
	"PLOCK_SEG_NCLASS":      {"NumClasses"},
	"PLOCK_PROT_READ":       {"ProtRead"},
	"PLOCK_PROT_WRITE":      {"ProtWrite"},
	"PLOCK_PROT_EXEC":       {"ProtExec"},
	"PLOCK_PROT_SHARED":     {"ProtShared"},
	"PLOCK_UNLIMITED":       {"Unlimited"},
	"PLOCK_WHY_BADOP":       {"ReasonBadOp"},
	"PLOCK_WHY_LOCKED":      {"ReasonLocked"},
	"PLOCK_WHY_NOTHING":     {"ReasonNothing"},
	"PLOCK_WHY_NOSHLIB":     {"ReasonNoShlib"},
	"PLOCK_WHY_VFORK":       {"ReasonVfork"},
	"PLOCK_WHY_STRICT":      {"ReasonStrict"},
	"PLOCK_WHY_ZEROLIMIT":   {"ReasonZeroLimit"},
	"PLOCK_WHY_LIMIT":       {"ReasonLimit"},
	"PLOCK_WHY_NOMEM":       {"ReasonNoMem"},
	"PLOCK_WHY_NOPROC":      {"ReasonNoProc"},
	"PLOCK_WHY_GONE":        {"ReasonGone"},
	"PLOCK_WHY_PTRACE":      {"ReasonPtrace"},
	"PLOCK_WHY_UNSUPPORTED": {"ReasonUnsupported"},
	"PLOCK_WHY_SYSTEM":      {"ReasonSystem"},
	"PLOCK_REASON_ROLLBACK": {"reasonRollback"},
	// <unistd.h>, for Lockf.
	"F_ULOCK": {"LockfUnlock"},
	"F_LOCK":  {"LockfLock"},
	"F_TLOCK": {"LockfTryLock"},
	"F_TEST":  {"LockfTest"},
}

// notInGo are the integer macros of the headers that have no Go constant,
// and why.
var notInGo = map[string]string{
	"PLOCK_WHY_NONE":          "the reason of a success: no Error has it",
	"PLOCK_WHY_NREASON":       "the number of reasons, for C arrays",
	"PLOCK_AT_ENTRY":          "process.go passes it to plock_ctl through cgo",
	"PLOCK_PTRACE_UNKNOWN":    "process.go's ptraceHint formats the causes through cgo",
	"PLOCK_PTRACE_SELF":       "as PLOCK_PTRACE_UNKNOWN",
	"PLOCK_PTRACE_KTHREAD":    "as PLOCK_PTRACE_UNKNOWN",
	"PLOCK_PTRACE_EXITING":    "as PLOCK_PTRACE_UNKNOWN",
	"PLOCK_PTRACE_TRACED":     "as PLOCK_PTRACE_UNKNOWN",
	"PLOCK_PTRACE_OTHER_USER": "as PLOCK_PTRACE_UNKNOWN",
	"PLOCK_PTRACE_CAPS":       "as PLOCK_PTRACE_UNKNOWN",
	"PLOCK_PTRACE_NODUMP":     "as PLOCK_PTRACE_UNKNOWN",
	"PLOCK_PTRACE_YAMA":       "as PLOCK_PTRACE_UNKNOWN",
	"PLOCK_PTRACE_SECCOMP":    "as PLOCK_PTRACE_UNKNOWN",
	"PLOCK_PTRACE_NCAUSE":     "the number of causes, for C arrays",
}

// packageFiles returns the non-test Go files of package plock in the build
// with or without cgo, for Linux.
func packageFiles(t *testing.T, cgo bool) []string {
	t.Helper()
	ctx := build.Default
	ctx.GOOS, ctx.CgoEnabled = "linux", cgo
	pkg, err := ctx.ImportDir(repo, 0)
	require.NoError(t, err)
	var files []string
	for _, f := range append(pkg.GoFiles, pkg.CgoFiles...) {
		files = append(files, filepath.Join(repo, f))
	}
	return files
}

// allPackageFiles returns the non-test Go files of package plock in either
// build, each once.
func allPackageFiles(t *testing.T) []string {
	files := append(packageFiles(t, true), packageFiles(t, false)...)
	sort.Strings(files)
	return slices.Compact(files)
}

// parseFile parses one Go file, with comments.
func parseFile(t *testing.T, fset *token.FileSet, name string) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
	require.NoError(t, err)
	return f
}

// packageConstants evaluates every constant of package plock, in every
// file of either build, with go/types: the declarations of the constants
// and of the basic types they have, alone in a package of their own. A
// constant written with anything but numbers and other constants (C.X,
// math.MaxUint64) does not type-check there, and fails the test: go doc
// would show the expression instead of the value.
func packageConstants(t *testing.T) map[string]constant.Value {
	t.Helper()
	fset := token.NewFileSet()
	synth := &ast.File{Name: ast.NewIdent("plock")}
	for _, name := range allPackageFiles(t) {
		for _, d := range parseFile(t, fset, name).Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			switch g.Tok {
			case token.CONST:
				synth.Decls = append(synth.Decls, g)
			case token.TYPE:
				for _, s := range g.Specs {
					if ts := s.(*ast.TypeSpec); isBasic(ts.Type) {
						synth.Decls = append(synth.Decls, &ast.GenDecl{Tok: token.TYPE, Specs: []ast.Spec{ts}})
					}
				}
			}
		}
	}
	pkg, err := new(types.Config).Check("plock", fset, []*ast.File{synth}, nil)
	require.NoError(t, err, "the constants of package plock must be numbers, or made of other constants")
	consts := map[string]constant.Value{}
	for _, name := range pkg.Scope().Names() {
		if c, ok := pkg.Scope().Lookup(name).(*types.Const); ok {
			consts[name] = c.Val()
		}
	}
	return consts
}

func isBasic(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && types.Universe.Lookup(id.Name) != nil
}

// TestConstants compares every integer macro of the headers, and lockf's
// commands of <unistd.h>, with the Go constants that stand for them.
func TestConstants(t *testing.T) {
	a := plockH(t)
	consts := packageConstants(t)
	used := map[string]bool{}
	for macro, names := range goConstants {
		want := macroValue(t, a, macro)
		for _, name := range names {
			c, ok := consts[name]
			if !assert.True(t, ok, "no Go constant %s for %s", name, macro) {
				continue
			}
			used[name] = true
			got, ok := new(big.Int).SetString(c.ExactString(), 10)
			if assert.True(t, ok, "%s = %v is no integer", name, c) {
				assert.Zero(t, want.Cmp(got), "%s = %v in Go, but %s is %v in the header", name, got, macro, want)
			}
		}
	}
	// Every integer macro of the project's headers is checked, or has no
	// Go constant for a reason.
	n := 0
	for name, m := range a.Macros {
		if !ours(m.Position()) || m.IsFnLike || len(m.ReplacementList()) == 0 {
			continue
		}
		n++
		_, checked := goConstants[name]
		_, excused := notInGo[name]
		assert.True(t, checked || excused, "%s (%v) is in no table of this test", name, m.Position())
		assert.False(t, checked && excused, "%s is in both tables", name)
	}
	assert.Equal(t, len(goConstants)-4+len(notInGo), n, "the macros of the headers (F_* are <unistd.h>'s)")
	for name := range notInGo {
		assert.Contains(t, a.Macros, name, "notInGo lists %s, which the headers do not define", name)
	}
	// Every constant of the package stands for a macro.
	for name := range consts {
		assert.True(t, used[name], "the Go constant %s stands for no macro of this test's table", name)
	}
}

// structs are the fields of each struct of <plock.h>, as "name type".
var structs = map[string][]string{
	"plock_segment": {"start uintptr_t", "end uintptr_t", "offset uint64_t", "inode uint64_t",
		"dev_major unsigned", "dev_minor unsigned", "seg_class int", "prot int", "locked int",
		"lock_on_fault int", "size uint64_t", "resident uint64_t", "locked_bytes uint64_t",
		// cc keeps no qualifier of a member's pointee: path is
		// const char * in the header.
		"path char *"},
	"plock_status": {"state int", "future int", "cap_ipc_lock int", "vmlck uint64_t",
		"memlock_cur uint64_t", "memlock_max uint64_t", "headroom uint64_t"},
	"plock_reason": {"why int", "err int", "op int", "classes int", "flags int", "cap_ipc_lock int",
		"cause int", "detail int", "need uint64_t", "vmlck uint64_t", "memlock uint64_t",
		"unrestored uint64_t"},
}

// readers are, for each struct, the functions of package plock that read
// it and the name of the struct there; fields the Go side need not read,
// with the reason.
var readers = map[string]struct {
	funcs  map[string]string // function -> variable
	unread map[string]string
}{
	"plock_segment": {funcs: map[string]string{"SegmentsOf": "c"}},
	"plock_status":  {funcs: map[string]string{"StatusOf": "st"}},
	"plock_reason": {
		funcs:  map[string]string{"reasonError": "why", "refusal": "why", "ptraceHint": "why"},
		unread: map[string]string{"op": "the caller of reasonError passes the op it asked for"},
	},
}

// ccStruct returns the struct type tag of the headers.
func ccStruct(t *testing.T, a *cc.AST, tag string) *cc.StructType {
	t.Helper()
	for _, n := range a.Scope.Nodes[tag] {
		if s, ok := n.(*cc.StructOrUnionSpecifier); ok && ours(s.Position()) {
			st, ok := s.Type().(*cc.StructType)
			require.True(t, ok)
			return st
		}
	}
	t.Fatalf("struct %s is not declared", tag)
	return nil
}

type fieldLayout struct {
	Name         string
	Offset, Size int64
}

func TestStructs(t *testing.T) {
	a := plockH(t)
	// Every struct of the headers is in the table.
	for name, nodes := range a.Scope.Nodes {
		for _, n := range nodes {
			if s, ok := n.(*cc.StructOrUnionSpecifier); ok && ours(s.Position()) {
				assert.Contains(t, structs, name, "struct %s is not in this test's table", name)
			}
		}
	}
	uses := fieldUses(t)
	for tag, want := range structs {
		st := ccStruct(t, a, tag)
		var got []string
		var layout []fieldLayout
		for i := 0; i < st.NumFields(); i++ {
			f := st.FieldByIndex(i)
			got = append(got, f.Name()+" "+ctype(f.Type()))
			layout = append(layout, fieldLayout{f.Name(), f.Offset(), f.Type().Size()})
		}
		assert.Equal(t, want, got, "the fields of struct %s", tag)

		// cgo's struct, which package plock reads, has the same layout.
		rt, ok := cgoStructs[tag]
		require.True(t, ok, "layout.go has no struct %s", tag)
		var cgo []fieldLayout
		for i := 0; i < rt.NumField(); i++ {
			if f := rt.Field(i); f.Name != "_" { // cgo's padding
				cgo = append(cgo, fieldLayout{f.Name, int64(f.Offset), int64(f.Type.Size())})
			}
		}
		assert.Equal(t, layout, cgo, "struct %s: cc/v4's layout, and cgo's", tag)
		assert.Equal(t, st.Size(), int64(rt.Size()), "sizeof(struct %s)", tag)

		// Package plock reads every field, keeping its values.
		r := readers[tag]
		read := map[string]bool{}
		for fn, v := range r.funcs {
			require.Contains(t, uses, fn, "package plock has no function %s", fn)
			require.NotEmpty(t, uses[fn][v], "%s reads no field of %s", fn, v)
			for field, how := range uses[fn][v] {
				read[field] = true
				f := st.FieldByName(field)
				if !assert.NotNil(t, f, "%s reads %s.%s, which struct %s does not have", fn, v, field, tag) {
					continue
				}
				for _, use := range how {
					assert.True(t, compatible(f.Type(), use), "%s reads struct %s.%s (%s) as %s",
						fn, tag, field, ctype(f.Type()), use)
				}
			}
		}
		for i := 0; i < st.NumFields(); i++ {
			name := st.FieldByIndex(i).Name()
			_, excused := r.unread[name]
			assert.True(t, read[name] || excused, "package plock does not read struct %s.%s", tag, name)
		}
	}
}

// fieldUses returns, for each function of package plock (either build) and
// each variable in it, how each field of the variable is read: the Go
// conversion around it ("uint64", "Class", "C.GoString", ...), "compare"
// for a comparison or switch, "index" for an index, "assign" when it is
// kept in its C type.
func fieldUses(t *testing.T) map[string]map[string]map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	uses := map[string]map[string]map[string][]string{}
	for _, name := range allPackageFiles(t) {
		for _, d := range parseFile(t, fset, name).Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			vars := map[string]map[string][]string{}
			uses[fd.Name.Name] = vars
			var stack []ast.Node
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if n == nil {
					stack = stack[:len(stack)-1]
					return true
				}
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok {
						if vars[id.Name] == nil {
							vars[id.Name] = map[string][]string{}
						}
						vars[id.Name][sel.Sel.Name] = append(vars[id.Name][sel.Sel.Name], useOf(stack))
					}
				}
				stack = append(stack, n)
				return true
			})
		}
	}
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
				if x, ok := f.X.(*ast.Ident); ok {
					return x.Name + "." + f.Sel.Name
				}
			}
		case *ast.BinaryExpr, *ast.SwitchStmt, *ast.CaseClause:
			return "compare"
		case *ast.IndexExpr:
			return "index"
		case *ast.AssignStmt, *ast.ValueSpec:
			return "assign"
		case *ast.ParenExpr, *ast.UnaryExpr:
			continue
		}
		break
	}
	return "?"
}

// compatible says whether Go reading a C value of type ty as use keeps
// every value.
func compatible(ty cc.Type, use string) bool {
	signed32 := cc.IsIntegerType(ty) && cc.IsSignedInteger(ty) && ty.Size() == 4
	unsigned := cc.IsIntegerType(ty) && !cc.IsSignedInteger(ty)
	switch use {
	case "uint64", "uintptr":
		return unsigned && ty.Size() == 8
	case "uint32":
		return unsigned && ty.Size() == 4
	case "compare", "assign":
		return cc.IsIntegerType(ty)
	case "Class", "Prot", "Op", "Reason", "int", "int32", "syscall.Errno", "index":
		return signed32
	case "Classes":
		// A set of TXTLOCK, DATLOCK and SHLIBLOCK, below 16, in a uint8.
		return signed32
	case "C.GoString":
		p, ok := ty.(*cc.PointerType)
		return ok && p.Elem().Kind() == cc.Char
	}
	return false
}

// prototypes are the functions of the headers.
var prototypes = []string{
	"int plock(int)",
	"int plock_op_classes(int)",
	"int plock_state(void)",
	"int plock_flags(int, int)",
	"struct plock_segment * plock_segments(int, size_t *)",
	"const char * plock_segment_class_name(int)",
	"int plock_status(int, struct plock_status *)",
	"int plock_ctl(int, int, int, struct plock_reason *)",
	"const char * plock_why_name(int)",
}

// notCalled are the functions of the headers that package plock does not
// call, and why.
var notCalled = map[string]string{
	"plock":       "Plock calls plock_ctl, which reports why it failed",
	"plock_flags": "as plock",
}

func TestPrototypes(t *testing.T) {
	a := plockH(t)
	var declared []string
	for name, nodes := range a.Scope.Nodes {
		for _, n := range nodes {
			if d, ok := n.(*cc.Declarator); ok && ours(d.Position()) {
				if _, ok := d.Type().(*cc.FunctionType); ok {
					declared = append(declared, name)
				}
			}
		}
	}
	var want []string
	for _, p := range prototypes {
		name := funcName(p)
		want = append(want, name)
		assert.Equal(t, p, prototype(t, a, name))
	}
	assert.ElementsMatch(t, want, declared, "the functions of the headers, and this test's table")

	// Package plock calls each with as many arguments as it has, from Go
	// or from a cgo preamble.
	calls := cgoCalls(t)
	for _, p := range prototypes {
		name := funcName(p)
		if _, ok := notCalled[name]; ok {
			assert.NotContains(t, calls, name, "notCalled lists %s, which package plock calls", name)
			continue
		}
		n := strings.Count(p, ",") + 1
		if strings.HasSuffix(p, "(void)") {
			n = 0
		}
		if assert.Contains(t, calls, name, "package plock does not call %s", name) {
			for _, got := range calls[name] {
				assert.Equal(t, n, got, "arguments of %s", name)
			}
		}
	}
}

func funcName(proto string) string {
	open := strings.Index(proto, "(")
	return proto[strings.LastIndex(proto[:open], " ")+1 : open]
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
		if len(ps) == 0 {
			ps = []string{"void"}
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

// preambleCall is a call of a function of <plock.h> in C source.
var preambleCall = regexp.MustCompile(`\b(plock(?:_[a-z_]+)?)\(([^()]*)\)`)

// cgoCalls returns the C functions of <plock.h> that package plock calls,
// with the number of arguments of each call: from Go (C.name(...)) and
// from its cgo preambles, which cgo compiles against the same header.
func cgoCalls(t *testing.T) map[string][]int {
	t.Helper()
	calls := map[string][]int{}
	fset := token.NewFileSet()
	for _, name := range packageFiles(t, true) {
		f := parseFile(t, fset, name)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.IMPORT || g.Doc == nil || len(g.Specs) != 1 ||
				g.Specs[0].(*ast.ImportSpec).Path.Value != `"C"` {
				continue
			}
			for _, m := range preambleCall.FindAllStringSubmatch(g.Doc.Text(), -1) {
				if strings.Contains(g.Doc.Text(), " "+m[1]+"("+m[2]+")\n{") {
					continue // the preamble's own function
				}
				n := 0
				if strings.TrimSpace(m[2]) != "" {
					n = strings.Count(m[2], ",") + 1
				}
				calls[m[1]] = append(calls[m[1]], n)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "C" && strings.HasPrefix(sel.Sel.Name, "plock") {
						calls[sel.Sel.Name] = append(calls[sel.Sel.Name], len(c.Args))
					}
				}
			}
			return true
		})
	}
	return calls
}

// TestAPIWithoutCgo: the build without cgo (nocgo.go) has the exported
// functions and methods of the build with cgo, with the same signatures.
func TestAPIWithoutCgo(t *testing.T) {
	withCgo, withoutCgo := api(t, true), api(t, false)
	assert.Equal(t, withCgo, withoutCgo, "the API with cgo, and without")
	assert.Contains(t, withCgo, "func Plock(op Op) error")
}

// api returns the exported functions and methods of package plock's build
// with or without cgo, one signature each, sorted.
func api(t *testing.T, cgo bool) []string {
	t.Helper()
	fset := token.NewFileSet()
	var sigs []string
	for _, name := range packageFiles(t, cgo) {
		for _, d := range parseFile(t, fset, name).Decls {
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
			var b bytes.Buffer
			require.NoError(t, printer.Fprint(&b, fset, fd))
			sigs = append(sigs, b.String())
		}
	}
	sort.Strings(sigs)
	return sigs
}

// TestCompile compiles each header alone, and a use of both, as C89, C99,
// C11, C++98 and C++17 with every warning an error.
func TestCompile(t *testing.T) {
	inc := filepath.Join(repo, "include")
	dir := t.TempDir()
	units := map[string]string{
		"lock": "#include <sys/lock.h>\nint f(void) { return plock(PROCLOCK) + plock(UNLOCK); }\n",
		"plock": "#include <plock.h>\n#include <stdlib.h>\n" +
			"int g(void)\n{\n\tsize_t n = 0;\n\tstruct plock_status st;\n\tstruct plock_reason why;\n" +
			"\tstruct plock_segment *s = plock_segments(0, &n);\n" +
			"\tint r = plock_flags(DATSHLIBLOCK, PLOCK_STRICT_FUTURE) + plock_state() + plock_status(0, &st);\n" +
			"\tconst char *name = plock_segment_class_name(PLOCK_SEG_SHLIB_DATA);\n" +
			"\tr += plock_ctl(0, TXTLOCK, PLOCK_STRICT_FUTURE, &why) + plock_why_name(why.why)[0];\n" +
			"\tr += plock_op_classes(PROCSHLIBLOCK);\n" +
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
