/*
 * Locking another process (plock_ctl) where it is hard: the process is in an
 * rseq critical section, execs from another thread meanwhile, has a main
 * thread that called pthread_exit(), has one thread traced by someone else,
 * or runs under a seccomp filter that forbids the mlock family.  In each,
 * the process must come out unharmed and the call must say exactly what
 * happened.
 *
 * The oracles are the kernel's: /proc/PID/task/TID/smaps ("lo"), the
 * child's own view of its rseq aborts, the exit status of the child, and
 * whether a forbidden call was made (a KILL filter would have killed it).
 * The seccomp filters are build/noptrace's, beside this program's
 * directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "harness.h"
#include "util.h"
#include <plock.h>
#include <sys/lock.h>

#define BUFLEN	(256 * 1024)

/* What a child publishes to the test, in a shared page. */
struct shared {
	_Atomic uintptr_t buf;
	_Atomic int ready;
	_Atomic int go;
	_Atomic int aborts;
	_Atomic int committed;
	_Atomic pid_t tid;
};

static struct shared *sh;

static pid_t start(int (*fn)(void))
{
	pid_t pid;

	memset(sh, 0, sizeof *sh);
	if ((pid = fork()) == 0)
		_exit(fn());
	return pid;
}

static int wait_ready(void)
{
	int i;

	for (i = 0; i < 5000 && !atomic_load(&sh->ready); i++)
		usleep(1000);
	return atomic_load(&sh->ready);
}

static int exit_status(pid_t pid)
{
	int st = 0;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/* The "lo" flag of the mapping at addr in thread tid's smaps; -1 if none. */
static int lo_at(pid_t pid, pid_t tid, uintptr_t addr)
{
	char path[64], line[4096];
	unsigned long s, e;
	int in = 0, lo = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%d/smaps", (int)pid, (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = addr >= s && addr < e;
		else if (in && strncmp(line, "VmFlags:", 8) == 0)
			lo = strstr(line, " lo") != NULL;
	}
	fclose(f);
	return lo;
}

static unsigned char *publish(void)
{
	unsigned char *b = mmap(NULL, BUFLEN, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED)
		_exit(90);
	memset(b, 0x5a, BUFLEN);
	atomic_store(&sh->buf, (uintptr_t)b);
	return b;
}

/* ------------------------------------------------------------ rseq */

#if defined(__x86_64__)
#define RSEQ_SIG_CODE	0x53053053	/* glibc's RSEQ_SIG on x86 */

/*
 * Spins inside one rseq critical section until go is set.  Returns 1 if the
 * kernel (or the command) aborted it, 0 if it ran to its end.  The abort
 * handler is preceded by the signature, in a ud1 instruction as glibc and
 * librseq encode it.
 */
static int rseq_spin(struct rseq *rs, _Atomic int *go)
{
	__asm__ __volatile__ goto(
		".pushsection __rseq_cs, \"aw\"\n\t"
		".balign 32\n\t"
		"3: .long 0, 0\n\t"
		".quad 1f, (2f - 1f), 4f\n\t"
		".popsection\n\t"
		"leaq 3b(%%rip), %%rax\n\t"
		"movq %%rax, %[cs]\n\t"
		"1: cmpl $0, %[go]\n\t"
		"je 1b\n\t"
		"2: jmp %l[done]\n\t"
		".pushsection __rseq_failure, \"ax\"\n\t"
		".byte 0x0f, 0xb9, 0x3d\n\t"
		".long 0x53053053\n\t"
		"4: jmp %l[aborted]\n\t"
		".popsection\n\t"
		: : [cs] "m" (rs->rseq_cs), [go] "m" (*go) : "rax", "memory", "cc" : done, aborted);
done:
	return 0;
aborted:
	return 1;
}
#elif defined(__aarch64__)
#define HAVE_RSEQ_SPIN	1

/*
 * The same on arm64: the signature before the abort handler is glibc's
 * RSEQ_SIG there, the word of a brk #0x45e0.
 */
