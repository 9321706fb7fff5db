/*
 * Another process executes our system calls: ptrace(2).
 *
 * Linux has no system call that locks another process's memory; a process
 * can only lock its own.  So one thread of the process, the worker, is
 * stopped and made to execute mlock2(), mlockall() and munlockall() for us;
 * the other threads run on (the engine copes with mappings that change
 * under it, as it does in the caller).  The architecture's registers and
 * instructions are in remote_arch.h; what follows is the same for every
 * architecture.
 *
 * The rule everything here follows: the command may die at any instruction
 * (SIGKILL, the OOM killer), and the kernel then detaches the worker and
 * lets it run from wherever it is.  So the worker is never left in a state
 * from which running on would harm it:
 *
 *  - Stopped with its own registers (found so, or given back), it runs on as
 *    after a SIGSTOP/SIGCONT pair: a detach, by us or by the kernel when we
 *    die, wakes it with TIF_SIGPENDING set, and the way back to user mode
 *    goes through the kernel's restart of an interrupted system call
 *    (-ERESTARTSYS and the others), exactly as after a stop signal.
 *
 *  - Executing a call for us, its program counter is on a syscall
 *    instruction that we put in the process (the injected code) and that is
 *    followed by code restoring every register from a context block beside
 *    it and jumping back: the registers the thread had, with the kernel's
 *    restart applied by hand (pl_regs_restarted), and an interrupted rseq
 *    critical section aborted.  Our call runs, then the thread puts itself
 *    back, whether we are there or not: the code's last instruction restores
 *    the thread (like the rt_sigreturn that ends the parasite of CRIU's
 *    compel, but in user mode, without touching the stack or the signal mask
 *    and without clobbering the kernel's restart_block, so that even a
 *    nanosleep goes on with what it had left).  With us there, it never
 *    gets that far: it stops at the syscall-exit-stop, where we read the
 *    result and set up the next call, or give its registers back.
 *
 *  - The injected code lives where the program never executes: the unused
 *    tail of the [vdso] mapping, after the end of the vDSO's image.  A write
 *    there through /proc/PID/mem makes a private copy of the page (as a
 *    debugger's breakpoint does), in this process only.  Nothing is written
 *    to the program's own memory, its stack included.  (arm64 differs, in
 *    remote_arch.h: the code ends with rt_sigreturn, whose frame does not
 *    fit in the tail; it is written below the worker's stack pointer, where
 *    signal delivery writes its frames.)
 *
 * Choosing the worker: a thread asleep in a system call if there is one (it
 * loses no time), never a zombie (a main thread that called pthread_exit()).
 * No thread may be traced by anyone else, which also keeps two commands
 * from sharing the injected code.  The worker is PTRACE_SEIZEd and
 * PTRACE_INTERRUPTed; its interrupt-stop is the kernel's, the same as a
 * stop signal's, so a blocking call it was in returns what it returns after
 * SIGSTOP (most restart; epoll_wait and a few others say EINTR there too).
 *
 * Before any call: the worker's seccomp filters are read and every call the
 * engine may make is checked against them (seccomp.c): a call the filter
 * would not let through is never made.  An rseq critical section the worker
 * was interrupted in is aborted to its abort handler, as the kernel does
 * when it preempts or signals a thread inside one: we move the program
 * counter, so the kernel's own check would see the injected code instead.
 *
 * A signal that arrives while the worker executes our calls stops it on the
 * way back to user mode with our registers in it: it gets its own registers
 * back, the signal is delivered with the kernel's own rules, the worker is
 * interrupted again (at the handler's first instruction, say) and the calls
 * go on from there.  A group-stop (SIGSTOP from outside) is respected: the
 * program runs no instruction until it ends, and the kernel puts the worker
 * back into it when we detach.
 *
 * Another thread's execve() kills the worker (de_thread()); its exit is
 * collected at once, so that the exec can finish, and the call ends with
 * ESRCH, pl_remote_execed() saying why.  Nothing is left to undo: the locks
 * went with the old memory.
 *
 * Locking at the entry point (at_entry): the process is our child, traced by
 * PTRACE_TRACEME and stopped at the SIGTRAP of its execve(), in the dynamic
 * loader.  A breakpoint at AT_ENTRY lets the loader map the shared objects,
 * and stops the process before the program's first instruction.  Until it
 * is released, PTRACE_O_EXITKILL makes the kernel kill it if we die: a
 * program that is to run locked never runs unlocked, nor hits the
 * breakpoint without us.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	0x01
#endif

#include "internal.h"
#include "remote_arch.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION	0x420f
#endif

/* The tracer of any thread of pid other than the caller, or 0. */
pid_t pl_remote_tracer(pid_t pid)
{
	struct pl_tasks it;
	long tracer = 0, me = getpid();
	pid_t t;

	if (pl_tasks_open(&it, pid) != 0)
		return 0;
	while (tracer == 0 && (t = pl_tasks_next(&it, NULL)) != 0) {
		tracer = pl_proc_status_long(pid, t, "TracerPid", 0);
		if (tracer == me)
			tracer = 0;
	}
	pl_tasks_close(&it);
	return (pid_t)tracer;
}

#ifndef PL_REMOTE_NOREGS

struct pl_remote {
	pid_t pid;		/* the process (its thread group id) */
	pid_t worker;		/* the one thread we trace */
	int seized;		/* 0: our PTRACE_TRACEME child (at_entry) */
	int held;		/* PLOCK_TRACED: traced before us, and stays so */
	int reset;		/* started as PLOCK_AT_ENTRY says: reset_child() */
	int keep_kill;		/* held, failed: PTRACE_O_EXITKILL stays on */
	int at_exec;		/* held at an exec: pl_remote_enter() runs it to its entry */
	long options;		/* held: the ptrace options to leave it with */
	int parent;		/* the caller is its parent: its exit is the caller's */
	int traced;		/* the worker is ours (seized, or our TRACEME child) */
	int stopped;		/* the worker is in a ptrace-stop */
	int gone;		/* the worker exited (killed, or another thread's exec) */
	int execed;		/* ... and the process runs a new program */
	pl_regs saved;		/* the worker's registers as found (raw) */
	int dirty;		/* the worker has our registers, not saved */
	int armed;		/* the injected code restores saved */
	uintptr_t code;		/* where the injected code is, in [vdso] */
	uintptr_t batch, list;	/* the batch loop and its list, after the code */
	size_t cap;		/* entries the list holds; 0: no batches */
	int sig;		/* a signal the process ignores, which ends a batch */
	uintptr_t rseq_cs;	/* the rseq_cs field to clear, once we moved the pc */
	int mem;		/* /proc/PID/mem, open for writing */
	uintptr_t probe;	/* an address mapped in it: the program headers */
	struct pl_seccomp *filter;	/* the worker's seccomp filters, or NULL */
	int filtered;		/* ... which exist but could not be read */
	unsigned long long sigs;	/* at_entry: signals to give back (bit sig-1) */
};

