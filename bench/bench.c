/*
 * The C benchmarks of plock() against the kernel's own calls.  Each mode
 * measures plock and its baseline in the same process, alternating which
 * goes first, and prints one line of medians (nanoseconds) for
 * bench/run.sh to turn into ratios:
 *
 *	bench heap MIB RUNS	PROCLOCK vs mlockall(MCL_CURRENT), UNLOCK vs
 *				munlockall(), with MIB of touched heap
 *	bench datlock MIB RUNS	DATLOCK on MIB of untouched anonymous memory
 *				(and DATLOCK then touching it) vs
 *				mmap(MAP_POPULATE) of the same size
 *	bench maps N RUNS	PROCLOCK with N separate mappings vs the same
 *				mlock2 calls made directly, and vs
 *				mlockall(MCL_CURRENT|MCL_ONFAULT); also the
 *				time to read smaps and maps once
 *	bench einval CALLS	ns per plock(PROCLOCK) that fails with EINVAL
 *	bench count N		PROCLOCK with N mappings between two
 *				getppid() markers, for strace to count
 *	bench remote N RUNS CPLOCK
 *				a child with N mappings, a spinning thread and
 *				one asleep: its own plock(PROCLOCK), against
 *				plock_ctl(child, PROCLOCK) from here and against
 *				the whole command "CPLOCK lock proc CHILD"; and
 *				the longest stall of the spinning thread during
 *				each
 *
 * Benchmarks, never assertions: it exits non-zero only if a call fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <plock.h>

#ifndef MCL_ONFAULT
#define MCL_ONFAULT	4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	1
#endif

#define MAXRUNS	64

static long pg;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static long long median(long long *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The system calls themselves: sanitizers no-op libc's mlock family. */
static void sys_mlockall(int flags)
{
	if (syscall(SYS_mlockall, flags) != 0)
		die("mlockall");
}

static void sys_munlockall(void)
{
	if (syscall(SYS_munlockall) != 0)
		die("munlockall");
}

static void must_plock(int op)
{
	if (plock(op) != 0)
		die(op == UNLOCK ? "plock(UNLOCK)" : "plock");
}

static long long timed_plock(int op)
{
	long long t = now_ns();

	must_plock(op);
	return now_ns() - t;
}

static void heap(size_t mib, int runs)
{
	long long ml[MAXRUNS], mu[MAXRUNS], pl[MAXRUNS], pu[MAXRUNS], t;
	size_t len = mib << 20, i;
	char *p = malloc(len);
	int r;

	if (p == NULL)
		die("malloc");
	for (i = 0; i < len; i += (size_t)pg)
		p[i] = 1;
	for (r = 0; r < runs; r++) {
		int plock_first = r % 2;

		if (plock_first) {
			pl[r] = timed_plock(PROCLOCK);
			pu[r] = timed_plock(UNLOCK);
		}
		t = now_ns();
		sys_mlockall(MCL_CURRENT);
		ml[r] = now_ns() - t;
		t = now_ns();
		sys_munlockall();
		mu[r] = now_ns() - t;
		if (!plock_first) {
			pl[r] = timed_plock(PROCLOCK);
			pu[r] = timed_plock(UNLOCK);
		}
	}
	printf("heap %zu %d mlockall %lld plock %lld munlockall %lld unlock %lld\n", mib, runs,
	       median(ml, runs), median(pl, runs), median(mu, runs), median(pu, runs));
	free(p);
}

static void touch(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += (size_t)pg)
		p[i] = 1;
}

static void datlock(size_t mib, int runs)
{
	long long pl[MAXRUNS], pt[MAXRUNS], pop[MAXRUNS], t;
	size_t len = mib << 20;
	int r;

	for (r = 0; r < runs; r++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			die("mmap");
		t = now_ns();
		must_plock(DATLOCK);
		pl[r] = now_ns() - t;
		touch(p, len);
		pt[r] = now_ns() - t;
		must_plock(UNLOCK);
		munmap(p, len);

		t = now_ns();
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
			 -1, 0);
		pop[r] = now_ns() - t;
		if (p == MAP_FAILED)
			die("mmap(MAP_POPULATE)");
		munmap(p, len);
	}
	printf("datlock %zu %d populate %lld datlock %lld datlock_touch %lld\n", mib, runs,
	       median(pop, runs), median(pl, runs), median(pt, runs));
}

/*
 * n separate mappings: one region, every other page read-only, so that
 * the writable pages (data) are n/2 mappings that no mlock call can merge.
 */
