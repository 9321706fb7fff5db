/*
 * Stress test of plock(): 8 threads issue random operations (20,000 in
 * all by default) while another thread maps, unmaps and reprotects memory
 * and another forks children that use plock themselves.
 *
 *	stress [ops [seed]]
 *
 * Checked (docs/CONTRACT.md):
 *  - every call returns 0 or fails with EINVAL; an op that is no op, or an
 *    unknown flag, is always EINVAL;
 *  - the history of calls is linearizable against the sequential state
 *    machine: there is one order of the calls, consistent with real time,
 *    in which each result is the one the contract's EINVAL rules give (calls
 *    are serialised);
 *  - at checkpoints (workers paused, churn and forks still running): text,
 *    [heap], [stack] and shared-library mappings carry "lo" exactly when
 *    their class is locked, MCL_FUTURE is on exactly with DATLOCK, VmLck
 *    is at its baseline exactly when nothing is locked, and a buffer the
 *    program mlock()ed itself stays locked throughout;
 *  - a forked child starts with state 0 and VmLck 0, and can lock and
 *    unlock itself;
 *  - after the last UNLOCK, VmLck is back at its baseline.
 * TAP, through tests/c/harness.h: a crash or an exit before the end
 * leaves no plan, which fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <plock.h>

#include "../c/harness.h"
#include "../c/smaps_oracle.h"

#define NTHREAD	8
#define NROUND	10
#define READ_OP	(-1000)		/* a plock_state() call in the history */
#define POOL_PAGES 1024

struct rec {
	int op;			/* plock op, or READ_OP */
	int res;		/* 0 or an errno; for READ_OP the state read */
	unsigned long inv, resp;
};

struct worker {
	pthread_t tid;
	int id;
	uint64_t rng;
	struct rec *h;
	size_t n, cap;
	unsigned long bad;	/* calls with a result the contract forbids */
};

static atomic_ulong clk;
static atomic_int stop;
static pthread_barrier_t round_start, round_end;
static int ops_per_round;
static long pagesz;
static struct worker workers[NTHREAD];
static unsigned long churn_ops, forks, child_failures;

static uint64_t next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static int classes(int op)
{
	switch (op) {
	case PROCLOCK:		return TXTLOCK | DATLOCK;
	case PROCSHLIBLOCK:	return TXTLOCK | DATLOCK | SHLIBLOCK;
	case TXTSHLIBLOCK:	return TXTLOCK | SHLIBLOCK;
	case DATSHLIBLOCK:	return DATLOCK | SHLIBLOCK;
	default:		return op;
	}
}

/* The next state of the sequential model after r, or -1 if r cannot happen in state s. */
static int step(int s, const struct rec *r)
{
	if (r->op == READ_OP)
		return r->res == s ? s : -1;
	if (r->op == UNLOCK) {
		if (s == 0)
			return r->res == EINVAL ? 0 : -1;
		return r->res == 0 ? 0 : -1;
	}
	if (classes(r->op) & s)
		return r->res == EINVAL ? s : -1;
	return r->res == 0 ? s | classes(r->op) : -1;
}

static void record(struct worker *w, int op, int res, unsigned long inv, unsigned long resp)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 1024;
		w->h = realloc(w->h, w->cap * sizeof *w->h);
		if (w->h == NULL) {
			perror("stress: realloc");
			exit(2);
		}
	}
	w->h[w->n].op = op;
	w->h[w->n].res = res;
	w->h[w->n].inv = inv;
	w->h[w->n].resp = resp;
	w->n++;
}

static void one_op(struct worker *w)
{
	static const int valid[] = { UNLOCK, UNLOCK, UNLOCK, PROCLOCK, TXTLOCK, DATLOCK,
		SHLIBLOCK, PROCSHLIBLOCK, TXTSHLIBLOCK, DATSHLIBLOCK };
	static const int invalid[] = { -1, 3, 5, 6, 7, 11, 13, 14, 15, 16, 64, 0x7fffffff };
	unsigned long inv, resp;
	uint64_t r = next(&w->rng) % 100;
	int op, res;

	if (r < 10) {
		inv = atomic_fetch_add(&clk, 1);
		res = plock_state();
		resp = atomic_fetch_add(&clk, 1);
		if (res & ~(TXTLOCK | DATLOCK | SHLIBLOCK)) {
			h_note("stress: plock_state() = %#x", res);
			w->bad++;
		}
		record(w, READ_OP, res, inv, resp);
		return;
	}
	if (r < 15) {
		/* Decided before the lock is taken: no place in the history. */
		op = invalid[next(&w->rng) % (sizeof invalid / sizeof invalid[0])];
		errno = 0;
		res = r < 13 ? plock(op) : plock_flags(PROCLOCK, 2);
		if (res != -1 || errno != EINVAL) {
			h_note("stress: invalid op %d: %d, errno %d; want EINVAL", op, res, errno);
			w->bad++;
		}
		return;
	}
	op = valid[next(&w->rng) % (sizeof valid / sizeof valid[0])];
	inv = atomic_fetch_add(&clk, 1);
	errno = 0;
	res = plock(op) == 0 ? 0 : errno;
	resp = atomic_fetch_add(&clk, 1);
	if (res != 0 && res != EINVAL) {
		h_note("stress: plock(%d): %s; only 0 or EINVAL may happen here", op, strerror(res));
		w->bad++;
	}
	record(w, op, res, inv, resp);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	int round, i;

	for (round = 0; round < NROUND; round++) {
		pthread_barrier_wait(&round_start);
		for (i = 0; i < ops_per_round; i++)
			one_op(w);
		pthread_barrier_wait(&round_end);
	}
	return NULL;
}