/* What a wait status of a tracee says. */
enum { K_EXIT, K_STOP, K_EVENT, K_SYSCALL, K_SIGNAL };

static int kind(int st, int *sig)
{
	*sig = 0;
	if (!WIFSTOPPED(st))
		return K_EXIT;
	if ((st >> 16) == PTRACE_EVENT_STOP)
		return K_STOP;		/* interrupt or group-stop */
	if ((st >> 16) != 0)
		return K_EVENT;
	if (WSTOPSIG(st) == (SIGTRAP | 0x80))
		return K_SYSCALL;	/* PTRACE_O_TRACESYSGOOD */
	*sig = WSTOPSIG(st);
	return K_SIGNAL;
}

/*
 * Waits for the worker's next stop or its exit.  When the caller is the
 * process's parent and the worker is its main thread (always at_entry), the
 * exit is left to the caller's own waitpid(), which must still find it.
 * An exit is ESRCH, and marks the worker gone.
 */
static int wait_worker(struct pl_remote *r, int *st)
{
	siginfo_t si;

	r->stopped = 0;
	for (;;) {
		if (r->parent && r->worker == r->pid) {
			memset(&si, 0, sizeof si);
			if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WSTOPPED | __WALL | WNOWAIT) != 0) {
				if (errno == EINTR)
					continue;
				goto gone;
			}
			if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED ||
			    si.si_code == CLD_DUMPED)
				goto gone;
		}
		if (waitpid(r->worker, st, __WALL) >= 0) {
			if (!WIFSTOPPED(*st))
				goto gone;
			r->stopped = 1;
			return 0;
		}
		if (errno != EINTR)
			goto gone;
	}
gone:
	r->gone = 1;
	return ESRCH;
}

/*
 * Resumes the stopped worker with PTRACE_CONT or PTRACE_SYSCALL.  ESRCH
 * means it was killed meanwhile: its exit is what the next wait finds.
 */
static void resume(struct pl_remote *r, int req, int sig)
{
	r->stopped = 0;
	(void)ptrace(req, r->worker, 0, (void *)(long)sig);
}

/*
 * The worker, sent PTRACE_INTERRUPT, is on its way to an interrupt-stop:
 * wait for it.  A signal that comes first is delivered, as if we were not
 * there, and the worker is interrupted again.  A group-stop is a stop too.
 */
static int stop_worker(struct pl_remote *r)
{
	int st, sig, err;

	for (;;) {
		if ((err = wait_worker(r, &st)) != 0)
			return err;
		switch (kind(st, &sig)) {
		case K_STOP:
			return 0;
		case K_SIGNAL:
			/* Any ptrace-stop ends a pending interrupt: ask again. */
			(void)ptrace(PTRACE_INTERRUPT, r->worker, 0, 0);
			resume(r, PTRACE_CONT, sig);
			break;
		default:
			resume(r, PTRACE_CONT, 0);
			break;
		}
	}
}

/*
 * An rseq critical section that the worker was stopped in is aborted, as
 * the kernel's rseq_ip_fixup() does on preemption and signal delivery: the
 * saved program counter becomes the section's abort_ip, and the thread's
 * rseq_cs is cleared once the worker's registers no longer point into the
 * section (settle_rseq).  A descriptor the kernel would reject (which kills
 * the process) is left for the kernel.  Without PTRACE_GET_RSEQ_CONFIGURATION
 * (Linux 5.13) nothing can be seen: nothing is done.
 */
static void abort_rseq(struct pl_remote *r)
{
	struct {
		uint64_t abi, size_sig, flags_pad;
	} conf;
	struct {
		uint32_t version, flags;
		uint64_t start, post_commit, abort_ip;
	} cs;
	uint64_t csp = 0, pc = pl_regs_pc(&r->saved);
	uint32_t sig, want;

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, r->worker, (void *)sizeof conf, &conf) !=
		    (long)sizeof conf || conf.abi == 0)
		return;
	/* struct rseq: cpu_id_start, cpu_id (u32 each), then the u64 rseq_cs. */
	if (pread(r->mem, &csp, sizeof csp, (off_t)(conf.abi + 8)) != sizeof csp || csp == 0 ||
	    pread(r->mem, &cs, sizeof cs, (off_t)csp) != sizeof cs)
		return;
	if (cs.version != 0 || pc - cs.start >= cs.post_commit ||
	    cs.start + cs.post_commit < cs.start || cs.abort_ip - cs.start < cs.post_commit)
		return;
	want = (uint32_t)(conf.size_sig >> 32);
	if (pread(r->mem, &sig, sizeof sig, (off_t)(cs.abort_ip - 4)) != sizeof sig || sig != want)
		return;
	pl_regs_set_pc(&r->saved, (uintptr_t)cs.abort_ip);
	r->rseq_cs = (uintptr_t)(conf.abi + 8);
}

/* After the worker's program counter has left an aborted section. */
static void settle_rseq(struct pl_remote *r)
{
	uint64_t zero = 0;

	if (r->rseq_cs != 0 && pwrite(r->mem, &zero, sizeof zero, (off_t)r->rseq_cs) == sizeof zero)
		r->rseq_cs = 0;
}

/*
 * Where the injected code goes: the tail of [vdso] past the end of the
 * vDSO's image (its ELF file: the furthest of its section headers and its
 * loaded segments), which the program never executes nor reads.  The
 * kernel maps the image, padded to whole pages, at AT_SYSINFO_EHDR.
 */
