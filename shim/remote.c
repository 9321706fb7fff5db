/*
 * Another process executes our system calls: ptrace(2).
 *
 * Linux has no system call that locks another process's memory; a process
 * can only lock its own.  So we stop the process, make one of its threads
 * execute mlock2(), mlockall() and munlockall() for us, put everything back
 * as it was and let it go.  The architecture's registers are in
 * remote_arch.h; what follows is the same for every architecture.
 *
 * Attaching (pl_remote_attach): PTRACE_SEIZE every thread listed in
 * /proc/PID/task, PTRACE_INTERRUPT it and wait for its interrupt-stop
 * (PTRACE_EVENT_STOP), until a pass over the list finds no thread it did
 * not know.  PTRACE_O_TRACECLONE attaches the threads that a thread creates
 * before its stop.  A signal that arrives meanwhile (a signal-delivery-stop)
 * is delivered at once, as if we had not been there, and the thread is
 * interrupted again.
 *
 * Executing a call (pl_remote_syscall): one thread, the worker, gets its
 * program counter on a syscall instruction found in an executable mapping of
 * the process (the [vdso] has some), the call's number and arguments in its
 * registers, and PTRACE_SYSCALL twice: to the syscall-entry-stop, then to
 * the syscall-exit-stop, where the result is read.  It stops there before
 * executing anything after the instruction, so any occurrence of it works.
 *
 * Restoring (pl_remote_detach): the worker may have been interrupted inside
 * a blocking system call (read, nanosleep, futex).  The kernel then left the
 * call's number in orig_rax and -ERESTARTSYS (or -ERESTARTNOHAND,
 * -ERESTART_RESTARTBLOCK, -ERESTARTNOINTR) in rax, and restarts the call
 * only on the way back to user mode through the signal code, after the
 * interrupt-stop.  A thread resumed from a syscall-exit-stop does not go
 * through it unless a signal is pending: it would return -512 to the
 * program.  So the worker gets its registers back at the syscall-exit-stop
 * and is interrupted once more: the new interrupt-stop is inside the signal
 * code again, with the original registers, and resuming it from there
 * restarts the call (or, if a signal is pending, delivers it with the
 * kernel's own EINTR-or-restart rule).  The other threads never ran; they
 * are detached from the stop they were found in.
 *
 * A signal that arrives while the worker executes our calls stops it on the
 * way back to user mode with our registers in it.  Delivering it there would
 * run the handler with them, so the worker gets its own registers back, the
 * signal is delivered, the worker is interrupted again (at the handler's
 * first instruction, say) and the call is made from there.  A group-stop
 * (SIGSTOP from outside) is respected: the program runs no instruction until
 * it ends, and the kernel puts every detached thread back into it.
 *
 * Locking at the entry point (at_entry): the process is our child, traced by
 * PTRACE_TRACEME and stopped at the SIGTRAP of its execve(), in the dynamic
 * loader.  A breakpoint at AT_ENTRY lets the loader map the shared objects,
 * and stops the process before the program's first instruction.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "remote_arch.h"

/* The kernel's restart codes (include/linux/errno.h; not for user space). */
#define PL_ERESTARTSYS		512
#define PL_ERESTARTNOINTR	513
#define PL_ERESTARTNOHAND	514
#define PL_ERESTART_RESTARTBLOCK 516

#define PF_KTHREAD_FLAG		0x00200000	/* PF_KTHREAD in /proc/PID/stat */

/* Reads a small /proc file of process pid: ESRCH once it is gone. */
static int read_small(pid_t pid, const char *path, char *buf, size_t size)
{
	return pl_proc_errno(pid, pl_read_file(path, buf, size, NULL));
}

/*
 * The value of "key:" in /proc/pid/status (tid 0) or in the status of
 * thread tid; out gets the text after the tab, up to the end of the line.
 */
