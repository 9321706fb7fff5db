/*
 * The ptrace primitive (shim/remote.c): another process executes our system
 * calls and then runs on exactly as before.
 *
 * Each test forks a child that does something a program does while it is
 * locked from outside: blocks in read() on a pipe, sleeps in nanosleep(),
 * computes a checksum between short sleeps, waits on a futex, runs 8
 * threads that map and unmap memory, is stopped by SIGSTOP, gets a signal
 * while it is held.  The test attaches, makes it execute getpid(),
 * mlock2(MLOCK_ONFAULT) of a buffer it published and munlockall(), checks
 * the buffer's "lo" flag in /proc/PID/smaps after each (the oracle, not the
 * library), and detaches.  The child then checks that its calls saw no
 * EINTR and lost no data, its sleep lasted as asked, its checksum is right
 * and its signal mask is as it was, and exits 0.  No tracer is left
 * (TracerPid 0 in every thread's status).
 *
 * Also: a child started with PTRACE_TRACEME is run to its entry point with
 * its shared objects mapped (at_entry); a process killed while held gives
 * ESRCH and its exit status still reaches its parent; and each refusal of
 * PTRACE_SEIZE this machine can produce is explained by pl_remote_refusal(),
 * and of PTRACE_TRACEME by pl_traceme_refusal().
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>

#include "harness.h"
#include "util.h"
#include "../../shim/internal.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	0x01
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT	4
#endif

#define BUFLEN	(1024 * 1024)
#define MSGLEN	8192
#define NTHREADS 8

/* What a child publishes to the test, in a shared page. */
struct shared {
	_Atomic uintptr_t buf;
	_Atomic int ready;
	_Atomic int stop;
	_Atomic int futex;
	_Atomic int handled;
};

static struct shared *sh;
static int pipefd[2];

/* ------------------------------------------------------------ children */

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 12));
}

/* The buffer the test locks: its own mapping, filled with a pattern. */
static unsigned char *publish(void)
{
	unsigned char *b = mmap(NULL, BUFLEN, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (b == MAP_FAILED)
		_exit(90);
	for (i = 0; i < BUFLEN; i++)
		b[i] = pattern(i);
	atomic_store(&sh->buf, (uintptr_t)b);
	return b;
}

static int intact(const unsigned char *b)
{
	size_t i;

	for (i = 0; i < BUFLEN; i++)
		if (b[i] != pattern(i))
			return 0;
	return 1;
}

/*
 * Reads MSGLEN bytes from the pipe; every read must succeed (no EINTR),
 * and the bytes must be the test's message.  With a signal mask that the
 * test's visit must leave as it was.
 */
static int read_message(void)
{
	static unsigned char msg[MSGLEN];
	sigset_t mask, now;
	size_t got = 0, i;
	ssize_t n;

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	atomic_store(&sh->ready, 1);
	while (got < MSGLEN) {
		n = read(pipefd[0], msg + got, MSGLEN - got);
		if (n < 0) {
			fprintf(stderr, "child: read: %s\n", strerror(errno));
			return 11;
		}
		if (n == 0)
			return 12;
		got += (size_t)n;
	}
	for (i = 0; i < MSGLEN; i++)
		if (msg[i] != (unsigned char)(i ^ 0x5a))
			return 13;
	sigprocmask(SIG_SETMASK, NULL, &now);
	if (sigismember(&now, SIGUSR2) != 1 || sigismember(&now, SIGWINCH) != 1 ||
	    sigismember(&now, SIGUSR1) != 0)
		return 14;
	return 0;
}

static int child_read(void)
{
	unsigned char *b = publish();
	int rc = read_message();

	return rc != 0 ? rc : intact(b) ? 0 : 15;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One nanosleep of 400 ms: not cut short, not started again. */
static int child_sleep(void)
{
	struct timespec d = { 0, 400 * 1000 * 1000 };
	unsigned char *b = publish();
	double t0 = now_s(), el;

	atomic_store(&sh->ready, 1);
	if (nanosleep(&d, NULL) != 0) {
		fprintf(stderr, "child: nanosleep: %s\n", strerror(errno));
		return 21;
	}
	el = now_s() - t0;
	if (el < 0.4 || el > 0.75) {
		fprintf(stderr, "child: slept %.3f s for 0.4 s\n", el);
		return 22;
	}
	return intact(b) ? 0 : 23;
}

#define NSUM	300

static uint64_t step(uint64_t sum, uint64_t i)
{
	return sum * 6364136223846793005ULL + i * i + 1442695040888963407ULL;
}

/* A checksum computed between 1 ms sleeps: every sleep returns 0. */
static int child_checksum(void)
{
	struct timespec d = { 0, 1000 * 1000 };
	unsigned char *b = publish();
	volatile uint64_t sum = 1;
	uint64_t want = 1, i;

	for (i = 0; i < NSUM; i++)
		want = step(want, i + b[i]);
	atomic_store(&sh->ready, 1);
	for (i = 0; i < NSUM; i++) {
		if (nanosleep(&d, NULL) != 0) {
			fprintf(stderr, "child: nanosleep: %s\n", strerror(errno));
			return 31;
		}
		sum = step(sum, i + b[i]);
	}
	if (sum != want)
		return 32;
	return intact(b) ? 0 : 33;
}

/* Waits on a futex (with a timeout or without) until the test wakes it. */
static int child_futex(int timed)
{
	struct timespec to = { 20, 0 };
	unsigned char *b = publish();
	long r;

	atomic_store(&sh->ready, 1);
	while (atomic_load(&sh->futex) == 0) {
		r = syscall(SYS_futex, &sh->futex, FUTEX_WAIT, 0, timed ? &to : NULL, NULL, 0);
		if (r != 0 && errno != EAGAIN) {
			fprintf(stderr, "child: futex: %s\n", strerror(errno));
			return 41;
		}
	}
	return intact(b) ? 0 : 42;
}

static atomic_int map_errors;

static void *churn(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	while (!atomic_load(&sh->stop)) {
		size_t len = (size_t)(1 + rand_r(&seed) % 32) * 4096;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			atomic_fetch_add(&map_errors, 1);
			continue;
		}
		memset(p, 0x33, len);
		if (p[len - 1] != 0x33)
			atomic_fetch_add(&map_errors, 1);
		if (munmap(p, len) != 0)
			atomic_fetch_add(&map_errors, 1);
	}
	return NULL;
}

/* 8 threads in mmap/munmap, the main thread in read(). */
static int child_threads(void)
{
	pthread_t t[NTHREADS];
	unsigned char *b = publish();
	int i, rc;

	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)) != 0)
			return 51;
	rc = read_message();
	atomic_store(&sh->stop, 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	if (rc != 0)
		return rc;
	if (atomic_load(&map_errors) != 0)
		return 52;
	return intact(b) ? 0 : 53;
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&sh->handled, 1);
}

