//go:build linux && cgo

package plock

// The test harness: helper processes and the smaps oracle.
//
// Every test that locks memory, changes credentials or needs a second
// process runs the test binary itself again as a helper process (never a
// fork in Go): helperCmd starts os.Args[0] with the helper's name in
// $PLOCK_TEST_HELPER; TestMain runs that helper instead of the tests, and it
// reports to the parent in lines "@@ KEY VALUE" on stdout.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	helperEnv = "PLOCK_TEST_HELPER" // the helper to run
	argEnv    = "PLOCK_TEST_ARG"    // its argument
	outPrefix = "@@ "
)

// helpers are the helper processes, by name. Each writes its results with
// report and returns; a helper that cannot go on calls fail.
var helpers = map[string]func(arg string){}

// helperMain is the entry point of helper processes: TestMain calls it when
// $PLOCK_TEST_HELPER names one, and the process runs no test.
func helperMain(name string) {
	fn, ok := helpers[name]
	if !ok {
		fail("no helper %q", name)
	}
	fn(os.Getenv(argEnv))
}

// report writes one result line for the parent.
func report(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail("marshal %s: %v", key, err)
	}
	fmt.Printf("%s%s %s\n", outPrefix, key, b)
}

// fail ends a helper process with exit status 3 and the reason on stderr.
func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "helper: "+format+"\n", args...)
	os.Exit(3)
}

// must ends a helper process if err is not nil.
func must(err error, what string) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

// helperOpts say how to start a helper process.
type helperOpts struct {
	// unprivileged: run as uid/gid 65534, no capabilities at all, with
	// RLIMIT_MEMLOCK soft and hard set to memlock bytes.
	unprivileged bool
	memlock      uint64
}

// helperCmd returns the command that runs helper name with arg.
func helperCmd(t testing.TB, name, arg string, o helperOpts) *exec.Cmd {
	t.Helper()
	args := []string{"-test.run=^$"} // no test, should TestMain ever get there
	var cmd *exec.Cmd
	if o.unprivileged {
		bin := unprivilegedBinary(t)
		full := append([]string{
			fmt.Sprintf("--memlock=%d:%d", o.memlock, o.memlock), "--",
			"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"--inh-caps=-all", "--bounding-set=-all", "--", bin,
		}, args...)
		cmd = exec.Command("prlimit", full...)
		cmd.Dir = filepath.Dir(bin)
	} else {
		cmd = exec.Command(os.Args[0], args...)
	}
	// GORACE=atexit_sleep_ms=0: under the race detector a process sleeps a
	// second before it exits, by default.
	cmd.Env = append(os.Environ(), helperEnv+"="+name, argEnv+"="+arg,
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	return cmd
}

// helperResult is what a finished helper process said.
type helperResult struct {
	values map[string]json.RawMessage
	stdout string
	stderr string
	err    error // of Wait: nil when the helper exited with status 0
}

// get decodes the value the helper reported under key into v.
func (r *helperResult) get(t testing.TB, key string, v any) {
	t.Helper()
	raw, ok := r.values[key]
	require.Truef(t, ok, "helper reported no %q\nstdout:\n%s\nstderr:\n%s", key, r.stdout, r.stderr)
	require.NoError(t, json.Unmarshal(raw, v), key)
}

// runHelper runs helper name with arg to its end.
func runHelper(t testing.TB, name, arg string, o helperOpts) *helperResult {
	t.Helper()
	cmd := helperCmd(t, name, arg, o)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return parseHelper(stdout.String(), stderr.String(), err)
}

func parseHelper(stdout, stderr string, err error) *helperResult {
	r := &helperResult{values: map[string]json.RawMessage{}, stdout: stdout, stderr: stderr, err: err}
	for _, line := range strings.Split(stdout, "\n") {
		rest, ok := strings.CutPrefix(line, outPrefix)
		if !ok {
			continue
		}
		key, val, _ := strings.Cut(rest, " ")
		r.values[key] = json.RawMessage(val)
	}
	return r
}

// requireOK fails the test unless the helper exited with status 0.
func (r *helperResult) requireOK(t testing.TB) {
	t.Helper()
	require.NoErrorf(t, r.err, "helper failed\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
}

var unpriv struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// unprivilegedBinary returns a copy of the test binary that uid 65534 can
// run: go test builds it in a directory only root may enter.
func unprivilegedBinary(t testing.TB) string {
	t.Helper()
	unpriv.once.Do(func() {
		unpriv.dir, unpriv.err = os.MkdirTemp("", "plock-unpriv-")
		if unpriv.err != nil {
			return
		}
		if unpriv.err = os.Chmod(unpriv.dir, 0o755); unpriv.err != nil {
			return
		}
		unpriv.bin = filepath.Join(unpriv.dir, "plock.test")
		unpriv.err = copyFile(os.Args[0], unpriv.bin, 0o755)
	})
	require.NoError(t, unpriv.err, "copying the test binary for uid 65534")
	// Every directory above it must let uid 65534 through.
	for d := unpriv.dir; d != "/"; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		require.NoError(t, err)
		require.NotZerof(t, fi.Mode().Perm()&0o001, "%s is not searchable by others", d)
	}
	return unpriv.bin
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		helperMain(name)
		os.Exit(0)
	}
	code := m.Run()
	if unpriv.dir != "" {
		os.RemoveAll(unpriv.dir)
	}
	os.Exit(code)
}