static int status_field(pid_t pid, pid_t tid, const char *key, char *out, size_t n)
{
	char path[64], buf[4096], pat[32];
	const char *s, *e;
	size_t len;
	int err;

	if (tid != 0)
		snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
	else
		snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((err = read_small(pid, path, buf, sizeof buf)) != 0)
		return err;
	snprintf(pat, sizeof pat, "\n%s:", key);
	if ((s = strstr(buf, pat)) == NULL)
		return ENOENT;
	s += strlen(pat);
	while (*s == '\t' || *s == ' ')
		s++;
	e = strchr(s, '\n');
	len = e != NULL ? (size_t)(e - s) : strlen(s);
	if (len >= n)
		len = n - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static long status_long(pid_t pid, pid_t tid, const char *key, long dflt)
{
	char v[64];

	return status_field(pid, tid, key, v, sizeof v) == 0 ? strtol(v, NULL, 10) : dflt;
}

/* A thread that has exited or is exiting: Z (zombie) or X (dead), or gone. */
static int exiting(pid_t pid, pid_t tid)
{
	char v[64];

	if (status_field(pid, tid, "State", v, sizeof v) != 0)
		return 1;
	return v[0] == 'Z' || v[0] == 'X';
}


/* Whether the caller has CAP_SYS_PTRACE in effect. */
static int cap_sys_ptrace(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	return (d[CAP_TO_INDEX(CAP_SYS_PTRACE)].effective & CAP_TO_MASK(CAP_SYS_PTRACE)) != 0;
}

/* The four ids of a "Uid:" or "Gid:" line: real, effective, saved, fs. */
static int ids(pid_t pid, const char *key, unsigned long v[4])
{
	char line[128];

	if (status_field(pid, 0, key, line, sizeof line) != 0)
		return -1;
	return sscanf(line, "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) == 4 ? 0 : -1;
}

/* Whether pid descends from the caller (Yama's ptrace_scope 1 allows that). */
static int descendant(pid_t pid)
{
	long p = pid;
	int depth;

	for (depth = 0; depth < 4096 && p > 1; depth++) {
		p = status_long((pid_t)p, 0, "PPid", 0);
		if (p == getpid())
			return 1;
	}
	return 0;
}

/* Yama's kernel.yama.ptrace_scope, or 0 without Yama. */
static long yama_scope(void)
{
	char v[64];

	if (pl_read_file("/proc/sys/kernel/yama/ptrace_scope", v, sizeof v, NULL) != 0)
		return 0;
	return strtol(v, NULL, 10);
}

/* Whether the caller runs under a seccomp filter (status "Seccomp: 2"). */
static int seccomp_filtered(void)
{
	return status_long(getpid(), 0, "Seccomp", 0) == 2;
}

int pl_remote_refusal(pid_t pid, long *detail)
{
	unsigned long tu[4], tg[4], tcap = 0, mycap = 0;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	char buf[1024], path[64], v[64];
	struct stat sb;
	long x;
	int i, priv = cap_sys_ptrace();

	*detail = 0;
	if (pid == getpid())
		return PLOCK_PTRACE_SELF;
	/* Field 9 of stat, after the command in parentheses, is the flags. */
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (read_small(pid, path, buf, sizeof buf) == 0) {
		const char *s = strrchr(buf, ')');
		unsigned long flags = 0;

		if (s != NULL && sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
		    (flags & PF_KTHREAD_FLAG))
			return PLOCK_PTRACE_KTHREAD;
	}
	if (exiting(pid, 0))
		return PLOCK_PTRACE_EXITING;
	/* The kernel's __ptrace_may_access(), with the caller's real ids. */
	if (!priv && ids(pid, "Uid", tu) == 0 && ids(pid, "Gid", tg) == 0 &&
	    getresuid(&ru, &eu, &su) == 0 && getresgid(&rg, &eg, &sg) == 0) {
		for (i = 0; i < 3; i++)
			if (tu[i] != ru || tg[i] != rg)
				return PLOCK_PTRACE_OTHER_USER;
		/*
		 * The files in /proc/PID (not the directory itself) belong
		 * to root when the process is not dumpable.
		 */
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		if (stat(path, &sb) == 0 && sb.st_uid != tu[1])
			return PLOCK_PTRACE_NODUMP;
	}
	/* The capability check: its permitted set within the caller's. */
	if (!priv && status_field(pid, 0, "CapPrm", v, sizeof v) == 0 &&
	    sscanf(v, "%lx", &tcap) == 1 && status_field(getpid(), 0, "CapPrm", v, sizeof v) == 0 &&
	    sscanf(v, "%lx", &mycap) == 1 && (tcap & ~mycap) != 0)
		return PLOCK_PTRACE_CAPS;
	x = yama_scope();
	if (x >= 3 || (x == 2 && !priv) || (x == 1 && !priv && !descendant(pid))) {
		*detail = x;
		return PLOCK_PTRACE_YAMA;
	}
	if ((x = status_long(pid, 0, "TracerPid", 0)) != 0) {
		*detail = x;
		return PLOCK_PTRACE_TRACED;
	}
	return seccomp_filtered() ? PLOCK_PTRACE_SECCOMP : PLOCK_PTRACE_UNKNOWN;
}

int pl_traceme_refusal(long *detail)
{
	long x;

	*detail = 0;
	/*
	 * A tracer that follows forks (strace -f, a debugger) attaches the
	 * child before it can ask: traced already.
	 */
	if ((x = status_long(getpid(), 0, "TracerPid", 0)) != 0) {
		*detail = x;
		return PLOCK_PTRACE_TRACED;
	}
	/* Yama: scope 3 refuses PTRACE_TRACEME; scope 2, unless the parent has CAP_SYS_PTRACE. */
	x = yama_scope();
	if (x >= 3 || (x == 2 && !cap_sys_ptrace())) {
		*detail = x;
		return PLOCK_PTRACE_YAMA;
	}
	/* The child inherits the caller's seccomp filters. */
	return seccomp_filtered() ? PLOCK_PTRACE_SECCOMP : PLOCK_PTRACE_UNKNOWN;
}

#ifndef PL_REMOTE_NOREGS

enum { T_RUNNING, T_STOPPED, T_GONE };

struct pl_thread {
	pid_t tid;
	int state;
};

struct pl_remote {
	pid_t pid;		/* the process (its thread group id) */
	pid_t me;		/* the tracer: the calling thread */
	int seized;		/* 0: our PTRACE_TRACEME child (at_entry) */
	int parent;		/* the caller is its parent: its exit is the caller's */
	struct pl_thread *t;
	size_t n, cap;
	pid_t worker;		/* the thread that executes the calls */
	pl_regs saved;		/* the worker's registers as it was found */
	int dirty;		/* the worker's registers are not saved */
	uintptr_t insn;		/* a syscall instruction in the process */
	unsigned long long held;	/* at_entry: signals to give back (bit sig-1) */
};

/* What a wait status of a tracee says. */
enum { K_EXIT, K_STOP, K_EVENT, K_SYSCALL, K_SIGNAL };

static int kind(int st, int *sig)
{
	*sig = 0;
	if (!WIFSTOPPED(st))
		return K_EXIT;
	if ((st >> 16) == PTRACE_EVENT_STOP)
		return K_STOP;		/* interrupt, group-stop, or a new thread */
	if ((st >> 16) != 0)
		return K_EVENT;		/* clone */
	if (WSTOPSIG(st) == (SIGTRAP | 0x80))
		return K_SYSCALL;	/* PTRACE_O_TRACESYSGOOD */
	*sig = WSTOPSIG(st);
	return K_SIGNAL;
}

static struct pl_thread *find(struct pl_remote *r, pid_t tid)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->t[i].tid == tid)
			return &r->t[i];
	return NULL;
}