/* read() with a SIGUSR1 handler (SA_RESTART): the signal comes exactly once. */
static int child_signal(void)
{
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	rc = child_read();
	if (rc != 0)
		return rc;
	return atomic_load(&sh->handled) == 1 ? 0 : 61;
}

/* Started at the entry point after the test's mlockall(): VmLck > 0. */
static int entry_child(void)
{
	uint64_t v = oracle_vmlck(0);

	if (v == 0 || v == UINT64_MAX) {
		fprintf(stderr, "entry child: VmLck %llu\n", (unsigned long long)v);
		return 71;
	}
	return 0;
}

/* ------------------------------------------------------------ the test */

static pid_t start(int (*fn)(void))
{
	pid_t pid;

	memset(sh, 0, sizeof *sh);
	if (pipe(pipefd) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		close(pipefd[1]);
		_exit(fn());
	}
	close(pipefd[0]);
	return pid;
}

static int child_futex_untimed(void)
{
	return child_futex(0);
}

static int child_futex_timed(void)
{
	return child_futex(1);
}

/* The system call thread tid of pid is blocked in, -1 if running, -2 unknown. */
static long in_syscall(pid_t pid, pid_t tid)
{
	char path[64], buf[256];
	FILE *f;
	long nr = -2;

	snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return -2;
	if (fgets(buf, sizeof buf, f) != NULL)
		nr = strncmp(buf, "running", 7) == 0 ? -1 : strtol(buf, NULL, 10);
	fclose(f);
	return nr;
}

/*
 * Waits (5 s at most) until the child is ready and blocked in nr or nr2, or
 * in restart_syscall, which continues an interrupted sleep or timed wait.
 */
static int wait_blocked(pid_t pid, long nr, long nr2)
{
	int i;

	for (i = 0; i < 5000; i++) {
		long s = in_syscall(pid, pid);

		if (atomic_load(&sh->ready) && (s == nr || s == nr2 || s == SYS_restart_syscall))
			return 1;
		usleep(1000);
	}
	return 0;
}