static int find_room(struct pl_remote *r)
{
	uintptr_t start, end, image;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	long page = sysconf(_SC_PAGESIZE);
	size_t i;
	char b;
	int err;

	if ((err = pl_proc_auxv(r->pid, AT_SYSINFO_EHDR, &start)) != 0)
		return err;
	if (start == 0 || pread(r->mem, &eh, sizeof eh, (off_t)start) != sizeof eh ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
		return ENOEXEC;
	image = (uintptr_t)eh.e_shoff + (uintptr_t)eh.e_shnum * eh.e_shentsize;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(r->mem, &ph, sizeof ph, (off_t)(start + eh.e_phoff + i * eh.e_phentsize)) !=
		    sizeof ph)
			return ENOEXEC;
		if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > image)
			image = (uintptr_t)(ph.p_offset + ph.p_filesz);
	}
	end = start + ((image + (uintptr_t)page - 1) & ~((uintptr_t)page - 1));
	/* The padding is there and mapped: its last byte reads. */
	if (pread(r->mem, &b, 1, (off_t)(end - 1)) != 1)
		return ENOEXEC;
	/*
	 * The room from the image's end to the end of the mapping, at most
	 * the last page: the code and its context block first, in one write
	 * within one page; then the batch loop and its list.
	 */
	image = (image + 63) & ~(uintptr_t)63;
	if (end - start < image + PL_CODE_MAX)
		return ENOEXEC;
	r->code = end - start - image > (uintptr_t)page ? end - (uintptr_t)page : start + image;
	r->batch = r->code + PL_CODE_MAX;
	r->list = r->batch + PL_BATCH_CODE;
	r->cap = r->list < end ? (end - r->list) / PL_BATCH_ENTRY : 0;
	return 0;
}

/*
 * Writes the injected code that restores r->saved.  Only while the worker
 * does not execute it (it has its own registers), and in one write within
 * one page, so that a death mid-write leaves nothing half-done that runs.
 */
static int arm(struct pl_remote *r)
{
	unsigned char code[PL_CODE_MAX];
	pl_regs back = r->saved;
	size_t n;
	ssize_t w;
#ifdef PL_FRAME_BELOW_SP
	int err;
#endif

	if (r->armed)
		return 0;
	pl_regs_restarted(&back);
	n = pl_code_build(code, r->code, &back);
	if (n == 0)
		return EIO;
	w = pwrite(r->mem, code, n, (off_t)r->code);
	/*
	 * Nothing written, no error: /proc/PID/mem found no memory to write
	 * (mem_rw() when the mm is gone), the process is exiting.  A kill
	 * that comes while it is held can get there before any ptrace call
	 * fails (seen on Linux 6.1).
	 */
	if (w == 0 || (w < 0 && errno == ESRCH))
		return ESRCH;
	if (w != (ssize_t)n)
		return EIO;
#ifdef PL_FRAME_BELOW_SP
	/*
	 * arm64: the context, a frame for rt_sigreturn, below the stack
	 * pointer, written through the worker's thread ID: it has no memory
	 * once it is killed (ESRCH), and so never writes into the memory of
	 * a new program another thread's execve() made.
	 */
	if ((err = pl_frame_write(r->worker, &back)) != 0)
		return err == ESRCH ? ESRCH : EIO;
#endif
	r->armed = 1;
	return 0;
}

static int syscall_stop(struct pl_remote *r, int *sig);

#ifdef PL_RESTART_HIDDEN
/*
 * Where the kernel restarts an interrupted call before the stop (arm64,
 * remote_arch.h), a thread stopped on the svc of a call that may have made
 * a restart block does not show whether it goes on with restart_syscall:
 * the kernel decides that after the stop, from a value it no longer shows.
 * So let it decide: PTRACE_SYSEMU, and the thread finishes its way back,
 * executes its svc and stops at the entry of the call it makes, which
 * SYSEMU then skips: that number, with its registers, is what it was to do.
 * Until the entry stop the thread runs on its own registers.  At the entry
 * stop its pc goes back on the svc (pl_regs_probe_entry), so that if we die
 * from there on, the skipped call's way back to user mode leads to the svc:
 * the thread makes the call again.  At the exit stop its own registers
 * go back (the pc on the svc), dirty: the kernel
 * still holds the call's number, which the next pl_regs_set() clears.
 * One window is left: a death between the thread's svc and our write at
 * its entry stop (the kernel has read SYSEMU from its flags, and skips the
 * call with x0 unchanged) makes the call return its first argument.  It is
 * a few microseconds, once per attach, and only when the worker stopped on
 * the svc of a sleep or a futex wait.
 */
static int probe_restart(struct pl_remote *r)
{
	unsigned char insn[sizeof pl_syscall_insn];
	pl_regs regs;
	uintptr_t pc;
	long nr;
	int st, sig, err, tries;

	if (!r->seized || r->held)
		return 0;
	for (tries = 0;; tries++) {
		pc = pl_regs_pc(&r->saved);
		if (tries == 8 || !pl_regs_may_restart_block(&r->saved) ||
		    pread(r->mem, insn, sizeof insn, (off_t)pc) != sizeof insn ||
		    memcmp(insn, pl_syscall_insn, sizeof insn) != 0)
			return 0;
		resume(r, PTRACE_SYSEMU, 0);
		for (;;) {
			if ((err = wait_worker(r, &st)) != 0)
				return err;
			if (kind(st, &sig) != K_SIGNAL && kind(st, &sig) != K_SYSCALL) {
				resume(r, PTRACE_SYSEMU, 0);	/* a group-stop */
				continue;
			}
			break;
		}
		if (sig == 0)
			break;
		/* A signal first: the kernel's to deliver, and stop again. */
		(void)ptrace(PTRACE_INTERRUPT, r->worker, 0, 0);
		resume(r, PTRACE_CONT, sig);
		if ((err = stop_worker(r)) != 0 || (err = pl_regs_get(r->worker, &r->saved)) != 0)
			return err;
	}
	if ((err = pl_regs_get(r->worker, &regs)) != 0)
		return err;
	if (pl_regs_pc(&regs) != pc + sizeof pl_syscall_insn)
		return EIO;
	pl_regs_probe_entry(&regs);
	if ((err = pl_regs_set_gp(r->worker, &regs)) != 0)
		return err;
	nr = pl_regs_syscallno(r->worker);
	resume(r, PTRACE_SYSCALL, 0);
	if ((err = syscall_stop(r, &sig)) != 0)
		return err;
	if (sig != 0)
		return EIO;	/* no signal is dequeued inside a call */
	pl_regs_probe_exit(&regs, &r->saved, nr);
	if ((err = pl_regs_set_gp(r->worker, &regs)) != 0)
		return err;
	r->saved = regs;
	r->dirty = 1;
	return 0;
}
#else
static int probe_restart(struct pl_remote *r)
{
	(void)r;
	return 0;
}
#endif

