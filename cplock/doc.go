/*
Cplock shows what a process has locked in memory, runs an unmodified
program with the System V plock(2) lock applied from its start, and locks
or unlocks a process that is running.

Usage:

	cplock status [-v] [--json] [PID]
	cplock run [--follow] [--allow-unlocked] [--pid-file FILE] --lock OP -- COMMAND [ARG...]
	cplock lock [--seccomp-unchecked] OP PID
	cplock unlock [--seccomp-unchecked] PID
	cplock check [--bytes N]
	cplock help [COMMAND]

Commands:

	status	what a process has locked, by segment, and what limits it
	run	run a program with plock(OP) applied before its main()
	lock	apply plock(OP)'s locks to a running process
	unlock	remove every lock of a running process
	check	whether this user can lock N bytes here, and how to fix it if not
	help	show this text, or a command's

Run "cplock help COMMAND" for a command's details. cplock uses the same
classification of mappings into segments (text, data, stack, shared-library
text and data) as plock() itself, from libplock.

Exit status: 0 on success, 1 on a failure, 2 on a usage error; "cplock run"
exits with the program's status.

Examples:

	cplock run --lock proc -- ./server
	cplock lock proc+shlib $(pidof server)
	cplock status $(pidof server)
	cplock unlock $(pidof server)

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

	cplock run [--follow] [--allow-unlocked] [--pid-file FILE] --lock OP -- COMMAND [ARG...]

Run starts COMMAND (looked up in PATH) with plock(OP) applied before its
main() runs, and waits for it. The program needs no change and no -lplock,
and cplock needs nothing but itself: any program works, dynamically or
statically linked C, Go (pure Go programs are static), and scripts (their
interpreter is locked).

The lock follows the program: whatever it executes (a script's
#!/usr/bin/env interpreter, sh -c 'exec prog', a wrapper that execs the
real server) runs locked with OP from its own entry point, as if that
program's main began with plock(OP) too. With --follow, so do its
children: every new process (fork, vfork, clone without CLONE_VM) is
locked from its first instruction after the fork, and every program any of
them executes. Without --follow children start unlocked, as System V says
(locks are not inherited across fork); threads are never a separate case.

OP is an operation of <sys/lock.h>, in any case: PROCLOCK, TXTLOCK,
DATLOCK, SHLIBLOCK, PROCSHLIBLOCK, TXTSHLIBLOCK or DATSHLIBLOCK; or a short
form: proc (PROCLOCK: text and data), text (TXTLOCK), data (DATLOCK),
shlib (SHLIBLOCK), and combinations with "+": proc+shlib (PROCSHLIBLOCK),
text+shlib (TXTSHLIBLOCK), data+shlib (DATSHLIBLOCK), text+data
(PROCLOCK). Each locks what plock(OP) locks: see the table of plock(3).

How: Linux has no system call that locks another process's memory, so
cplock starts the program under ptrace(2) and stays its tracer until it
exits. At each exec it stops the process before the dynamic loader, checks
there whether the lock can succeed, lets the loader map the shared
libraries, stops it again at its entry point, before the program's first
instruction, and makes it execute the mlock2() and mlockall() calls
itself. What is locked is decided as plock() decides it, by libplock's
classification of the program's mappings. Meanwhile every signal reaches
the program as it would without cplock, and a stop (SIGSTOP, SIGTSTP) is a
stop until SIGCONT. That needs no privilege beyond starting the program: a
process may trace its own child (unless kernel.yama.ptrace_scope is 3).
Because cplock traces it, no debugger, strace or cplock lock/unlock can
attach to the program while it runs under cplock run. Threads that
shared-library constructors start before the entry point run on while the
program is locked.

The program is held only while it is being locked, before its first
instruction (after its start, an exec, or with --follow a fork): if cplock
is killed then (SIGKILL, the OOM killer), the kernel kills that process
with it, and it never runs unlocked. Killed at any other moment, cplock
leaves every process running on, untraced and unharmed; programs they
execute later are not locked.

"Not started" means nothing of it ran. Whether the lock can succeed
(RLIMIT_MEMLOCK against what the executable and its loader need, a limit
of 0 without CAP_IPC_LOCK, the Go rule, a seccomp filter that forbids the
calls) is decided at the exec, before the dynamic loader and any library's
constructor runs. If the lock fails (the user lacks CAP_IPC_LOCK and
RLIMIT_MEMLOCK is too low), cplock says why and how much would have to be
locked, kills the program before it runs, and exits with status 1. The same
if the program cannot be traced at all (a seccomp filter refuses ptrace, or
cplock itself runs under strace -f): cplock says which, and the program is
not started. If a lock at a later exec fails, that process is killed
before the new program's first instruction and cplock says why (for the
program itself cplock then exits with status 1; for a child under --follow
it goes on waiting for the program). With --allow-unlocked a process whose
lock fails runs anyway, unlocked, after a warning.

A program linked with libplock sees the lock as its own plock() state: its
own plock(PROCLOCK) fails with EINVAL, and its plock(UNLOCK) removes the
locks (cplock tells the library through its plock_handoff word, plock(3)).
A Go program is locked with the Go package's rule: a data lock without
CAP_IPC_LOCK under a finite RLIMIT_MEMLOCK is refused, because the Go
runtime would abort when its heap outgrew the limit.

Cplock exits with the program's exit status, or 128+N if signal N killed it,
as a shell does. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to cplock are
passed on to the program (a signal typed at the terminal reaches both, so
the program may see it twice). If COMMAND is not found, cplock exits with
status 127; if it cannot be executed, 126. A set-user-ID or set-group-ID
program, or one with file capabilities, is refused with status 1: the
kernel does not grant its privilege to a program started under ptrace
(lock it once it runs, with cplock lock, instead).

Flags:

	--lock OP          the operation (required)
	--follow           lock every child too, from its first instruction
	--allow-unlocked   run the program even if the lock fails
	--pid-file FILE    write the program's PID to FILE once it is locked

# lock

Usage:

	cplock lock [--seccomp-unchecked] OP PID

Lock applies plock(OP)'s locks to process PID while it runs: the mappings
that plock(OP) would lock if the process called it itself (OP as for run).
Classes that are locked already are left as they are. The locks count
against the process's own RLIMIT_MEMLOCK and CAP_IPC_LOCK, not cplock's; a
Go program is refused a data lock under a finite limit without
CAP_IPC_LOCK, as by run. A failure changes nothing in the process: cplock
says why (its RLIMIT_MEMLOCK, and how far to raise it with prlimit --pid)
and exits with status 1. A process with libplock loaded sees what lock
and unlock did as its own plock() state, as after run.

How: Linux has no system call that locks another process's memory, so one
thread of the process, the worker, executes mlock2() and mlockall() for
cplock, through ptrace(2). The worker is a thread asleep in a system call
if there is one, and never the main thread of a process with threads; the
other threads run on, untouched. The process keeps running exactly as
before:

  - The worker is stopped as SIGSTOP stops a thread, and comes back as
    after SIGCONT: a system call it was blocked in returns what it returns
    after a SIGSTOP/SIGCONT pair. Most are restarted: read, recv, accept,
    connect, poll, ppoll, select, pselect, futex waits, nanosleep,
    clock_nanosleep, sigsuspend, pause, msgrcv, waitid, wait4, flock and
    fcntl F_SETLKW; those with a timeout keep their deadline (select,
    pselect and ppoll, which Linux restarts with the time left, also count
    the time stopped). A few Linux interrupts with EINTR even for a stop
    signal, and so here: epoll_wait, epoll_pwait, sigtimedwait, semop,
    semtimedop, and a read on a socket with SO_RCVTIMEO.
  - Its registers, signal mask and pending signals are as they were. An
    rseq critical section (per-CPU code: tcmalloc, librseq) that the stop
    interrupted is aborted to its abort handler, as the kernel does when it
    preempts the thread.
  - A signal that comes meanwhile is delivered as it would have been. A
    process stopped by SIGSTOP stays stopped.
  - Nothing is written to the program's memory. The injected code lives in
    the unused tail of its [vdso] mapping (a private copy of that page).
  - A system call that the process's seccomp filter would not allow is
    never made: cplock reads the filter first (that needs CAP_SYS_ADMIN)
    and, if it forbids one of the calls, says "the process's seccomp
    filter forbids mlock2" (say) and changes nothing. A process with a
    filter that cplock may not read (Seccomp: 2 in its /proc/PID/status,
    cplock without CAP_SYS_ADMIN) is refused the same way, unless
    --seccomp-unchecked: then a filter that kills on mlock2 kills it.
  - SIGINT, SIGTERM and SIGHUP sent to cplock wait until the process is
    whole again; then cplock dies of the signal. If cplock is killed
    (SIGKILL, the OOM killer) at any instant, the process runs on
    correctly: the worker finishes the system call in flight, if any, and
    puts its own registers back by itself. At most the locks of that call
    remain: cplock status shows them, cplock unlock removes them.
  - If the process executes a new program meanwhile, cplock says so and
    exits with status 1: the locks ended with the old program. A process
    whose main thread has exited (pthread_exit) is locked through a thread
    that lives.

Permission is what the kernel asks to trace the process:

  - the same user, and the process is dumpable (not a set-user-ID or
    file-capability program, no prctl(PR_SET_DUMPABLE, 0)), or CAP_SYS_PTRACE (root has it; grant it
    with setcap cap_sys_ptrace+ep, or systemd
    AmbientCapabilities=CAP_SYS_PTRACE);
  - Yama (kernel.yama.ptrace_scope): 0 lets a user trace any of its
    processes; 1 (the default on many distributions) only its
    descendants, so another process needs CAP_SYS_PTRACE, or
    sysctl kernel.yama.ptrace_scope=0; 2 needs CAP_SYS_PTRACE always;
    3 refuses everyone until the next boot;
  - no other tracer (a debugger, strace) attached to any of its threads,
    and no seccomp filter or security module (SELinux, AppArmor) refusing
    ptrace to cplock (a container may need --cap-add SYS_PTRACE).

When the kernel refuses, cplock says which of these it was and what to do
(for a tracer: its process ID). Linux on x86-64 and arm64 only, for now;
elsewhere lock, unlock and run say they are not supported, and so they do
for a 32-bit program. On arm64 the injected code ends with rt_sigreturn of
a frame written below the worker's stack pointer, where the kernel writes
signal frames; if cplock is killed while the worker executes it, a relative
sleep or timed futex wait the stop interrupted starts again with its whole
timeout.

Flags:

	--seccomp-unchecked   lock a process whose seccomp filter cplock cannot
	                      read, as if the filter allowed the calls

# unlock

Usage:

	cplock unlock [--seccomp-unchecked] PID

Unlock removes every lock of process PID, as the process's own
munlockall() would (it ends its MCL_FUTURE too), whoever made them. It
works, promises and needs what lock does.

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

//go:generate go run ../internal/manpage -o ../man/cplock.1 doc.go