/*
 * Maps, unmaps and reprotects runs of pages in a pool.  Only pages this
 * thread mapped are touched: the pool's holes may be taken by malloc or a
 * thread stack meanwhile, and MAP_FIXED_NOREPLACE refuses to map over them.
 */
static void *churn(void *arg)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE,
		PROT_READ | PROT_WRITE | PROT_EXEC };
	static unsigned char owned[POOL_PAGES];
	uint64_t rng = *(uint64_t *)arg;
	char *pool;
	size_t i;

	pool = mmap(NULL, POOL_PAGES * pagesz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pool == MAP_FAILED) {
		perror("stress: mmap pool");
		exit(2);
	}
	munmap(pool, POOL_PAGES * pagesz);
	while (!atomic_load(&stop)) {
		size_t a = next(&rng) % POOL_PAGES, n = 1 + next(&rng) % 16, k;
		int what = (int)(next(&rng) % 3), prot = prots[next(&rng) % 4];

		if (a + n > POOL_PAGES)
			n = POOL_PAGES - a;
		for (k = a; k < a + n; k++) {
			char *p = pool + k * pagesz;

			if (what == 0 && !owned[k]) {
				if (mmap(p, pagesz, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
					 -1, 0) != p)
					continue;
				owned[k] = 1;
			} else if (what == 1 && owned[k]) {
				munmap(p, pagesz);
				owned[k] = 0;
				continue;
			} else if (what == 2 && owned[k]) {
				mprotect(p, pagesz, prot);
			} else {
				continue;
			}
			if (prot & PROT_WRITE)
				*(volatile char *)p = 1;
		}
		churn_ops++;
	}
	for (i = 0; i < POOL_PAGES; i++)
		if (owned[i])
			munmap(pool + i * pagesz, pagesz);
	return NULL;
}

/* In a child: nothing is inherited, and plock works there. */
static int child(void)
{
	if (plock_state() != 0 || oracle_vmlck(0) != 0)
		return 1;
	if (plock(PROCLOCK) != 0 || plock_state() != (TXTLOCK | DATLOCK) || oracle_vmlck(0) == 0)
		return 2;
	if (plock(UNLOCK) != 0 || plock_state() != 0 || oracle_vmlck(0) != 0)
		return 3;
	return 0;
}

/* Waits up to 30 s for pid; a child that hangs (a lock inherited held) is killed. */
static int reap(pid_t pid, int *st)
{
	int i;

	for (i = 0; i < 30000; i++) {
		pid_t r = waitpid(pid, st, WNOHANG);

		if (r == pid)
			return 1;
		if (r < 0)
			return 0;
		usleep(1000);
	}
	h_note("stress: child %d hangs; killing it", (int)pid);
	kill(pid, SIGKILL);
	waitpid(pid, st, 0);
	return 0;
}

static void *forker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int st;
		pid_t pid = fork();

		if (pid == 0)
			_exit(child());
		if (pid < 0) {
			perror("stress: fork");
			child_failures++;
			break;
		}
		if (!reap(pid, &st) || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			h_note("stress: child %d failed: status %#x", (int)pid, st);
			child_failures++;
		}
		forks++;
	}
	return NULL;
}

/*
 * Linearizability: a depth-first search for an order of the calls that
 * respects real time (a call that returned before another began comes
 * first) and the model.  The candidates at each step are the next calls of
 * the threads that began before the earliest pending call returned.
 * Failed (positions, state) pairs are remembered, so the search is linear
 * unless the history is really ambiguous.
 */
static size_t idx[NTHREAD];

struct memo {
	uint32_t *keys;		/* NTHREAD indices + state per slot; UINT32_MAX: empty */
	size_t cap, n;
};
static struct memo memo;

#define KEYLEN	(NTHREAD + 1)

static size_t memo_hash(const uint32_t *k)
{
	uint64_t h = 1469598103934665603ULL;
	int i;

	for (i = 0; i < KEYLEN; i++)
		h = (h ^ k[i]) * 1099511628211ULL;
	return (size_t)h;
}

