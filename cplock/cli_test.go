package main

import (
	"strings"
	"testing"

	"github.com/cplock/plock"
)

// Every usage error: one "cplock: ..." line, a usage hint, exit 2, and
// nothing run.
func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{nil, "no command given"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--verbose"}, "unknown flag --verbose"},
		{[]string{"status", "--bogus"}, "unknown flag --bogus"},
		{[]string{"status", "abc"}, `bad PID "abc"`},
		{[]string{"status", "0"}, `bad PID "0"`},
		{[]string{"status", "1", "2"}, "too many arguments"},
		{[]string{"run", "--", "true"}, "--lock OP is required"},
		{[]string{"run", "--lock"}, "flag --lock needs a value"},
		{[]string{"run", "--lock", "everything", "--", "true"}, `unknown lock operation "everything"`},
		{[]string{"run", "--lock", "text+nonsense", "--", "true"}, `unknown lock operation "text+nonsense"`},
		{[]string{"run", "--lock", "unlock", "--", "true"}, "--lock UNLOCK: nothing is locked when a program starts"},
		{[]string{"run", "--lock", "proc"}, "no command to run"},
		{[]string{"run", "--lock", "proc", "--"}, "no command to run"},
		{[]string{"run", "--fast", "--lock", "proc", "--", "true"}, "unknown flag --fast"},
		{[]string{"check", "--bytes", "lots"}, `--bytes: bad size "lots"`},
		{[]string{"check", "--bytes", "64Q"}, `--bytes: bad size "64Q"`},
		{[]string{"check", "64M"}, `unexpected argument "64M"`},
		{[]string{"help", "frobnicate"}, `no command "frobnicate"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := cplock(t, c.args...)
			r.expect(t, 2, "cplock: "+c.msg, "\nusage: cplock ", "Run 'cplock help")
			if r.stdout != "" || !strings.HasPrefix(r.stderr, "cplock: ") ||
				strings.Count(strings.SplitN(r.stderr, "\nusage:", 2)[0], "\n") != 0 {
				t.Errorf("want nothing on stdout and one message line first on stderr: %q, %q",
					r.stdout, r.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "\tcplock run [--follow] [--allow-unlocked]"},
		{[]string{"-h"}, "\tcplock status [-v] [--json] [PID]"},
		{[]string{"help"}, "Run \"cplock help COMMAND\""},
		{[]string{"help", "status"}, "\tcplock status [-v] [--json] [PID]"},
		{[]string{"help", "run"}, "proc (PROCLOCK: text and data)"},
		{[]string{"help", "check"}, "setcap"},
		{[]string{"status", "-h"}, "--json  print JSON"},
		{[]string{"run", "--help"}, "--allow-unlocked   run the program"},
		{[]string{"check", "-h"}, "--bytes N"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := cplock(t, c.args...)
			r.expect(t, 0)
			if !strings.Contains(r.stdout, c.want) || !strings.Contains(r.stdout, "Usage:") || r.stderr != "" {
				t.Errorf("stdout lacks %q or Usage, or stderr not empty:\n%s\nstderr: %s", c.want, r.stdout, r.stderr)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	needRoot(t)
	// Root here has CAP_IPC_LOCK: anything goes.
	r := cplock(t, "check", "--bytes", "1G")
	r.expect(t, 0)
	if !strings.HasPrefix(r.stdout, "yes: 1.0 GiB can be locked: CAP_IPC_LOCK is in effect") {
		t.Errorf("as root: %q", r.stdout)
	}

	// As uid 65534 under 8 MiB: 1M (the default) fits, 64M does not.
	u := unprivileged(t, "8388608:8388608", cplockBin, "check")
	u.expect(t, 0)
	if !strings.HasPrefix(u.stdout, "yes: 1.0 MiB can be locked: RLIMIT_MEMLOCK is 8.0 MiB") ||
		!strings.Contains(u.stdout, "later") {
		t.Errorf("unprivileged, default: %q", u.stdout)
	}
	u = unprivileged(t, "8388608:8388608", cplockBin, "check", "--bytes", "64M")
	u.expect(t, 1)
	for _, w := range []string{
		"no: 64 MiB cannot be locked: RLIMIT_MEMLOCK is 8.0 MiB (hard limit 8.0 MiB), and this process lacks CAP_IPC_LOCK",
		"ulimit -l 65536\n", "CAP_SYS_RESOURCE", "nobody  -  memlock  65536", "LimitMEMLOCK=67108864",
		"--ulimit memlock=67108864:67108864", "AmbientCapabilities=CAP_IPC_LOCK", "--cap-add IPC_LOCK",
		"setcap cap_ipc_lock+ep",
	} {
		if !strings.Contains(u.stdout, w) {
			t.Errorf("64M, unprivileged: lacks %q:\n%s", w, u.stdout)
		}
	}
	// Under the hard limit, ulimit -l alone does it.
	u = unprivileged(t, "1048576:8388608", cplockBin, "check", "--bytes", "4M")
	u.expect(t, 1)
	if !strings.Contains(u.stdout, "ulimit -l 4096\n      in the shell that starts the program (up to the hard limit: no privilege needed)") {
		t.Errorf("4M under a soft 1M, hard 8M:\n%s", u.stdout)
	}
	// With a limit of 0 nothing can be locked.
	unprivileged(t, "0:0", cplockBin, "check", "--bytes", "4096").expect(t, 1)
}

func TestParseOp(t *testing.T) {
	cases := map[string]plock.Op{
		"proc": plock.ProcLock, "PROC": plock.ProcLock, "PROCLOCK": plock.ProcLock, "proclock": plock.ProcLock,
		"text": plock.TxtLock, "TXTLOCK": plock.TxtLock,
		"data": plock.DatLock, "DatLock": plock.DatLock,
		"shlib": plock.ShlibLock, "SHLIBLOCK": plock.ShlibLock,
		"text+data": plock.ProcLock, "data+text": plock.ProcLock,
		"proc+shlib": plock.ProcShlibLock, "text+data+shlib": plock.ProcShlibLock, "PROCSHLIBLOCK": plock.ProcShlibLock,
		"text+shlib": plock.TxtShlibLock, "TXTSHLIBLOCK": plock.TxtShlibLock,
		"data+shlib": plock.DatShlibLock, "datshliblock": plock.DatShlibLock,
	}
	for s, want := range cases {
		if got, err := parseOp(s); err != nil || got != want {
			t.Errorf("parseOp(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "UNLOCK", "all", "text+", "txt", "3"} {
		if op, err := parseOp(s); err == nil {
			t.Errorf("parseOp(%q) = %v, want an error", s, op)
		}
	}
}

func TestUnits(t *testing.T) {
	sizes := map[string]uint64{
		"0": 0, "4096": 4096, "64K": 64 << 10, "64k": 64 << 10, "64M": 64 << 20, "64MiB": 64 << 20,
		"64MB": 64 << 20, "1G": 1 << 30, "1gib": 1 << 30, "2T": 2 << 40, "512B": 512,
	}
	for s, want := range sizes {
		if got, err := parseBytes(s); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "M", "-1", "1.5G", "64Q", "99999999999T"} {
		if n, err := parseBytes(s); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", s, n)
		}
	}
}
