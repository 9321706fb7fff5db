/*
 * Every call is safe from any thread.  Eight threads make random calls
 * (seeded) while another maps, touches and unmaps anonymous memory, so
 * that mappings vanish under plock().  A call returns 0 or EINVAL (EINVAL
 * when another thread changed the state first, or for an invalid op,
 * always); at the end, after a last UNLOCK, VmLck is where it started.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"
#include "util.h"

#define NTHREADS	8
#define NCALLS		500

static const int ops[] = {
	UNLOCK, PROCLOCK, TXTLOCK, DATLOCK, SHLIBLOCK, PROCSHLIBLOCK, TXTSHLIBLOCK,
	DATSHLIBLOCK, UNLOCK, UNLOCK, -1, 3,
};
#define NOPS	(sizeof ops / sizeof ops[0])

static atomic_int stop, bad, calls, ok;

static void *caller(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	int i;

	for (i = 0; i < NCALLS; i++) {
		int op = ops[rand_r(&seed) % NOPS], r, e;

		errno = 0;
		r = plock(op);
		e = errno;
		atomic_fetch_add(&calls, 1);
		if (r == 0 && op >= 0 && op != 3) {
			atomic_fetch_add(&ok, 1);
			continue;
		}
		if (r == -1 && e == EINVAL)
			continue;
		if (atomic_fetch_add(&bad, 1) < 10)
			fprintf(stderr, "  plock(%d) = %d (%s)\n", op, r, strerror(e));
	}
	return NULL;
}

static void *mapper(void *arg)
{
	unsigned int seed = 7;
	void *live[16] = { 0 };
	size_t len[16] = { 0 };
	int i;

	(void)arg;
	while (!atomic_load(&stop)) {
		i = rand_r(&seed) % 16;
		if (live[i] != NULL) {
			munmap(live[i], len[i]);
			live[i] = NULL;
			continue;
		}
		len[i] = (size_t)(1 + rand_r(&seed) % 64) * 65536;
		live[i] = mmap(NULL, len[i], PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (live[i] == MAP_FAILED) {
			live[i] = NULL;
			continue;
		}
		memset(live[i], 1, len[i] / 2);
	}
	for (i = 0; i < 16; i++)
		if (live[i] != NULL)
			munmap(live[i], len[i]);
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS], m;
	uint64_t v0, v1;
	int i, r;

	h_begin("threads");
	v0 = oracle_vmlck(0);
	CHECK(pthread_create(&m, NULL, mapper, NULL) == 0, "pthread_create");
	for (i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, caller, (void *)(uintptr_t)(i + 1)) == 0,
		      "pthread_create");
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	atomic_store(&stop, 1);
	pthread_join(m, NULL);
	CHECK(bad == 0, "%d of %d calls failed other than with EINVAL", (int)bad, (int)calls);
	CHECK(ok > NTHREADS * NCALLS / 20, "only %d of %d calls succeeded", (int)ok, (int)calls);
	if (plock_state() != 0)
		CHECK(plock(UNLOCK) == 0, "last plock(UNLOCK): %s", strerror(errno));
	CHECK(plock_state() == 0, "state %d", plock_state());
	v1 = oracle_vmlck(0);
	CHECK(v1 == v0, "VmLck %" PRIu64 " at the end, %" PRIu64 " at the start", v1, v0);
	r = check_locks(0, NULL, NULL, stderr);
	CHECK(r == 0, "%d mappings still locked", r);
	h_end();
	return h_done("c-threads");
}
