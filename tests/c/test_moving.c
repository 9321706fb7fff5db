/*
 * Memory that moves under a data lock.  glibc makes a thread arena the way
 * this test's mover thread does: it maps twice the size it wants, then
 * unmaps the misaligned head and the tail.  A data lock that read the
 * mapping whole, before the trim, finds it partly gone when it locks it;
 * what is still mapped is data all the same, and must be locked.
 *
 * The mover maps and trims without pause while the main thread makes data
 * locks; after each, the mover is stopped between two trims and every
 * reservation it keeps must carry lo.  The race is a matter of timing, so
 * the test makes many calls: on a shim that skips a mapping that shrank,
 * some of them leave a reservation unlocked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "harness.h"
#include "util.h"

#define SIZE	(1u << 20)	/* a reservation, aligned to its size */
#define KEEP	32		/* reservations the mover keeps */
/*
 * Data locks made: on the old shim, 2000 left some reservation unlocked in
 * 10 runs of 10.  Under AddressSanitizer each call reads smaps of its
 * terabytes of shadow: there the test checks the sanitizer's concerns, not
 * the race, in fewer calls.
 */
#ifdef __SANITIZE_ADDRESS__
#define CALLS	100
#else
#define CALLS	2000
#endif
/*
 * "test_moving quick": 200 calls, for the test VMs, whose CPU qemu
 * emulates: there the calls check the kernel's trims, and the race itself
 * is the host's to find.
 */
#define QUICK_CALLS	200
#define SPIN	20000		/* loops between map and trim */

static void *kept[KEEP];
static atomic_int pause_req, paused, quit;
static atomic_long trims;

/* Maps 2 * SIZE and keeps the aligned SIZE in the middle, as glibc's new_heap does. */
static void *reserve(void)
{
	char *p = mmap(NULL, 2 * SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	/* A while between map and trim, as a thread that is preempted there. */
	for (int i = 0; i < SPIN; i++)
		atomic_signal_fence(memory_order_seq_cst);
	a = (char *)(((uintptr_t)p + SIZE - 1) & ~(uintptr_t)(SIZE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + SIZE, (size_t)(p + SIZE - a));
	return a;
}

static void *mover(void *arg)
{
	unsigned int i = 0;

	(void)arg;
	while (!atomic_load(&quit)) {
		if (atomic_load(&pause_req)) {
			atomic_store(&paused, 1);
			while (atomic_load(&pause_req) && !atomic_load(&quit))
				;
			atomic_store(&paused, 0);
			continue;
		}
		if (kept[i % KEEP] != NULL)
			munmap(kept[i % KEEP], SIZE);
		kept[i % KEEP] = reserve();
		atomic_fetch_add(&trims, 1);
		i++;
	}
	return NULL;
}

/* Checks that every kept reservation is locked; returns how many are not. */
static int unlocked_reservations(void)
{
	struct oracle o;
	int i, n = 0;

	if (!CHECK(oracle_read(0, &o) == 0, "reading smaps: %s", strerror(errno)))
		return -1;
	for (i = 0; i < KEEP; i++) {
		const struct oracle_map *m;

		if (kept[i] == NULL)
			continue;
		m = oracle_find(&o, (uintptr_t)kept[i]);
		if (m == NULL || !m->lo)
			n++;
	}
	oracle_free(&o);
	return n;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int i, bad = 0, calls = 0;
	int ncalls = argc == 2 && strcmp(argv[1], "quick") == 0 ? QUICK_CALLS : CALLS;

	h_begin("trimmed-reservations-locked");
	if (!CHECK(pthread_create(&t, NULL, mover, NULL) == 0, "pthread_create"))
		return h_done("c-moving");
	for (i = 0; i < ncalls; i++) {
		int n;

		if (!CHECK(plock(DATLOCK) == 0, "call %d: plock(DATLOCK): %s", i, strerror(errno)))
			break;
		calls++;
		atomic_store(&pause_req, 1);
		while (!atomic_load(&paused))
			;
		n = unlocked_reservations();
		if (n != 0 && bad++ < 5)
			CHECK(n == 0, "call %d: %d of %d reservations not locked after DATLOCK",
			      i, n, KEEP);
		atomic_store(&pause_req, 0);
		if (!CHECK(plock(UNLOCK) == 0, "call %d: plock(UNLOCK): %s", i, strerror(errno)))
			break;
	}
	atomic_store(&quit, 1);
	pthread_join(t, NULL);
	CHECK(bad == 0, "%d of %d data locks left trimmed reservations unlocked", bad, calls);
	CHECK(atomic_load(&trims) > calls, "the mover trimmed %ld times in %d calls: no race was run",
	      atomic_load(&trims), calls);
	h_end();
	return h_done("c-moving");
}