static int syscall_stop(struct pl_remote *r, int *sig);

/* The worker stopped again with registers of its own (after a signal). */
static int found(struct pl_remote *r)
{
	int err;

	if ((err = pl_regs_get(r->worker, &r->saved)) != 0)
		return err;
	r->dirty = 0;
	r->armed = 0;
	r->rseq_cs = 0;
	if ((err = probe_restart(r)) != 0)
		return err;
	abort_rseq(r);
	return 0;
}

/*
 * A worker found executing the injected code (a command before us was
 * killed while it did): let it run out of it, back to its own code, before
 * the code and its context are written again (a context rewritten under a
 * thread about to load it would send it back into the code).  Each
 * interrupt stops it at its next way back to user mode: after the call in
 * flight, or in its own code.
 */
static int leave_code(struct pl_remote *r)
{
	uintptr_t pc;
	int i, err;

	for (i = 0; i < 1000; i++) {
		pc = pl_regs_pc(&r->saved);
		if (pc < r->code || pc >= r->list)
			return 0;
		(void)ptrace(PTRACE_INTERRUPT, r->worker, 0, 0);
		resume(r, PTRACE_CONT, 0);
		if ((err = stop_worker(r)) != 0 || (err = found(r)) != 0)
			return err;
	}
	return EBUSY;
}

/*
 * Waits for the worker's next syscall stop, and lets it through the stops on
 * the way that are not ours: an event, or a group-stop (the program runs no
 * instruction of its own meanwhile).  A signal-delivery-stop is returned:
 * *sig is the signal, and the worker is stopped in it.
 */
static int syscall_stop(struct pl_remote *r, int *sig)
{
	int st, err;

	for (;;) {
		if ((err = wait_worker(r, &st)) != 0)
			return err;
		switch (kind(st, sig)) {
		case K_SYSCALL:
			*sig = 0;
			return 0;
		case K_SIGNAL:
			return 0;
		default:
			resume(r, PTRACE_SYSCALL, 0);
			break;
		}
	}
}

/*
 * The worker is in a signal-delivery-stop with our registers in it: give
 * it its own, and deliver the signal, which the kernel now handles with its
 * own rules (a handler, EINTR or a restart of the call it interrupted).  A
 * seized worker is interrupted again and found where the signal took it;
 * our PTRACE_TRACEME child cannot be interrupted, so the signal is held and
 * given back when it is released.
 */
static int deliver(struct pl_remote *r, int sig)
{
	int err;

	if (!r->seized) {
		r->sigs |= 1ULL << (sig - 1);
		return 0;
	}
	if ((err = pl_regs_set(r->worker, &r->saved)) != 0)
		return err;
	r->dirty = 0;
	settle_rseq(r);
	(void)ptrace(PTRACE_INTERRUPT, r->worker, 0, 0);
	resume(r, PTRACE_CONT, sig);
	if ((err = stop_worker(r)) != 0)
		return err;
	return found(r);
}

int pl_remote_allowed(const struct pl_remote *r, long nr, const long args[6])
{
	uint64_t a[6];
	int i;

	if (r == NULL || r->filter == NULL)
		return 1;
	for (i = 0; i < 6; i++)
		a[i] = (uint64_t)args[i];
	/* The kernel reports the address after the instruction. */
	if (!pl_seccomp_allows(pl_seccomp_eval(r->filter, (int)nr, a,
					       r->code + sizeof pl_syscall_insn)))
		return 0;
#ifdef PL_RESTORE_NR
	/* The restore makes a call too (arm64: rt_sigreturn): it must pass. */
	a[0] = 0;	/* x0 then: the call's result */
	return pl_seccomp_allows(pl_seccomp_eval(r->filter, PL_RESTORE_NR, a,
						 r->code + PL_RESTORE_PC));
#else
	return 1;
#endif
}

/*
 * A signal that the process ignores and the worker does not block, to end
 * a batch: SIGWINCH, SIGURG or SIGCHLD, ignored explicitly (SigIgn) or by
 * default with no handler (not in SigCgt).  0 if none: no batches.
 */
static int ignored_signal(struct pl_remote *r)
{
	static const int sigs[] = { SIGWINCH, SIGURG, SIGCHLD };
	unsigned long long ign = 0, cgt = 0, blk = ~0ULL;
	char v[32];
	size_t i;

	if (pl_proc_status(r->pid, 0, "SigIgn", v, sizeof v) != 0 ||
	    sscanf(v, "%llx", &ign) != 1 || pl_proc_status(r->pid, 0, "SigCgt", v, sizeof v) != 0 ||
	    sscanf(v, "%llx", &cgt) != 1 ||
	    pl_proc_status(r->pid, r->worker, "SigBlk", v, sizeof v) != 0 ||
	    sscanf(v, "%llx", &blk) != 1)
		return 0;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		unsigned long long bit = 1ULL << (sigs[i] - 1);

		if (!(blk & bit) && ((ign & bit) || !(cgt & bit)))
			return sigs[i];
	}
	return 0;
}

/* Writes the batch loop, once: nothing executes it until a batch. */
static void arm_batch(struct pl_remote *r)
{
	unsigned char code[PL_BATCH_CODE];
	size_t n;

	if (r->cap < 2 || (r->sig = ignored_signal(r)) == 0 ||
	    (n = pl_batch_build(code, r->batch, r->code + sizeof pl_syscall_insn)) == 0 ||
	    pwrite(r->mem, code, n, (off_t)r->batch) != (ssize_t)n)
		r->cap = 0;
}