// smapsEntry is one mapping as the oracle reads /proc/PID/smaps, with no
// help from the shim: the tests check the shim's Segments against it.
type smapsEntry struct {
	Start, End uintptr
	Perms      string // "r-xp"
	Inode      uint64
	Path       string
	Rss        uint64 // bytes
	Lo         bool   // VmFlags has "lo": the mapping is locked
}

// readSmaps is the tests' one independent reader of /proc/PID/smaps
// ("self" for the caller).
func readSmaps(pid string) ([]smapsEntry, error) {
	b, err := os.ReadFile("/proc/" + pid + "/smaps")
	if err != nil {
		return nil, err
	}
	var maps []smapsEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(f[0], "-"); ok && !strings.HasSuffix(f[0], ":") && len(f) >= 5 {
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			inode, err3 := strconv.ParseUint(f[4], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return nil, fmt.Errorf("smaps: bad line %q", line)
			}
			e := smapsEntry{Start: uintptr(start), End: uintptr(end), Perms: f[1], Inode: inode}
			if len(f) > 5 {
				// The path is the rest of the line (it may hold spaces).
				e.Path = strings.TrimSpace(line[strings.Index(line, f[5]):])
			}
			maps = append(maps, e)
			continue
		}
		if len(maps) == 0 {
			return nil, fmt.Errorf("smaps: %q before any mapping", line)
		}
		cur := &maps[len(maps)-1]
		switch f[0] {
		case "Rss:":
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("smaps: bad line %q", line)
			}
			cur.Rss = kb * 1024
		case "VmFlags:":
			for _, fl := range f[1:] {
				if fl == "lo" {
					cur.Lo = true
				}
			}
		}
	}
	return maps, sc.Err()
}

// vmLck returns VmLck of /proc/self/status in bytes.
func vmLck() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmLck:"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseUint(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmLck in /proc/self/status")
}

// lockedRanges returns the mappings with "lo", as "start-end" strings.
func lockedRanges(maps []smapsEntry) []string {
	var r []string
	for _, m := range maps {
		if m.Lo {
			r = append(r, fmt.Sprintf("%x-%x %s %s", m.Start, m.End, m.Perms, m.Path))
		}
	}
	return r
}

// needRoot skips t, with one line saying so, unless the tests run as root:
// they lock more than a default RLIMIT_MEMLOCK allows, or start helpers as
// another user. CI runs as root and fails if anything skipped.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_IPC_LOCK, setpriv to another user); run as root to test it")
	}
}
