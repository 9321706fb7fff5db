/*
 * shim/seccomp.c against the kernel: the kernel is the oracle.
 *
 * Each trial forks a child whose second thread installs real seccomp
 * filters (or enters strict mode) and then spins, making no system call.
 * The test seizes that thread, stops it, reads its filters with
 * pl_seccomp_read() and detaches; pl_seccomp_eval() predicts what the
 * filters do with one system call; then the thread makes that call,
 * through a stub of ours whose return address is the instruction pointer
 * the filters see, and the test watches what the kernel does:
 *   ALLOW, LOG       the call ran: its real result (getpid's pid; mlock*'s 0
 *                    and VmLck, which says whether it locked or unlocked)
 *   ERRNO|n          it returned -n (n capped at 4095) and changed nothing
 *   TRAP|n           the thread's SIGSYS handler ran with si_errno n,
 *                    si_syscall, si_arch and si_call_addr as predicted
 *   TRACE, USER_NOTIF  no tracer, no listener: -ENOSYS
 *   KILL_THREAD      the thread is gone, the main thread runs on
 *   KILL_PROCESS     the process died of SIGSYS
 * Nothing runs after the call in the filtered thread: the SIGSYS handler
 * and the thread record what they saw in shared memory and spin until the
 * test kills the child.
 *
 * The filters: a deny list of the mlock family like systemd's
 * SystemCallFilter=~@memlock (KILL_PROCESS, TRAP and ERRNO variants), an
 * allow list with default ERRNO, a filter on arguments (mlock2 only with
 * MLOCK_ONFAULT), one on arch and instruction pointer, stacks of filters
 * whose actions compete (and one inherited from the main thread), programs
 * that use every ALU operation, JSET, shifts and division by X (0
 * included), scratch memory and LEN, and a few hundred random programs the
 * kernel accepted.  Also strict mode; a TRACE with a real tracer; a
 * USER_NOTIF with a listener, which shows the seccomp_data the kernel built;
 * the reader without CAP_SYS_ADMIN, and under seccomp itself (EACCES);
 * ESRCH; a thread whose status is longer than 4 KiB.  And a measurement:
 * pl_seccomp_read() plus 10 evaluations of a 200-instruction filter.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "../../shim/internal.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	0x01
#endif
#ifndef SYS_SECCOMP
#define SYS_SECCOMP	1	/* si_code of a SECCOMP_RET_TRAP */
#endif

/*
 * Two system call stubs, t_stub_a and t_stub_b: long stub(nr, args[6]).
 * The kernel's seccomp_data.instruction_pointer for a call made by one is
 * the address of its label NAME_ret, right after the system call
 * instruction.
 */
#if defined(__x86_64__) && defined(__LP64__)
#define ARCH	AUDIT_ARCH_X86_64
#define STUB(name)								\
	".text\n.p2align 4\n.globl " #name "\n.type " #name ",@function\n"	\
	#name ":\n"								\
	"\tmovq %rdi, %rax\n\tmovq %rsi, %r11\n"				\
	"\tmovq 0(%r11), %rdi\n\tmovq 8(%r11), %rsi\n\tmovq 16(%r11), %rdx\n"	\
	"\tmovq 24(%r11), %r10\n\tmovq 32(%r11), %r8\n\tmovq 40(%r11), %r9\n"	\
	"\tsyscall\n.globl " #name "_ret\n" #name "_ret:\n\tret\n"		\
	".size " #name ", .-" #name "\n"
#elif defined(__aarch64__) && defined(__LP64__)
#define ARCH	AUDIT_ARCH_AARCH64
#define STUB(name)								\
	".text\n.p2align 4\n.globl " #name "\n.type " #name ",%function\n"	\
	#name ":\n"								\
	"\tmov x8, x0\n\tmov x9, x1\n\tldp x0, x1, [x9]\n"			\
	"\tldp x2, x3, [x9, #16]\n\tldp x4, x5, [x9, #32]\n"			\
	"\tsvc #0\n.globl " #name "_ret\n" #name "_ret:\n\tret\n"		\
	".size " #name ", .-" #name "\n"
#endif

#ifdef ARCH
__asm__(STUB(t_stub_a) STUB(t_stub_b));
long t_stub_a(long nr, const uint64_t *args);
long t_stub_b(long nr, const uint64_t *args);
extern const char t_stub_a_ret[], t_stub_b_ret[];

#define PAGE		4096
#define UNMAPPED	0x1000		/* below mmap_min_addr: never mapped */
#define MAXPROGS	4
#define TIMEOUT_NS	(10 * 1000000000LL)

static void spin(void)
{
#if defined(__x86_64__)
	__asm__ volatile("pause");
#else
	__asm__ volatile("yield");
#endif
}

/* ------------------------------------------------------------ trials */

/* The calls the tests make: each has a real result when the filters allow it. */
enum {
	C_GETPID,		/* the pid */
	C_MLOCK,		/* mlock(page): 0, VmLck > 0 */
	C_MLOCK2,		/* mlock2(page, flags args[2]): 0, VmLck > 0 */
	C_MUNLOCK,		/* munlock(page), page locked first: 0, VmLck 0 */
	C_MUNLOCKALL,		/* munlockall(), page locked first: 0, VmLck 0 */
	C_MLOCK2_UNMAPPED,	/* mlock2 of an unmapped page: -ENOMEM */
	C_WRITE_BADFD,		/* write(-1, ...): -EBADF */
	C_READ_BADFD,		/* read(-1, ...): -EBADF */
	C_MLOCKALL_BAD		/* mlockall(0x80): -EINVAL */
};

struct call {
	int kind, nr, stub;	/* stub 0: t_stub_a; 1: t_stub_b */
	uint64_t args[6];
};

struct trial {
	const struct sock_fprog *prog[MAXPROGS];	/* installed in this order */
	unsigned int flags[MAXPROGS];			/* SECCOMP_FILTER_FLAG_* */
	int nprog;
	int inherited;		/* of prog, installed by the main thread before the thread starts */
	int strict;		/* the thread enters strict mode instead */
	int ngroups;		/* supplementary groups for the child (a long status) */
	int nnp;		/* PR_SET_NO_NEW_PRIVS first (a child without CAP_SYS_ADMIN) */
	struct call call;
};

/* What a child tells the test, in a shared page. */
struct shared {
	_Atomic int ready;	/* 1 filters in place; -1 one could not be installed */
	_Atomic int go;
	_Atomic int done;	/* the call returned result */
	_Atomic int trapped;	/* the SIGSYS handler ran */
	_Atomic int notified;	/* the main thread received a notification */
	_Atomic int tid;
	_Atomic int listen_fd;
	_Atomic long beat;	/* the main thread's heartbeat */
	int err, failed_at;
	long result;
	int t_signo, t_code, t_errno, t_syscall;
	unsigned int t_arch;
	uintptr_t t_call_addr;
	struct seccomp_data req;
};

enum { O_RETURNED, O_TRAPPED, O_NOTIFIED, O_THREAD_DIED, O_PROCESS_DIED, O_HUNG };

struct outcome {
	int kind;
	long result;
	int status;		/* O_PROCESS_DIED */
	uint64_t vmlck;		/* O_RETURNED, O_TRAPPED: VmLck after the call */
};

static struct shared *sh;
static const struct trial *cur;		/* the trial a child runs */
static unsigned char *page;		/* mapped before any fork: the same in every child */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void nap(long ns)
{
	struct timespec ts = { 0, ns };

	nanosleep(&ts, NULL);
}

static uintptr_t stub_ret(int stub)
{
	return stub ? (uintptr_t)t_stub_b_ret : (uintptr_t)t_stub_a_ret;
}

/* Records the SIGSYS of a SECCOMP_RET_TRAP; returning would be rt_sigreturn. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	sh->t_signo = sig;
	sh->t_code = si->si_code;
	sh->t_errno = si->si_errno;
	sh->t_syscall = si->si_syscall;
	sh->t_arch = si->si_arch;
	sh->t_call_addr = (uintptr_t)si->si_call_addr;
	atomic_store(&sh->trapped, 1);
	for (;;)
		spin();
}

static long install(const struct sock_fprog *p, unsigned int flags)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, p);
}

/* The filtered thread: after its filters, no system call but the one. */
static void *filtered_thread(void *arg)
{
	const struct trial *t = cur;
	long r;
	int i;

	(void)arg;
	atomic_store(&sh->tid, (int)syscall(SYS_gettid));
	if (t->strict && syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL) != 0) {
		sh->err = errno;
		atomic_store(&sh->ready, -1);
		for (;;)
			spin();
	}
	for (i = t->inherited; i < t->nprog; i++) {
		if ((r = install(t->prog[i], t->flags[i])) < 0) {
			sh->err = errno;
			sh->failed_at = i;
			atomic_store(&sh->ready, -1);
			for (;;)
				spin();
		}
		if (t->flags[i] & SECCOMP_FILTER_FLAG_NEW_LISTENER)
			atomic_store(&sh->listen_fd, (int)r);
	}
	atomic_store(&sh->ready, 1);
	while (!atomic_load(&sh->go))
		spin();
	r = (t->call.stub ? t_stub_b : t_stub_a)(t->call.nr, t->call.args);
	sh->result = r;
	atomic_store(&sh->done, 1);
	for (;;)
		spin();
	return NULL;
}