static long status_value(pid_t pid, pid_t tid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	FILE *f;
	long v = -1;

	snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

static char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *s;
	FILE *f;
	char st = '?';

	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return '?';
	if (fgets(buf, sizeof buf, f) != NULL && (s = strrchr(buf, ')')) != NULL)
		st = s[2];
	fclose(f);
	return st;
}

/*
 * Every thread of pid: how many, how many in state want ('t': held by a
 * tracer), and how many have a tracer.
 */
static void threads(pid_t pid, char want, int *n, int *in_state, int *traced)
{
	char path[64];
	struct dirent *d;
	DIR *dir;

	*n = *in_state = *traced = 0;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid <= 0)
			continue;
		(*n)++;
		*in_state += task_state(pid, tid) == want;
		*traced += status_value(pid, tid, "TracerPid") != 0;
	}
	closedir(dir);
}

/* The "lo" flag of the mapping at addr in pid, from smaps; -1 if not found. */
static int lo_at(pid_t pid, uintptr_t addr)
{
	struct oracle o;
	const struct oracle_map *m;
	int lo = -1;

	if (oracle_read(pid, &o) != 0)
		return -1;
	if ((m = oracle_find(&o, addr)) != NULL)
		lo = m->lo;
	oracle_free(&o);
	return lo;
}

static long rsys(struct pl_remote *r, long nr, long a0, long a1, long a2)
{
	long a[6] = { a0, a1, a2, 0, 0, 0 };

	return pl_remote_syscall(r, nr, a);
}

/*
 * Attaches to pid, checks that one thread alone is held (the worker: the
 * others run on), makes it execute
 * getpid(), mlock2() of its buffer and munlockall() with the buffer's lo
 * flag after each, and detaches.  Then no thread has a tracer.
 */
static void visit(pid_t pid, int (*between)(pid_t))
{
	struct pl_remote *r = NULL;
	uintptr_t buf = atomic_load(&sh->buf);
	int err, n, held, traced;
	long v;

	err = pl_remote_attach(pid, 0, &r);
	if (!CHECK(err == 0 && r != NULL, "pl_remote_attach(%d): %s", (int)pid, strerror(err)))
		return;
	threads(pid, 't', &n, &held, &traced);
	CHECK(n > 0 && held == 1 && traced == 1, "%d threads, %d held, %d traced", n, held, traced);
	v = rsys(r, SYS_getpid, 0, 0, 0);
	CHECK(v == pid, "getpid() in the child: %ld, want %d", v, (int)pid);
	v = rsys(r, SYS_mlock2, (long)buf, BUFLEN, MLOCK_ONFAULT);
	CHECK(v == 0, "mlock2: %ld", v);
	CHECK(lo_at(pid, buf) == 1, "buffer not locked after mlock2");
	if (between != NULL)
		between(pid);
	v = rsys(r, SYS_munlockall, 0, 0, 0);
	CHECK(v == 0, "munlockall: %ld", v);
	CHECK(lo_at(pid, buf) == 0, "buffer still locked after munlockall");
	v = rsys(r, SYS_getpid, 0, 0, 0);
	CHECK(v == pid, "getpid() after munlockall: %ld", v);
	pl_remote_detach(r);
	threads(pid, 't', &n, &held, &traced);
	CHECK(traced == 0, "%d of %d threads still traced after detach", traced, n);
}

static void send_message(void)
{
	unsigned char msg[MSGLEN];
	size_t i;

	for (i = 0; i < MSGLEN; i++)
		msg[i] = (unsigned char)(i ^ 0x5a);
	CHECK(write(pipefd[1], msg, MSGLEN) == MSGLEN, "write to the pipe: %s", strerror(errno));
}

static void check_exit(pid_t pid, int want_sig)
{
	int st = 0;
	pid_t w = waitpid(pid, &st, 0);

	CHECK(w == pid, "waitpid(%d): %s", (int)pid, strerror(errno));
	if (want_sig)
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == want_sig, "status %#x, want signal %d", st, want_sig);
	else
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x (exit %d)", st,
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	close(pipefd[1]);
}

