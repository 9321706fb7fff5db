/*
 * EINVAL is decided from the state alone, before any system call.
 *
 * "test_einval probe" makes every kind of EINVAL call between two marker
 * system calls; the test runs it under strace -f and asserts that nothing
 * but the markers appears.  "probe-control" makes one successful call
 * between the markers, to show the method sees the library's calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "util.h"

static int bad;

static void einval(int op, int flags)
{
	int r;

	errno = 0;
	r = flags ? plock_flags(op, flags) : plock(op);
	if (r != -1 || errno != EINVAL) {
		fprintf(stderr, "probe: plock_flags(%d, %d) = %d, errno %d, want EINVAL\n",
			op, flags, r, errno);
		bad++;
	}
}

static int probe(void)
{
	static const int invalid[] = { -1, 3, 5, 6, 7, 11, 13, 16, 0x7fffffff, -0x7fffffff - 1 };
	static const int all[] = {
		PROCLOCK, TXTLOCK, DATLOCK, SHLIBLOCK, PROCSHLIBLOCK, TXTSHLIBLOCK, DATSHLIBLOCK,
	};
	size_t i;

	/* Nothing locked: UNLOCK, invalid ops, unknown flags. */
	marker(0);
	einval(UNLOCK, 0);
	for (i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
		einval(invalid[i], 0);
	einval(TXTLOCK, 2);
	einval(TXTLOCK, -1);
	if (plock_state() != 0)
		bad++;
	marker(1);

	/* Text locked: every op that locks text again. */
	if (plock(TXTLOCK) != 0)
		bad++;
	marker(0);
	einval(TXTLOCK, 0);
	einval(PROCLOCK, 0);
	einval(TXTSHLIBLOCK, 0);
	einval(PROCSHLIBLOCK, 0);
	einval(PROCLOCK, PLOCK_STRICT_FUTURE);
	marker(1);

	/* Everything locked: every lock op. */
	if (plock(DATSHLIBLOCK) != 0)
		bad++;
	marker(0);
	for (i = 0; i < sizeof all / sizeof all[0]; i++)
		einval(all[i], 0);
	if (plock_state() != (TXTLOCK | DATLOCK | SHLIBLOCK))
		bad++;
	marker(1);
	return bad ? 1 : 0;
}

static int control(void)
{
	int r;

	marker(0);
	r = plock(TXTLOCK);
	marker(1);
	return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int n;

	if (argc > 1 && strcmp(argv[1], "probe") == 0)
		return probe();
	if (argc > 1 && strcmp(argv[1], "probe-control") == 0)
		return control();

	h_begin("einval-makes-no-system-call");
	n = syscalls_between_markers(self_path(), "probe", 1);
	CHECK(n == 0, "%d system calls between the markers (-1: the probe failed)", n);
	h_end();

	h_begin("einval-control-sees-calls");
	n = syscalls_between_markers(self_path(), "probe-control", 0);
	CHECK(n > 0, "a successful TXTLOCK showed %d system calls under strace", n);
	h_end();
	return h_done("c-einval");
}
