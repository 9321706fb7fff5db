package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/cplock/plock"
	"github.com/cplock/plock/internal/bytesize"
)

// The classes in the order status shows them.
var classOrder = []plock.Class{
	plock.ClassText, plock.ClassData, plock.ClassStack,
	plock.ClassShlibText, plock.ClassShlibData, plock.ClassOther,
}

// classStatus is one row of the table, and of --json's "classes".
type classStatus struct {
	Class          string `json:"class"`
	Mappings       int    `json:"mappings"`
	LockedMappings int    `json:"locked_mappings"`
	Size           uint64 `json:"size"`
	Resident       uint64 `json:"resident"`
	Locked         uint64 `json:"locked"`
	State          string `json:"state"` // locked, partial, unlocked, none
}

func (c *classStatus) add(s plock.Segment) {
	c.Mappings++
	c.Size += s.Size
	c.Resident += s.Resident
	c.Locked += s.Locked
	if s.IsLocked {
		c.LockedMappings++
	}
}

func (c *classStatus) setState() {
	switch {
	case c.Mappings == 0:
		c.State = "none"
	case c.LockedMappings == c.Mappings:
		c.State = "locked"
	case c.LockedMappings > 0:
		c.State = "partial"
	default:
		c.State = "unlocked"
	}
}

// mapping is one entry of --json -v's "mappings".
type mapping struct {
	Start       string `json:"start"`
	End         string `json:"end"`
	Perms       string `json:"perms"`
	Class       string `json:"class"`
	Size        uint64 `json:"size"`
	Resident    uint64 `json:"resident"`
	Locked      bool   `json:"locked"`
	LockOnFault bool   `json:"lock_on_fault"`
	Path        string `json:"path"`
}

// processStatus is what status prints; its JSON form is --json's output.
type processStatus struct {
	PID          int           `json:"pid"`
	Command      string        `json:"command"`
	Classes      []classStatus `json:"classes"`
	Total        classStatus   `json:"total"`
	VmLck        uint64        `json:"vmlck"`
	MemlockSoft  *uint64       `json:"memlock_soft"` // nil: unlimited
	MemlockHard  *uint64       `json:"memlock_hard"`
	CapIPCLock   bool          `json:"cap_ipc_lock"`
	FutureLocked *bool         `json:"future_locked"` // nil: unknown
	Headroom     *uint64       `json:"headroom"`      // nil: unlimited
	Mappings     []mapping     `json:"mappings,omitempty"`
}

func limit(n uint64) *uint64 {
	if n == plock.Unlimited {
		return nil
	}
	return &n
}