/* A listener's main thread: records the first notification and answers -ENOTUNIQ. */
static void serve_notification(int fd)
{
	struct seccomp_notif n;
	struct seccomp_notif_resp resp;

	memset(&n, 0, sizeof n);
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0)
		return;
	sh->req = n.data;
	atomic_store(&sh->notified, 1);
	memset(&resp, 0, sizeof resp);
	resp.id = n.id;
	resp.error = -ENOTUNIQ;
	(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static void child_main(const struct trial *t)
{
	struct rlimit none = { 0, 0 };
	struct sigaction sa;
	pthread_t th;
	gid_t groups[4096];
	int i, fd;

	/* A filter that kills must not leave core files. */
	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (t->nnp)
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	if (t->ngroups > 0) {
		for (i = 0; i < t->ngroups && i < 4096; i++)
			groups[i] = (gid_t)(100000 + i);
		if (setgroups((size_t)i, groups) != 0)
			_exit(3);
	}
	/* syscall(2): AddressSanitizer makes the libc wrappers of mlock no-ops. */
	if (t->call.kind == C_MUNLOCK || t->call.kind == C_MUNLOCKALL)
		if (syscall(SYS_mlock, page, PAGE) != 0)
			_exit(4);
	for (i = 0; i < t->inherited; i++)
		if (install(t->prog[i], t->flags[i]) < 0) {
			sh->err = errno;
			sh->failed_at = i;
			atomic_store(&sh->ready, -1);
			_exit(5);
		}
	if (pthread_create(&th, NULL, filtered_thread, NULL) != 0)
		_exit(6);
	for (;;) {
		atomic_fetch_add(&sh->beat, 1);
		if ((fd = atomic_load(&sh->listen_fd)) >= 0) {
			serve_notification(fd);
			atomic_store(&sh->listen_fd, -1);
		}
		nap(1000000);
	}
}

/*
 * Starts the trial's child and waits until its thread has its filters:
 * the child's pid (its thread in *tid), or -1 with *err its errno (an
 * install that failed) or ETIMEDOUT.
 */
static pid_t trial_start(const struct trial *t, pid_t *tid, int *err)
{
	long long end = now_ns() + TIMEOUT_NS;
	pid_t pid;
	int st, r;

	memset(sh, 0, sizeof *sh);
	atomic_store(&sh->listen_fd, -1);
	cur = t;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		*err = errno;
		return -1;
	}
	if (pid == 0) {
		child_main(t);
		_exit(0);
	}
	while ((r = atomic_load(&sh->ready)) == 0 && now_ns() < end &&
	       waitpid(pid, &st, WNOHANG) == 0)
		nap(50000);
	if (r != 1) {
		*err = r == -1 ? sh->err : now_ns() < end ? ECHILD : ETIMEDOUT;
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return -1;
	}
	*tid = atomic_load(&sh->tid);
	return pid;
}

/* Seizes thread tid and holds it stopped (PTRACE_EVENT_STOP); 0 or an errno. */
static int seize(pid_t tid, long opts)
{
	int st;

	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)opts) != 0)
		return errno;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0 || waitpid(tid, &st, __WALL) != tid)
		return errno;
	return WIFSTOPPED(st) ? 0 : ESRCH;
}

/*
 * Kills and reaps the child.  A thread we still trace must be reaped by us
 * first: until it is, its exited leader cannot be.
 */
static void reap(pid_t pid, pid_t tid, int traced)
{
	kill(pid, SIGKILL);
	if (traced)
		waitpid(tid, NULL, __WALL);
	waitpid(pid, NULL, 0);
}

static int thread_alive(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/task/%d", (int)pid, (int)tid);
	return access(path, F_OK) == 0;
}

/*
 * Lets the thread make its call and watches what happens, then kills and
 * reaps the child.  A thread that is gone while the main thread's
 * heartbeat goes on was killed alone.
 */
