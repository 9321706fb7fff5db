/*
 * A program that checks that it is left alone, for cplock's kill tests:
 * whatever stops it, traces it, runs calls in it and lets it go, its
 * registers, flags, vector and FP state, the stack next to its stack
 * pointer, signal mask, pending signals and memory must be what it left
 * there.
 *
 *	patient single	one thread: register rounds that spin, that sleep in
 *			nanosleep and that poll stdin (non-blocking read)
 *	patient multi [MS]
 *			the main thread blocked in read() on stdin, and four
 *			threads: a spinner (register rounds), a reader blocked
 *			in read() on fd 3, a sleeper in nanosleep (MS
 *			milliseconds each, 2 if not given), and a data
 *			checker that fills and verifies memory
 *
 * The calls that the register-checking threads block in (nanosleep, read)
 * are made from inside the register round (patient_round, in assembly, one
 * for each architecture: patient_x86_64.h, patient_aarch64.h; no compiler
 * choice can hide a register that changed), which loads known values,
 * distinct in every round, into every general register it may, the flags,
 * the vector and FP registers and their control and status registers, and
 * a pattern into stack memory that nothing else may write (x86-64's red
 * zone; on arm64, which has none, a part of the round's own frame); then
 * makes the call (a blocked thread is stopped there, with all of them
 * loaded), spins comparing every general register, and stores them all.
 * The C code compares what came back with what went in; the stack pointer
 * must be what it was.  The data thread is plain C.
 *
 * Before it says "ready", each thread blocks SIGUSR1, SIGUSR2 and SIGRTMIN+2
 * and has SIGUSR1 pending for itself; SIGUSR2 and SIGRTMIN+2 are pending for
 * the process.  After every round it checks its signal mask and pending set
 * are exactly those, its alternate signal stack is still disabled and its
 * thread pointer (FS base; TPIDR_EL0) unchanged.  It installs no signal
 * handler: no call may fail with EINTR.  A nanosleep must sleep at least
 * what it asked; the bytes read from fd 3 must be i*7 mod 251, i counting
 * from the first byte.
 *
 * Its first line is "ready MODE threads=N vec=LEVEL xsave=A,B,C,D": LEVEL is
 * the vector registers it checks (sse, avx or avx512; neon), A-D the
 * offsets of XSAVE components 2, 5, 6 and 7 (0: none, as on arm64), for a
 * test that changes them.
 * Each byte written to stdin is a request: the answer, on stdout, is
 *	ok spin=N sleep=N read=N bytes=N data=N ctl=N
 * (completed checks of each kind; bytes: bytes of fd 3 read and verified).
 * At the end of stdin it exits 0.  On any mismatch it writes
 *	CORRUPT reg=NAME got=0x... want=0x... (thread, round)
 * (or CORRUPT what=...) to stderr and aborts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix(uint64_t *s);
static _Noreturn void corrupt(const char *fmt, ...);

/*
 * The register round of this architecture: struct round, patient_round()
 * and its symbols patient_loaded and patient_checked (the tests look for
 * them), prepare_round(), verify_round(), thread_pointer() and TP_NAME,
 * vector_level(), level and level_name[], xsave_offsets().
 */
#if defined(__x86_64__)
#include "patient_x86_64.h"
#elif defined(__aarch64__)
#include "patient_aarch64.h"
#else
#error "patient.c: no register round for this architecture"
#endif

/* Counters of completed checks, for the answer. */
static atomic_ulong n_spin, n_sleep, n_read, n_bytes, n_data, n_ctl;

/* The signal state every thread must keep. */
static sigset_t want_mask, want_pending;
#define SIG_RT	(SIGRTMIN + 2)

/* Memory that is filled once and never written again. */
#define REGION_WORDS	(1 << 17)	/* 1 MiB */
static uint64_t region[REGION_WORDS];
#define REGION_KEY	0x5ca1ab1e0ddba11ULL

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t region_word(size_t i)
{
	uint64_t s = REGION_KEY ^ i;

	return splitmix(&s);
}

