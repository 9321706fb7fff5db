/*
 * Ranges the program locked itself with mlock() before its first plock()
 * lock stay locked, resident and intact through plock(UNLOCK): after a
 * text-only lock (munlock of plock's ranges) and after data locks (where
 * UNLOCK must munlockall() to end MCL_FUTURE and lock them again).
 *
 * The test calls mlock through syscall(2): sanitizers make libc's mlock a
 * no-op.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#define LEN	(1 * MIB)
#define PART	(256 * 1024)	/* the part of the second buffer locked */

static unsigned char *whole, *partly;

static int intact(const unsigned char *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

static void fill(unsigned char *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

/* Checks the user's locks: lo and fully resident, nothing else of them. */
static void user_locks_hold(const char *when)
{
	const struct oracle_map *m;
	struct oracle o;

	if (!CHECK(oracle_read(0, &o) == 0, "smaps: %s", strerror(errno)))
		return;
	m = oracle_find(&o, (uintptr_t)whole);
	CHECK(m != NULL && m->lo && m->rss == LEN, "%s: locked buffer lo %d, Rss %" PRIu64,
	      when, m ? m->lo : -1, m ? m->rss : 0);
	m = oracle_find(&o, (uintptr_t)partly + LEN / 2);
	CHECK(m != NULL && m->lo && m->rss == PART && m->start == (uintptr_t)partly + LEN / 2 &&
	      m->end == (uintptr_t)partly + LEN / 2 + PART,
	      "%s: locked part of a buffer: lo %d, Rss %" PRIu64, when, m ? m->lo : -1,
	      m ? m->rss : 0);
	m = oracle_find(&o, (uintptr_t)partly);
	CHECK(m != NULL && !m->lo, "%s: the unlocked part of a buffer is locked", when);
	CHECK(intact(whole, LEN, 3) && intact(partly, LEN, 5), "%s: contents changed", when);
	oracle_free(&o);
}

static void cycle(int op, const char *name)
{
	struct oracle user;
	int r;

	h_begin(name);
	if (!CHECK(oracle_read(0, &user) == 0, "smaps: %s", strerror(errno))) {
		h_end();
		return;
	}
	CHECK(plock(op) == 0, "plock(%d): %s", op, strerror(errno));
	/* (Under a data lock the buffers are data too, and merge.) */
	r = check_locks(plock_state(), &user, &user, stderr);
	CHECK(r == 0, "%d mappings locked wrongly under plock(%d)", r, op);
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	user_locks_hold("after UNLOCK");
	/* Everything else is unlocked; the user's ranges are as before. */
	r = check_locks(0, NULL, &user, stderr);
	CHECK(r == 0, "%d mappings locked wrongly after UNLOCK", r);
	CHECK(oracle_vmlck(0) == LEN + PART, "VmLck %" PRIu64 ", want %d", oracle_vmlck(0),
	      LEN + PART);
	oracle_free(&user);
	h_end();
}

int main(void)
{
	h_begin("mlock-buffers");
	whole = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	partly = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(whole != MAP_FAILED && partly != MAP_FAILED, "mmap: %s", strerror(errno)))
		return h_done("c-userlock");
	fill(whole, LEN, 3);
	fill(partly, LEN, 5);
	CHECK(syscall(SYS_mlock, whole, LEN) == 0, "mlock: %s", strerror(errno));
	CHECK(syscall(SYS_mlock, partly + LEN / 2, PART) == 0, "mlock: %s", strerror(errno));
	user_locks_hold("before plock");
	h_end();

	cycle(TXTLOCK, "txtlock-unlock");
	cycle(DATLOCK, "datlock-unlock");
	cycle(PROCSHLIBLOCK, "procshliblock-unlock");
	return h_done("c-userlock");
}