static int add(struct pl_remote *r, pid_t tid, int state)
{
	struct pl_thread *t;

	if ((t = find(r, tid)) != NULL) {
		if (t->state == T_GONE)
			t->state = state;
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;

		if ((t = realloc(r->t, cap * sizeof *t)) == NULL)
			return ENOMEM;
		r->t = t;
		r->cap = cap;
	}
	r->t[r->n].tid = tid;
	r->t[r->n].state = state;
	r->n++;
	return 0;
}

/*
 * Waits for the next stop or the exit of thread tid.  When the caller is
 * the process's parent (always at_entry), the exit of its main thread is
 * left to the caller's own waitpid(), which must still find it, and
 * reported as ESRCH.
 */
static int wait_tid(struct pl_remote *r, pid_t tid, int *st)
{
	siginfo_t si;

	for (;;) {
		if (r->parent && tid == r->pid) {
			memset(&si, 0, sizeof si);
			if (waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | __WALL | WNOWAIT) != 0) {
				if (errno == EINTR)
					continue;
				return errno == ECHILD ? ESRCH : errno;
			}
			if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED ||
			    si.si_code == CLD_DUMPED)
				return ESRCH;
		}
		if (waitpid(tid, st, __WALL) >= 0)
			return 0;
		if (errno != EINTR)
			return errno == ECHILD ? ESRCH : errno;
	}
}

