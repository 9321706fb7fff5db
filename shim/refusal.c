/*
 * Why the kernel refused to let the caller trace a process: the diagnosis
 * behind PLOCK_WHY_PTRACE.  Asked only after a refusal, from /proc and the
 * caller's own credentials; each answer is what would make the call
 * succeed, checked in the kernel's order (__ptrace_may_access() in
 * kernel/ptrace.c, then the security modules).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define PF_KTHREAD_FLAG		0x00200000	/* PF_KTHREAD in /proc/PID/stat */

/* Whether the caller has CAP_SYS_PTRACE in effect. */
static int cap_sys_ptrace(void)
{
	int has = 0;

	return pl_proc_cap(0, CAP_SYS_PTRACE, &has) == 0 && has;
}

/* The four ids of a "Uid:" or "Gid:" line: real, effective, saved, fs. */
static int ids(pid_t pid, const char *key, unsigned long v[4])
{
	char line[128];

	if (pl_proc_status(pid, 0, key, line, sizeof line) != 0)
		return -1;
	return sscanf(line, "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) == 4 ? 0 : -1;
}

/* Whether pid descends from the caller (Yama's ptrace_scope 1 allows that). */
static int descendant(pid_t pid)
{
	long p = pid;
	int depth;

	for (depth = 0; depth < 4096 && p > 1; depth++) {
		p = pl_proc_status_long((pid_t)p, 0, "PPid", 0);
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
	return pl_proc_status_long(0, 0, "Seccomp", 0) == 2;
}

/* A kernel thread: PF_KTHREAD in the flags, field 9 of stat. */
static int kthread(pid_t pid)
{
	char buf[1024];
	unsigned long flags = 0;
	const char *s;

	if (pl_proc_stat(pid, 0, buf, sizeof buf, &s) != 0)
		return 0;
	return sscanf(s, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 && (flags & PF_KTHREAD_FLAG);
}

int pl_remote_refusal(pid_t pid, long *detail)
{
	unsigned long tu[4], tg[4], tcap = 0, mycap = 0;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	char path[64], v[64];
	struct stat sb;
	long x;
	int i, priv = cap_sys_ptrace();

	*detail = 0;
	if (pid == getpid())
		return PLOCK_PTRACE_SELF;
	if (kthread(pid))
		return PLOCK_PTRACE_KTHREAD;
	if (pl_proc_exiting(pid))
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
		pl_proc_path(pid, 0, "stat", path);
		if (stat(path, &sb) == 0 && sb.st_uid != tu[1])
			return PLOCK_PTRACE_NODUMP;
	}
	/* The capability check: its permitted set within the caller's. */
	if (!priv && pl_proc_status(pid, 0, "CapPrm", v, sizeof v) == 0 &&
	    sscanf(v, "%lx", &tcap) == 1 && pl_proc_status(0, 0, "CapPrm", v, sizeof v) == 0 &&
	    sscanf(v, "%lx", &mycap) == 1 && (tcap & ~mycap) != 0)
		return PLOCK_PTRACE_CAPS;
	x = yama_scope();
	if (x >= 3 || (x == 2 && !priv) || (x == 1 && !priv && !descendant(pid))) {
		*detail = x;
		return PLOCK_PTRACE_YAMA;
	}
	if ((x = pl_remote_tracer(pid)) != 0) {
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
	if ((x = pl_proc_status_long(0, 0, "TracerPid", 0)) != 0) {
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