/* One line to stderr, written at once, and abort. */
static _Noreturn void corrupt(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0)
		_exit(99);
	abort();
}

/* What each thread knows about itself, and its next round. */
struct thread {
	const char *name;
	uint64_t seed;
	uint64_t rounds;
	unsigned long tp;	/* thread_pointer() */
	struct round r;
};

/* Blocks the signals and makes SIGUSR1 pending for the calling thread. */
static void thread_signals(struct thread *t)
{
	if (pthread_sigmask(SIG_SETMASK, &want_mask, NULL) != 0 ||
	    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1) != 0)
		corrupt("CORRUPT what=setup-signals thread=%s errno=%d", t->name, errno);
	t->tp = thread_pointer();
}

static void check_signals(struct thread *t)
{
	sigset_t m, p;
	stack_t ss;
	int s;

	if (pthread_sigmask(SIG_BLOCK, NULL, &m) != 0 || sigpending(&p) != 0)
		corrupt("CORRUPT what=sigprocmask-failed thread=%s errno=%d", t->name, errno);
	for (s = 1; s <= SIGRTMAX; s++) {
		if (sigismember(&m, s) != sigismember(&want_mask, s))
			corrupt("CORRUPT what=sigmask sig=%d got=%d want=%d thread=%s round=%" PRIu64,
				s, sigismember(&m, s), sigismember(&want_mask, s), t->name, t->rounds);
		if (sigismember(&p, s) != sigismember(&want_pending, s))
			corrupt("CORRUPT what=sigpending sig=%d got=%d want=%d thread=%s round=%" PRIu64,
				s, sigismember(&p, s), sigismember(&want_pending, s), t->name, t->rounds);
	}
	if (sigaltstack(NULL, &ss) != 0 || ss.ss_flags != SS_DISABLE)
		corrupt("CORRUPT what=sigaltstack flags=%d thread=%s", ss.ss_flags, t->name);
	if (thread_pointer() != t->tp)
		corrupt("CORRUPT reg=" TP_NAME " got=0x%lx want=0x%lx thread=%s", thread_pointer(),
			t->tp, t->name);
}

/* One round: load, call, spin, verify, and the signal state. */
static int64_t round_of(struct thread *t, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
			uint64_t spinf, uint64_t sping)
{
	prepare_round(&t->r, &t->seed, nr, a0, a1, a2, spinf, sping);
	patient_round(&t->r);
	t->rounds++;
	verify_round(&t->r, t->name, t->rounds);
	check_signals(t);
	return t->r.sysres;
}

static void check_region(size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		if (region[i] != region_word(i))
			corrupt("CORRUPT what=memory at=region+%zu got=0x%016" PRIx64 " want=0x%016" PRIx64,
				8 * i, region[i], region_word(i));
}

