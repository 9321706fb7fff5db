// The cplock command. Its manual is the package documentation, in doc.go,
// which "cplock help" prints.
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

//go:embed doc.go
var doc string

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(report(err, os.Stderr))
}

// run runs cplock with args (without the program name) and returns nil, or
// an error whose exit status report decides.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("", "no command given")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "status":
		return cmdStatus(args, stdout)
	case "run":
		return cmdRun(args, stdout, stderr)
	case "lock":
		return cmdLock(args, stdout)
	case "unlock":
		return cmdUnlock(args, stdout)
	case "check":
		return cmdCheck(args, stdout)
	case "help":
		return cmdHelp(args, stdout)
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, helpText(""))
		return nil
	}
	if strings.HasPrefix(cmd, "-") {
		return usageErrorf("", "unknown flag %s: flags follow the command", cmd)
	}
	return usageErrorf("", "unknown command %q", cmd)
}

// exitError ends cplock with status code, after printing msg if it is not
// empty.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// failf is a failure: exit status 1.
func failf(format string, args ...any) error {
	return &exitError{code: 1, msg: fmt.Sprintf(format, args...)}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct {
	cmd string // "" for cplock itself
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// report prints err on w as cplock's messages look and returns the exit
// status.
func report(err error, w io.Writer) int {
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(w, "cplock: %s\n", ue.msg)
		if ue.cmd == "" {
			fmt.Fprintf(w, "usage: %s\nRun 'cplock help' for details.\n",
				strings.Join(usageLines(""), "\n       "))
		} else {
			fmt.Fprintf(w, "usage: %s\nRun 'cplock help %s' for details.\n",
				strings.Join(usageLines(ue.cmd), "\n       "), ue.cmd)
		}
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(w, "cplock: %s\n", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(w, "cplock: %v\n", err)
	return 1
}

// helpText returns the manual's section for cmd: the text under its
// heading in doc.go, or the overview before the first heading for "".
func helpText(cmd string) string {
	body, _, _ := strings.Cut(doc, "*/")
	_, body, _ = strings.Cut(body, "/*\n")
	if cmd == "" {
		s, _, _ := strings.Cut(body, "\n# ")
		return s
	}
	_, s, ok := strings.Cut(body, "\n# "+cmd+"\n")
	if !ok {
		return ""
	}
	s, _, _ = strings.Cut(s, "\n# ")
	return "cplock " + cmd + "\n" + s
}

// usageLines returns the indented "cplock ..." lines of cmd's Usage.
func usageLines(cmd string) []string {
	var lines []string
	for _, l := range strings.Split(helpText(cmd), "\n") {
		if strings.HasPrefix(l, "\tcplock ") {
			lines = append(lines, strings.TrimPrefix(l, "\t"))
		}
	}
	return lines
}

func cmdHelp(args []string, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(stdout, helpText(""))
	case len(args) > 1:
		return usageErrorf("help", "too many arguments")
	case helpText(args[0]) == "":
		return usageErrorf("help", "no command %q", args[0])
	default:
		fmt.Fprint(stdout, helpText(args[0]))
	}
	return nil
}

// newFlags returns a FlagSet for cmd that reports errors as usageErrors
// and answers -h with cmd's help.
func newFlags(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet("cplock "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs, and flags after positional arguments
// too when interspersed (not after "--"). It returns the positional
// arguments, errHelp after -h, or a usageError.
func parseFlags(cmd string, fs *flag.FlagSet, args []string, interspersed bool) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageErrorf(cmd, "%s", flagMessage(err, args))
		}
		rest := fs.Args()
		n := len(args) - len(rest)
		if !interspersed || len(rest) == 0 || (n > 0 && args[n-1] == "--") {
			return append(pos, rest...), nil
		}
		// fs.Parse stopped at a positional argument: flags may follow it.
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

var errHelp = errors.New("help requested")

// flagMessage turns the flag package's messages into cplock's, naming a
// flag as it was typed.
func flagMessage(err error, args []string) string {
	s := err.Error()
	typed := func(name string) string {
		for _, a := range args {
			k, _, _ := strings.Cut(a, "=")
			if strings.TrimLeft(k, "-") == strings.TrimLeft(name, "-") && strings.HasPrefix(k, "-") {
				return k
			}
		}
		return name
	}
	if name, ok := strings.CutPrefix(s, "flag provided but not defined: "); ok {
		return "unknown flag " + typed(name)
	}
	if name, ok := strings.CutPrefix(s, "flag needs an argument: "); ok {
		return "flag " + typed(name) + " needs a value"
	}
	return s
}