static uint32_t *memo_slot(uint32_t *keys, size_t cap, const uint32_t *k)
{
	size_t i = memo_hash(k) & (cap - 1);

	while (keys[i * KEYLEN] != UINT32_MAX && memcmp(&keys[i * KEYLEN], k, sizeof(uint32_t) * KEYLEN) != 0)
		i = (i + 1) & (cap - 1);
	return &keys[i * KEYLEN];
}

static void key(uint32_t *k, int state)
{
	int t;

	for (t = 0; t < NTHREAD; t++)
		k[t] = (uint32_t)idx[t];
	k[NTHREAD] = (uint32_t)state;
}

static int memo_seen(int state)
{
	uint32_t k[KEYLEN];

	if (memo.cap == 0)
		return 0;
	key(k, state);
	return memo_slot(memo.keys, memo.cap, k)[0] != UINT32_MAX;
}

static void memo_add(int state)
{
	uint32_t k[KEYLEN], *s;
	size_t i;

	if (2 * (memo.n + 1) > memo.cap) {
		size_t cap = memo.cap ? 2 * memo.cap : 4096;
		uint32_t *keys = malloc(cap * KEYLEN * sizeof *keys);

		if (keys == NULL) {
			perror("stress: malloc");
			exit(2);
		}
		memset(keys, 0xff, cap * KEYLEN * sizeof *keys);
		for (i = 0; i < memo.cap; i++)
			if (memo.keys[i * KEYLEN] != UINT32_MAX)
				memcpy(memo_slot(keys, cap, &memo.keys[i * KEYLEN]), &memo.keys[i * KEYLEN],
				       sizeof(uint32_t) * KEYLEN);
		free(memo.keys);
		memo.keys = keys;
		memo.cap = cap;
	}
	key(k, state);
	s = memo_slot(memo.keys, memo.cap, k);
	memcpy(s, k, sizeof k);
	memo.n++;
}

static int linearize(int state)
{
	unsigned long minresp = (unsigned long)-1;
	int t, done = 1;

	for (t = 0; t < NTHREAD; t++) {
		if (idx[t] < workers[t].n) {
			done = 0;
			if (workers[t].h[idx[t]].resp < minresp)
				minresp = workers[t].h[idx[t]].resp;
		}
	}
	if (done)
		return 1;
	if (memo_seen(state))
		return 0;
	for (t = 0; t < NTHREAD; t++) {
		const struct rec *r;
		int s;

		if (idx[t] >= workers[t].n)
			continue;
		r = &workers[t].h[idx[t]];
		if (r->inv > minresp || (s = step(state, r)) < 0)
			continue;
		idx[t]++;
		if (linearize(s))
			return 1;
		idx[t]--;
	}
	memo_add(state);
	return 0;
}

/* The [heap], [stack], text and shared-library mappings against state. */
static int checkpoint(int round, uint64_t base, const char *userbuf)
{
	int state = plock_state(), bad = 0;
	struct plock_segment *v;
	struct plock_status st;
	struct oracle o;
	size_t n, i;

	v = plock_segments(0, &n);
	if (v == NULL || oracle_read(0, &o) != 0 || plock_status(0, &st) != 0) {
		perror("stress: reading /proc");
		free(v);
		return 1;
	}
	for (i = 0; i < n; i++) {
		const struct oracle_map *m;
		int want;

		switch (v[i].seg_class) {
		case PLOCK_SEG_TEXT:
			want = (state & TXTLOCK) != 0;
			break;
		case PLOCK_SEG_SHLIB_TEXT:
		case PLOCK_SEG_SHLIB_DATA:
			want = (state & SHLIBLOCK) != 0;
			break;
		case PLOCK_SEG_STACK:
			want = (state & DATLOCK) != 0;
			break;
		case PLOCK_SEG_DATA:
			if (strcmp(v[i].path, "[heap]") == 0 || v[i].inode != 0) {
				want = (state & DATLOCK) != 0;
				break;
			}
			/* fall through: anonymous memory may be mapped during a call */
		default:
			continue;
		}
		m = oracle_find(&o, v[i].start);
		if (m != NULL && m->start == v[i].start && m->lo != want) {
			h_note("stress: round %d, state %#x: %s %lx-%lx %s has lo=%d", round,
				state, plock_segment_class_name(v[i].seg_class), (unsigned long)v[i].start,
				(unsigned long)v[i].end, v[i].path, m->lo);
			bad++;
		}
	}
	if (st.future != ((state & DATLOCK) != 0)) {
		h_note("stress: round %d, state %#x: future %d", round, state, st.future);
		bad++;
	}
	if ((state == 0) != (o.vmlck == base)) {
		h_note("stress: round %d, state %#x: VmLck %llu, baseline %llu", round, state,
			(unsigned long long)o.vmlck, (unsigned long long)base);
		bad++;
	}
	if (oracle_find(&o, (uintptr_t)userbuf) == NULL || !oracle_find(&o, (uintptr_t)userbuf)->lo) {
		h_note("stress: round %d: the buffer the program locked itself is unlocked", round);
		bad++;
	}
	free(v);
	oracle_free(&o);
	return bad;
}

