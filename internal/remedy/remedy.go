// Package remedy holds the texts that say how to let a process lock more
// memory: each is written here once, and package plock's errors and the
// cplock command use them.
package remedy

import (
	"fmt"

	"github.com/cplock/plock/internal/bytesize"
)

// The ways to grant CAP_IPC_LOCK, with which no RLIMIT_MEMLOCK applies.
const (
	Setcap    = "setcap cap_ipc_lock+ep"           // on the program's file
	Ambient   = "AmbientCapabilities=CAP_IPC_LOCK" // in a systemd unit
	DockerCap = "docker run --cap-add IPC_LOCK"    // for a container
)

// GrantIPCLock says how to grant CAP_IPC_LOCK.
const GrantIPCLock = "grant CAP_IPC_LOCK (" + Setcap + ", " + Ambient + ", " + DockerCap + ")"

// Unlimited says how to make RLIMIT_MEMLOCK unlimited.
const Unlimited = "make RLIMIT_MEMLOCK unlimited (ulimit -l unlimited, LimitMEMLOCK=infinity)"

// Ulimit is the shell command that sets RLIMIT_MEMLOCK to at least n
// bytes: ulimit -l takes KiB.
func Ulimit(n uint64) string { return fmt.Sprintf("ulimit -l %d", bytesize.KiB(n)) }

// Systemd is the systemd unit setting for RLIMIT_MEMLOCK n.
func Systemd(n uint64) string { return fmt.Sprintf("LimitMEMLOCK=%d", n) }

// DockerUlimit is docker run's option for RLIMIT_MEMLOCK n.
func DockerUlimit(n uint64) string { return fmt.Sprintf("docker run --ulimit memlock=%d:%d", n, n) }

// Prlimit is the command that sets RLIMIT_MEMLOCK n on the running
// process pid.
func Prlimit(pid int, n uint64) string {
	return fmt.Sprintf("prlimit --pid %d --memlock=%d:%d", pid, n, n)
}

// Raise says how to raise RLIMIT_MEMLOCK to at least need bytes, for
// process pid (0: the caller): "raise it to at least 1.2 MiB (ulimit -l
// 1232, LimitMEMLOCK=1261568)".
func Raise(need uint64, pid int) string {
	how := Ulimit(need) + ", " + Systemd(need)
	if pid != 0 {
		how = Ulimit(need) + " before it starts, " + Prlimit(pid, need) + ", " + Systemd(need)
	}
	return fmt.Sprintf("raise it to at least %s (%s)", bytesize.Format(need), how)
}