static char *many(size_t n)
{
	char *p = mmap(NULL, n * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		die("mmap");
	for (i = 0; i < n; i++) {
		p[i * (size_t)pg] = 1;
		if (i % 2 && mprotect(p + i * (size_t)pg, (size_t)pg, PROT_READ) != 0)
			die("mprotect");
	}
	return p;
}

static long long read_file(const char *path)
{
	static char buf[1 << 16];
	long long t = now_ns();
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die(path);
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
	return now_ns() - t;
}

static void maps(size_t n, int runs)
{
	long long pl[MAXRUNS], pu[MAXRUNS], dl[MAXRUNS], du[MAXRUNS], al[MAXRUNS];
	long long sm[MAXRUNS], mp[MAXRUNS], t;
	char *p = many(n);
	size_t i;
	int r;

	for (r = 0; r < runs; r++) {
		pl[r] = timed_plock(PROCLOCK);
		pu[r] = timed_plock(UNLOCK);
		/* The same mlock2 calls plock makes for this region, without /proc. */
		t = now_ns();
		for (i = 0; i < n; i += 2)
			if (syscall(SYS_mlock2, p + i * (size_t)pg, (size_t)pg, MLOCK_ONFAULT) != 0)
				die("mlock2");
		syscall(SYS_mlockall, MCL_FUTURE | MCL_ONFAULT);
		dl[r] = now_ns() - t;
		t = now_ns();
		sys_munlockall();
		du[r] = now_ns() - t;
		t = now_ns();
		sys_mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT);
		al[r] = now_ns() - t;
		sys_munlockall();
		sm[r] = read_file("/proc/self/smaps");
		mp[r] = read_file("/proc/self/maps");
	}
	printf("maps %zu %d plock %lld direct %lld mlockall %lld unlock %lld munlockall %lld "
	       "smaps %lld maps %lld\n", n, runs, median(pl, runs), median(dl, runs), median(al, runs),
	       median(pu, runs), median(du, runs), median(sm, runs), median(mp, runs));
}

static void einval(long calls)
{
	long long t;
	long i;

	must_plock(PROCLOCK);
	for (i = 0; i < 1000; i++)
		(void)plock(PROCLOCK);
	t = now_ns();
	for (i = 0; i < calls; i++)
		if (plock(PROCLOCK) != -1 || errno != EINVAL)
			die("plock(PROCLOCK) when locked");
	t = now_ns() - t;
	must_plock(UNLOCK);
	printf("einval %ld %.1f\n", calls, (double)t / (double)calls);
}

static void count(size_t n)
{
	many(n);
	syscall(SYS_getppid);
	must_plock(PROCLOCK);
	syscall(SYS_getppid);
	must_plock(UNLOCK);
	syscall(SYS_getppid);
}

/* What the child of remote() shares with the bench. */
struct remote_sh {
	_Atomic long long stall;	/* the spinner's longest gap, ns */
	_Atomic int reset;		/* the bench asks it to start again */
	_Atomic long long self;		/* the child's own plock(PROCLOCK), ns */
};

static struct remote_sh *rs;

/* Reads the clock in a loop: the longest gap is how long it was held up. */
static void *spinner(void *arg)
{
	long long last = now_ns(), t, gap;

	(void)arg;
	for (;;) {
		t = now_ns();
		if (atomic_exchange(&rs->reset, 0)) {
			atomic_store(&rs->stall, 0);
			last = t;
		}
		if ((gap = t - last) > atomic_load(&rs->stall))
			atomic_store(&rs->stall, gap);
		last = t;
	}
	return NULL;
}

static void *sleeper(void *arg)
{
	char c;

	(void)read(*(int *)arg, &c, 1);
	return NULL;
}

/* The child: mappings, the two threads, and its own plock on request. */
static void remote_child(size_t n, int cmd, int done)
{
	static int idle[2];
	pthread_t t;
	char c;

	many(n);
	if (pipe(idle) != 0 || pthread_create(&t, NULL, spinner, NULL) != 0 ||
	    pthread_create(&t, NULL, sleeper, &idle[0]) != 0)
		die("child threads");
	while (read(cmd, &c, 1) == 1) {
		if (c == 'p') {
			long long t0 = now_ns();

			must_plock(PROCLOCK);
			atomic_store(&rs->self, now_ns() - t0);
			must_plock(UNLOCK);
		}
		(void)write(done, &c, 1);
	}
	_exit(0);
}

/* Waits out the spinner's next gaps, then the stall so far. */
static long long stall_since_reset(void)
{
	usleep(20000);
	return atomic_load(&rs->stall);
}