static int rseq_spin(struct rseq *rs, _Atomic int *go)
{
	__asm__ __volatile__ goto(
		".pushsection __rseq_cs, \"aw\"\n\t"
		".balign 32\n\t"
		"3: .long 0, 0\n\t"
		".quad 1f, (2f - 1f), 4f\n\t"
		".popsection\n\t"
		"adrp x9, 3b\n\t"
		"add x9, x9, :lo12:3b\n\t"
		"str x9, %[cs]\n\t"
		"1: ldr w10, %[go]\n\t"
		"cbz w10, 1b\n\t"
		"2: b %l[done]\n\t"
		".pushsection __rseq_failure, \"ax\"\n\t"
		".long 0xd428bc00\n\t"
		"4: b %l[aborted]\n\t"
		".popsection\n\t"
		: : [cs] "Q" (rs->rseq_cs), [go] "Q" (*go) : "x9", "x10", "memory", "cc" : done, aborted);
done:
	return 0;
aborted:
	return 1;
}
#endif

#if defined(__x86_64__) || defined(HAVE_RSEQ_SPIN)

/* Spins in critical sections, counting aborts, until go. */
static int child_rseq(void)
{
	struct rseq *rs;

	if (__rseq_size == 0) {
		fprintf(stderr, "child: glibc registered no rseq area\n");
		return 80;
	}
	rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	atomic_store(&sh->ready, 1);
	while (rseq_spin(rs, &sh->go))
		atomic_fetch_add(&sh->aborts, 1);
	atomic_store(&sh->committed, 1);
	return 0;
}

/*
 * The child spins inside an rseq critical section; a lock from outside
 * moves its program counter, so it must abort the section as the kernel
 * does for a stop: after the call the child has seen one abort more.
 * Without that, the kernel, which checks the program counter it finds on
 * the way back to user mode, sees the injected code and clears rseq_cs,
 * and the section runs on unaborted.
 */
static void test_rseq(void)
{
	int i, before, after = 0, ok = 0, st;
	pid_t pid;

	h_begin("rseq-abort");
	pid = start(child_rseq);
	if (CHECK(wait_ready(), "child never started spinning")) {
		usleep(20000);
		for (i = 0; i < 5; i++) {
			before = atomic_load(&sh->aborts);
			CHECK(plock_ctl(pid, DATLOCK, 0, NULL) == 0, "lock: %s", strerror(errno));
			usleep(20000);
			after = atomic_load(&sh->aborts);
			ok += after > before;
			CHECK(plock_ctl(pid, UNLOCK, 0, NULL) == 0, "unlock: %s", strerror(errno));
			usleep(5000);
		}
		CHECK(ok == 5, "the section was aborted after %d of 5 locks (aborts %d)", ok, after);
	}
	atomic_store(&sh->go, 1);
	st = exit_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	h_end();
}
#endif

/* ------------------------------------------------------------ exec */

static char *exec_argv[] = { "/bin/sleep", "2", NULL };

/* Whether thread tid of this process has a tracer. */
static int traced(pid_t tid)
{
	char path[64], buf[512];
	int t = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(buf, sizeof buf, f) != NULL)
		if (strncmp(buf, "TracerPid:", 10) == 0)
			t = atoi(buf + 10) != 0;
	fclose(f);
	return t;
}

/*
 * A thread that spins (so it is not the worker) until the sleeper, the
 * worker, is traced: then the lock is under way, and it execs.
 */
/*
 * Whether pid runs the program execer execs: its /proc/PID/exe is the file
 * that exec_argv[0] resolves to (/usr/bin/sleep on a merged /usr, busybox
 * in the test VMs, where /bin/sleep is a link to it).
 */
static int runs_new_program(pid_t pid, char *exe, size_t size)
{
	char link[64], want[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, size - 1);
	exe[n > 0 ? n : 0] = '\0';
	return n > 0 && realpath(exec_argv[0], want) != NULL && strcmp(exe, want) == 0;
}