/* mlock(2) itself: sanitizers turn libc's mlock into a no-op. */
static int syscall_mlock_ok(void *p, size_t n)
{
	return syscall(SYS_mlock, p, n) == 0 ? 0 : -1;
}

/* A test of one condition, which the notes above explain when it fails. */
static void verdict(const char *what, int ok, const char *why)
{
	h_begin(what);
	CHECK(ok, "%s", why);
	h_end();
}

int main(int argc, char **argv)
{
	int total = argc > 1 ? atoi(argv[1]) : 20000, round, t, bad = 0, state;
	int forks_on = !(argc > 3 && strcmp(argv[3], "nofork") == 0);
	/* SEED 0, or none: one from the clock. */
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0;
	pthread_t churner, forker_tid;
	unsigned long calls = 0, nbad = 0;
	uint64_t base, end;
	struct timespec t0, t1;
	char *userbuf;

	pagesz = sysconf(_SC_PAGESIZE);
	ops_per_round = total / NTHREAD / NROUND;
	if (ops_per_round < 1)
		ops_per_round = 1;
	if (seed == 0)
		seed = ((uint64_t)time(NULL) ^ (uint64_t)getpid() << 32) | 1;
	h_note("stress: seed %llu, %d threads x %d rounds x %d ops (rerun: %s %d %llu)",
	       (unsigned long long)seed, NTHREAD, NROUND, ops_per_round, argv[0], total,
	       (unsigned long long)seed);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* A buffer the program locks itself: plock's UNLOCK must leave it locked. */
	userbuf = mmap(NULL, 4 * pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (userbuf == MAP_FAILED || syscall_mlock_ok(userbuf, 4 * pagesz) != 0) {
		/* Nothing to test without it: one failing point, and the plan. */
		h_begin("a buffer the program locks itself");
		CHECK(0, "mmap or mlock: %s", strerror(errno));
		h_end();
		return h_done("stress");
	}
	base = oracle_vmlck(0);

	pthread_barrier_init(&round_start, NULL, NTHREAD + 1);
	pthread_barrier_init(&round_end, NULL, NTHREAD + 1);
	for (t = 0; t < NTHREAD; t++) {
		workers[t].id = t;
		workers[t].rng = seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(t + 1);
		pthread_create(&workers[t].tid, NULL, work, &workers[t]);
	}
	pthread_create(&churner, NULL, churn, &seed);
	/*
	 * Under ThreadSanitizer a forked child of this busy process hangs now
	 * and then inside the sanitizer's runtime, before or in its first
	 * call (about 1 run in 3, the same with the shim of before this
	 * round): the forks are the uninstrumented run's ("nofork").
	 */
	if (forks_on)
		pthread_create(&forker_tid, NULL, forker, NULL);
	for (round = 0; round < NROUND; round++) {
		pthread_barrier_wait(&round_start);
		pthread_barrier_wait(&round_end);
		bad += checkpoint(round, base, userbuf);
	}
	atomic_store(&stop, 1);
	pthread_join(churner, NULL);
	if (forks_on)
		pthread_join(forker_tid, NULL);
	for (t = 0; t < NTHREAD; t++) {
		pthread_join(workers[t].tid, NULL);
		calls += workers[t].n;
		nbad += workers[t].bad;
	}
	h_note("stress: %lu calls recorded, %lu churn steps, %lu children", calls, churn_ops, forks);

	verdict("every result is 0 or EINVAL, invalid ops EINVAL", nbad == 0,
		"calls with a result the contract forbids (above)");
	verdict("the history linearizes against the contract's state machine", linearize(0),
		"no order of the calls gives their results");
	verdict("checkpoints: lo flags, MCL_FUTURE, VmLck, own mlock kept", bad == 0,
		"a checkpoint failed (above)");
	if (forks_on)
		verdict("children start unlocked and lock/unlock themselves",
			forks > 0 && child_failures == 0, "no child, or a child failed (above)");

	state = plock_state();
	if (state != 0 && plock(UNLOCK) != 0)
		perror("stress: plock(UNLOCK)");
	end = oracle_vmlck(0);
	h_note("stress: VmLck at start %llu, after the last UNLOCK %llu",
	       (unsigned long long)base, (unsigned long long)end);
	verdict("VmLck back to its baseline after UNLOCK", plock_state() == 0 && end == base,
		"state or VmLck (above)");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	h_note("stress: %.1f s", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return h_done("stress");
}