static void trial_finish(pid_t pid, pid_t tid, struct outcome *o)
{
	long long end = now_ns() + TIMEOUT_NS;
	int st, reaped = 0;
	long beat;

	memset(o, 0, sizeof *o);
	o->kind = O_HUNG;
	atomic_store(&sh->go, 1);
	while (now_ns() < end) {
		if (atomic_load(&sh->done)) {
			o->kind = O_RETURNED;
			o->result = sh->result;
			break;
		}
		if (atomic_load(&sh->trapped)) {
			o->kind = O_TRAPPED;
			break;
		}
		if (atomic_load(&sh->notified)) {
			o->kind = O_NOTIFIED;
			break;
		}
		if (waitpid(pid, &st, WNOHANG) == pid) {
			o->kind = O_PROCESS_DIED;
			o->status = st;
			reaped = 1;
			break;
		}
		if (!thread_alive(pid, tid)) {
			beat = atomic_load(&sh->beat);
			while (now_ns() < end && atomic_load(&sh->beat) < beat + 3) {
				if (waitpid(pid, &st, WNOHANG) == pid) {
					o->kind = O_PROCESS_DIED;
					o->status = st;
					reaped = 1;
					break;
				}
				nap(200000);
			}
			if (!reaped && atomic_load(&sh->beat) >= beat + 3)
				o->kind = O_THREAD_DIED;
			break;
		}
		nap(20000);
	}
	if (!reaped) {
		if (o->kind == O_RETURNED || o->kind == O_TRAPPED)
			(void)pl_proc_vmlck(pid, &o->vmlck);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}

/* ------------------------------------------------------------ what is expected */

static const char *action_name(uint32_t a, char *buf, size_t n)
{
	uint32_t d = a & SECCOMP_RET_DATA;

	switch (a & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS:	snprintf(buf, n, "KILL_PROCESS|%u", d); break;
	case SECCOMP_RET_KILL_THREAD:	snprintf(buf, n, "KILL_THREAD|%u", d); break;
	case SECCOMP_RET_TRAP:		snprintf(buf, n, "TRAP|%u", d); break;
	case SECCOMP_RET_ERRNO:		snprintf(buf, n, "ERRNO|%u", d); break;
	case SECCOMP_RET_USER_NOTIF:	snprintf(buf, n, "USER_NOTIF|%u", d); break;
	case SECCOMP_RET_TRACE:		snprintf(buf, n, "TRACE|%u", d); break;
	case SECCOMP_RET_LOG:		snprintf(buf, n, "LOG|%u", d); break;
	case SECCOMP_RET_ALLOW:		snprintf(buf, n, "ALLOW|%u", d); break;
	default:			snprintf(buf, n, "unknown 0x%08x", a);
	}
	return buf;
}

static const char *outcome_name(const struct outcome *o, char *buf, size_t n)
{
	switch (o->kind) {
	case O_RETURNED:
		snprintf(buf, n, "returned %ld, VmLck %llu", o->result, (unsigned long long)o->vmlck);
		break;
	case O_TRAPPED:
		snprintf(buf, n, "SIGSYS %d code %d errno %d syscall %d arch 0x%x addr %#lx",
			 sh->t_signo, sh->t_code, sh->t_errno, sh->t_syscall, sh->t_arch,
			 (unsigned long)sh->t_call_addr);
		break;
	case O_NOTIFIED:	snprintf(buf, n, "notified"); break;
	case O_THREAD_DIED:	snprintf(buf, n, "the thread died, the process lives"); break;
	case O_PROCESS_DIED:	snprintf(buf, n, "the process died, status 0x%x", o->status); break;
	default:		snprintf(buf, n, "nothing happened in 10 s");
	}
	return buf;
}

static const char *call_name(const struct call *c, char *buf, size_t n)
{
	static const char *names[] = { "getpid", "mlock", "mlock2", "munlock", "munlockall",
				       "mlock2(unmapped)", "write(-1)", "read(-1)", "mlockall(0x80)" };

	snprintf(buf, n, "%s [%#llx %#llx %#llx %#llx %#llx %#llx] from stub %c",
		 names[c->kind], (unsigned long long)c->args[0], (unsigned long long)c->args[1],
		 (unsigned long long)c->args[2], (unsigned long long)c->args[3],
		 (unsigned long long)c->args[4], (unsigned long long)c->args[5], "ab"[c->stub]);
	return buf;
}

/* The call's real result, when it runs; and whether it leaves the page locked. */
static long real_result(const struct call *c, pid_t pid)
{
	switch (c->kind) {
	case C_GETPID:		return pid;
	case C_MLOCK2_UNMAPPED:	return -ENOMEM;
	case C_WRITE_BADFD:
	case C_READ_BADFD:	return -EBADF;
	case C_MLOCKALL_BAD:	return -EINVAL;
	}
	return 0;
}

static int locked_after(const struct call *c, int ran)
{
	switch (c->kind) {
	case C_MLOCK:
	case C_MLOCK2:
		return ran;
	case C_MUNLOCK:
	case C_MUNLOCKALL:
		return !ran;
	}
	return 0;
}

/*
 * Whether what the kernel did is what action a says it does; why not in
 * why.  ALLOW and LOG: the call ran; ERRNO, TRACE and USER_NOTIF (no
 * tracer, no listener): it returned an error without running.
 */
static int agrees(const struct call *c, pid_t pid, uint32_t a, const struct outcome *o,
		  char *why, size_t n)
{
	uint32_t d = a & SECCOMP_RET_DATA;
	long want = 0;
	int ran = 0;

	why[0] = '\0';
	switch (a & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS:
		if (o->kind == O_PROCESS_DIED && WIFSIGNALED(o->status) && WTERMSIG(o->status) == SIGSYS)
			return 1;
		snprintf(why, n, "not a death of the process by SIGSYS");
		return 0;
	case SECCOMP_RET_KILL_THREAD:
		if (o->kind == O_THREAD_DIED)
			return 1;
		snprintf(why, n, "not a death of the thread alone");
		return 0;
	case SECCOMP_RET_TRAP:
		if (o->kind == O_TRAPPED && sh->t_signo == SIGSYS && sh->t_code == SYS_SECCOMP &&
		    (uint32_t)sh->t_errno == d && sh->t_syscall == c->nr && sh->t_arch == ARCH &&
		    sh->t_call_addr == stub_ret(c->stub) && o->vmlck == (uint64_t)locked_after(c, 0) * PAGE)
			return 1;
		snprintf(why, n, "not that SIGSYS");
		return 0;
	case SECCOMP_RET_ERRNO:
		want = -(long)(d > 4095 ? 4095 : d);
		break;
	case SECCOMP_RET_TRACE:
	case SECCOMP_RET_USER_NOTIF:
		want = -ENOSYS;
		break;
	case SECCOMP_RET_ALLOW:
	case SECCOMP_RET_LOG:
		want = real_result(c, pid);
		ran = 1;
		break;
	default:
		snprintf(why, n, "eval returned an action the kernel does not know");
		return 0;
	}
	if (o->kind == O_RETURNED && o->result == want && o->vmlck == (uint64_t)locked_after(c, ran) * PAGE)
		return 1;
	snprintf(why, n, "want %ld with the page %slocked", want, locked_after(c, ran) ? "" : "not ");
	return 0;
}

/*
 * One trial, checked: pl_seccomp_read() of the thread, pl_seccomp_eval()
 * of the call, the kernel's doing.  Returns the action (in *act), or -1 if
 * the filters could not be installed (*err their errno), 1 if the kernel
 * agreed, 0 if not: a failed CHECK of the current test unless quiet.
 */
static int run_trial(const struct trial *t, uint32_t *act, int *err, int quiet)
{
	struct pl_seccomp *f = NULL;
	struct outcome o;
	char cn[200], an[40], on[160], why[80];
	pid_t pid, tid;
	int e, ok, ran;

	*err = 0;
	if ((pid = trial_start(t, &tid, err)) < 0)
		return -1;
	call_name(&t->call, cn, sizeof cn);
	if ((e = seize(tid, 0)) != 0) {
		CHECK(0, "%s: seize: %s", cn, strerror(e));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 0;
	}
	e = pl_seccomp_read(pid, tid, &f);
	ptrace(PTRACE_DETACH, tid, 0, 0);
	if (e != 0) {
		CHECK(0, "%s: pl_seccomp_read: %s", cn, strerror(e));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 0;
	}
	*act = pl_seccomp_eval(f, t->call.nr, t->call.args, stub_ret(t->call.stub));
	pl_seccomp_free(f);
	trial_finish(pid, tid, &o);
	ok = agrees(&t->call, pid, *act, &o, why, sizeof why);
	/* Whether the call ran, told by its result and VmLck: the answer allows must give. */
	ran = o.kind == O_RETURNED && o.result == real_result(&t->call, pid) &&
	      o.vmlck == (uint64_t)locked_after(&t->call, 1) * PAGE;
	if (pl_seccomp_allows(*act) != ran) {
		ok = 0;
		snprintf(why, sizeof why, "pl_seccomp_allows says %d", pl_seccomp_allows(*act));
	}
	if (!quiet)
		CHECK(ok, "%s: eval says %s, the kernel: %s (%s)", cn,
		      action_name(*act, an, sizeof an), outcome_name(&o, on, sizeof on), why);
	return ok;
}

static struct call mkcall(int kind, int stub)
{
	struct call c;

	memset(&c, 0, sizeof c);
	c.kind = kind;
	c.stub = stub;
	switch (kind) {
	case C_GETPID:		c.nr = SYS_getpid; break;
	case C_MLOCK:		c.nr = SYS_mlock; c.args[0] = (uintptr_t)page; c.args[1] = PAGE; break;
	case C_MLOCK2:		c.nr = SYS_mlock2; c.args[0] = (uintptr_t)page; c.args[1] = PAGE; break;
	case C_MUNLOCK:		c.nr = SYS_munlock; c.args[0] = (uintptr_t)page; c.args[1] = PAGE; break;
	case C_MUNLOCKALL:	c.nr = SYS_munlockall; break;
	case C_MLOCK2_UNMAPPED:	c.nr = SYS_mlock2; c.args[0] = UNMAPPED; c.args[1] = PAGE; break;
	case C_WRITE_BADFD:	c.nr = SYS_write; c.args[0] = (uint64_t)-1; break;
	case C_READ_BADFD:	c.nr = SYS_read; c.args[0] = (uint64_t)-1; break;
	case C_MLOCKALL_BAD:	c.nr = SYS_mlockall; c.args[0] = 0x80; break;
	}
	return c;
}

/*
 * Each call in turn under the filters progs (the oldest first); want, if
 * not NULL, is the action the test itself expects of each, so that a
 * filter written wrong does not pass unnoticed.
 */
static void calls_under(const struct sock_fprog *const *progs, int n, const struct call *calls,
			int ncalls, const uint32_t *want)
{
	struct trial t;
	uint32_t act = 0;
	char an[40], wn[40];
	int i, err;

	memset(&t, 0, sizeof t);
	for (i = 0; i < n; i++)
		t.prog[i] = progs[i];
	t.nprog = n;
	for (i = 0; i < ncalls; i++) {
		t.call = calls[i];
		if (run_trial(&t, &act, &err, 0) < 0) {
			CHECK(0, "the filters could not be installed: %s", strerror(err));
			return;
		}
		if (want != NULL)
			CHECK(act == want[i], "call %d: eval says %s, the test expects %s", i,
			      action_name(act, an, sizeof an), action_name(want[i], wn, sizeof wn));
	}
}

/* ------------------------------------------------------------ an assembler */

/* Programs with forward labels: jumps name a label, resolved at the end. */
#define PROG_MAX	256
struct prog {
	struct sock_filter f[PROG_MAX];
	int n;
	int label[64];			/* the instruction each label names */
	int tlab[PROG_MAX], flab[PROG_MAX];	/* -1: not a label */
	struct sock_fprog fp;
};

static void p_init(struct prog *p)
{
	memset(p, 0, sizeof *p);
	memset(p->label, -1, sizeof p->label);
}

static void op(struct prog *p, uint16_t code, uint32_t k)
{
	p->tlab[p->n] = p->flab[p->n] = -1;
	p->f[p->n++] = (struct sock_filter)BPF_STMT(code, k);
}

/* A conditional jump to labels lt and lf; -1 falls through. */
static void jmp(struct prog *p, uint16_t code, uint32_t k, int lt, int lf)
{
	p->tlab[p->n] = lt;
	p->flab[p->n] = lf;
	p->f[p->n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | code, k, 0, 0);
}

static void ja(struct prog *p, int l)
{
	p->tlab[p->n] = l;
	p->flab[p->n] = -1;
	p->f[p->n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0);
}

static void label(struct prog *p, int l)
{
	p->label[l] = p->n;
}

static const struct sock_fprog *p_end(struct prog *p)
{
	int i;

	for (i = 0; i < p->n; i++) {
		if (p->f[i].code == (BPF_JMP | BPF_JA)) {
			if (p->tlab[i] >= 0)
				p->f[i].k = (uint32_t)(p->label[p->tlab[i]] - i - 1);
			continue;
		}
		if (p->tlab[i] >= 0)
			p->f[i].jt = (uint8_t)(p->label[p->tlab[i]] - i - 1);
		if (p->flab[i] >= 0)
			p->f[i].jf = (uint8_t)(p->label[p->flab[i]] - i - 1);
	}
	p->fp.len = (unsigned short)p->n;
	p->fp.filter = p->f;
	return &p->fp;
}

#define OFF_NR		offsetof(struct seccomp_data, nr)
#define OFF_ARCH	offsetof(struct seccomp_data, arch)
#define OFF_IP_LO	offsetof(struct seccomp_data, instruction_pointer)
#define OFF_IP_HI	(OFF_IP_LO + 4)
#define OFF_ARG_LO(i)	(offsetof(struct seccomp_data, args) + 8 * (i))
#define OFF_ARG_HI(i)	(OFF_ARG_LO(i) + 4)

#define LD(off)		op(p, BPF_LD | BPF_W | BPF_ABS, (uint32_t)(off))
#define RET(k)		op(p, BPF_RET | BPF_K, (k))

/* The usual head: a call of another architecture is killed; A = nr. */
static void arch_check(struct prog *p, uint32_t other)
{
	LD(OFF_ARCH);
	jmp(p, BPF_JEQ | BPF_K, ARCH, 63, -1);
	RET(other);
	label(p, 63);
	LD(OFF_NR);
}

static struct prog progs[8];	/* the fixed tests' programs */

/* A deny list: the calls of nrs get action, the rest ALLOW. */
static const struct sock_fprog *deny_list(struct prog *p, const int *nrs, int n, uint32_t action)
{
	int i;

	p_init(p);
	arch_check(p, SECCOMP_RET_KILL_PROCESS);
	for (i = 0; i < n; i++)
		jmp(p, BPF_JEQ | BPF_K, (uint32_t)nrs[i], 1, -1);
	RET(SECCOMP_RET_ALLOW);
	label(p, 1);
	RET(action);
	return p_end(p);
}

/* A filter that gives nr the action a and lets everything else through. */
static const struct sock_fprog *one_call(struct prog *p, int nr, uint32_t a)
{
	p_init(p);
	LD(OFF_NR);
	jmp(p, BPF_JEQ | BPF_K, (uint32_t)nr, -1, 1);
	RET(a);
	label(p, 1);
	RET(SECCOMP_RET_ALLOW);
	return p_end(p);
}

static const int memlock[] = { SYS_mlock, SYS_mlock2, SYS_mlockall, SYS_munlock, SYS_munlockall };

/* ------------------------------------------------------------ the tests */

static void test_none(void)
{
	struct trial t;
	/* Not NULL, so that read must set it. */
	struct pl_seccomp *f = (struct pl_seccomp *)&t;
	struct outcome o;
	pid_t pid, tid;
	int err, e;

	h_begin("no-seccomp");
	memset(&t, 0, sizeof t);
	t.call = mkcall(C_MLOCK2, 0);
	if ((pid = trial_start(&t, &tid, &err)) > 0) {
		e = seize(tid, 0);
	CHECK(e == 0, "seize: %s", strerror(e));
		e = pl_seccomp_read(pid, tid, &f);
		CHECK(e == 0 && f == NULL, "pl_seccomp_read: %s, filters %p", strerror(e), (void *)f);
		CHECK(pl_seccomp_allows(pl_seccomp_eval(NULL, SYS_mlock2, t.call.args, 0)),
		      "no filters, and eval does not allow");
		ptrace(PTRACE_DETACH, tid, 0, 0);
		trial_finish(pid, tid, &o);
		CHECK(o.kind == O_RETURNED && o.result == 0 && o.vmlck == PAGE,
		      "mlock2 without a filter did not lock (kind %d, %ld)", o.kind, o.result);
	} else {
		CHECK(0, "no child: %s", strerror(err));
	}
	h_end();
}

/* systemd's SystemCallFilter=~@memlock: the mlock family, with each action. */
static void test_memlock_deny(const char *name, uint32_t action)
{
	const struct sock_fprog *p[1];
	struct call c[6];
	uint32_t want[6];

	h_begin(name);
	p[0] = deny_list(&progs[0], memlock, 5, action);
	c[0] = mkcall(C_MLOCK2, 0), want[0] = action;
	c[1] = mkcall(C_MLOCK, 1), want[1] = action;
	c[2] = mkcall(C_MUNLOCKALL, 0), want[2] = action;
	c[3] = mkcall(C_MLOCKALL_BAD, 0), want[3] = action;
	c[4] = mkcall(C_GETPID, 1), want[4] = SECCOMP_RET_ALLOW;
	c[5] = mkcall(C_WRITE_BADFD, 0), want[5] = SECCOMP_RET_ALLOW;
	calls_under(p, 1, c, 6, want);
	CHECK(!pl_seccomp_allows(action), "pl_seccomp_allows(0x%x)", action);
	h_end();
}

/* An allow list (libseccomp's default-deny style) without the mlock family. */
static void test_allow_list(void)
{
	static const int allowed[] = { SYS_read, SYS_write, SYS_getpid, SYS_exit, SYS_exit_group,
				       SYS_rt_sigreturn, SYS_nanosleep, SYS_futex };
	const struct sock_fprog *pp[1];
	struct prog *p = &progs[0];
	struct call c[5];
	uint32_t want[5];
	unsigned int i;

	h_begin("allow-list-default-errno");
	p_init(p);
	arch_check(p, SECCOMP_RET_KILL_PROCESS);
	for (i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		jmp(p, BPF_JEQ | BPF_K, (uint32_t)allowed[i], 1, -1);
	RET(SECCOMP_RET_ERRNO | EPERM);
	label(p, 1);
	RET(SECCOMP_RET_ALLOW);
	pp[0] = p_end(p);
	c[0] = mkcall(C_MLOCK2, 0), want[0] = SECCOMP_RET_ERRNO | EPERM;
	c[1] = mkcall(C_MUNLOCKALL, 1), want[1] = SECCOMP_RET_ERRNO | EPERM;
	c[2] = mkcall(C_MLOCK2_UNMAPPED, 0), want[2] = SECCOMP_RET_ERRNO | EPERM;
	c[3] = mkcall(C_GETPID, 0), want[3] = SECCOMP_RET_ALLOW;
	c[4] = mkcall(C_READ_BADFD, 1), want[4] = SECCOMP_RET_ALLOW;
	calls_under(pp, 1, c, 5, want);
	h_end();
}

/* mlock2 only with flags == MLOCK_ONFAULT, all 64 bits of them. */
static void test_args(void)
{
	const struct sock_fprog *pp[1];
	struct prog *p = &progs[0];
	struct call c[5];
	uint32_t want[5];

	h_begin("argument-filter");
	p_init(p);
	arch_check(p, SECCOMP_RET_KILL_PROCESS);
	jmp(p, BPF_JEQ | BPF_K, SYS_mlock2, -1, 9);
	LD(OFF_ARG_HI(2));
	jmp(p, BPF_JEQ | BPF_K, 0, -1, 1);
	LD(OFF_ARG_LO(2));
	jmp(p, BPF_JEQ | BPF_K, MLOCK_ONFAULT, 9, 1);
	label(p, 1);
	RET(SECCOMP_RET_ERRNO | EACCES);
	label(p, 9);
	RET(SECCOMP_RET_ALLOW);
	pp[0] = p_end(p);
	c[0] = mkcall(C_MLOCK2, 0), c[0].args[2] = MLOCK_ONFAULT, want[0] = SECCOMP_RET_ALLOW;
	c[1] = mkcall(C_MLOCK2, 0), want[1] = SECCOMP_RET_ERRNO | EACCES;
	/* The kernel's mlock2 takes int flags: the high word would not matter to it. */
	c[2] = mkcall(C_MLOCK2, 1), c[2].args[2] = 0x100000000ULL | MLOCK_ONFAULT;
	want[2] = SECCOMP_RET_ERRNO | EACCES;
	c[3] = mkcall(C_MLOCK, 0), want[3] = SECCOMP_RET_ALLOW;
	c[4] = mkcall(C_GETPID, 0), c[4].args[2] = 7, want[4] = SECCOMP_RET_ALLOW;
	calls_under(pp, 1, c, 5, want);
	h_end();
}

/* The arch field and the instruction pointer, both words. */
static void test_arch_ip(void)
{
	const struct sock_fprog *pp[1];
	struct prog *p = &progs[0];
	uint64_t b = (uintptr_t)t_stub_b_ret;
	struct call c[4];
	uint32_t want[4];

	h_begin("arch-and-instruction-pointer");
	p_init(p);
	/* A native call is trapped if it is getppid, else checked further. */
	LD(OFF_ARCH);
	jmp(p, BPF_JEQ | BPF_K, ARCH, -1, 8);
	LD(OFF_NR);
	jmp(p, BPF_JEQ | BPF_K, SYS_mlock2, -1, 9);
	LD(OFF_IP_LO);
	jmp(p, BPF_JEQ | BPF_K, (uint32_t)b, -1, 9);
	LD(OFF_IP_HI);
	jmp(p, BPF_JEQ | BPF_K, (uint32_t)(b >> 32), -1, 9);
	RET(SECCOMP_RET_ERRNO | EXDEV);
	label(p, 8);
	RET(SECCOMP_RET_KILL_PROCESS);
	label(p, 9);
	RET(SECCOMP_RET_ALLOW);
	pp[0] = p_end(p);
	c[0] = mkcall(C_MLOCK2, 1), want[0] = SECCOMP_RET_ERRNO | EXDEV;
	c[1] = mkcall(C_MLOCK2, 0), want[1] = SECCOMP_RET_ALLOW;
	c[2] = mkcall(C_GETPID, 1), want[2] = SECCOMP_RET_ALLOW;
	c[3] = mkcall(C_MLOCK2_UNMAPPED, 1), want[3] = SECCOMP_RET_ERRNO | EXDEV;
	calls_under(pp, 1, c, 4, want);
	h_end();
}

/*
 * Stacks: the most restrictive action wins, whatever the order; among
 * equal actions the newest filter's data.
 */
static void test_stacks(void)
{
	static const struct {
		uint32_t a[MAXPROGS];
		int n, inherited;
		uint32_t want;
	} s[] = {
		{ { SECCOMP_RET_ERRNO | 1, SECCOMP_RET_ERRNO | 2 }, 2, 0, SECCOMP_RET_ERRNO | 2 },
		{ { SECCOMP_RET_ERRNO | 3, SECCOMP_RET_ERRNO | 4, SECCOMP_RET_ERRNO | 5 }, 3, 0,
		  SECCOMP_RET_ERRNO | 5 },
		{ { SECCOMP_RET_ERRNO | 6, SECCOMP_RET_ERRNO | 7 }, 2, 1, SECCOMP_RET_ERRNO | 7 },
		{ { SECCOMP_RET_TRAP | 5, SECCOMP_RET_ERRNO | 6 }, 2, 0, SECCOMP_RET_TRAP | 5 },
		{ { SECCOMP_RET_ERRNO | 6, SECCOMP_RET_TRAP | 5 }, 2, 1, SECCOMP_RET_TRAP | 5 },
		{ { SECCOMP_RET_LOG, SECCOMP_RET_ALLOW | 9, SECCOMP_RET_ERRNO | 8, SECCOMP_RET_TRACE | 3 },
		  4, 0, SECCOMP_RET_ERRNO | 8 },
		{ { SECCOMP_RET_KILL_THREAD, SECCOMP_RET_KILL_PROCESS }, 2, 0, SECCOMP_RET_KILL_PROCESS },
		{ { SECCOMP_RET_KILL_PROCESS | 2, SECCOMP_RET_KILL_THREAD }, 2, 0,
		  SECCOMP_RET_KILL_PROCESS | 2 },
		{ { SECCOMP_RET_KILL_THREAD | 4, SECCOMP_RET_TRAP }, 2, 0, SECCOMP_RET_KILL_THREAD | 4 },
		{ { SECCOMP_RET_ALLOW, 0x00010000 }, 2, 0, SECCOMP_RET_KILL_PROCESS },
		{ { 0x00040000 | 7, SECCOMP_RET_TRAP }, 2, 0, SECCOMP_RET_TRAP },
		{ { 0x00040000 | 7, SECCOMP_RET_ERRNO | 1 }, 2, 0, SECCOMP_RET_KILL_PROCESS | 7 },
		{ { SECCOMP_RET_KILL_THREAD, 0xc0000000 }, 2, 0, SECCOMP_RET_KILL_PROCESS },
		{ { 0x7ff80000, SECCOMP_RET_ALLOW }, 2, 0, SECCOMP_RET_KILL_PROCESS },
		{ { 0x00010000, SECCOMP_RET_KILL_THREAD | 1 }, 2, 0, SECCOMP_RET_KILL_THREAD | 1 },
		{ { 0xc0000000, SECCOMP_RET_KILL_PROCESS | 3 }, 2, 0, SECCOMP_RET_KILL_PROCESS | 3 },
		{ { SECCOMP_RET_USER_NOTIF, SECCOMP_RET_TRACE | 1 }, 2, 0, SECCOMP_RET_USER_NOTIF },
		{ { SECCOMP_RET_TRACE | 77, SECCOMP_RET_LOG }, 2, 1, SECCOMP_RET_TRACE | 77 },
		{ { SECCOMP_RET_LOG | 123, SECCOMP_RET_ALLOW }, 2, 0, SECCOMP_RET_LOG | 123 },
		{ { SECCOMP_RET_ERRNO | 5000 }, 1, 0, SECCOMP_RET_ERRNO | 5000 },
		{ { SECCOMP_RET_ERRNO | 0 }, 1, 0, SECCOMP_RET_ERRNO },
		{ { SECCOMP_RET_KILL_THREAD | 9 }, 1, 0, SECCOMP_RET_KILL_THREAD | 9 },
	};
	static const int kinds[] = { C_MLOCK2, C_GETPID };
	struct prog p[MAXPROGS];
	struct trial t;
	uint32_t act = 0;
	char an[40], wn[40];
	unsigned int i, k;
	int j, err;

	h_begin("stacked-filters");
	for (i = 0; i < sizeof s / sizeof s[0]; i++)
		for (k = 0; k < 2; k++) {
			int nr = kinds[k] == C_GETPID ? SYS_getpid : SYS_mlock2;

			memset(&t, 0, sizeof t);
			for (j = 0; j < s[i].n; j++)
				t.prog[j] = one_call(&p[j], nr, s[i].a[j]);
			t.nprog = s[i].n;
			t.inherited = s[i].inherited;
			t.call = mkcall(kinds[k], (int)k);
			if (run_trial(&t, &act, &err, 0) < 0) {
				CHECK(0, "stack %u: the filters could not be installed: %s", i, strerror(err));
				continue;
			}
			CHECK(act == s[i].want, "stack %u: eval says %s, the test expects %s", i,
			      action_name(act, an, sizeof an), action_name(s[i].want, wn, sizeof wn));
		}
	h_end();
}

/* ------------------------------------------------------------ ALU programs */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* 32-bit values that make comparisons and arithmetic interesting. */
static uint32_t pick32(void)
{
	static const uint32_t v[] = { 0, 1, 2, 3, 5, 7, 31, 32, 33, 63, 64, 255, 0x7fffffff,
				      0x80000000, 0x80000001, 0xc0000000, 0xfffffffe, 0xffffffff };

	return rnd() % 3 == 0 ? rnd() : v[rnd() % (sizeof v / sizeof v[0])];
}

static uint64_t pick64(void)
{
	uint64_t hi = rnd() % 2 ? 0 : pick32();

	return hi << 32 | pick32();
}

/* A = A ^ (A >> 16) & 0xffff, returned as TRAP's data: 16 bits of what was computed. */
static void fold_and_trap(struct prog *p, uint32_t slot)
{
	op(p, BPF_ST, slot);
	op(p, BPF_ALU | BPF_RSH | BPF_K, 16);
	op(p, BPF_MISC | BPF_TAX, 0);
	op(p, BPF_LD | BPF_MEM, slot);
	op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
	op(p, BPF_ALU | BPF_AND | BPF_K, 0xffff);
	op(p, BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_TRAP);
	op(p, BPF_RET | BPF_A, 0);
}

/* getpid gets the program's result as TRAP's data; every other call ALLOW.  Uses label 1. */
static void only_getpid(struct prog *p)
{
	p_init(p);
	LD(OFF_NR);
	jmp(p, BPF_JEQ | BPF_K, SYS_getpid, 1, -1);
	RET(SECCOMP_RET_ALLOW);
	label(p, 1);
}

static const struct sock_fprog *alu_arith(struct prog *p)
{
	only_getpid(p);
	LD(OFF_ARG_LO(0));
	op(p, BPF_ALU | BPF_ADD | BPF_K, 0x12345);
	op(p, BPF_MISC | BPF_TAX, 0);
	LD(OFF_ARG_LO(1));
	op(p, BPF_ALU | BPF_MUL | BPF_X, 0);
	op(p, BPF_ALU | BPF_SUB | BPF_K, 7);
	op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
	op(p, BPF_ALU | BPF_MUL | BPF_K, 0x9e3779b9);
	op(p, BPF_ST, 0);
	LD(OFF_ARG_LO(2));
	op(p, BPF_ALU | BPF_AND | BPF_K, 0xff00ff);
	op(p, BPF_ALU | BPF_OR | BPF_K, 1);
	op(p, BPF_MISC | BPF_TAX, 0);
	op(p, BPF_LD | BPF_MEM, 0);
	op(p, BPF_ALU | BPF_DIV | BPF_X, 0);
	op(p, BPF_ALU | BPF_DIV | BPF_K, 3);
	op(p, BPF_ST, 1);
	LD(OFF_ARG_HI(3));
	op(p, BPF_ALU | BPF_LSH | BPF_K, 5);
	op(p, BPF_ALU | BPF_RSH | BPF_K, 2);
	op(p, BPF_ALU | BPF_NEG, 0);
	op(p, BPF_ALU | BPF_SUB | BPF_X, 0);
	op(p, BPF_ALU | BPF_AND | BPF_X, 0);
	op(p, BPF_ALU | BPF_OR | BPF_X, 0);
	op(p, BPF_MISC | BPF_TAX, 0);
	op(p, BPF_LD | BPF_MEM, 1);
	op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
	op(p, BPF_ALU | BPF_XOR | BPF_K, 0xdeadbeef);
	op(p, BPF_ST, 1);
	/* Unsigned division of a word that may have its top bit set. */
	LD(OFF_ARG_LO(4));
	op(p, BPF_ALU | BPF_DIV | BPF_K, 0x10001);
	op(p, BPF_MISC | BPF_TAX, 0);
	op(p, BPF_LD | BPF_MEM, 1);
	op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
	fold_and_trap(p, 2);
	return p_end(p);
}

/* Shifts by X of 32 and more; division by X, which may be 0. */
static const struct sock_fprog *alu_shift_div(struct prog *p)
{
	only_getpid(p);
	LD(OFF_ARG_LO(0));
	op(p, BPF_MISC | BPF_TAX, 0);
	LD(OFF_ARG_LO(1));
	op(p, BPF_ALU | BPF_LSH | BPF_X, 0);
	op(p, BPF_ST, 0);
	LD(OFF_ARG_HI(1));
	op(p, BPF_ALU | BPF_RSH | BPF_X, 0);
	op(p, BPF_LDX | BPF_MEM, 0);
	op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
	op(p, BPF_ST, 0);
	LD(OFF_ARG_LO(2));
	op(p, BPF_MISC | BPF_TAX, 0);
	op(p, BPF_LD | BPF_MEM, 0);
	op(p, BPF_ALU | BPF_DIV | BPF_X, 0);
	fold_and_trap(p, 1);
	return p_end(p);
}

/* JSET, JGT, JGE and JEQ with K of the top bit set, and with X: bits of X. */
static const struct sock_fprog *alu_jumps(struct prog *p)
{
	static const struct {
		uint16_t code;
		uint32_t k;
		uint32_t off;
	} c[] = {
		{ BPF_JSET | BPF_K, 0x80000000, OFF_ARG_LO(0) },
		{ BPF_JGT | BPF_K, 0xc0000000, OFF_ARG_LO(0) },
		{ BPF_JGE | BPF_K, 0xfffffffe, OFF_ARG_LO(0) },
		{ BPF_JEQ | BPF_K, 0xffffffff, OFF_ARG_HI(0) },
		{ BPF_JGT | BPF_K, 32, OFF_ARG_LO(1) },
		{ BPF_JGE | BPF_K, 0x80000000, OFF_ARG_HI(1) },
		{ BPF_JSET | BPF_K, 0x1, OFF_ARG_LO(1) },
		{ BPF_JGT | BPF_K, 0x7fffffff, OFF_ARG_LO(2) },
	};
	unsigned int i;

	only_getpid(p);
	op(p, BPF_LDX | BPF_IMM, 0);
	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		LD(c[i].off);
		jmp(p, c[i].code, c[i].k, -1, (int)(10 + i));
		op(p, BPF_MISC | BPF_TXA, 0);
		op(p, BPF_ALU | BPF_OR | BPF_K, 1u << i);
		op(p, BPF_MISC | BPF_TAX, 0);
		label(p, (int)(10 + i));
	}
	/* With X: arg 3 against the bits so far, and arg 4 against arg 5. */
	op(p, BPF_STX, 3);
	LD(OFF_ARG_LO(3));
	jmp(p, BPF_JGT | BPF_X, 0, -1, 30);
	op(p, BPF_LD | BPF_MEM, 3);
	op(p, BPF_ALU | BPF_OR | BPF_K, 0x100);
	op(p, BPF_ST, 3);
	label(p, 30);
	LD(OFF_ARG_LO(5));
	op(p, BPF_MISC | BPF_TAX, 0);
	LD(OFF_ARG_LO(4));
	jmp(p, BPF_JGE | BPF_X, 0, -1, 31);
	op(p, BPF_LD | BPF_MEM, 3);
	op(p, BPF_ALU | BPF_OR | BPF_K, 0x200);
	op(p, BPF_ST, 3);
	label(p, 31);
	LD(OFF_ARG_LO(4));
	jmp(p, BPF_JSET | BPF_X, 0, -1, 32);
	op(p, BPF_LD | BPF_MEM, 3);
	op(p, BPF_ALU | BPF_OR | BPF_K, 0x400);
	op(p, BPF_ST, 3);
	label(p, 32);
	LD(OFF_ARG_LO(4));
	jmp(p, BPF_JEQ | BPF_X, 0, -1, 33);
	op(p, BPF_LD | BPF_MEM, 3);
	op(p, BPF_ALU | BPF_OR | BPF_K, 0x800);
	op(p, BPF_ST, 3);
	label(p, 33);
	op(p, BPF_LD | BPF_MEM, 3);
	op(p, BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_TRAP);
	op(p, BPF_RET | BPF_A, 0);
	return p_end(p);
}

/* Scratch words written on both sides of a branch, LEN, every field of the data. */
static const struct sock_fprog *alu_memory(struct prog *p)
{
	only_getpid(p);
	op(p, BPF_LD | BPF_W | BPF_LEN, 0);
	op(p, BPF_ST, 0);
	op(p, BPF_LDX | BPF_W | BPF_LEN, 0);
	op(p, BPF_STX, 15);
	LD(OFF_ARG_LO(0));
	jmp(p, BPF_JEQ | BPF_K, 5, -1, 40);
	op(p, BPF_LDX | BPF_IMM, 100);
	ja(p, 41);
	label(p, 40);
	op(p, BPF_LDX | BPF_IMM, 200);
	label(p, 41);
	op(p, BPF_STX, 7);
	op(p, BPF_LD | BPF_MEM, 0);
	op(p, BPF_LDX | BPF_MEM, 15);
	op(p, BPF_ALU | BPF_MUL | BPF_X, 0);
	op(p, BPF_LDX | BPF_MEM, 7);
	op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
	op(p, BPF_MISC | BPF_TAX, 0);
	LD(OFF_ARCH);
	op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
	op(p, BPF_MISC | BPF_TAX, 0);
	LD(OFF_IP_LO);
	op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
	op(p, BPF_MISC | BPF_TAX, 0);
	LD(OFF_IP_HI);
	op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
	op(p, BPF_MISC | BPF_TAX, 0);
	LD(OFF_ARG_HI(5));
	op(p, BPF_ALU | BPF_SUB | BPF_X, 0);
	op(p, BPF_MISC | BPF_TAX, 0);
	LD(OFF_NR);
	op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
	fold_and_trap(p, 9);
	return p_end(p);
}

static void test_alu(void)
{
	const struct sock_fprog *(*build[])(struct prog *) = { alu_arith, alu_shift_div, alu_jumps,
							       alu_memory };
	struct trial t;
	uint32_t act;
	unsigned int b, i, j, seen_kill = 0;
	int err;

	h_begin("alu-jset-scratch-memory");
	for (b = 0; b < sizeof build / sizeof build[0]; b++) {
		memset(&t, 0, sizeof t);
		t.prog[0] = build[b](&progs[b]);
		t.nprog = 1;
		for (i = 0; i < 12; i++) {
			t.call = mkcall(C_GETPID, (int)(i & 1));
			for (j = 0; j < 6; j++)
				t.call.args[j] = pick64();
			/* Division by X == 0 for shift_div, now and then. */
			if (b == 1 && i % 4 == 0)
				t.call.args[2] = 0;
			if (b == 3 && i % 3 == 0)
				t.call.args[0] = 5;
			act = 0;
			if (run_trial(&t, &act, &err, 0) < 0) {
				CHECK(0, "program %u could not be installed: %s", b, strerror(err));
				break;
			}
			seen_kill += (act & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_KILL_THREAD;
		}
	}
	CHECK(seen_kill > 0, "division by X == 0 never predicted: the test did not test it");
	h_end();
}

/* ------------------------------------------------------------ random programs */

static uint32_t pick_k(void)
{
	uint64_t a = (uintptr_t)t_stub_a_ret, b = (uintptr_t)t_stub_b_ret;

	switch (rnd() % 8) {
	case 0: {
		static const int nrs[] = { SYS_getpid, SYS_mlock, SYS_mlock2, SYS_munlock,
					   SYS_munlockall };
		return (uint32_t)nrs[rnd() % 5];
	}
	case 1:
		return ARCH;
	case 2:
		switch (rnd() % 5) {
		case 0: return (uint32_t)a;
		case 1: return (uint32_t)(a >> 32);
		case 2: return (uint32_t)b;
		case 3: return (uint32_t)(uintptr_t)page;
		default: return (uint32_t)((uintptr_t)page >> 32);
		}
	case 3:
		return PAGE;
	default:
		return pick32();
	}
}

static uint32_t pick_ret(void)
{
	static const uint32_t acts[] = {
		SECCOMP_RET_ALLOW, SECCOMP_RET_ALLOW, SECCOMP_RET_ALLOW, SECCOMP_RET_ALLOW,
		SECCOMP_RET_ALLOW, SECCOMP_RET_ALLOW, SECCOMP_RET_LOG,
		SECCOMP_RET_ERRNO, SECCOMP_RET_ERRNO, SECCOMP_RET_TRAP, SECCOMP_RET_TRAP,
		SECCOMP_RET_KILL_THREAD, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_TRACE,
		SECCOMP_RET_USER_NOTIF, 0x00010000, 0x00060000, 0x7ff80000, 0x40000000, 0xc0000000,
	};
	uint32_t a = acts[rnd() % (sizeof acts / sizeof acts[0])];
	uint32_t d = rnd() % 4 == 0 ? rnd() & 0xffff : rnd() % 300;

	return a | (rnd() % 3 == 0 ? 0 : d);
}

/*
 * A random program of 2 to 40 instructions, mostly of the kind the kernel
 * accepts: forward jumps inside it, a RET last, scratch words read mostly
 * after a straight-line prefix wrote them; now and then something it
 * refuses (BPF_MOD, a load out of the data, a word never written).
 */
static void random_prog(struct prog *p)
{
	static const uint16_t alu[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR,
					BPF_XOR, BPF_LSH, BPF_RSH, BPF_NEG };
	static const uint16_t jcond[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
	int len = 2 + (int)(rnd() % 39), pc, jumped = 0;
	uint16_t written = 0;

	p_init(p);
	for (pc = 0; pc < len - 1; pc++) {
		struct sock_filter *f = &p->f[pc];
		uint32_t r = rnd() % 100, left = (uint32_t)(len - pc - 1), k;
		uint16_t o;

		memset(f, 0, sizeof *f);
		if (r < 22) {
			f->code = BPF_LD | BPF_W | BPF_ABS;
			f->k = rnd() % 50 == 0 ? 64 + 4 * (rnd() % 4) : 4 * (rnd() % 16);
		} else if (r < 27) {
			f->code = (rnd() % 2 ? BPF_LD : BPF_LDX) | BPF_IMM;
			f->k = pick_k();
		} else if (r < 32) {
			f->code = BPF_MISC | (rnd() % 2 ? BPF_TAX : BPF_TXA);
		} else if (r < 52) {
			o = rnd() % 60 == 0 ? BPF_MOD : alu[rnd() % (sizeof alu / sizeof alu[0])];
			f->code = BPF_ALU | o | (rnd() % 2 ? BPF_X : BPF_K);
			if (o == BPF_NEG)
				f->code = BPF_ALU | BPF_NEG;
			k = pick_k();
			if ((o == BPF_DIV || o == BPF_MOD) && k == 0)
				k = 1 + rnd() % 7;
			if (o == BPF_LSH || o == BPF_RSH)
				k = rnd() % 32;
			f->k = k;
		} else if (r < 74) {
			f->code = BPF_JMP | jcond[rnd() % 4] | (rnd() % 3 ? BPF_K : BPF_X);
			f->k = pick_k();
			f->jt = (uint8_t)(rnd() % (left < 8 ? left : 8));
			f->jf = (uint8_t)(rnd() % (left < 8 ? left : 8));
			jumped = 1;
		} else if (r < 78) {
			f->code = BPF_JMP | BPF_JA;
			f->k = rnd() % (left < 6 ? left : 6);
			jumped = 1;
		} else if (r < 85) {
			if (rnd() % 2) {
				f->code = BPF_RET | BPF_K;
				f->k = pick_ret();
			} else {
				f->code = BPF_RET | BPF_A;
			}
		} else if (r < 91) {
			f->code = rnd() % 2 ? BPF_ST : BPF_STX;
			f->k = rnd() % BPF_MEMWORDS;
			if (!jumped)
				written |= (uint16_t)(1u << f->k);
		} else if (r < 97 && (written != 0 || rnd() % 8 == 0)) {
			f->code = (rnd() % 2 ? BPF_LD : BPF_LDX) | BPF_MEM;
			f->k = rnd() % BPF_MEMWORDS;
			if (written != 0 && rnd() % 16 != 0)
				while (!(written & (1u << f->k)))
					f->k = (f->k + 1) % BPF_MEMWORDS;
		} else {
			f->code = (rnd() % 2 ? BPF_LD : BPF_LDX) | BPF_W | BPF_LEN;
		}
	}
	p->f[pc].code = BPF_RET | (rnd() % 3 ? BPF_K : BPF_A);
	p->f[pc].k = pick_ret();
	p->n = len;
	p->fp.len = (unsigned short)len;
	p->fp.filter = p->f;
}

/*
 * p behind a guard that allows seccomp(2): a filter under which the thread
 * installs another must let it, and the guard changes nothing for the
 * calls the trials make.
 */
static void guarded(struct prog *g, const struct prog *p)
{
	p_init(g);
	g->f[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR);
	g->f[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 1);
	g->f[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	g->n = 3;
	memcpy(g->f + g->n, p->f, (size_t)p->n * sizeof p->f[0]);
	g->n += p->n;
	g->fp.len = (unsigned short)g->n;
	g->fp.filter = g->f;
}

static struct call random_call(void)
{
	static const int kinds[] = { C_GETPID, C_GETPID, C_GETPID, C_MLOCK2, C_MLOCK2, C_MLOCK,
				     C_MUNLOCK, C_MUNLOCKALL };
	struct call c = mkcall(kinds[rnd() % 8], (int)(rnd() % 2));
	int i, from = c.kind == C_GETPID || c.kind == C_MUNLOCKALL ? 0 : 2;

	/* Arguments the call ignores are anything. */
	for (i = from; i < 6; i++)
		c.args[i] = pick64();
	if (c.kind == C_MLOCK2)
		c.args[2] = rnd() % 2 ? MLOCK_ONFAULT : 0;
	return c;
}

#define NRANDOM	300		/* programs the kernel accepted */
#define NTRIES	(2 * NRANDOM)	/* programs made, at most */

static void test_random(void)
{
	static struct prog pool[NTRIES], guard[NTRIES];
	int acc[NTRIES];
	const char *env = getenv("TEST_SECCOMP_SEED");
	unsigned int hist[9] = { 0 }, accepted = 0, rejected = 0, trials = 0, failed = 0;
	static const char *hname[] = { "kill_process", "kill_thread", "trap", "errno",
				       "user_notif", "trace", "log", "allow", "?" };
	struct trial t;
	uint32_t act = 0;
	int i, j, err, r;

	h_begin("random-filters");
	if (env != NULL)
		rng = strtoull(env, NULL, 0) ? strtoull(env, NULL, 0) : 1;
	printf("# random filters: TEST_SECCOMP_SEED=%#llx\n", (unsigned long long)rng);
	for (i = 0; i < NTRIES && accepted < NRANDOM; i++) {
		random_prog(&pool[i]);
		guarded(&guard[i], &pool[i]);
		for (j = 0; j < 2; j++) {
			memset(&t, 0, sizeof t);
			t.nprog = 0;
			/* Now and then stacked on one or two earlier programs the kernel took. */
			if (accepted > 0 && rnd() % 4 == 0)
				t.prog[t.nprog++] = &guard[acc[rnd() % accepted]].fp;
			if (accepted > 0 && t.nprog > 0 && rnd() % 3 == 0)
				t.prog[t.nprog++] = &guard[acc[rnd() % accepted]].fp;
			t.prog[t.nprog++] = &pool[i].fp;
			t.call = random_call();
			r = run_trial(&t, &act, &err, failed >= 10);
			if (r < 0) {
				/* Only the new one can be refused: the kernel took the others. */
				CHECK(j == 0 && err == EINVAL && sh->failed_at == t.nprog - 1,
				      "program %d: install %d of %d: %s", i, sh->failed_at, t.nprog,
				      strerror(err));
				rejected++;
				break;
			}
			if (j == 0)
				acc[accepted++] = i;
			trials++;
			failed += r == 0;
			switch (act & SECCOMP_RET_ACTION_FULL) {
			case SECCOMP_RET_KILL_PROCESS:	hist[0]++; break;
			case SECCOMP_RET_KILL_THREAD:	hist[1]++; break;
			case SECCOMP_RET_TRAP:		hist[2]++; break;
			case SECCOMP_RET_ERRNO:		hist[3]++; break;
			case SECCOMP_RET_USER_NOTIF:	hist[4]++; break;
			case SECCOMP_RET_TRACE:		hist[5]++; break;
			case SECCOMP_RET_LOG:		hist[6]++; break;
			case SECCOMP_RET_ALLOW:		hist[7]++; break;
			default:			hist[8]++;
			}
		}
	}
	printf("# random filters: %u accepted by the kernel, %u refused; %u trials, %u disagreed\n",
	       accepted, rejected, trials, failed);
	printf("# predicted:");
	for (i = 0; i < 9; i++)
		printf(" %s %u", hname[i], hist[i]);
	printf("\n");
	CHECK(failed == 0, "%u of %u trials disagreed with the kernel", failed, trials);
	CHECK(accepted == NRANDOM, "only %u programs accepted", accepted);
	/* Every action came up, or the test tested less than it says. */
	for (i = 0; i < 8; i++)
		CHECK(hist[i] > 0, "no trial predicted %s", hname[i]);
	h_end();
}

/* ------------------------------------------------------------ other modes and errors */

static void test_strict(void)
{
	struct trial t;
	struct call c[4];
	uint32_t act = 0, want[4];
	char an[40];
	int i, err;

	h_begin("strict-mode");
	c[0] = mkcall(C_GETPID, 0), want[0] = SECCOMP_RET_KILL_THREAD;
	c[1] = mkcall(C_WRITE_BADFD, 1), want[1] = SECCOMP_RET_ALLOW;
	c[2] = mkcall(C_READ_BADFD, 0), want[2] = SECCOMP_RET_ALLOW;
	c[3] = mkcall(C_MLOCK2, 0), want[3] = SECCOMP_RET_KILL_THREAD;
	for (i = 0; i < 4; i++) {
		memset(&t, 0, sizeof t);
		t.strict = 1;
		t.call = c[i];
		if (run_trial(&t, &act, &err, 0) < 0) {
			CHECK(0, "strict mode: %s", strerror(err));
			break;
		}
		CHECK(act == want[i], "call %d: eval says %s", i, action_name(act, an, sizeof an));
	}
	h_end();
}

/* TRACE with a tracer that asked for PTRACE_O_TRACESECCOMP: its data is the event's. */
static void test_trace(void)
{
	struct prog *p = &progs[0];
	struct pl_seccomp *f = NULL;
	struct trial t;
	unsigned long msg = 0;
	uint32_t act = 0;
	pid_t pid, tid;
	int err, e, st = 0;

	h_begin("trace-with-a-tracer");
	memset(&t, 0, sizeof t);
	t.prog[0] = one_call(p, SYS_mlock2, SECCOMP_RET_TRACE | 0x4242);
	t.nprog = 1;
	t.call = mkcall(C_MLOCK2, 0);
	if ((pid = trial_start(&t, &tid, &err)) < 0) {
		CHECK(0, "no child: %s", strerror(err));
		h_end();
		return;
	}
	e = seize(tid, PTRACE_O_TRACESECCOMP);
	CHECK(e == 0, "seize: %s", strerror(e));
	e = pl_seccomp_read(pid, tid, &f);
	CHECK(e == 0, "pl_seccomp_read: %s", strerror(e));
	act = pl_seccomp_eval(f, t.call.nr, t.call.args, stub_ret(0));
	pl_seccomp_free(f);
	CHECK(ptrace(PTRACE_CONT, tid, 0, 0) == 0, "PTRACE_CONT: %s", strerror(errno));
	atomic_store(&sh->go, 1);
	CHECK(waitpid(tid, &st, __WALL) == tid && WIFSTOPPED(st) &&
	      st >> 8 == (SIGTRAP | PTRACE_EVENT_SECCOMP << 8), "no seccomp stop: status 0x%x", st);
	CHECK(ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0 &&
	      (act & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRACE && msg == (act & SECCOMP_RET_DATA),
	      "eval says 0x%x, the tracer got data %#lx", act, msg);
	reap(pid, tid, 1);
	h_end();
}

/* USER_NOTIF with a listener: the seccomp_data the kernel built is what eval is given. */
static void test_user_notif(void)
{
	struct prog *p = &progs[0];
	struct trial t;
	struct outcome o;
	struct pl_seccomp *f = NULL;
	uint32_t act;
	pid_t pid, tid;
	int err, e, i;

	h_begin("user-notif-with-a-listener");
	memset(&t, 0, sizeof t);
	t.prog[0] = one_call(p, SYS_getpid, SECCOMP_RET_USER_NOTIF);
	t.flags[0] = SECCOMP_FILTER_FLAG_NEW_LISTENER;
	t.nprog = 1;
	t.call = mkcall(C_GETPID, 1);
	for (i = 0; i < 6; i++)
		t.call.args[i] = 0x1111111111111111ULL * (uint64_t)(i + 1);
	if ((pid = trial_start(&t, &tid, &err)) < 0) {
		CHECK(0, "no child: %s", strerror(err));
		h_end();
		return;
	}
	e = seize(tid, 0);
	CHECK(e == 0, "seize: %s", strerror(e));
	e = pl_seccomp_read(pid, tid, &f);
	CHECK(e == 0, "pl_seccomp_read: %s", strerror(e));
	act = pl_seccomp_eval(f, t.call.nr, t.call.args, stub_ret(1));
	pl_seccomp_free(f);
	ptrace(PTRACE_DETACH, tid, 0, 0);
	trial_finish(pid, tid, &o);
	CHECK(act == SECCOMP_RET_USER_NOTIF, "eval says 0x%x", act);
	/* The listener answers -ENOTUNIQ, which the thread may have seen already. */
	CHECK(atomic_load(&sh->notified) &&
	      (o.kind == O_NOTIFIED || (o.kind == O_RETURNED && o.result == -ENOTUNIQ)),
	      "no notification (outcome %d, %ld)", o.kind, o.result);
	CHECK(sh->req.nr == t.call.nr && sh->req.arch == ARCH &&
	      sh->req.instruction_pointer == stub_ret(1) &&
	      memcmp(sh->req.args, t.call.args, sizeof t.call.args) == 0,
	      "the kernel's data: nr %d arch 0x%x ip %#llx arg0 %#llx", sh->req.nr, sh->req.arch,
	      (unsigned long long)sh->req.instruction_pointer, (unsigned long long)sh->req.args[0]);
	h_end();
}

static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) != 0)
		return errno;
	d[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	d[CAP_TO_INDEX(cap)].permitted &= ~CAP_TO_MASK(cap);
	d[CAP_TO_INDEX(cap)].inheritable &= ~CAP_TO_MASK(cap);
	if (syscall(SYS_capset, &h, d) != 0)
		return errno;
	if (syscall(SYS_capget, &h, d) != 0)
		return errno;
	return d[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap) ? EPERM : 0;
}

/*
 * Reads the filters of a fresh child of trial t; want_err is what read
 * must say, want_set whether it returns filters.  Returns read's result.
 */
static int read_child(const struct trial *t, int want_err, int want_set, const char *who)
{
	struct pl_seccomp *f = NULL;
	pid_t pid, tid;
	int err, e, traced;

	if ((pid = trial_start(t, &tid, &err)) < 0) {
		CHECK(0, "%s: no child: %s", who, strerror(err));
		return -1;
	}
	traced = seize(tid, 0);
	CHECK(traced == 0, "%s: seize: %s", who, strerror(traced));
	e = pl_seccomp_read(pid, tid, &f);
	CHECK(e == want_err && (f != NULL) == want_set, "%s: pl_seccomp_read says %s, filters %p", who,
	      strerror(e), (void *)f);
	if (f != NULL && t->strict)
		CHECK(pl_seccomp_eval(f, SYS_getpid, t->call.args, 0) == SECCOMP_RET_KILL_THREAD &&
		      pl_seccomp_eval(f, SYS_read, t->call.args, 0) == SECCOMP_RET_ALLOW,
		      "%s: strict mode read wrong", who);
	pl_seccomp_free(f);
	reap(pid, tid, traced == 0);
	return e;
}

/*
 * In a child of its own (h_child): the reader, with CAP_SYS_ADMIN first
 * (the control), then without it in its effective, permitted and
 * inheritable sets (capset(2); it keeps CAP_SYS_PTRACE, which tracing a
 * process with more capabilities than its tracer needs).  The mode still
 * comes from the status: none and strict read as without the capability.
 */
static void no_sys_admin(void)
{
	struct trial filtered, none, strict;
	int e;

	memset(&filtered, 0, sizeof filtered);
	filtered.prog[0] = deny_list(&progs[0], memlock, 5, SECCOMP_RET_KILL_PROCESS);
	filtered.nprog = 1;
	filtered.nnp = 1;
	memset(&none, 0, sizeof none);
	memset(&strict, 0, sizeof strict);
	strict.strict = 1;
	read_child(&filtered, 0, 1, "with CAP_SYS_ADMIN");
	e = drop_cap(CAP_SYS_ADMIN);
	if (!CHECK(e == 0, "capset: %s", strerror(e)))
		return;
	read_child(&filtered, EACCES, 0, "without CAP_SYS_ADMIN, filters");
	read_child(&none, 0, 0, "without CAP_SYS_ADMIN, no filter");
	read_child(&strict, 0, 1, "without CAP_SYS_ADMIN, strict mode");
}

/* The kernel does not show filters to a caller under seccomp, even with CAP_SYS_ADMIN. */
static void reader_filtered(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog all = { 1, &allow };
	struct trial filtered;

	memset(&filtered, 0, sizeof filtered);
	filtered.prog[0] = deny_list(&progs[0], memlock, 5, SECCOMP_RET_KILL_PROCESS);
	filtered.nprog = 1;
	read_child(&filtered, 0, 1, "unfiltered reader");
	if (!CHECK(install(&all, 0) == 0, "seccomp: %s", strerror(errno)))
		return;
	read_child(&filtered, EACCES, 0, "reader under seccomp");
}

static void test_esrch(void)
{
	struct pl_seccomp *f = NULL;
	struct trial t;
	pid_t pid, tid, gone;
	int err, e;

	h_begin("esrch");
	memset(&t, 0, sizeof t);
	t.prog[0] = deny_list(&progs[0], memlock, 5, SECCOMP_RET_KILL_PROCESS);
	t.nprog = 1;
	if ((pid = trial_start(&t, &tid, &err)) > 0) {
		e = pl_seccomp_read(pid, tid, &f);
		CHECK(e == ESRCH && f == NULL, "not traced: %s", strerror(e));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		e = pl_seccomp_read(pid, tid, &f);
		CHECK(e == ESRCH && f == NULL, "gone: %s", strerror(e));
	} else {
		CHECK(0, "no child: %s", strerror(err));
	}
	if ((gone = fork()) == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	e = pl_seccomp_read(gone, gone, &f);
	CHECK(e == ESRCH && f == NULL, "an exited process: %s", strerror(e));
	h_end();
}

/* 3000 supplementary groups: "Groups:" alone is about 20 KiB, before "Seccomp:". */
static void test_long_status(void)
{
	struct trial t;
	uint32_t act = 0;
	int err;

	h_begin("status-longer-than-4k");
	memset(&t, 0, sizeof t);
	t.prog[0] = deny_list(&progs[0], memlock, 5, SECCOMP_RET_KILL_PROCESS);
	t.nprog = 1;
	t.ngroups = 3000;
	t.call = mkcall(C_MLOCK2, 0);
	if (run_trial(&t, &act, &err, 0) < 0)
		CHECK(0, "no child: %s", strerror(err));
	CHECK(act == SECCOMP_RET_KILL_PROCESS, "eval says 0x%x", act);
	h_end();
}

/* ------------------------------------------------------------ the measurement */

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/*
 * A deny list of 194 system calls, linear as systemd's and libseccomp's
 * simplest filters are: 200 instructions.  Read and evaluate it while the
 * thread is held, 200 times; then one call through the kernel.
 */
static void test_measure(void)
{
	int nrs[194];
	const struct sock_fprog *fp;
	struct pl_seccomp *f = NULL;
	struct trial t;
	struct outcome o;
	long long times[200], ev[200], t0, t1;
	uint64_t args[6] = { 0 };
	uint32_t act = 0, sink = 0;
	pid_t pid, tid;
	int i, j, n, err, e = 0;
	char why[80];

	h_begin("measure-200-instructions");
	for (i = 0, n = 0; n < 194; i++)
		if (i != SYS_getpid && i != SYS_write && i != SYS_read && i != SYS_mlock2)
			nrs[n++] = i;
	nrs[193] = SYS_mlock2;
	fp = deny_list(&progs[0], nrs, 194, SECCOMP_RET_ERRNO | EPERM);
	CHECK(fp->len == 200, "the filter has %u instructions", fp->len);
	memset(&t, 0, sizeof t);
	t.prog[0] = fp;
	t.nprog = 1;
	t.call = mkcall(C_MLOCK2, 0);
	if ((pid = trial_start(&t, &tid, &err)) < 0) {
		CHECK(0, "no child: %s", strerror(err));
		h_end();
		return;
	}
	e = seize(tid, 0);
	CHECK(e == 0, "seize: %s", strerror(e));
	for (i = 0; i < 200 && e == 0; i++) {
		t0 = now_ns();
		e = pl_seccomp_read(pid, tid, &f);
		t1 = now_ns();
		for (j = 0; j < 10 && e == 0; j++)
			sink += pl_seccomp_eval(f, j % 2 ? SYS_getpid : SYS_mlock2, args, stub_ret(0));
		ev[i] = now_ns() - t1;
		times[i] = now_ns() - t0;
		if (i < 199)
			pl_seccomp_free(f);
	}
	CHECK(e == 0, "pl_seccomp_read: %s", strerror(e));
	if (e == 0) {
		act = pl_seccomp_eval(f, t.call.nr, t.call.args, stub_ret(0));
		pl_seccomp_free(f);
		qsort(times, 200, sizeof times[0], cmp_ll);
		qsort(ev, 200, sizeof ev[0], cmp_ll);
		printf("# pl_seccomp_read + 10 evals, 200-instruction filter: median %.1f us, "
		       "min %.1f us (of 200); the 10 evals alone: median %.2f us (sink %u)\n",
		       times[100] / 1e3, times[0] / 1e3, ev[100] / 1e3, sink & 1);
	}
	ptrace(PTRACE_DETACH, tid, 0, 0);
	trial_finish(pid, tid, &o);
	CHECK(agrees(&t.call, pid, act, &o, why, sizeof why) && act == (SECCOMP_RET_ERRNO | EPERM),
	      "eval says 0x%x: %s", act, why);
	h_end();
}

int main(void)
{
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || page == MAP_FAILED)
		return 1;
	page[0] = 1;

	test_none();
	test_memlock_deny("deny-memlock-kill-process", SECCOMP_RET_KILL_PROCESS);
	test_memlock_deny("deny-memlock-trap", SECCOMP_RET_TRAP | 0x1234);
	test_memlock_deny("deny-memlock-errno", SECCOMP_RET_ERRNO | EPERM);
	test_memlock_deny("deny-memlock-kill-thread", SECCOMP_RET_KILL_THREAD);
	test_allow_list();
	test_args();
	test_arch_ip();
	test_stacks();
	test_alu();
	test_random();
	test_strict();
	test_trace();
	test_user_notif();
	h_child("no-cap-sys-admin-eacces", no_sys_admin);
	h_child("reader-under-seccomp-eacces", reader_filtered);
	test_esrch();
	test_long_status();
	test_measure();
	return h_done("seccomp");
}

#else /* no stub for this architecture */

int main(void)
{
	printf("1..0 # SKIP no system call stub for this architecture\n");
	return 0;
}

#endif