size_t pl_remote_mlock_many(struct pl_remote *r, const struct pl_lockrange *v, size_t n)
{
	uint64_t list[PL_BATCH_ENTRY / 8 * 64];
	long a[6] = { 0, 0, 0, 0, 0, 0 }, kill[6] = { 0, 0, 0, 0, 0, 0 }, res;
	size_t done = 0, k, m, got;
	pl_regs regs;
	int err, st, sig;

	if (r == NULL || r->cap == 0 || r->gone)
		return 0;
	kill[0] = r->pid, kill[1] = r->worker, kill[2] = r->sig;
	a[2] = 0;
	if (!pl_remote_allowed(r, SYS_tgkill, kill) || !pl_remote_allowed(r, SYS_mlock2, a))
		return 0;
	a[2] = MLOCK_ONFAULT;
	if (!pl_remote_allowed(r, SYS_mlock2, a))
		return 0;
	while (done < n) {
		m = n - done;
		if (m > r->cap)
			m = r->cap;
		if (m > sizeof list / PL_BATCH_ENTRY)
			m = sizeof list / PL_BATCH_ENTRY;
		for (k = 0; k < m; k++) {
			list[3 * k] = v[done + k].start;
			list[3 * k + 1] = v[done + k].end - v[done + k].start;
			list[3 * k + 2] = v[done + k].on_fault ? MLOCK_ONFAULT : 0;
		}
		/* The list first: once the registers point at the loop, it runs. */
		if (arm(r) != 0 ||
		    pwrite(r->mem, list, m * PL_BATCH_ENTRY, (off_t)r->list) != (ssize_t)(m * PL_BATCH_ENTRY))
			return done;
		regs = r->saved;
		pl_regs_set_batch(&regs, r->batch, r->list, m, r->pid, r->worker, r->sig);
		if ((err = pl_regs_set(r->worker, &regs)) != 0)
			return done;
		r->dirty = 1;
		settle_rseq(r);
		resume(r, PTRACE_CONT, 0);
		for (;;) {
			if (wait_worker(r, &st) != 0)
				return done;
			if (kind(st, &sig) == K_SIGNAL)
				break;
			resume(r, PTRACE_CONT, 0);	/* a group-stop: the program stays put */
		}
		if (pl_regs_get(r->worker, &regs) != 0)
			return done;
		got = pl_regs_batch_done(&regs, &res);
		if (sig != r->sig) {
			/*
			 * Another signal, on the way: deliver it (with the
			 * worker's own registers), and go on from the entry
			 * it stopped at, which may have run (mlock2 of a
			 * range locked already does nothing more).
			 */
			if (deliver(r, sig) != 0)
				return done + (got < m ? got : m);
			done += got < m ? got : m;
			continue;
		}
		/* Ours: the next resume discards it, as the kernel would. */
		done += got;
		if (got < m || res != 0)
			return done;
	}
	return done;
}

/*
 * A failure to write the worker's memory or registers, seen from the call.
 * The worker is in a ptrace-stop ('t') until we resume it, and only SIGKILL
 * wakes it from there: the exit then drops the memory that /proc/PID/mem
 * writes to, so a kill shows up first as a failed write.  Not stopped any
 * more is ESRCH, as the exit that follows says; else the failure itself.
 */
static long failed(struct pl_remote *r, int err)
{
	if (pl_proc_state(r->pid, r->worker) != 't')
		return -ESRCH;	/* release() collects the exit */
	return -err;
}

long pl_remote_syscall(struct pl_remote *r, long nr, const long args[6])
{
	pl_regs regs;
	long res;
	int err, sig;

	if (r == NULL)
		return -ENOSYS;
	if (r->gone)
		return -ESRCH;
	if (!pl_remote_allowed(r, nr, args))
		return -EPERM;		/* never made: the filter would refuse it */
	for (;;) {
		if ((err = arm(r)) != 0)
			return failed(r, err);
		regs = r->saved;
		pl_regs_set_call(&regs, r->code, nr, args);
		if ((err = pl_regs_set(r->worker, &regs)) != 0)
			return failed(r, err);
		r->dirty = 1;
		settle_rseq(r);
		resume(r, PTRACE_SYSCALL, 0);
		if ((err = syscall_stop(r, &sig)) != 0)
			return -err;
		if (sig != 0) {
			/* On the way to the instruction: the call has not run. */
			if ((err = deliver(r, sig)) != 0)
				return -err;
			continue;
		}
		/* The syscall-entry-stop; on to the exit. */
		resume(r, PTRACE_SYSCALL, 0);
		if ((err = syscall_stop(r, &sig)) != 0)
			return -err;
		if (sig != 0)
			return -EIO;	/* no signal is dequeued inside a call */
		if ((err = pl_regs_get(r->worker, &regs)) != 0)
			return failed(r, err);
		res = pl_regs_result(&regs);
		switch (-res) {
		case 512: case 513: case 514: case 516:
			/*
			 * A signal interrupted the call (-ERESTARTSYS and the
			 * others): the next resume delivers it (deliver()),
			 * then the call is made again.
			 */
			continue;
		}
		return res;
	}
}

int pl_remote_filtered(const struct pl_remote *r)
{
	return r != NULL && r->filtered;
}

/*
 * Whether the process replaced its memory: executed a new program.  A
 * stopped worker dies only with its process, or in another thread's
 * execve(), which kills every other thread before it replaces the memory.
 * The mem file holds the memory it was opened on and reads nothing once
 * that is gone; so wait (briefly) until either the process is gone or its
 * old memory is.  Meanwhile the worker's exit is collected: the exec waits
 * for it.
 */
