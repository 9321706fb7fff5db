/*
 * plock() without privilege: as uid 65534 with no capabilities, under a
 * lowered RLIMIT_MEMLOCK.  The test copies itself to a directory every user
 * can read and runs the copy through prlimit and setpriv:
 *
 *	eperm		RLIMIT_MEMLOCK 0: every lock op fails with EPERM
 *	limited		RLIMIT_MEMLOCK LIMIT, more than the text and less than
 *			the data: DATLOCK and PROCLOCK fail with ENOMEM and
 *			change nothing, TXTLOCK succeeds; plock_status()
 *
 * A failed call must leave VmLck and every mapping's lo flag as they were:
 * full smaps snapshots before and after are compared.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#define LIMIT	(4 * MIB)

/*
 * Part of the data segment: makes it larger than LIMIT (bss is data).
 * Extern, so that the compiler cannot drop it.
 */
char unpriv_bss[16 * MIB];

/* Calls plock(op), wants it to fail with err and change nothing. */
static void fails_unchanged(int op, int flags, int err)
{
	struct oracle a, b;
	int state = plock_state(), r, e;

	if (!CHECK(oracle_read(0, &a) == 0, "smaps: %s", strerror(errno)))
		return;
	errno = 0;
	r = plock_flags(op, flags);
	e = errno;
	CHECK(r == -1 && e == err, "plock_flags(%d, %d) = %d (%s), want %s", op, flags, r,
	      strerror(e), strerror(err));
	CHECK(plock_state() == state, "state %d, was %d", plock_state(), state);
	if (CHECK(oracle_read(0, &b) == 0, "smaps: %s", strerror(errno))) {
		CHECK(oracle_same_locks(&a, &b, stderr), "plock(%d) changed what is locked", op);
		oracle_free(&b);
	}
	oracle_free(&a);
}

static void nobody(void)
{
	struct plock_status st;

	CHECK(getuid() == 65534 && geteuid() == 65534, "uid %d", (int)getuid());
	CHECK(plock_status(0, &st) == 0, "plock_status: %s", strerror(errno));
	CHECK(st.cap_ipc_lock == 0, "the helper has CAP_IPC_LOCK");
}

static int eperm(void)
{
	static const int ops[] = {
		TXTLOCK, DATLOCK, PROCLOCK, SHLIBLOCK, PROCSHLIBLOCK, TXTSHLIBLOCK, DATSHLIBLOCK,
	};
	size_t i;

	h_begin("eperm-setup");
	nobody();
	CHECK(oracle_vmlck(0) == 0, "VmLck %" PRIu64, oracle_vmlck(0));
	h_end();
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		h_begin("eperm");
		fails_unchanged(ops[i], 0, EPERM);
		h_end();
	}
	h_begin("eperm-strict-future");
	fails_unchanged(DATLOCK, PLOCK_STRICT_FUTURE, EPERM);
	h_end();
	return h_done("c-unpriv-eperm");
}