static void *execer(void *arg)
{
	(void)arg;
	while (atomic_load(&sh->tid) == 0 || !traced(atomic_load(&sh->tid)))
		;
	execv(exec_argv[0], exec_argv);
	_exit(81);
}

static void *sleeper(void *arg)
{
	(void)arg;
	atomic_store(&sh->tid, (pid_t)syscall(SYS_gettid));
	atomic_store(&sh->ready, 1);
	for (;;)
		pause();
	return NULL;
}

/*
 * A page whose first touch waits until a userfaultfd handler serves it;
 * none does.  It has to be one that the lock faults in: anonymous memory is
 * locked on fault, files eagerly, so it is the private data mapping of a
 * memfd that is also mapped executable (a shared object to the
 * classification: PROCSHLIBLOCK locks it eagerly).  userfaultfd's missing
 * mode covers shmem, memfd's file system.  The mlock that faults it in
 * waits (killably: populating faults with FAULT_FLAG_KILLABLE) until the
 * exec kills the thread making it, so the lock cannot end before the exec,
 * however slowly the execer polls /proc (under TCG, far slower than the
 * lock runs).
 */
static int unserved_page(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	void *x, *p;
	int fd, uffd;

	if ((fd = memfd_create("unserved", MFD_CLOEXEC)) < 0 || ftruncate(fd, 8192) != 0)
		return -1;
	x = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4096);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (x == MAP_FAILED || p == MAP_FAILED || uffd < 0 || ioctl(uffd, UFFDIO_API, &api) != 0)
		return -1;
	reg.range.start = (uintptr_t)p;
	reg.range.len = 4096;
	return ioctl(uffd, UFFDIO_REGISTER, &reg);
}

/*
 * The main thread and one more sleep (that one is the worker: never the
 * main thread of a process with threads); a third execs when told.
 * Thousands of mappings to lock (alternately writable, so that none merge),
 * and above them the unserved page: the exec lands between two batches of
 * calls, or at the latest in the call that faults the page in.
 */