static int replaced(struct pl_remote *r)
{
	struct timespec ms = { 0, 1000000 };
	uintptr_t phdr;
	char b;
	int i, st, dead = 0;

	for (i = 0; i < 2000; i++) {
		if (r->traced && !r->gone && !(r->parent && r->worker == r->pid) &&
		    waitpid(r->worker, &st, __WALL | WNOHANG) == r->worker && !WIFSTOPPED(st))
			r->gone = 1;
		/* Three looks: an exec swaps thread IDs, which a listing may catch. */
		if ((dead = pl_proc_exiting(r->pid) ? dead + 1 : 0) == 3)
			return 0;
		/*
		 * The old memory gone: an exec, if the process has memory
		 * again (a process that is being killed drops its memory
		 * before its threads are zombies).
		 */
		if (pread(r->mem, &b, 1, (off_t)r->probe) <= 0 &&
		    pl_proc_phdr(r->pid, &phdr) == 0 && phdr != 0)
			return 1;
		nanosleep(&ms, NULL);
	}
	return 0;
}

int pl_remote_execed(struct pl_remote *r)
{
	if (r == NULL)
		return 0;
	if (!r->execed)
		r->execed = replaced(r);
	return r->execed;
}

/*
 * The at_entry child was started with SIGTRAP ignored and a parent-death
 * signal (SIGKILL), so that until now it died cleanly with us (a
 * PTRACE_TRACEME child's exec is reported by a real SIGTRAP, which would
 * dump its core if we died before handling it): both back to what a
 * program expects, SIGTRAP's default action and no parent-death signal.
 * The all-zero struct sigaction (SIG_DFL) is read from the batch list.
 */
static void reset_child(struct pl_remote *r)
{
	static const uint64_t dfl[4];
	long a[6] = { SIGTRAP, 0, 0, 8, 0, 0 }, p[6] = { PR_SET_PDEATHSIG, 0, 0, 0, 0, 0 };

	if (!r->reset || r->gone || !r->stopped || r->code == 0 ||
	    pwrite(r->mem, dfl, sizeof dfl, (off_t)r->list) != sizeof dfl)
		return;
	a[1] = (long)r->list;
	(void)pl_remote_syscall(r, SYS_rt_sigaction, a);
	(void)pl_remote_syscall(r, SYS_prctl, p);
}

/*
 * The signals held from our PTRACE_TRACEME child (deliver()), sent to it
 * again: queued, for when it runs on.
 */
static void requeue_signals(struct pl_remote *r)
{
	int sig;

	for (sig = 1; sig <= 64; sig++)
		if (r->sigs & (1ULL << (sig - 1)))
			(void)syscall(SYS_tgkill, r->pid, r->worker, sig);
}

/* Gives the worker its registers back and lets it go. */
static void release(struct pl_remote *r)
{
	int st;

	if (!r->traced)
		return;
	if (r->gone || !r->stopped) {
		if (!r->gone && r->seized) {
			/* On its way to a stop: PTRACE_DETACH needs it stopped. */
			(void)ptrace(PTRACE_INTERRUPT, r->worker, 0, 0);
			if (stop_worker(r) != 0)
				return;
		} else {
			return;
		}
	}
	reset_child(r);
	if (r->dirty && pl_regs_set(r->worker, &r->saved) == 0) {
		r->dirty = 0;
		/*
		 * arm64: SVE state beyond the FP/SIMD registers, which our
		 * system calls discarded (pl_regs_set_ext).
		 */
		(void)pl_regs_set_ext(r->worker, &r->saved);
		settle_rseq(r);
	}
	if (r->held) {
		/*
		 * Still ours, stopped, its own registers back: the caller
		 * resumes it.  Without PTRACE_O_EXITKILL from here on, unless
		 * the lock failed: then the caller kills it, or lets it run
		 * unlocked with the options below.
		 */
		if (!r->keep_kill)
			(void)ptrace(PTRACE_SETOPTIONS, r->worker, 0, (void *)r->options);
		return;
	}
	if (!r->seized)
		requeue_signals(r);
	/*
	 * The detach wakes the worker with TIF_SIGPENDING set, so the way
	 * back to user mode restarts a system call it was interrupted in,
	 * as after SIGCONT.  ESRCH: killed meanwhile; its exit is collected,
	 * so that no zombie waits for us.
	 */
	if (ptrace(PTRACE_DETACH, r->worker, 0, 0) != 0 && errno == ESRCH &&
	    (!r->parent || r->worker != r->pid))
		(void)waitpid(r->worker, &st, __WALL);
}

static void free_remote(struct pl_remote *r)
{
	if (r->mem >= 0)
		close(r->mem);
	pl_seccomp_free(r->filter);
	free(r);
}

void pl_remote_detach(struct pl_remote *r)
{
	if (r == NULL)
		return;
	release(r);
	free_remote(r);
}

void pl_remote_hold(struct pl_remote *r)
{
	if (r == NULL)
		return;
	if (r->held) {
		r->keep_kill = 1;
		pl_remote_detach(r);
		return;
	}
	if (r->seized || r->gone || !r->stopped) {
		pl_remote_detach(r);
		return;
	}
	/* Its own registers back, at the entry point; still stopped and traced. */
	reset_child(r);
	if (r->dirty) {
		(void)pl_regs_set(r->worker, &r->saved);
		(void)pl_regs_set_ext(r->worker, &r->saved);
	}
	/* Signals held meanwhile: queued, for after the caller's decision. */
	requeue_signals(r);
	free_remote(r);
}

/*
 * The thread of pid to make the calls: never the main thread while another
 * lives, and one asleep in a system call if there is one (S), else any that
 * lives.  Another thread's execve() kills the worker; the main thread of a
 * process with threads stays a zombie until the exec is done, and then its
 * thread ID belongs to the thread that exec'd, which our waits must not
 * take for the worker.  Any other thread's exit we collect at once, which
 * lets the exec go on.  (A zombie main thread, after pthread_exit(), is
 * never chosen either.)
 */
static pid_t choose_worker(pid_t pid)
{
	struct pl_tasks it;
	pid_t tid, best = 0;
	int score, top = 0;
	char c;

	if (pl_tasks_open(&it, pid) != 0)
		return 0;
	while ((tid = pl_tasks_next(&it, &c)) != 0) {
		if (!pl_proc_live(c))
			continue;
		score = 1 + 2 * (c == 'S') + 4 * (tid != pid);
		if (score > top) {
			top = score;
			best = tid;
		}
	}
	pl_tasks_close(&it);
	return best;
}