static void test_read(void)
{
	pid_t pid;

	h_begin("read-pipe");
	pid = start(child_read);
	if (CHECK(wait_blocked(pid, SYS_read, SYS_read), "child never blocked in read()")) {
		visit(pid, NULL);
		CHECK(wait_blocked(pid, SYS_read, SYS_read), "child not back in read()");
	}
	send_message();
	check_exit(pid, 0);
	h_end();
}

static void test_sleep(void)
{
	pid_t pid;

	h_begin("nanosleep-restart");
	pid = start(child_sleep);
	if (CHECK(wait_blocked(pid, SYS_nanosleep, SYS_clock_nanosleep), "child never slept"))
		visit(pid, NULL);
	check_exit(pid, 0);
	h_end();
}

static void test_checksum(void)
{
	pid_t pid;
	int i;

	h_begin("nanosleep-checksum");
	pid = start(child_checksum);
	if (CHECK(wait_blocked(pid, SYS_nanosleep, SYS_clock_nanosleep), "child never slept"))
		for (i = 0; i < 10; i++) {
			visit(pid, NULL);
			usleep(15000);
		}
	check_exit(pid, 0);
	h_end();
}

static void test_futex(const char *name, int (*fn)(void))
{
	pid_t pid;

	h_begin(name);
	pid = start(fn);
	if (CHECK(wait_blocked(pid, SYS_futex, SYS_futex), "child never waited")) {
		visit(pid, NULL);
		CHECK(wait_blocked(pid, SYS_futex, SYS_futex), "child not waiting on the futex again");
	}
	atomic_store(&sh->futex, 1);
	syscall(SYS_futex, &sh->futex, FUTEX_WAKE, 1, NULL, NULL, 0);
	check_exit(pid, 0);
	h_end();
}

static void test_threads(void)
{
	pid_t pid;
	int i, n = 0, held, traced;

	h_begin("threads-mmap");
	pid = start(child_threads);
	for (i = 0; i < 5000 && n != NTHREADS + 1; i++) {
		usleep(1000);
		threads(pid, 't', &n, &held, &traced);
	}
	if (CHECK(n == NTHREADS + 1 && wait_blocked(pid, SYS_read, SYS_read),
		  "child has %d threads", n))
		for (i = 0; i < 10; i++) {
			visit(pid, NULL);
			usleep(10000);
		}
	send_message();
	check_exit(pid, 0);
	h_end();
}

/* A process stopped by SIGSTOP stays stopped, locked, and runs on at SIGCONT. */
static void test_stopped(void)
{
	pid_t pid;
	int st;

	h_begin("group-stop");
	pid = start(child_read);
	if (CHECK(wait_blocked(pid, SYS_read, SYS_read), "child never blocked in read()")) {
		kill(pid, SIGSTOP);
		CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st), "child not stopped");
		visit(pid, NULL);
		usleep(50000);
		CHECK(task_state(pid, pid) == 'T', "child is %c after detach, not stopped (T)",
		      task_state(pid, pid));
		kill(pid, SIGCONT);
	}
	send_message();
	check_exit(pid, 0);
	h_end();
}

static int send_usr1(pid_t pid)
{
	return kill(pid, SIGUSR1);
}

/* A signal sent while the child is held reaches its handler, once. */
static void test_signal(void)
{
	pid_t pid;
	int i;

	h_begin("signal-while-held");
	pid = start(child_signal);
	if (CHECK(wait_blocked(pid, SYS_read, SYS_read), "child never blocked in read()")) {
		visit(pid, send_usr1);
		for (i = 0; i < 1000 && atomic_load(&sh->handled) == 0; i++)
			usleep(1000);
		CHECK(atomic_load(&sh->handled) == 1, "handler ran %d times", atomic_load(&sh->handled));
	}
	send_message();
	check_exit(pid, 0);
	h_end();
}

/* Killed while held: ESRCH, nothing left, and the parent gets the status. */
static void test_killed(void)
{
	struct pl_remote *r = NULL;
	pid_t pid;
	int err;
	long v;

	h_begin("killed-while-held");
	pid = start(child_read);
	if (CHECK(wait_blocked(pid, SYS_read, SYS_read), "child never blocked in read()")) {
		err = pl_remote_attach(pid, 0, &r);
		if (CHECK(err == 0, "attach: %s", strerror(err))) {
			kill(pid, SIGKILL);
			v = rsys(r, SYS_getpid, 0, 0, 0);
			CHECK(v == -ESRCH, "getpid() in a killed process: %ld", v);
			pl_remote_detach(r);
		}
	}
	check_exit(pid, SIGKILL);
	h_end();
}