static int child_exec(void)
{
	pthread_t t;
	int p[2], i;
	char c;

	publish();
	if (unserved_page() != 0)
		return 89;
	for (i = 0; i < 4000; i++)
		if (mmap(NULL, 4096, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			return 88;
	if (pipe(p) != 0 || pthread_create(&t, NULL, execer, NULL) != 0 ||
	    pthread_create(&t, NULL, sleeper, NULL) != 0)
		return 82;
	(void)read(p[0], &c, 1);
	return 83;
}

/*
 * Runs in a process of its own, so that the target is not the test's
 * child: locks pid, which execs as soon as it sees its worker traced.  The
 * lock must end, never hang: with ESRCH and PLOCK_WHY_EXEC if the exec came
 * during the lock, or locked, if it came before the lock began (then the
 * new program is what is locked: VmLck > 0 in it).
 */
static int locker_exec(pid_t pid)
{
	struct plock_reason why;
	int r;

	r = plock_ctl(pid, PROCSHLIBLOCK, 0, &why);
	if (r == 0) {
		char path[PATH_MAX];
		struct plock_status st;

		if (!runs_new_program(pid, path, sizeof path) || plock_status(pid, &st) != 0 ||
		    st.vmlck == 0) {
			fprintf(stderr, "locker: locked, but not the new program (%s)\n", path);
			return 3;
		}
		fprintf(stderr, "locker: the exec came first: the new program is locked\n");
		return 0;
	}
	if (errno != ESRCH || why.why != PLOCK_WHY_EXEC) {
		fprintf(stderr, "locker: plock_ctl: %d %s (%s), want ESRCH (exec)\n", r,
			r == 0 ? "" : strerror(errno), plock_why_name(why.why));
		return 2;
	}
	return 0;
}

static void test_exec(void)
{
	pid_t pid, locker;
	int st, i;

	h_begin("exec-from-a-thread");
	pid = start(child_exec);
	if (CHECK(wait_ready(), "child never started")) {
		if ((locker = fork()) == 0) {
			alarm(20);	/* a hang fails the test */
			_exit(locker_exec(pid));
		}
		st = exit_status(locker);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "locker status %#x", st);
		/* The new program runs: /bin/sleep, untraced, exits 0. */
		for (i = 0; i < 100; i++) {
			char path[PATH_MAX];

			if (runs_new_program(pid, path, sizeof path))
				break;
			usleep(10000);
		}
		CHECK(i < 100, "the child never ran the new program");
	}
	st = exit_status(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x (the exec'd sleep exits 0)", st);
	h_end();
}

/* ------------------------------------------------------------ pthread_exit */

static void *waiter(void *arg)
{
	(void)arg;
	atomic_store(&sh->tid, (pid_t)syscall(SYS_gettid));
	atomic_store(&sh->ready, 1);
	while (!atomic_load(&sh->go))
		usleep(1000);
	exit(0);
}

static int child_main_exits(void)
{
	pthread_t t;

	publish();
	if (pthread_create(&t, NULL, waiter, NULL) != 0)
		return 84;
	pthread_exit(NULL);
}

/*
 * The main thread called pthread_exit(); another runs on.  The process is
 * locked through the live thread, and its status is readable.
 */
static void test_main_exited(void)
{
	struct plock_status st;
	pid_t pid, tid;
	int s, i;

	h_begin("main-thread-exited");
	pid = start(child_main_exits);
	if (CHECK(wait_ready(), "child never started")) {
		tid = atomic_load(&sh->tid);
		for (i = 0; i < 1000; i++) {
			char p[64], b[512];
			FILE *f;

			snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
			if ((f = fopen(p, "r")) != NULL && fgets(b, sizeof b, f) != NULL &&
			    strstr(b, ") Z ") != NULL) {
				fclose(f);
				break;
			}
			if (f != NULL)
				fclose(f);
			usleep(1000);
		}
		CHECK(i < 1000, "the main thread never became a zombie");
		CHECK(plock_ctl(pid, PROCLOCK, 0, NULL) == 0, "lock: %s", strerror(errno));
		CHECK(lo_at(pid, tid, atomic_load(&sh->buf)) == 1, "buffer not locked");
		CHECK(plock_status(pid, &st) == 0 && st.vmlck > 0, "status: %s, VmLck %llu",
		      strerror(errno), (unsigned long long)st.vmlck);
		CHECK(plock_ctl(pid, UNLOCK, 0, NULL) == 0, "unlock: %s", strerror(errno));
		CHECK(lo_at(pid, tid, atomic_load(&sh->buf)) == 0, "buffer still locked");
	}
	atomic_store(&sh->go, 1);
	s = exit_status(pid);
	CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0, "child status %#x", s);
	h_end();
}

/* ------------------------------------------------------------ a tracer */

static int child_two_threads(void)
{
	pthread_t t;

	publish();
	if (pthread_create(&t, NULL, waiter, NULL) != 0)
		return 85;
	while (!atomic_load(&sh->go))
		usleep(1000);
	return 0;
}

/*
 * Another process traces the child's second thread only (as strace -p TID
 * does): the lock is refused, naming that tracer.
 */
static void test_tracer_of_a_thread(void)
{
	struct plock_reason why;
	pid_t pid, tracer, tid;
	int p[2], s;
	char c = 0;

	h_begin("tracer-of-a-thread");
	pid = start(child_two_threads);
	if (CHECK(wait_ready() && pipe(p) == 0, "child never started")) {
		tid = atomic_load(&sh->tid);
		if ((tracer = fork()) == 0) {
			c = ptrace(PTRACE_SEIZE, tid, 0, 0) == 0 ? 'y' : 'n';
			(void)write(p[1], &c, 1);
			pause();
			_exit(0);
		}
		CHECK(read(p[0], &c, 1) == 1 && c == 'y', "the tracer could not seize the thread");
		s = plock_ctl(pid, PROCLOCK, 0, &why);
		CHECK(s == -1 && errno == EPERM && why.why == PLOCK_WHY_PTRACE &&
		      why.cause == PLOCK_PTRACE_TRACED && why.detail == tracer,
		      "plock_ctl: %d %s, why %s cause %d detail %d (tracer %d)", s, strerror(errno),
		      plock_why_name(why.why), why.cause, why.detail, (int)tracer);
		kill(tracer, SIGKILL);
		waitpid(tracer, NULL, 0);
		close(p[0]);
		close(p[1]);
	}
	atomic_store(&sh->go, 1);
	s = exit_status(pid);
	CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0, "child status %#x", s);
	h_end();
}

/* ------------------------------------------------------------ seccomp */

static volatile sig_atomic_t sigsys;

static void on_sigsys(int sig)
{
	(void)sig;
	sigsys++;
}

/*
 * This program again, under ../noptrace --deny-memlock (after the filter):
 * prints its buffer's address, waits until its stdin closes, and exits 0
 * if its SIGSYS handler never ran.
 */
static int sandboxed_child(void)
{
	char c;

	signal(SIGSYS, on_sigsys);
	printf("%lx\n", (unsigned long)publish());
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return sigsys == 0 ? 0 : 87;
}

/*
 * The child's filter kills, traps or fails the mlock family (systemd's
 * SystemCallFilter=~@memlock), installed by build/noptrace: the lock is
 * refused naming the call, and no call was made in the child (it lives,
 * its SIGSYS handler never ran, nothing is locked).
 */
static void test_seccomp(const char *action)
{
	char name[64], opt[64], tool[4096], line[64];
	const char *self = self_path(), *slash = strrchr(self, '/');
	struct plock_reason why;
	int in[2], out[2], r, s;
	uintptr_t buf = 0;
	pid_t pid;
	FILE *f;

	snprintf(name, sizeof name, "seccomp-%s", action);
	snprintf(opt, sizeof opt, "--deny-memlock=%s", action);
	snprintf(tool, sizeof tool, "%.*s/../noptrace", (int)(slash - self), self);
	h_begin(name);
	if (!CHECK(pipe(in) == 0 && pipe(out) == 0, "pipe: %s", strerror(errno)))
		return;
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(tool, tool, opt, self, "sandboxed", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	if (CHECK(f != NULL && fgets(line, sizeof line, f) != NULL &&
		  sscanf(line, "%lx", (unsigned long *)&buf) == 1,
		  "the child never started (no build/noptrace?)")) {
		r = plock_ctl(pid, PROCLOCK, 0, &why);
		CHECK(r == -1 && errno == EPERM && why.why == PLOCK_WHY_SECCOMP &&
		      why.detail > 0 && strcmp(plock_syscall_name(why.detail), "?") != 0,
		      "plock_ctl: %d %s, why %s detail %d", r, strerror(errno),
		      plock_why_name(why.why), why.detail);
		CHECK(lo_at(pid, pid, buf) == 0, "the buffer is locked");
		r = plock_ctl(pid, UNLOCK, 0, &why);
		CHECK(r == -1 && errno == EPERM && why.why == PLOCK_WHY_SECCOMP,
		      "unlock: %d %s, why %s", r, strerror(errno), plock_why_name(why.why));
	}
	close(in[1]);
	s = exit_status(pid);
	CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0, "child status %#x", s);
	if (f != NULL)
		fclose(f);
	h_end();
}

int main(int argc, char **argv)
{
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	if (argc > 1 && strcmp(argv[1], "sandboxed") == 0)
		return sandboxed_child();
#if defined(__x86_64__) || defined(HAVE_RSEQ_SPIN)
	test_rseq();
#endif
	test_exec();
	test_main_exited();
	test_tracer_of_a_thread();
	test_seccomp("kill");
	test_seccomp("trap");
	test_seccomp("errno");
	return h_done("hostile");
}