static void remote(size_t n, int runs, const char *cplock)
{
	long long self[MAXRUNS], ctl[MAXRUNS], cmd[MAXRUNS];
	long long s_self[MAXRUNS], s_ctl[MAXRUNS], s_cmd[MAXRUNS], t;
	int to[2], from[2], r, st;
	char c = 'p', pidbuf[32];
	pid_t child, c2;

	rs = mmap(NULL, sizeof *rs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rs == MAP_FAILED || pipe(to) != 0 || pipe(from) != 0)
		die("setup");
	if ((child = fork()) == 0)
		remote_child(n, to[0], from[1]);
	snprintf(pidbuf, sizeof pidbuf, "%d", (int)child);
	if (write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1)	/* warm up */
		die("child");
	for (r = 0; r < runs; r++) {
		atomic_store(&rs->reset, 1);
		usleep(5000);
		if (write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1)
			die("child");
		self[r] = atomic_load(&rs->self);
		s_self[r] = stall_since_reset();

		atomic_store(&rs->reset, 1);
		usleep(5000);
		t = now_ns();
		if (plock_ctl(child, PROCLOCK, 0, NULL) != 0)
			die("plock_ctl");
		ctl[r] = now_ns() - t;
		s_ctl[r] = stall_since_reset();
		if (plock_ctl(child, UNLOCK, 0, NULL) != 0)
			die("plock_ctl UNLOCK");

		atomic_store(&rs->reset, 1);
		usleep(5000);
		t = now_ns();
		if ((c2 = fork()) == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1);
			execl(cplock, cplock, "lock", "proc", pidbuf, (char *)NULL);
			_exit(127);
		}
		if (waitpid(c2, &st, 0) != c2 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("cplock lock");
		cmd[r] = now_ns() - t;
		s_cmd[r] = stall_since_reset();
		if (plock_ctl(child, UNLOCK, 0, NULL) != 0)
			die("plock_ctl UNLOCK");
	}
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	printf("remote %zu %d self %lld ctl %lld cplock %lld stall_self %lld stall_ctl %lld "
	       "stall_cplock %lld\n", n, runs, median(self, runs), median(ctl, runs), median(cmd, runs),
	       median(s_self, runs), median(s_ctl, runs), median(s_cmd, runs));
}

/* bench forker N: N children, one after another, each exits at once. */
static void forker(long n)
{
	int st;
	long i;

	for (i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0)
			_exit(0);
		if (p < 0 || waitpid(p, &st, 0) != p)
			die("fork");
	}
}

/* Runs argv (a NULL-terminated list) to its end: its time in ns. */
static long long timed_run(char *const argv[])
{
	long long t = now_ns();
	int st;
	pid_t p = fork();

	if (p == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die(argv[0]);
	return now_ns() - t;
}

/*
 * bench forks N RUNS CPLOCK: "bench forker N" alone, under cplock run
 * --lock proc (its children unlocked), and under cplock run --follow --lock
 * proc (each child locked at its first instruction), alternating.
 */
static void forks(long n, int runs, char *self, char *cplock)
{
	long long plain[MAXRUNS], run[MAXRUNS], follow[MAXRUNS];
	char nbuf[32], lk[] = "--lock", proc[] = "proc", dd[] = "--", fo[] = "--follow",
	     rn[] = "run", fk[] = "forker";
	int r;

	snprintf(nbuf, sizeof nbuf, "%ld", n);
	{
		char *a[] = { self, fk, nbuf, NULL };
		char *b[] = { cplock, rn, lk, proc, dd, self, fk, nbuf, NULL };
		char *c[] = { cplock, rn, fo, lk, proc, dd, self, fk, nbuf, NULL };

		for (r = 0; r < runs; r++) {
			plain[r] = timed_run(a);
			run[r] = timed_run(b);
			follow[r] = timed_run(c);
		}
	}
	printf("forks %ld %d plain %lld run %lld follow %lld\n", n, runs, median(plain, runs),
	       median(run, runs), median(follow, runs));
}

int main(int argc, char **argv)
{
	long a = argc > 2 ? strtol(argv[2], NULL, 0) : 0;
	int runs = argc > 3 ? atoi(argv[3]) : 5;

	pg = sysconf(_SC_PAGESIZE);
	if (runs < 1 || runs > MAXRUNS || a <= 0) {
		fprintf(stderr, "usage: bench heap|datlock|maps|einval|count|forker N [RUNS]\n"
				"       bench remote|forks N RUNS CPLOCK\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "heap") == 0)
		heap((size_t)a, runs);
	else if (strcmp(argv[1], "datlock") == 0)
		datlock((size_t)a, runs);
	else if (strcmp(argv[1], "maps") == 0)
		maps((size_t)a, runs);
	else if (strcmp(argv[1], "einval") == 0)
		einval(a);
	else if (strcmp(argv[1], "count") == 0)
		count((size_t)a);
	else if (strcmp(argv[1], "remote") == 0 && argc > 4)
		remote((size_t)a, runs, argv[4]);
	else if (strcmp(argv[1], "forker") == 0)
		forker(a);
	else if (strcmp(argv[1], "forks") == 0 && argc > 4)
		forks(a, runs, argv[0], argv[4]);
	else
		return 2;
	return 0;
}