func cmdStatus(args []string, stdout io.Writer) error {
	fs := newFlags("status")
	verbose := fs.Bool("v", false, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags("status", fs, args, true)
	if err == errHelp {
		fmt.Fprint(stdout, helpText("status"))
		return nil
	}
	if err != nil {
		return err
	}
	pid := os.Getpid()
	switch {
	case len(pos) > 1:
		return usageErrorf("status", "too many arguments: one PID at most")
	case len(pos) == 1:
		if pid, err = parsePID("status", pos[0]); err != nil {
			return err
		}
	}
	st, err := collect(pid, *verbose)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return failf("%v", err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return printStatus(stdout, st, *verbose)
}

// collect gathers the status of pid through package plock.
func collect(pid int, verbose bool) (*processStatus, error) {
	// The library takes the caller's own PID for itself, as 0.
	rep, err := plock.StatusOf(pid)
	if err != nil {
		return nil, procFailure(pid, err)
	}
	segs, err := plock.SegmentsOf(pid)
	if err != nil {
		return nil, procFailure(pid, err)
	}
	st := &processStatus{
		PID:         pid,
		Command:     commOf(pid),
		VmLck:       rep.VmLck,
		MemlockSoft: limit(rep.MemlockSoft),
		MemlockHard: limit(rep.MemlockHard),
		CapIPCLock:  rep.CapIPCLock,
		Headroom:    limit(rep.Headroom),
	}
	if rep.Self {
		st.FutureLocked = &rep.FutureLocked
	}
	rows := make(map[plock.Class]*classStatus)
	for _, c := range classOrder {
		rows[c] = &classStatus{Class: c.String()}
	}
	st.Total.Class = "total"
	for _, s := range segs {
		if r, ok := rows[s.Class]; ok {
			r.add(s)
		}
		st.Total.add(s)
		if verbose {
			st.Mappings = append(st.Mappings, mapping{
				Start:       fmt.Sprintf("%#x", s.Start),
				End:         fmt.Sprintf("%#x", s.End),
				Perms:       s.Prot.String(),
				Class:       s.Class.String(),
				Size:        s.Size,
				Resident:    s.Resident,
				Locked:      s.IsLocked,
				LockOnFault: s.LockOnFault,
				Path:        s.Path,
			})
		}
	}
	for _, c := range classOrder {
		rows[c].setState()
		st.Classes = append(st.Classes, *rows[c])
	}
	st.Total.setState()
	return st, nil
}

// procFailure turns an error of StatusOf or SegmentsOf into one line.
func procFailure(pid int, err error) error {
	switch {
	case errors.Is(err, syscall.ESRCH):
		return failf("no process with PID %d", pid)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		owner := ""
		if fi, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				owner = fmt.Sprintf(" (it belongs to uid %d)", st.Uid)
			}
		}
		return failf("may not inspect process %d%s: that needs its user ID or root, "+
			"as reading /proc/%d/smaps does", pid, owner, pid)
	}
	return failf("process %d: %v", pid, err)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func printStatus(w io.Writer, st *processStatus, verbose bool) error {
	fmt.Fprintf(w, "process %d (%s)\n\n", st.PID, st.Command)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Every column is right-aligned; the class names are padded to one
	// width, so that they line up on the left.
	fmt.Fprintf(tw, "%-10s\tMAPPINGS\tSIZE\tRESIDENT\tLOCKED\t  STATE\n", "CLASS")
	row := func(c classStatus) {
		state := c.State
		if c.Class == "total" {
			state = ""
		} else if state == "none" {
			state = "-"
		}
		if state != "" {
			state = "  " + state
		}
		fmt.Fprintf(tw, "%-10s\t%d\t%s\t%s\t%s\t%s\n",
			c.Class, c.Mappings, bytesize.Format(c.Size), bytesize.Format(c.Resident), bytesize.Format(c.Locked), state)
	}
	for _, c := range st.Classes {
		row(c)
	}
	row(st.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)

	future := "unknown (the kernel shows it only to the process itself)"
	if st.FutureLocked != nil {
		future = yesNo(*st.FutureLocked)
	}
	limits := bytesize.Format(deref(st.MemlockSoft)) + " (hard " + bytesize.Format(deref(st.MemlockHard)) + ")"
	capText := "no"
	if st.CapIPCLock {
		capText = "yes: RLIMIT_MEMLOCK does not apply"
	}
	headroom := bytesize.Format(deref(st.Headroom))
	if st.FutureLocked != nil && *st.FutureLocked && st.Headroom != nil {
		headroom += " (memory mapped later counts against it)"
	}
	kv := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(kv, "VmLck\t%s\n", bytesize.Format(st.VmLck))
	fmt.Fprintf(kv, "RLIMIT_MEMLOCK\t%s\n", limits)
	fmt.Fprintf(kv, "CAP_IPC_LOCK\t%s\n", capText)
	fmt.Fprintf(kv, "future growth locked\t%s\n", future)
	fmt.Fprintf(kv, "headroom\t%s\n", headroom)
	if err := kv.Flush(); err != nil {
		return err
	}
	if !verbose {
		return nil
	}
	fmt.Fprintln(w)
	mw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(mw, "START-END\tPERMS\tCLASS\tSIZE\tRESIDENT\tLOCKED\tPATH\n")
	for _, m := range st.Mappings {
		locked := "no"
		if m.Locked {
			locked = "yes"
			if m.LockOnFault {
				locked = "on fault"
			}
		}
		fmt.Fprintf(mw, "%s-%s\t%s\t%s\t%s\t%s\t%s\t%s\n", strings.TrimPrefix(m.Start, "0x"),
			strings.TrimPrefix(m.End, "0x"), m.Perms, m.Class, bytesize.Format(m.Size), bytesize.Format(m.Resident),
			locked, m.Path)
	}
	return mw.Flush()
}

func deref(p *uint64) uint64 {
	if p == nil {
		return plock.Unlimited
	}
	return *p
}