/*
 * Resumes a stopped tracee with PTRACE_CONT or PTRACE_SYSCALL.  ESRCH means
 * it was killed meanwhile: its exit is what the next wait finds.
 */
static void resume(pid_t tid, int req, int sig)
{
	(void)ptrace(req, tid, 0, (void *)(long)sig);
}

/*
 * Seized thread tid, which was sent PTRACE_INTERRUPT, is on its way to an
 * interrupt-stop: wait for it.  Threads it creates meanwhile are attached
 * (PTRACE_O_TRACECLONE) and added; signals are delivered, and the thread is
 * interrupted again.
 */
static int stop_one(struct pl_remote *r, pid_t tid)
{
	struct pl_thread *t;
	unsigned long msg;
	int st, sig, err;

	for (;;) {
		if ((err = wait_tid(r, tid, &st)) != 0 && err != ESRCH)
			return err;
		t = find(r, tid);
		if (err == ESRCH || kind(st, &sig) == K_EXIT) {
			t->state = T_GONE;
			return 0;
		}
		switch (kind(st, &sig)) {
		case K_STOP:
			t->state = T_STOPPED;
			return 0;
		case K_EVENT:
			if ((st >> 16) == PTRACE_EVENT_CLONE &&
			    ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0) {
				/* Attached already; it starts with an interrupt-stop. */
				if ((err = add(r, (pid_t)msg, T_RUNNING)) != 0)
					return err;
				(void)ptrace(PTRACE_INTERRUPT, (pid_t)msg, 0, 0);
			}
			resume(tid, PTRACE_CONT, 0);
			break;
		case K_SIGNAL:
			/* Any ptrace-stop ends a pending interrupt: ask again. */
			(void)ptrace(PTRACE_INTERRUPT, tid, 0, 0);
			resume(tid, PTRACE_CONT, sig);
			break;
		default:
			resume(tid, PTRACE_CONT, 0);
			break;
		}
	}
}

/* The tids of /proc/pid/task, each passed to fn; ESRCH if pid is gone. */
static int each_task(struct pl_remote *r, int (*fn)(struct pl_remote *, pid_t, int *), int *added)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof path, "/proc/%d/task", (int)r->pid);
	if ((dir = opendir(path)) == NULL)
		return errno == ENOENT ? ESRCH : errno;
	while (err == 0 && (d = readdir(dir)) != NULL) {
		char *end;
		long tid = strtol(d->d_name, &end, 10);

		if (*end != '\0' || tid <= 0)
			continue;
		err = fn(r, (pid_t)tid, added);
	}
	closedir(dir);
	return err;
}

/* PTRACE_SEIZE tid if it is new. */
static int seize(struct pl_remote *r, pid_t tid, int *added)
{
	const long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE;
	int err;

	if (find(r, tid) != NULL)
		return 0;
	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)opts) == 0) {
		(*added)++;
		return add(r, tid, T_RUNNING);
	}
	err = errno;
	if (err == ESRCH)
		return 0;		/* exited since the listing */
	if (err == EPERM) {
		/* Attached by TRACECLONE from a thread we hold. */
		if (status_long(r->pid, tid, "TracerPid", 0) == r->me) {
			(*added)++;
			return add(r, tid, T_RUNNING);
		}
		/*
		 * An exiting thread cannot be attached; a process whose main
		 * thread called pthread_exit() keeps it as a zombie.
		 */
		if (exiting(r->pid, tid))
			return 0;
	}
	return err;
}

