/*
 * A process with 60,000 mappings (vm.max_map_count is 65530 by default)
 * locks and unlocks itself correctly.
 *
 *	bigmaps [mappings]
 *
 * One anonymous region of 60,000 pages, every other page made read-only,
 * so that the kernel keeps 60,000 separate mappings: the writable ones are
 * data (locked by PROCLOCK, one mlock2 each since read-only pages separate
 * them), the read-only ones are not.  Checked with the test oracle
 * (tests/c/smaps_oracle.c): VmLck grows by at least the writable pages,
 * a sample of pages has "lo" exactly when it should, and after UNLOCK
 * VmLck is back at its baseline.  Then more mappings up to the limit
 * itself, where plock_status and plock still work.  Times are printed,
 * never asserted.  TAP, through tests/c/harness.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <plock.h>

#include "../c/harness.h"
#include "../c/smaps_oracle.h"

/* A test of one condition. */
static void verdict(const char *what, int ok, const char *why)
{
	h_begin(what);
	CHECK(ok, "%s", why);
	h_end();
}

/* A test of one call, r its result: 0, or -1 with errno. */
static void call_ok(const char *what, int r)
{
	h_begin(what);
	CHECK(r == 0, "%s", strerror(errno));
	h_end();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every 997th page (and the last) has lo == (writable && locked). */
static int sample(char *base, size_t n, long pg, int locked)
{
	struct oracle o;
	size_t i, seen = 0;
	int bad = 0;

	if (oracle_read(0, &o) != 0) {
		h_note("bigmaps: reading smaps: %s", strerror(errno));
		return 0;
	}
	for (i = 0; i < n; i = (i + 997 < n || i == n - 1) ? i + 997 : n - 1) {
		const struct oracle_map *m = oracle_find(&o, (uintptr_t)(base + i * pg));
		int want = locked && i % 2 == 0;

		if (m == NULL || m->end - m->start != (uintptr_t)pg || m->lo != want) {
			if (bad++ < 5)
				h_note("bigmaps: page %zu: %s, lo %d, want %d", i,
				       m ? "mapped" : "not mapped", m ? m->lo : -1, want);
		}
		seen++;
	}
	h_note("bigmaps: %zu mappings in smaps, %zu sampled", o.n, seen);
	oracle_free(&o);
	return bad == 0 && seen > 50;
}

/*
 * At vm.max_map_count, where no new mapping can be made: plock_status still
 * answers, with future unknown (its probe needs a mapping) until a data lock
 * makes it known, and plock() still locks and unlocks.
 */
static void at_map_count(long pg)
{
	struct plock_status st;
	size_t extra = 0;
	char *p;

	/* Alternate protections, so that no two neighbours merge. */
	while ((p = mmap(NULL, pg, extra % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED)
		extra++;
	h_note("bigmaps: %zu more mappings until mmap said %s", extra, strerror(errno));
	call_ok("at vm.max_map_count: plock_status", plock_status(0, &st));
	verdict("at vm.max_map_count: future unknown without a data lock", st.future == -1,
		"future is not -1");
	call_ok("at vm.max_map_count: plock(DATLOCK)", plock(DATLOCK));
	verdict("at vm.max_map_count: future known under a data lock",
		plock_status(0, &st) == 0 && st.future == 1, "plock_status failed or future is not 1");
	call_ok("at vm.max_map_count: plock(UNLOCK)", plock(UNLOCK));
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 60000, i;
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t base_lck, lck;
	double t0, t1, t2, t3;
	char *base;

	/* Without the mappings there is nothing to test: one failing point, and the plan. */
	h_begin("the mappings made");
	base = mmap(NULL, n * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(base != MAP_FAILED, "mmap: %s", strerror(errno))) {
		h_end();
		return h_done("bigmaps");
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		base[i * pg] = 1;
		if (i % 2 == 1 && mprotect(base + i * pg, pg, PROT_READ) != 0) {
			CHECK(0, "mprotect of page %zu: %s (vm.max_map_count?)", i, strerror(errno));
			h_end();
			return h_done("bigmaps");
		}
	}
	h_end();
	t1 = now();
	h_note("bigmaps: %zu mappings made in %.3f s", n, t1 - t0);
	base_lck = oracle_vmlck(0);

	t0 = now();
	call_ok("plock(PROCLOCK) with 60,000 mappings", plock(PROCLOCK));
	t1 = now();
	lck = oracle_vmlck(0);
	h_note("bigmaps: VmLck %llu kB before, %llu kB after PROCLOCK",
	       (unsigned long long)base_lck / 1024, (unsigned long long)lck / 1024);
	verdict("VmLck grew by the writable pages at least",
		lck != UINT64_MAX && lck >= base_lck + (n + 1) / 2 * pg, "VmLck above");
	verdict("sampled pages: writable locked, read-only not", sample(base, n, pg, 1),
		"pages above");

	t2 = now();
	call_ok("plock(UNLOCK)", plock(UNLOCK));
	t3 = now();
	lck = oracle_vmlck(0);
	verdict("VmLck back at its baseline", lck == base_lck, "VmLck not at its baseline");
	verdict("sampled pages: none locked", sample(base, n, pg, 0), "pages above");
	h_note("bigmaps: PROCLOCK %.3f s (%.2f us per mapping), UNLOCK %.3f s",
	       t1 - t0, (t1 - t0) * 1e6 / n, t3 - t2);
	at_map_count(pg);
	return h_done("bigmaps");
}