/*
 * The command killed mid-call (the guarantee of cplock's kill tests, here
 * for every architecture): a command process attaches, then makes calls
 * and batches of mlock2() in the child in a loop, and is SIGKILLed after a
 * random delay, again and again, while the child computes its checksum
 * between 1 ms sleeps.  Each death leaves the worker wherever it was (in
 * our code, at a stop, in the call): it must put itself back, so the child
 * ends with the right checksum, every sleep returned 0 and its memory
 * intact.
 */
static void command_loop(pid_t pid)
{
	struct pl_remote *r = NULL;
	struct pl_lockrange v[8];
	uintptr_t b = atomic_load(&sh->buf);
	int i;

	for (i = 0; i < 8; i++) {
		v[i].start = b + (uintptr_t)i * 8192;
		v[i].end = v[i].start + 4096;
		v[i].on_fault = i & 1;
	}
	if (pl_remote_attach(pid, 0, &r) != 0)
		_exit(1);
	for (i = 0;; i++) {
		if (i & 1)
			(void)pl_remote_mlock_many(r, v, 8);
		else
			(void)rsys(r, SYS_getpid, 0, 0, 0);
		if (i % 16 == 15) {
			pl_remote_detach(r);
			if (pl_remote_attach(pid, 0, &r) != 0)
				_exit(1);
		}
	}
}

static void test_command_killed(void)
{
	unsigned int seed = (unsigned int)getpid();
	pid_t pid, cmd;
	int st, kills = 0;

	h_begin("command-killed-mid-call");
	pid = start(child_checksum);
	if (CHECK(wait_blocked(pid, SYS_nanosleep, SYS_clock_nanosleep), "child never slept")) {
		while (waitpid(pid, &st, WNOHANG) == 0 && kills < 200) {
			if ((cmd = fork()) == 0)
				command_loop(pid);
			usleep((useconds_t)(rand_r(&seed) % 3000));
			kill(cmd, SIGKILL);
			waitpid(cmd, NULL, 0);
			kills++;
		}
		printf("# %d commands killed\n", kills);
		if (kills == 200)
			check_exit(pid, 0);
		else
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	}
	h_end();
}

/* The instruction pointer of a stopped tracee. */
static uintptr_t tracee_pc(pid_t pid)
{
#if defined(__x86_64__)
	struct user_regs_struct regs;
	struct iovec v = { &regs, sizeof regs };

	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &v) != 0)
		return 0;
	return regs.rip;
#elif defined(__aarch64__)
	struct user_regs_struct regs;
	struct iovec v = { &regs, sizeof regs };

	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &v) != 0)
		return 0;
	return regs.pc;
#else
	(void)pid;
	return 0;
#endif
}

static uintptr_t entry_of(pid_t pid)
{
	char path[64];
	unsigned long aux[128];
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof path, "/proc/%d/auxv", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	n = read(fd, aux, sizeof aux);
	close(fd);
	for (i = 0; i + 1 < (int)(n / (ssize_t)sizeof aux[0]); i += 2)
		if (aux[i] == AT_ENTRY)
			return aux[i + 1];
	return 0;
}

static int maps_has(pid_t pid, const char *what)
{
	char path[64], line[4096];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

/*
 * A PTRACE_TRACEME child at its execve() stop is run to its entry point:
 * there, libc is mapped and the program counter is AT_ENTRY.  It executes
 * mlockall(), and its main() sees VmLck > 0.  With collected set, the test
 * has collected the exec stop itself before attaching.
 */
static void test_entry(const char *name, int collected)
{
	struct pl_remote *r = NULL;
	pid_t pid;
	int err, st;
	long v;

	h_begin(name);
	if ((pid = fork()) == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		execl(self_path(), self_path(), "entry-child", (char *)NULL);
		_exit(127);
	}
	if (collected)
		CHECK(waitpid(pid, &st, 0) == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP,
		      "no exec stop: %#x", st);
	err = pl_remote_attach(pid, PLOCK_AT_ENTRY, &r);
	if (CHECK(err == 0, "attach at entry: %s", strerror(err))) {
#if defined(__x86_64__) || defined(__aarch64__)
		CHECK(tracee_pc(pid) == entry_of(pid) && entry_of(pid) != 0,
		      "stopped at %#lx, entry %#lx", (unsigned long)tracee_pc(pid),
		      (unsigned long)entry_of(pid));
#endif
		CHECK(maps_has(pid, "libc.so"), "libc is not mapped at the entry point");
		v = rsys(r, SYS_mlockall, MCL_CURRENT | MCL_ONFAULT, 0, 0);
		CHECK(v == 0, "mlockall: %ld", v);
		pl_remote_detach(r);
	}
	st = 0;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "entry child: status %#x", st);
	h_end();
}