/* Stops every thread of r->pid. */
static int stop_all(struct pl_remote *r)
{
	size_t i;
	int added, err;

	do {
		added = 0;
		if ((err = each_task(r, seize, &added)) != 0)
			return err;
		for (i = 0; i < r->n; i++)
			if (r->t[i].state == T_RUNNING)
				(void)ptrace(PTRACE_INTERRUPT, r->t[i].tid, 0, 0);
		/* r->n grows as threads created meanwhile are found. */
		for (i = 0; i < r->n; i++)
			if (r->t[i].state == T_RUNNING && (err = stop_one(r, r->t[i].tid)) != 0)
				return err;
	} while (added != 0);
	return 0;
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
	char v[64];
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
		if (pass == 0 && (status_field(r->pid, 0, "State", v, sizeof v) != 0 || v[0] != 't'))
			break;
		if (pass == 1)
			return 0;	/* stopped, and the stop was collected before */
	}
	if (wait_tid(r, r->pid, &st) != 0)
		return ESRCH;
	return WIFSTOPPED(st) ? 0 : ESRCH;
}

/* AT_ENTRY of process pid, from /proc/pid/auxv. */
static int auxv_entry(pid_t pid, uintptr_t *entry)
{
	int err = pl_proc_auxv(pid, AT_ENTRY, entry);

	return err == 0 && *entry == 0 ? EIO : err;
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

	if ((err = auxv_entry(r->pid, &entry)) != 0 || (err = pl_regs_get(r->pid, &regs)) != 0)
		return err;
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
	resume(r->pid, PTRACE_CONT, 0);
	for (;;) {
		if ((err = wait_tid(r, r->pid, &st)) != 0)
			return err;
		if (kind(st, &sig) == K_EXIT)
			return ESRCH;
		if (kind(st, &sig) != K_SIGNAL) {
			resume(r->pid, PTRACE_CONT, 0);
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
		resume(r->pid, PTRACE_CONT, sig);
	}
	if (ptrace(PTRACE_POKETEXT, r->pid, (void *)entry, (void *)word) != 0)
		return errno;
	pl_regs_set_pc(&regs, entry);
	return pl_regs_set(r->pid, &regs);
}

/*
 * Finds a syscall instruction in an executable mapping of the process,
 * the [vdso] first, reading through /proc/PID/mem (which reads
 * execute-only mappings too).
 */
static int find_insn(struct pl_remote *r)
{
	struct pl_table t = PL_TABLE_INIT;
	unsigned char buf[65536];
	size_t i, pass, k, ilen = sizeof pl_syscall_insn;
	char path[64];
	int fd, err;

	if ((err = pl_table_read(&t, r->pid, PL_PATHS)) != 0)
		return err;
	snprintf(path, sizeof path, "/proc/%d/mem", (int)r->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		pl_table_free(&t);
		return errno == ENOENT ? ESRCH : errno;
	}
	err = ENOEXEC;
	for (pass = 0; pass < 2 && err != 0; pass++) {
		for (i = 0; i < t.n && err != 0; i++) {
			const struct pl_map *m = &t.map[i];
			int vdso = strcmp(pl_map_path(&t, m), "[vdso]") == 0;
			uintptr_t a;

			if (!(m->prot & PLOCK_PROT_EXEC) || vdso != (pass == 0))
				continue;
			for (a = m->start; a < m->end && err != 0; a += sizeof buf - ilen) {
				size_t want = m->end - a < sizeof buf ? m->end - a : sizeof buf;
				ssize_t got = pread(fd, buf, want, (off_t)a);

				if (got < (ssize_t)ilen)
					break;
				for (k = 0; k + ilen <= (size_t)got; k++) {
					if ((a + k) % PL_INSN_ALIGN == 0 &&
					    memcmp(buf + k, pl_syscall_insn, ilen) == 0) {
						r->insn = a + k;
						err = 0;
						break;
					}
				}
				if ((size_t)got < want)
					break;
			}
		}
	}
	close(fd);
	pl_table_free(&t);
	return err;
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
		if ((err = wait_tid(r, r->worker, &st)) != 0)
			return err;
		switch (kind(st, sig)) {
		case K_EXIT:
			return ESRCH;
		case K_SYSCALL:
			*sig = 0;
			return 0;
		case K_SIGNAL:
			return 0;
		default:
			resume(r->worker, PTRACE_SYSCALL, 0);
			break;
		}
	}
}

