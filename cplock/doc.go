/*
Cplock shows what a process has locked in memory, and runs an unmodified
program with the System V plock(2) lock applied from its start.

Usage:

	cplock status [-v] [--json] [PID]
	cplock run [--allow-unlocked] [--pid-file FILE] --lock OP -- COMMAND [ARG...]
	cplock check [--bytes N]
	cplock help [COMMAND]

Commands:

	status	what a process has locked, by segment, and what limits it
	run	run a program with plock(OP) applied before its main()
	check	whether this user can lock N bytes here, and how to fix it if not
	help	show this text, or a command's

Run "cplock help COMMAND" for a command's details. cplock uses the same
classification of mappings into segments (text, data, stack, shared-library
text and data) as plock() itself, from libplock.

Exit status: 0 on success, 1 on a failure, 2 on a usage error; "cplock run"
exits with the program's status.

# status

Usage:

	cplock status [-v] [--json] [PID]

Status shows what process PID (by default cplock itself) has locked in
memory: for each class of segment that plock() knows (text, data, stack,
shlib-text, shlib-data, other), how many mappings it has, their size, how
much of it is resident and how much is locked, and whether the class is
locked, partly locked or unlocked. Below the table: the bytes the kernel
counts as locked (VmLck), the RLIMIT_MEMLOCK limits, whether the process has
CAP_IPC_LOCK, whether memory it maps later is locked too (a data lock turns
that on; the kernel tells only the process itself, so for another process it
is "unknown"), and the headroom: how many more bytes it may lock. After a
data lock, "other" may show locked mappings too: files the program mapped
later (locale data, say), which the kernel locks as it locks all growth.

Reading another user's process needs root, as reading /proc/PID/smaps does.

Flags:

	-v      list every mapping too: address range, permissions, class,
	        size, resident, locked ("yes", "on fault" for anonymous memory
	        that plock() locks as it is touched, or "no") and the file
	--json  print JSON instead: fields pid, command, classes and total
	        (each with class, mappings, locked_mappings, size, resident,
	        locked, state: "locked", "partial", "unlocked" or "none"), vmlck,
	        memlock_soft, memlock_hard, headroom (null: unlimited),
	        cap_ipc_lock, future_locked (null: unknown) and, with -v,
	        mappings (start, end, perms, class, size, resident, locked,
	        lock_on_fault, path). Sizes are in bytes.

# run

Usage:

	cplock run [--allow-unlocked] [--pid-file FILE] --lock OP -- COMMAND [ARG...]

Run starts COMMAND (looked up in PATH) with plock(OP) applied before its
main() runs, through the preload library libplock-preload.so, and waits for
it. The program needs no change and no -lplock: it must be dynamically
linked.

OP is an operation of <sys/lock.h>, in any case: PROCLOCK, TXTLOCK,
DATLOCK, SHLIBLOCK, PROCSHLIBLOCK, TXTSHLIBLOCK or DATSHLIBLOCK; or a short
form: proc (PROCLOCK: text and data), text (TXTLOCK), data (DATLOCK: data,
heap and stack, and all later growth), shlib (SHLIBLOCK: the shared
libraries' text and data), and combinations with "+": proc+shlib
(PROCSHLIBLOCK), text+shlib (TXTSHLIBLOCK), data+shlib (DATSHLIBLOCK),
text+data (PROCLOCK).

If plock fails (the user lacks CAP_IPC_LOCK and RLIMIT_MEMLOCK is too low),
cplock says why and how much would have to be locked, the program does not
start, and cplock exits with status 1. With --allow-unlocked the program
runs anyway, unlocked, after a warning.

The lock is the program's own: its children and the programs it executes
start unlocked, and do not inherit the request (cplock removes it from their
environment). A program that calls plock() itself sees the lock cplock made:
a second PROCLOCK fails with EINVAL, as on System V. A dynamically linked Go
program is locked with the Go package's rule: a data lock without
CAP_IPC_LOCK under a finite RLIMIT_MEMLOCK is refused, because the Go
runtime would abort when its heap outgrew the limit.

Cplock exits with the program's exit status, or 128+N if signal N killed it,
as a shell does. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to cplock are
passed on to the program (a signal typed at the terminal reaches both, so
the program may see it twice). If COMMAND is not found, cplock exits with
status 127; if it cannot be executed, 126. A set-user-ID or set-group-ID
program, one with file capabilities, and a statically linked one are
refused with status 1: the dynamic loader ignores LD_PRELOAD for the first
ones, and a static program has no dynamic loader.

The preload library is looked for in $PLOCK_PRELOAD (a path), next to the
cplock executable, in ../lib/plock from it, and in the directory compiled in
by "make install". "make" in the plock source tree builds it as
build/libplock-preload.so.

Flags:

	--lock OP          the operation (required)
	--allow-unlocked   run the program even if the lock fails
	--pid-file FILE    write the program's PID to FILE once it is locked

# check

Usage:

	cplock check [--bytes N]

Check says whether a process started here by this user, with these limits,
can lock N bytes, and if not, the exact ways to make it possible: raising
RLIMIT_MEMLOCK (ulimit -l, limits.conf, systemd LimitMEMLOCK=, docker
--ulimit memlock=) or granting CAP_IPC_LOCK (setcap, systemd
AmbientCapabilities=, docker --cap-add IPC_LOCK). It exits 0 if the bytes
can be locked and 1 if not.

N is a number of bytes with an optional binary suffix: K, M, G or T (also
KiB, MiB, GiB, TiB; 1K is 1024). Without --bytes, N is 1M, about what
plock(PROCLOCK) locks in a small C program started by "cplock run".

Flags:

	--bytes N   the number of bytes to lock (default 1M)

# help

Usage:

	cplock help [COMMAND]

Help shows the overview of cplock, or the details of COMMAND.
*/
package main