/*
 * pl_remote_hold leaves a child that failed to lock at its entry point,
 * still traced: detached, it runs (here: locked, as the mlockall stays);
 * killed, it never ran.
 */
static void test_hold(int detach)
{
	struct pl_remote *r = NULL;
	pid_t pid;
	int err, st = 0;
	long v;

	h_begin(detach ? "entry-hold-detach" : "entry-hold-kill");
	if ((pid = fork()) == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		execl(self_path(), self_path(), "entry-child", (char *)NULL);
		_exit(127);
	}
	err = pl_remote_attach(pid, PLOCK_AT_ENTRY, &r);
	if (CHECK(err == 0, "attach at entry: %s", strerror(err))) {
		v = rsys(r, SYS_mlockall, MCL_CURRENT | MCL_ONFAULT, 0, 0);
		CHECK(v == 0, "mlockall: %ld", v);
		pl_remote_hold(r);
		CHECK(task_state(pid, pid) == 't', "held child is %c, not t", task_state(pid, pid));
		CHECK(status_value(pid, pid, "TracerPid") == (long)syscall(SYS_gettid),
		      "held child's tracer: %ld", status_value(pid, pid, "TracerPid"));
#if defined(__x86_64__) || defined(__aarch64__)
		CHECK(tracee_pc(pid) == entry_of(pid), "held child not at its entry point");
#endif
		if (detach)
			CHECK(ptrace(PTRACE_DETACH, pid, 0, 0) == 0, "detach: %s", strerror(errno));
		else
			kill(pid, SIGKILL);
	}
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid: %s", strerror(errno));
	if (detach)
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "detached child: status %#x", st);
	else
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "killed child: status %#x", st);
	h_end();
}

/* Runs fn in a child process as uid/gid 65534; its exit status. */
static int as_nobody(int (*fn)(pid_t), pid_t arg)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(100);
		_exit(fn(arg));
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

/* Attach must say EPERM; returns the refusal, or 100 + errno. */
static int refused(pid_t pid)
{
	struct pl_remote *r = NULL;
	long detail = 0;
	int err = pl_remote_attach(pid, 0, &r);

	if (err != EPERM) {
		pl_remote_detach(r);
		return 100 + err;
	}
	return pl_remote_refusal(pid, &detail);
}

static int nondumpable_sleeper(pid_t unused)
{
	(void)unused;
	prctl(PR_SET_DUMPABLE, 0);
	pause();
	return 0;
}