/*
 * The worker is in a signal-delivery-stop with our registers in it: give
 * it its own, and deliver the signal.  A seized worker is interrupted again
 * and found where the signal took it; our PTRACE_TRACEME child cannot be
 * interrupted, so the signal is held and given back at detach.
 */
static int deliver(struct pl_remote *r, int sig)
{
	struct pl_thread *t = find(r, r->worker);
	int err;

	if (!r->seized) {
		r->held |= 1ULL << (sig - 1);
		return 0;
	}
	if ((err = pl_regs_set(r->worker, &r->saved)) != 0)
		return err;
	r->dirty = 0;
	(void)ptrace(PTRACE_INTERRUPT, r->worker, 0, 0);
	resume(r->worker, PTRACE_CONT, sig);
	t->state = T_RUNNING;
	if ((err = stop_one(r, r->worker)) != 0)
		return err;
	if (t->state != T_STOPPED)
		return ESRCH;
	return pl_regs_get(r->worker, &r->saved);
}

long pl_remote_syscall(struct pl_remote *r, long nr, const long args[6])
{
	pl_regs regs;
	long res;
	int err, sig;

	if (r == NULL)
		return -ENOSYS;
	for (;;) {
		regs = r->saved;
		pl_regs_set_call(&regs, r->insn, nr, args);
		if ((err = pl_regs_set(r->worker, &regs)) != 0)
			return -err;
		r->dirty = 1;
		resume(r->worker, PTRACE_SYSCALL, 0);
		if ((err = syscall_stop(r, &sig)) != 0)
			return -err;
		if (sig != 0) {
			/* On the way to the instruction: the call has not run. */
			if ((err = deliver(r, sig)) != 0)
				return -err;
			continue;
		}
		/* The syscall-entry-stop; on to the exit. */
		resume(r->worker, PTRACE_SYSCALL, 0);
		if ((err = syscall_stop(r, &sig)) != 0)
			return -err;
		if (sig != 0)
			return -EIO;	/* no signal is dequeued inside a call */
		if ((err = pl_regs_get(r->worker, &regs)) != 0)
			return -err;
		res = pl_regs_result(&regs);
		switch (-res) {
		case PL_ERESTARTSYS:
		case PL_ERESTARTNOINTR:
		case PL_ERESTARTNOHAND:
		case PL_ERESTART_RESTARTBLOCK:
			/*
			 * A signal interrupted the call: the next resume
			 * delivers it (deliver()), then the call is made again.
			 */
			continue;
		}
		return res;
	}
}

/*
 * The worker ran our calls: give it its registers back, at a stop from which
 * resuming goes through the kernel's restart of an interrupted call (see the
 * top of this file).
 */
static void restore_worker(struct pl_remote *r)
{
	struct pl_thread *t = find(r, r->worker);
	int sig;

	if (t == NULL || t->state != T_STOPPED || !r->dirty)
		return;
	if (pl_regs_set(r->worker, &r->saved) != 0)
		return;
	r->dirty = 0;
	if (!r->seized) {
		/* Stopped at the entry point: nothing to restart. */
		for (sig = 1; sig <= 64; sig++)
			if (r->held & (1ULL << (sig - 1)))
				(void)syscall(SYS_tgkill, r->pid, r->worker, sig);
		return;
	}
	(void)ptrace(PTRACE_INTERRUPT, r->worker, 0, 0);
	resume(r->worker, PTRACE_CONT, 0);
	t->state = T_RUNNING;
	(void)stop_one(r, r->worker);
}

/*
 * Lets every thread go.  A thread still on its way to a stop is waited for
 * first (PTRACE_DETACH needs a stopped tracee).  A thread that cannot be
 * detached was killed meanwhile: its exit is collected, so that no zombie
 * waits for us; the main thread last, as the kernel reports it last.
 */