/*
 * The at_entry child is stopped at the SIGTRAP of its execve(), or on its
 * way there.  The caller may have collected that stop already with its own
 * waitpid() (then the child is in tracing stop, "t"), or not: then it is
 * ours to collect, now or when it comes.
 */
static int exec_stop(struct pl_remote *r)
{
	siginfo_t si;
	int st, pass;

	for (pass = 0; pass < 2; pass++) {
		/* Look first: an exit stays for the caller's wait. */
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)r->pid, &si,
			   WEXITED | WSTOPPED | __WALL | WNOHANG | WNOWAIT) != 0)
			return errno == ECHILD ? ESRCH : errno;
		if (si.si_pid != 0) {
			if (si.si_code != CLD_TRAPPED && si.si_code != CLD_STOPPED)
				return ESRCH;
			return waitpid(r->pid, &st, __WALL) > 0 ? 0 : errno;
		}
		/* Nothing to collect: collected already, or not stopped yet. */
		if (pass == 0 && pl_proc_state(r->pid, 0) != 't')
			break;
		if (pass == 1)
			return 0;	/* stopped, and the stop was collected before */
	}
	if (wait_worker(r, &st) != 0)
		return ESRCH;
	return 0;
}

/*
 * Runs the at_entry child to its entry point: a breakpoint there, PTRACE_CONT,
 * wait for its trap, and the original instruction back.
 */
static int run_to_entry(struct pl_remote *r)
{
	uintptr_t entry;
	pl_regs regs;
	siginfo_t si;
	long word, planted;
	int st, sig, err;

	if ((err = pl_proc_auxv(r->pid, AT_ENTRY, &entry)) != 0)
		return err;
	if (entry == 0)
		return EIO;
	if ((err = pl_regs_get(r->pid, &regs)) != 0)
		return err;
	if (pl_regs_pc(&regs) == entry && r->held) {
		/*
		 * A static program, there already; but a PTRACE_EVENT_EXEC
		 * stop is inside execve(), whose syscall-exit-stop would come
		 * first after a PTRACE_SYSCALL.  An interrupt-stop is past
		 * it, on the way to user mode, before its first instruction.
		 */
		(void)ptrace(PTRACE_INTERRUPT, r->pid, 0, 0);
		resume(r, PTRACE_CONT, 0);
		return stop_worker(r);
	}
	if (pl_regs_pc(&regs) == entry)
		return 0;			/* a static program: there already */
	/* PTRACE_POKETEXT writes even read-only text (a private copy of the page). */
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, r->pid, (void *)entry, 0);
	if (errno != 0)
		return errno;
	planted = word;
	memcpy(&planted, pl_break_insn, sizeof pl_break_insn);
	if (ptrace(PTRACE_POKETEXT, r->pid, (void *)entry, (void *)planted) != 0)
		return errno;
	resume(r, PTRACE_CONT, 0);
	for (;;) {
		if ((err = wait_worker(r, &st)) != 0)
			return err;
		if (kind(st, &sig) != K_SIGNAL) {
			resume(r, PTRACE_CONT, 0);
			continue;
		}
		if (sig == SIGTRAP && pl_regs_get(r->pid, &regs) == 0 &&
		    pl_regs_pc(&regs) == entry + PL_BREAK_PC_AFTER)
			break;
		/*
		 * A signal for the loader: deliver it.  A PTRACE_TRACEME
		 * tracee reports a group-stop like a signal, and
		 * PTRACE_GETSIGINFO fails there (EINVAL): nothing to deliver.
		 */
		if (ptrace(PTRACE_GETSIGINFO, r->pid, 0, &si) != 0)
			sig = 0;
		resume(r, PTRACE_CONT, sig);
	}
	if (ptrace(PTRACE_POKETEXT, r->pid, (void *)entry, (void *)word) != 0)
		return errno;
	pl_regs_set_pc(&regs, entry);
	return pl_regs_set(r->pid, &regs);
}

/*
 * Lets go of every thread of the process that the caller traces: after a
 * PTRACE_SEIZE that raced with an execve().  The exec'ing thread takes the
 * main thread's ID when it is done; a seize of it that waited for the exec
 * to finish got it under an ID that no longer names it.
 */
static void untrace_all(struct pl_remote *r)
{
	struct pl_tasks it;
	pid_t tid;
	int st;

	if (pl_tasks_open(&it, r->pid) != 0)
		return;
	while ((tid = pl_tasks_next(&it, NULL)) != 0) {
		if (pl_proc_status_long(r->pid, tid, "TracerPid", 0) != getpid())
			continue;
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) == 0 &&
		    waitpid(tid, &st, __WALL) == tid && WIFSTOPPED(st))
			(void)ptrace(PTRACE_DETACH, tid, 0, 0);
	}
	pl_tasks_close(&it);
}

/*
 * PTRACE_SEIZE and PTRACE_INTERRUPT the worker, and wait for its stop.  A
 * worker that vanishes meanwhile (it exited, or another thread's execve()
 * killed it) is replaced by another choice.
 */
static int seize(struct pl_remote *r)
{
	int tries, err = ESRCH;

	for (tries = 0; tries < 8 && err == ESRCH; tries++) {
		r->gone = 0;
		if ((r->worker = choose_worker(r->pid)) == 0)
			return ESRCH;
		if (ptrace(PTRACE_SEIZE, r->worker, 0, (void *)(long)PTRACE_O_TRACESYSGOOD) != 0) {
			err = errno;
			continue;	/* ESRCH: it exited since the listing */
		}
		r->traced = 1;
		if (ptrace(PTRACE_INTERRUPT, r->worker, 0, 0) != 0 || (err = stop_worker(r)) != 0) {
			err = ESRCH;
			r->traced = 0;
			untrace_all(r);
		}
	}
	return err;
}

/*
 * Opens the process's memory, for reading and for the injected code, before
 * anything else: the file holds the memory it was opened on, so that
 * pl_remote_execed() can tell when the process replaced it.
 */