static void test_refusals(void)
{
	struct pl_remote *r = NULL, *r2 = NULL;
	long detail = 0;
	pid_t pid, nd;
	int err, rc;

	h_begin("refusals");
	/* Ourselves. */
	err = pl_remote_attach(getpid(), 0, &r2);
	CHECK(err == EPERM && r2 == NULL, "attach to self: %s", strerror(err));
	CHECK(pl_remote_refusal(getpid(), &detail) == PLOCK_PTRACE_SELF, "self not explained");

	/* A process that does not exist (a child reaped already). */
	if ((pid = fork()) == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	err = pl_remote_attach(pid, 0, &r2);
	CHECK(err == ESRCH, "attach to a reaped pid: %s", strerror(err));

	pid = start(child_read);
	if (CHECK(wait_blocked(pid, SYS_read, SYS_read), "child never blocked in read()")) {
		/* Another user's (root's) process, as nobody. */
		rc = as_nobody(refused, pid);
		CHECK(rc == PLOCK_PTRACE_OTHER_USER, "as nobody: %d, want OTHER_USER", rc);
		/* Traced already, by us: a second tracer (a child) is refused. */
		err = pl_remote_attach(pid, 0, &r);
		if (CHECK(err == 0, "attach: %s", strerror(err))) {
			if ((nd = fork()) == 0) {
				long d = 0;

				if (pl_remote_attach(pid, 0, &r2) != EPERM)
					_exit(1);
				_exit(pl_remote_refusal(pid, &d) == PLOCK_PTRACE_TRACED &&
				      d == (long)getppid() ? 0 : 2);
			}
			CHECK(waitpid(nd, &rc, 0) == nd && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
			      "second tracer: status %#x", rc);
			pl_remote_detach(r);
		}
		CHECK(status_value(pid, pid, "TracerPid") == 0, "traced after the refusals");
	}
	send_message();
	check_exit(pid, 0);

	/* A non-dumpable process of the same user (nobody). */
	if ((nd = fork()) == 0) {
		if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(100);
		_exit(nondumpable_sleeper(0));
	}
	usleep(50000);
	rc = as_nobody(refused, nd);
	CHECK(rc == PLOCK_PTRACE_NODUMP, "non-dumpable: %d, want NODUMP", rc);
	kill(nd, SIGKILL);
	waitpid(nd, NULL, 0);
	h_end();
}

/*
 * Why a child's PTRACE_TRACEME is refused (pl_traceme_refusal): under a
 * seccomp filter, and when a tracer already traces the caller.  Each case
 * runs in a child, which first checks that the kernel does refuse it.
 */
static void test_traceme_refusals(void)
{
	long d = 0;
	pid_t pid;
	int rc = -1;

	h_begin("traceme-refusals");
	/* Under a seccomp filter: this program again, under ../noptrace. */
	if ((pid = fork()) == 0) {
		char path[4096];
		const char *self = self_path();
		const char *slash = strrchr(self, '/');

		snprintf(path, sizeof path, "%.*s/../noptrace", (int)(slash - self), self);
		execl(path, path, self, "traceme-seccomp", (char *)NULL);
		_exit(13);
	}
	CHECK(waitpid(pid, &rc, 0) == pid && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	      "under seccomp: status %#x (11: not refused, 12: not explained, 13, 127: "
	      "no build/noptrace)", rc);

	/* Traced already (strace -f traces every child from its birth). */
	if ((pid = fork()) == 0) {
		/* Our child, traced by its parent: TracerPid is the test. */
		raise(SIGSTOP);
		_exit(pl_traceme_refusal(&d) == PLOCK_PTRACE_TRACED && d == (long)getppid() ? 0 : 1);
	}
	if (CHECK(waitpid(pid, &rc, WUNTRACED) == pid && WIFSTOPPED(rc), "child did not stop") &&
	    CHECK(ptrace(PTRACE_SEIZE, pid, 0, 0) == 0, "PTRACE_SEIZE: %s", strerror(errno))) {
		kill(pid, SIGCONT);
		while (waitpid(pid, &rc, 0) == pid && !WIFEXITED(rc) && !WIFSIGNALED(rc))
			ptrace(PTRACE_CONT, pid, 0, WIFSTOPPED(rc) && WSTOPSIG(rc) != SIGSTOP &&
			       WSTOPSIG(rc) != SIGCONT ? WSTOPSIG(rc) : 0);
		CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "traced child: status %#x", rc);
	}
	h_end();
}

/*
 * The child of test_traceme_refusals under the seccomp filter: the kernel
 * refuses its child's PTRACE_TRACEME, and pl_traceme_refusal says why.
 */
static int traceme_seccomp(void)
{
	long d = 0;
	pid_t g;
	int st;

	if ((g = fork()) == 0)
		_exit(ptrace(PTRACE_TRACEME, 0, 0, 0) == -1 && errno == EPERM ? 0 : 1);
	if (waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 11;
	return pl_traceme_refusal(&d) == PLOCK_PTRACE_SECCOMP ? 0 : 12;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "entry-child") == 0)
		return entry_child();
	/* _exit: LeakSanitizer's exit check needs ptrace, which the filter refuses. */
	if (argc > 1 && strcmp(argv[1], "traceme-seccomp") == 0)
		_exit(traceme_seccomp());
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	signal(SIGPIPE, SIG_IGN);

	test_read();
	test_sleep();
	test_checksum();
	test_futex("futex-wait", child_futex_untimed);
	test_futex("futex-wait-timeout", child_futex_timed);
	test_threads();
	test_stopped();
	test_signal();
	test_killed();
	test_command_killed();
	test_entry("entry-point", 0);
	test_entry("entry-point-collected", 1);
	test_hold(1);
	test_hold(0);
	test_refusals();
	test_traceme_refusals();
	return h_done("remote");
}