static void release(struct pl_remote *r)
{
	size_t i;
	int st, main;

	for (i = 0; i < r->n; i++)
		if (r->t[i].state == T_RUNNING) {
			(void)ptrace(PTRACE_INTERRUPT, r->t[i].tid, 0, 0);
			(void)stop_one(r, r->t[i].tid);
		}
	restore_worker(r);
	for (main = 0; main < 2; main++) {
		for (i = 0; i < r->n; i++) {
			struct pl_thread *t = &r->t[i];

			if (t->state != T_STOPPED || (t->tid == r->pid) != main)
				continue;
			if (ptrace(PTRACE_DETACH, t->tid, 0, 0) != 0 && errno == ESRCH &&
			    (!r->parent || t->tid != r->pid))
				(void)waitpid(t->tid, &st, __WALL);
			t->state = T_GONE;
		}
	}
}

void pl_remote_detach(struct pl_remote *r)
{
	if (r == NULL)
		return;
	release(r);
	free(r->t);
	free(r);
}

void pl_remote_hold(struct pl_remote *r)
{
	struct pl_thread *t;
	int sig;

	if (r == NULL)
		return;
	if (r->seized || (t = find(r, r->pid)) == NULL || t->state != T_STOPPED) {
		pl_remote_detach(r);
		return;
	}
	/* Its own registers back, at the entry point; still stopped and traced. */
	if (r->dirty)
		(void)pl_regs_set(r->worker, &r->saved);
	/* Signals held meanwhile: queued, for after the caller's decision. */
	for (sig = 1; sig <= 64; sig++)
		if (r->held & (1ULL << (sig - 1)))
			(void)syscall(SYS_tgkill, r->pid, r->pid, sig);
	free(r->t);
	free(r);
}

int pl_remote_attach(pid_t pid, int at_entry, struct pl_remote **rp)
{
	struct pl_remote *r;
	struct pl_thread *t;
	size_t i;
	int err;

	*rp = NULL;
	if (!PL_REMOTE_SUPPORTED)
		return ENOSYS;
	if (pid <= 0)
		return ESRCH;
	if (pid == getpid())
		return EPERM;		/* the kernel does not let a process trace itself */
	if ((r = calloc(1, sizeof *r)) == NULL)
		return ENOMEM;
	r->pid = pid;
	r->me = (pid_t)syscall(SYS_gettid);
	r->seized = !at_entry;
	r->parent = at_entry || status_long(pid, 0, "PPid", 0) == getpid();
	if (at_entry) {
		if ((err = add(r, pid, T_RUNNING)) != 0 || (err = exec_stop(r)) != 0)
			goto fail;
		r->t[0].state = T_STOPPED;
		(void)ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD);
		if ((err = run_to_entry(r)) != 0)
			goto fail;
	} else if ((err = stop_all(r)) != 0) {
		goto fail;
	}
	/* The main thread, unless it has exited; then any. */
	r->worker = 0;
	for (i = 0; i < r->n; i++) {
		t = &r->t[i];
		if (t->state == T_STOPPED && (r->worker == 0 || t->tid == pid))
			r->worker = t->tid;
	}
	err = ESRCH;
	if (r->worker == 0)
		goto fail;
	if ((err = pl_regs_get(r->worker, &r->saved)) != 0)
		goto fail;
	err = ENOSYS;
	if (!pl_regs_native(&r->saved))
		goto fail;		/* a 32-bit program */
	if ((err = find_insn(r)) != 0)
		goto fail;
	*rp = r;
	return 0;
fail:
	pl_remote_detach(r);
	return err;
}

#else /* PL_REMOTE_NOREGS */

struct pl_remote {
	int unused;
};

int pl_remote_attach(pid_t pid, int at_entry, struct pl_remote **r)
{
	(void)pid;
	(void)at_entry;
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

void pl_remote_detach(struct pl_remote *r)
{
	(void)r;
}

void pl_remote_hold(struct pl_remote *r)
{
	(void)r;
}

#endif /* PL_REMOTE_NOREGS */