static void answer(void)
{
	char line[256];
	int n;

	check_region(0, REGION_WORDS);
	atomic_fetch_add(&n_ctl, 1);
	n = snprintf(line, sizeof line, "ok spin=%lu sleep=%lu read=%lu bytes=%lu data=%lu ctl=%lu\n",
		     atomic_load(&n_spin), atomic_load(&n_sleep), atomic_load(&n_read),
		     atomic_load(&n_bytes), atomic_load(&n_data), atomic_load(&n_ctl));
	if (write(1, line, (size_t)n) != n)
		corrupt("CORRUPT what=write-stdout errno=%d", errno);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A nanosleep of ns from inside a round: returns 0 and lasts at least ns. */
static void sleep_round(struct thread *t, long ns)
{
	struct timespec req = { 0, ns }, rem = { 0, 0 };
	double t0 = now(), dt;
	int64_t res = round_of(t, SYS_nanosleep, (uint64_t)&req, (uint64_t)&rem, 0, 1, 1);

	dt = now() - t0;
	if (res != 0)
		corrupt("CORRUPT what=nanosleep result=%" PRId64 " (%s) thread=%s round=%" PRIu64,
			res, strerror((int)-res), t->name, t->rounds);
	if (dt < (double)ns / 1e9)
		corrupt("CORRUPT what=nanosleep slept=%.0fus asked=%ldus thread=%s", dt * 1e6,
			ns / 1000, t->name);
	atomic_fetch_add(&n_sleep, 1);
}

#define SPIN_F	20000
#define SPIN_G	20000

static void spin_round(struct thread *t)
{
	round_of(t, -1, 0, 0, 0, SPIN_F, SPIN_G);
	atomic_fetch_add(&n_spin, 1);
}

/* Fills a buffer with generation gen's pattern and reads it back. */
static void data_pass(uint64_t *buf, size_t words, uint64_t gen, size_t slice)
{
	uint64_t s = gen, w;
	size_t i, from = (slice * 2048) % REGION_WORDS;

	for (i = 0; i < words; i++)
		buf[i] = splitmix(&s);
	s = gen;
	for (i = 0; i < words; i++)
		if ((w = splitmix(&s)) != buf[i])
			corrupt("CORRUPT what=memory at=buffer+%zu gen=%" PRIu64 " got=0x%016" PRIx64
				" want=0x%016" PRIx64, 8 * i, gen, buf[i], w);
	check_region(from, from + 2048);
	atomic_fetch_add(&n_data, 1);
}

static void *spinner(void *arg)
{
	struct thread *t = arg;

	thread_signals(t);
	for (;;)
		spin_round(t);
	return NULL;
}

/*
 * The sleeper's nanosleep: 2 ms, so that a check (every thread through a
 * round) takes little longer; a test that must stop it mid-sleep and let
 * it go asks for more, since under emulation (qemu's TCG) a tracer's stop
 * and resume take milliseconds (4 to 15 seen in the arm64 VM).
 */
static long sleeper_ns = 2 * 1000 * 1000;

static void *sleeper(void *arg)
{
	struct thread *t = arg;

	thread_signals(t);
	for (;;)
		sleep_round(t, sleeper_ns);
	return NULL;
}

/* Reads fd 3 from inside rounds; every byte i must be i*7 mod 251. */
static void *reader(void *arg)
{
	struct thread *t = arg;
	unsigned char buf[64];
	uint64_t pos = 0;
	int64_t n, i;

	thread_signals(t);
	for (;;) {
		n = round_of(t, SYS_read, 3, (uint64_t)buf, sizeof buf, 100, 100);
		if (n == 0)
			exit(0);	/* the test closed the pipe */
		if (n < 0 || n > (int64_t)sizeof buf)
			corrupt("CORRUPT what=read fd=3 result=%" PRId64 " (%s) thread=%s", n,
				n < 0 ? strerror((int)-n) : "too many", t->name);
		for (i = 0; i < n; i++, pos++)
			if (buf[i] != (unsigned char)(pos * 7 % 251))
				corrupt("CORRUPT what=pipe-data at=%" PRIu64 " got=%u want=%u", pos,
					buf[i], (unsigned)(pos * 7 % 251));
		atomic_fetch_add(&n_bytes, (unsigned long)n);
		atomic_fetch_add(&n_read, 1);
	}
	return NULL;
}

static void *data(void *arg)
{
	struct thread *t = arg;
	static uint64_t buf[8192];	/* 64 KiB */
	struct timespec d = { 0, 500 * 1000 };
	uint64_t gen;
	int rc;

	thread_signals(t);
	for (gen = 1;; gen++) {
		data_pass(buf, sizeof buf / sizeof buf[0], gen, gen);
		check_signals(t);
		if ((rc = nanosleep(&d, NULL)) != 0)
			corrupt("CORRUPT what=nanosleep result=%d (%s) thread=%s", rc, strerror(errno),
				t->name);
	}
	return NULL;
}


static void start(pthread_t *p, struct thread *t, void *(*fn)(void *))
{
	int err = pthread_create(p, NULL, fn, t);

	if (err != 0)
		corrupt("CORRUPT what=pthread_create errno=%d", err);
}

int main(int argc, char **argv)
{
	static struct thread ts[5];
	const char *mode = argc >= 2 ? argv[1] : "";
	pthread_t p[4];
	unsigned char c;
	unsigned int off[4];
	int64_t n;
	size_t i, slice;
	long ms = 2;
	char *end = NULL;

	if (argc == 3)
		ms = strtol(argv[2], &end, 10);
	if (!(argc == 2 && strcmp(mode, "single") == 0) &&
	    !((argc == 2 || argc == 3) && strcmp(mode, "multi") == 0 &&
	      (end == NULL || (*end == '\0' && ms > 0 && ms < 1000)))) {
		fprintf(stderr, "usage: patient single | multi [MS (1 to 999)]\n");
		return 2;
	}
	sleeper_ns = ms * 1000 * 1000;
	level = vector_level();
	xsave_offsets(off);
	for (i = 0; i < REGION_WORDS; i++)
		region[i] = region_word(i);
	sigemptyset(&want_mask);
	sigaddset(&want_mask, SIGUSR1);
	sigaddset(&want_mask, SIGUSR2);
	sigaddset(&want_mask, SIG_RT);
	want_pending = want_mask;
	for (i = 0; i < 5; i++)
		ts[i].seed = (0x1234567ULL * (i + 1)) ^ ((uint64_t)getpid() << 32);
	ts[0].name = "main";
	thread_signals(&ts[0]);
	if (kill(getpid(), SIGUSR2) != 0 ||
	    sigqueue(getpid(), SIG_RT, (union sigval){ .sival_int = 42 }) != 0)
		corrupt("CORRUPT what=setup-signals errno=%d", errno);
	check_signals(&ts[0]);

	if (strcmp(mode, "single") == 0) {
		static uint64_t buf[2048];

		if (fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) != 0)
			corrupt("CORRUPT what=fcntl-stdin errno=%d", errno);
		spin_round(&ts[0]);
		printf("ready single threads=1 vec=%s xsave=%u,%u,%u,%u\n", level_name[level], off[0],
		       off[1], off[2], off[3]);
		fflush(stdout);
		for (slice = 1;; slice++) {
			spin_round(&ts[0]);
			sleep_round(&ts[0], 300 * 1000);
			data_pass(buf, sizeof buf / sizeof buf[0], slice, slice);
			n = round_of(&ts[0], SYS_read, 0, (uint64_t)&c, 1, 100, 100);
			if (n == 0)
				return 0;
			if (n == 1)
				answer();
			else if (n != -EAGAIN)
				corrupt("CORRUPT what=read fd=0 result=%" PRId64 " (%s)", n, strerror((int)-n));
		}
	}

	ts[1].name = "spinner";
	ts[2].name = "reader";
	ts[3].name = "sleeper";
	ts[4].name = "data";
	start(&p[0], &ts[1], spinner);
	start(&p[1], &ts[2], reader);
	start(&p[2], &ts[3], sleeper);
	start(&p[3], &ts[4], data);
	/* Every thread through a check before "ready". */
	while (atomic_load(&n_spin) == 0 || atomic_load(&n_sleep) == 0 || atomic_load(&n_data) == 0)
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	printf("ready multi threads=5 vec=%s xsave=%u,%u,%u,%u\n", level_name[level], off[0], off[1],
	       off[2], off[3]);
	fflush(stdout);
	for (;;) {
		n = round_of(&ts[0], SYS_read, 0, (uint64_t)&c, 1, 100, 100);
		if (n == 0)
			return 0;
		if (n != 1)
			corrupt("CORRUPT what=read fd=0 result=%" PRId64 " (%s) thread=main", n,
				n < 0 ? strerror((int)-n) : "?");
		answer();
	}
}
