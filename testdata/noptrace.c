/*
 * A program for the tests (tests/c/test_remote.c, cplock's): runs a command
 * under a seccomp filter that refuses ptrace(2) with EPERM, as a
 * container's seccomp profile may; or, with --deny-memlock=ACTION, one
 * that gives the mlock family (mlock, mlock2, munlock, mlockall,
 * munlockall) ACTION instead, as systemd's SystemCallFilter=~@memlock
 * does: kill (the process), trap (SIGSYS) or errno (EPERM).  make builds
 * it as build/noptrace.
 *
 *	noptrace [--deny-memlock=kill|trap|errno] COMMAND [ARG...]
 *
 * Exit 127: the filter could not be installed or COMMAND not run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH	AUDIT_ARCH_AARCH64
#else
#error "noptrace: no AUDIT_ARCH for this architecture"
#endif

/* The action of --deny-memlock=NAME, or 0 for an unknown name. */
static unsigned int action(const char *name)
{
	if (strcmp(name, "kill") == 0)
		return SECCOMP_RET_KILL_PROCESS;
	if (strcmp(name, "trap") == 0)
		return SECCOMP_RET_TRAP;
	if (strcmp(name, "errno") == 0)
		return SECCOMP_RET_ERRNO | EPERM;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int deny = 0;
	struct sock_filter ptrace_f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter memlock_f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mlock, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mlock2, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munlock, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mlockall, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munlockall, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, 0),	/* the action, below */
	};
	struct sock_fprog prog = { sizeof ptrace_f / sizeof ptrace_f[0], ptrace_f };

	if (argc > 1 && strncmp(argv[1], "--deny-memlock=", 15) == 0) {
		if ((deny = action(argv[1] + 15)) == 0) {
			fprintf(stderr, "noptrace: %s: want kill, trap or errno\n", argv[1]);
			return 127;
		}
		memlock_f[sizeof memlock_f / sizeof memlock_f[0] - 1].k = deny;
		prog.len = sizeof memlock_f / sizeof memlock_f[0];
		prog.filter = memlock_f;
		argv++, argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: noptrace [--deny-memlock=kill|trap|errno] COMMAND [ARG...]\n");
		return 127;
	}
	/* Without CAP_SYS_ADMIN a filter needs no_new_privs; with it, no harm. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		fprintf(stderr, "noptrace: seccomp: %s\n", strerror(errno));
		return 127;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "noptrace: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
