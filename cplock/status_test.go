package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/cplock/plock/internal/bytesize"
)

// A process that locked its data itself: status shows data and stack
// locked, text not.
func TestStatusOfDataLockedProcess(t *testing.T) {
	needRoot(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // ends the helper
	cmd := exec.Command(selfBin)
	cmd.Env = append(os.Environ(), helperEnv+"=datlock")
	cmd.Stdin = r
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer cmd.Wait()
	defer cmd.Process.Kill()
	if l, _ := bufio.NewReader(out).ReadString('\n'); l != "locked\n" {
		t.Fatalf("helper said %q", l)
	}
	pid := cmd.Process.Pid

	st := statusJSON(t, pid, false)
	s := states(st)
	if s["data"] != "locked" || s["stack"] != "locked" || s["text"] != "unlocked" {
		t.Errorf("states %v, want data and stack locked, text unlocked", s)
	}
	if st.PID != pid || st.VmLck == 0 || st.FutureLocked != nil {
		t.Errorf("pid %d vmlck %d future %v: want pid %d, vmlck > 0, future unknown (null)",
			st.PID, st.VmLck, st.FutureLocked, pid)
	}

	table := cplock(t, "status", strconv.Itoa(pid))
	table.expect(t, 0)
	rows := tableRows(t, table.stdout)
	if rows["data"][len(rows["data"])-1] != "locked" || rows["text"][len(rows["text"])-1] != "unlocked" {
		t.Errorf("table rows data %v, text %v\n%s", rows["data"], rows["text"], table.stdout)
	}
	if !strings.Contains(table.stdout, "future growth locked  unknown") {
		t.Errorf("table does not say future growth is unknown:\n%s", table.stdout)
	}
}

// tableRows parses the class table of status: class -> its fields.
func tableRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	rows := make(map[string][]string)
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "text", "data", "stack", "shlib-text", "shlib-data", "other", "total":
			rows[f[0]] = f
		}
	}
	if len(rows) != 7 {
		t.Fatalf("status table has %d rows, want 7:\n%s", len(rows), out)
	}
	return rows
}

// --json parses, has the documented fields, and says what the table says.
func TestStatusJSONAgreesWithTable(t *testing.T) {
	_, pid := runLocked(t, "proc", "sleep", "30")
	st := statusJSON(t, pid, true)
	r := cplock(t, "status", strconv.Itoa(pid))
	r.expect(t, 0)
	rows := tableRows(t, r.stdout)

	if st.Command != "sleep" || !strings.HasPrefix(r.stdout, fmt.Sprintf("process %d (sleep)\n", pid)) {
		t.Errorf("command %q; table starts %q", st.Command, strings.SplitN(r.stdout, "\n", 2)[0])
	}
	var order []string
	var sum jsonClass
	for _, c := range append(st.Classes, st.Total) {
		order = append(order, c.Class)
		// CLASS MAPPINGS SIZE(2) RESIDENT(2) LOCKED(2) [STATE]
		want := []string{c.Class, strconv.Itoa(c.Mappings)}
		want = append(want, strings.Fields(bytesize.Format(c.Size))...)
		want = append(want, strings.Fields(bytesize.Format(c.Resident))...)
		want = append(want, strings.Fields(bytesize.Format(c.Locked))...)
		switch {
		case c.Class == "total":
		case c.State == "none":
			want = append(want, "-")
		default:
			want = append(want, c.State)
		}
		if got := strings.Join(rows[c.Class], " "); got != strings.Join(want, " ") {
			t.Errorf("table row %q, json says %q", got, strings.Join(want, " "))
		}
		if c.Class != "total" {
			sum.Mappings += c.Mappings
			sum.Size += c.Size
		}
	}
	if strings.Join(order, " ") != "text data stack shlib-text shlib-data other total" {
		t.Errorf("classes %v", order)
	}
	if sum.Mappings != st.Total.Mappings || sum.Size != st.Total.Size || len(st.Mappings) != sum.Mappings {
		t.Errorf("total %+v, sum of classes %+v, %d mappings listed", st.Total, sum, len(st.Mappings))
	}
	if st.CapIPCLock != strings.Contains(r.stdout, "CAP_IPC_LOCK          yes") {
		t.Errorf("cap_ipc_lock %v disagrees with the table:\n%s", st.CapIPCLock, r.stdout)
	}
	if st.MemlockSoft == nil || !strings.Contains(r.stdout, "RLIMIT_MEMLOCK        "+bytesize.Format(*st.MemlockSoft)) {
		t.Errorf("memlock_soft %v disagrees with the table:\n%s", st.MemlockSoft, r.stdout)
	}
	if !strings.Contains(r.stdout, "VmLck                 "+bytesize.Format(st.VmLck)) {
		t.Errorf("vmlck %d disagrees with the table:\n%s", st.VmLck, r.stdout)
	}

	// -v lists every mapping, the same ones as --json -v.
	v := cplock(t, "status", "-v", strconv.Itoa(pid))
	v.expect(t, 0)
	for _, m := range st.Mappings {
		if !strings.Contains(v.stdout, strings.TrimPrefix(m.Start, "0x")+"-"+strings.TrimPrefix(m.End, "0x")) {
			t.Errorf("status -v lacks mapping %s-%s", m.Start, m.End)
		}
	}
}

// Status of cplock itself: the caller's own future growth is known.
func TestStatusSelf(t *testing.T) {
	needRoot(t)
	r := cplock(t, "status", "--json")
	r.expect(t, 0)
	if !strings.Contains(r.stdout, `"future_locked": false`) {
		t.Errorf("status of itself: future_locked is not false:\n%s", r.stdout)
	}
	// And as another user, with a finite limit: headroom is a number.
	u := unprivileged(t, "65536:65536", cplockBin, "status")
	u.expect(t, 0)
	for _, w := range []string{"RLIMIT_MEMLOCK        64 KiB (hard 64 KiB)", "CAP_IPC_LOCK          no",
		"future growth locked  no", "headroom              64 KiB"} {
		if !strings.Contains(u.stdout, w) {
			t.Errorf("unprivileged status lacks %q:\n%s", w, u.stdout)
		}
	}
}

func TestStatusErrors(t *testing.T) {
	needRoot(t)
	// No such process: beyond pid_max.
	cplock(t, "status", "2147483647").expect(t, 1, "cplock: no process with PID 2147483647\n")
	// A process of root, inspected by uid 65534.
	r := unprivileged(t, "8388608:8388608", cplockBin, "status", "1")
	r.expect(t, 1, "cplock: may not inspect process 1 (it belongs to uid 0)")
	if strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
		t.Errorf("want one line on stderr and nothing on stdout; got %q, %q", r.stderr, r.stdout)
	}
}
