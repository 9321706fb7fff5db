/*
 * A static executable has no shared-library segments: every SHLIBLOCK form
 * is EINVAL (decided without a system call: "test_static probe" makes them
 * between markers for strace), while TXTLOCK and DATLOCK work.  Once it has
 * dlopen()ed a library, it has them, and SHLIBLOCK locks them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "util.h"

static const int shops[] = { SHLIBLOCK, PROCSHLIBLOCK, TXTSHLIBLOCK, DATSHLIBLOCK };
#define NSH	(sizeof shops / sizeof shops[0])

static int probe(void)
{
	size_t i;
	int bad = 0;

	marker(0);
	for (i = 0; i < NSH; i++)
		bad += plock(shops[i]) != -1 || errno != EINVAL;
	marker(1);
	return bad;
}

int main(int argc, char **argv)
{
	struct plock_segment *v;
	size_t i, n;
	int r;

	if (argc > 1 && strcmp(argv[1], "probe") == 0)
		return probe();

	h_begin("static-no-shlib-segments");
	v = plock_segments(0, &n);
	if (CHECK(v != NULL, "plock_segments: %s", strerror(errno))) {
		for (i = 0; i < n; i++)
			CHECK(class_bit(v[i].seg_class) != SHLIBLOCK, "%s is %s", v[i].path,
			      plock_segment_class_name(v[i].seg_class));
		free(v);
	}
	h_end();

	for (i = 0; i < NSH; i++) {
		h_begin("static-shlib-einval");
		errno = 0;
		r = plock(shops[i]);
		CHECK(r == -1 && errno == EINVAL, "plock(%d) = %d, errno %d", shops[i], r, errno);
		CHECK(plock_state() == 0, "state %d", plock_state());
		h_end();
	}

	h_begin("static-shlib-einval-no-syscall");
	r = syscalls_between_markers(self_path(), "probe", 1);
	CHECK(r == 0, "%d system calls (-1: the probe failed)", r);
	h_end();

	h_begin("static-txtlock");
	CHECK(plock(TXTLOCK) == 0, "plock(TXTLOCK): %s", strerror(errno));
	r = check_locks(TXTLOCK, NULL, NULL, stderr);
	CHECK(r == 0, "%d mappings locked wrongly", r);
	errno = 0;
	CHECK(plock(SHLIBLOCK) == -1 && errno == EINVAL, "SHLIBLOCK after TXTLOCK: errno %d", errno);
	CHECK(plock(DATLOCK) == 0, "plock(DATLOCK): %s", strerror(errno));
	r = check_locks(TXTLOCK | DATLOCK, NULL, NULL, stderr);
	CHECK(r == 0, "%d mappings locked wrongly", r);
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	CHECK(oracle_vmlck(0) == 0, "VmLck after UNLOCK");
	h_end();

	h_begin("static-dlopen-shliblock");
	if (CHECK(dlopen("libm.so.6", RTLD_NOW) != NULL, "dlopen: %s", dlerror())) {
		int shlibs = 0;

		v = plock_segments(0, &n);
		if (CHECK(v != NULL, "plock_segments: %s", strerror(errno))) {
			for (i = 0; i < n; i++)
				shlibs += class_bit(v[i].seg_class) == SHLIBLOCK;
			free(v);
		}
		CHECK(shlibs > 0, "no shlib segment after dlopen");
		CHECK(plock(SHLIBLOCK) == 0, "plock(SHLIBLOCK) after dlopen: %s", strerror(errno));
		r = check_locks(SHLIBLOCK, NULL, NULL, stderr);
		CHECK(r == 0, "%d mappings locked wrongly", r);
		CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	}
	h_end();
	return h_done("c-static");
}