static int open_mem(struct pl_remote *r)
{
	int err;

	if ((err = pl_proc_open(r->pid, "mem", O_RDWR, &r->mem)) != 0)
		return err;
	return pl_proc_phdr(r->pid, &r->probe);
}

/*
 * The options a PLOCK_TRACED process is left with: every exec is reported
 * (PTRACE_EVENT_EXEC: no SIGTRAP for a seized tracee), and so is every new
 * thread, whose exec would be one; with PLOCK_FOLLOW every new process too.
 */
static long held_options(int flags)
{
	long o = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE;

	if (flags & PLOCK_FOLLOW)
		o |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
	return o;
}

/*
 * A process the caller traces already, stopped at the start of a new
 * program or of a fork child (PLOCK_TRACED): until it is released it dies
 * with us (PTRACE_O_EXITKILL), so that it never runs the program unlocked
 * nor hits the breakpoint at its entry point without us.
 */
static int take_held(struct pl_remote *r, int flags)
{
	r->worker = r->pid;
	r->traced = r->stopped = r->held = r->seized = r->parent = 1;
	r->reset = (flags & PLOCK_STARTED) != 0;
	r->options = held_options(flags);
	r->at_exec = (flags & PLOCK_AT_ENTRY) != 0;
	if (ptrace(PTRACE_SETOPTIONS, r->pid, 0, (void *)(r->options | PTRACE_O_EXITKILL)) != 0)
		return errno == ESRCH ? ESRCH : errno;
	return 0;
}

/*
 * A held process at its exec stop: nothing of the new program has run, not
 * even its dynamic loader, so the caller decides there whether the lock
 * can succeed (its seccomp filter, its limit), and only then runs it to its
 * entry point.  Its registers are read again there.
 */
int pl_remote_enter(struct pl_remote *r)
{
	int err;

	if (r == NULL || !r->at_exec)
		return 0;
	r->at_exec = 0;
	if ((err = run_to_entry(r)) != 0 || (err = pl_regs_get(r->worker, &r->saved)) != 0)
		return err;
	r->dirty = r->armed = 0;
	r->rseq_cs = 0;
	return 0;
}

int pl_remote_attach(pid_t pid, int flags, struct pl_remote **rp)
{
	struct pl_remote *r;
	int err, at_entry = (flags & PLOCK_AT_ENTRY) != 0;

	*rp = NULL;
	if (!PL_REMOTE_SUPPORTED)
		return ENOSYS;
	if (pid <= 0)
		return ESRCH;
	if (pid == getpid())
		return EPERM;		/* the kernel does not let a process trace itself */
	if ((r = calloc(1, sizeof *r)) == NULL)
		return ENOMEM;
	r->mem = -1;
	r->pid = pid;
	r->seized = !at_entry;
	r->reset = at_entry;
	r->parent = at_entry || pl_proc_status_long(pid, 0, "PPid", 0) == getpid();
	if (flags & PLOCK_TRACED) {
		if ((err = take_held(r, flags)) != 0 || (err = open_mem(r)) != 0)
			goto fail;
	} else if (!at_entry && (err = open_mem(r)) != 0) {
		/* Opening it takes what tracing does: say why not as for ptrace. */
		err = err == EACCES ? EPERM : err;
		goto fail;
	}
	if (r->held) {
		/* taken above */
	} else if (at_entry) {
		r->worker = pid;
		r->traced = 1;
		if ((err = exec_stop(r)) != 0)
			goto fail;
		r->stopped = 1;
		(void)ptrace(PTRACE_SETOPTIONS, pid, 0,
			     (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
		if ((err = run_to_entry(r)) != 0)
			goto fail;
	} else {
		/* Another tracer on any thread: refused, with its pid (refusal.c). */
		if (pl_remote_tracer(pid) != 0) {
			err = EPERM;
			goto fail;
		}
		if ((err = seize(r)) != 0)
			goto fail;
	}
	if ((at_entry && !r->held && (err = open_mem(r)) != 0) ||
	    (err = pl_regs_get(r->worker, &r->saved)) != 0 || (err = probe_restart(r)) != 0)
		goto fail;
	err = ENOSYS;
	if (!pl_regs_native(&r->saved))
		goto fail;		/* a 32-bit program */
	abort_rseq(r);
	if ((err = find_room(r)) != 0 || (r->seized && !r->held && (err = leave_code(r)) != 0))
		goto fail;
	arm_batch(r);
	/* Filters the caller may not read (no CAP_SYS_ADMIN): the caller decides. */
	if ((err = pl_seccomp_read(pid, r->worker, &r->filter)) == EACCES)
		r->filtered = 1;
	else if (err != 0)
		goto fail;
	*rp = r;
	return 0;
fail:
	/* The process executed a new program while we attached: say so. */
	if (r->mem >= 0 && !at_entry && !r->held && (err == ESRCH || err == ENOEXEC) && replaced(r))
		err = PL_EEXEC;
	pl_remote_detach(r);
	return err;
}

#else /* PL_REMOTE_NOREGS */

struct pl_remote {
	int unused;
};

int pl_remote_attach(pid_t pid, int flags, struct pl_remote **r)
{
	(void)pid;
	(void)flags;
	*r = NULL;
	return ENOSYS;
}

long pl_remote_syscall(struct pl_remote *r, long nr, const long args[6])
{
	(void)r;
	(void)nr;
	(void)args;
	return -ENOSYS;
}

int pl_remote_allowed(const struct pl_remote *r, long nr, const long args[6])
{
	(void)r;
	(void)nr;
	(void)args;
	return 1;
}

int pl_remote_execed(struct pl_remote *r)
{
	(void)r;
	return 0;
}

int pl_remote_filtered(const struct pl_remote *r)
{
	(void)r;
	return 0;
}

size_t pl_remote_mlock_many(struct pl_remote *r, const struct pl_lockrange *v, size_t n)
{
	(void)r, (void)v, (void)n;
	return 0;
}

void pl_remote_detach(struct pl_remote *r)
{
	(void)r;
}

void pl_remote_hold(struct pl_remote *r)
{
	(void)r;
}

int pl_remote_enter(struct pl_remote *r)
{
	(void)r;
	return 0;
}

#endif /* PL_REMOTE_NOREGS */