/* Sums the sizes of the segments whose class is in bits. */
static uint64_t class_bytes(int bits)
{
	struct plock_segment *v;
	uint64_t sum = 0;
	size_t n, i;

	if ((v = plock_segments(0, &n)) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (class_bit(v[i].seg_class) & bits)
			sum += v[i].size;
	free(v);
	return sum;
}

static void status_is(int state)
{
	struct plock_status st;
	uint64_t vmlck = oracle_vmlck(0);

	if (!CHECK(plock_status(0, &st) == 0, "plock_status: %s", strerror(errno)))
		return;
	CHECK(st.state == state, "state %d, want %d", st.state, state);
	CHECK(st.future == 0, "future %d", st.future);
	CHECK(st.cap_ipc_lock == 0, "cap_ipc_lock %d", st.cap_ipc_lock);
	CHECK(st.memlock_cur == LIMIT && st.memlock_max == LIMIT,
	      "RLIMIT_MEMLOCK %" PRIu64 ":%" PRIu64, st.memlock_cur, st.memlock_max);
	CHECK(st.vmlck == vmlck, "vmlck %" PRIu64 ", VmLck %" PRIu64, st.vmlck, vmlck);
	CHECK(st.headroom == LIMIT - vmlck, "headroom %" PRIu64 ", want %" PRIu64,
	      st.headroom, LIMIT - vmlck);
}

static int limited(void)
{
	uint64_t text, data, vmlck;
	int m;

	h_begin("limited-setup");
	nobody();
	text = class_bytes(TXTLOCK);
	data = class_bytes(DATLOCK);
	CHECK(text > 0 && text < LIMIT, "text %" PRIu64 " bytes, limit %d", text, LIMIT);
	CHECK(data > LIMIT, "data %" PRIu64 " bytes, limit %d", data, LIMIT);
	h_end();

	h_begin("status-nothing-locked");
	status_is(0);
	h_end();

	/* Text first in the address space, so PROCLOCK fails after locking it. */
	h_begin("proclock-enomem-rolls-back");
	fails_unchanged(PROCLOCK, 0, ENOMEM);
	CHECK(oracle_vmlck(0) == 0, "VmLck %" PRIu64 " after a failed PROCLOCK", oracle_vmlck(0));
	h_end();

	h_begin("datlock-enomem");
	fails_unchanged(DATLOCK, 0, ENOMEM);
	h_end();

	h_begin("txtlock-under-limit");
	CHECK(plock(TXTLOCK) == 0, "plock(TXTLOCK): %s", strerror(errno));
	CHECK(plock_state() == TXTLOCK, "state %d", plock_state());
	m = check_locks(TXTLOCK, NULL, NULL, stderr);
	CHECK(m == 0, "%d mappings locked wrongly", m);
	vmlck = oracle_vmlck(0);
	CHECK(vmlck == text, "VmLck %" PRIu64 ", text %" PRIu64, vmlck, text);
	h_end();

	h_begin("status-text-locked");
	status_is(TXTLOCK);
	h_end();

	h_begin("datlock-enomem-after-text");
	fails_unchanged(DATLOCK, 0, ENOMEM);
	fails_unchanged(DATSHLIBLOCK, 0, ENOMEM);
	h_end();

	h_begin("strict-future-enomem");
	fails_unchanged(DATLOCK, PLOCK_STRICT_FUTURE, ENOMEM);
	h_end();

	h_begin("unlock");
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	m = check_locks(0, NULL, NULL, stderr);
	CHECK(m == 0, "%d mappings locked wrongly", m);
	CHECK(oracle_vmlck(0) == 0, "VmLck %" PRIu64, oracle_vmlck(0));
	h_end();
	return h_done("c-unpriv-limited");
}

static int helper(const char *path, const char *limit, const char *mode)
{
	char *argv[] = {
		"prlimit", (char *)limit, "setpriv", "--reuid=65534", "--regid=65534",
		"--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--",
		(char *)path, (char *)mode, NULL,
	};

	return run(argv, NULL);
}

int main(int argc, char **argv)
{
	char dir[64], path[128], lim[64];
	struct plock_status st;
	int r;

	if (argc > 1 && strcmp(argv[1], "eperm") == 0)
		return eperm();
	if (argc > 1 && strcmp(argv[1], "limited") == 0)
		return limited();

	h_begin("copy-self");
	CHECK(copy_self("test_unpriv", dir, sizeof dir, path, sizeof path) == 0,
	      "copying the test to /tmp: %s", strerror(errno));
	h_end();

	h_begin("helper-eperm");
	r = helper(path, "--memlock=0:0", "eperm");
	CHECK(r == 0, "helper exited %d", r);
	h_end();

	h_begin("helper-limited");
	snprintf(lim, sizeof lim, "--memlock=%d:%d", LIMIT, LIMIT);
	r = helper(path, lim, "limited");
	CHECK(r == 0, "helper exited %d", r);
	h_end();
	remove_copy(dir, path);

	/* The test itself runs as root, with CAP_IPC_LOCK: no headroom limit. */
	h_begin("status-cap-ipc-lock");
	CHECK(plock_status(0, &st) == 0, "plock_status: %s", strerror(errno));
	CHECK(st.cap_ipc_lock == 1, "cap_ipc_lock %d as root", st.cap_ipc_lock);
	CHECK(st.headroom == PLOCK_UNLIMITED, "headroom %" PRIu64 " with CAP_IPC_LOCK", st.headroom);
	h_end();
	return h_done("c-unpriv");
}
