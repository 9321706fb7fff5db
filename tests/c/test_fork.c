/*
 * Locks and state are not inherited across fork(): after PROCLOCK in the
 * parent, the child has no state, nothing locked (VmLck 0, no lo), no
 * MCL_FUTURE, and its first TXTLOCK succeeds; the parent keeps its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

static void child(void)
{
	const struct oracle_map *m;
	struct oracle o;
	char *p;
	int r;

	h_begin("fork-child");
	CHECK(plock_state() == 0, "child state %d", plock_state());
	CHECK(oracle_vmlck(0) == 0, "child VmLck %" PRIu64, oracle_vmlck(0));
	r = check_locks(0, NULL, NULL, stderr);
	CHECK(r == 0, "%d mappings locked in the child", r);

	/* The parent's mlockall(MCL_FUTURE) does not hold in the child. */
	p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno))) {
		memset(p, 1, MIB);
		if (CHECK(oracle_read(0, &o) == 0, "smaps: %s", strerror(errno))) {
			m = oracle_find(&o, (uintptr_t)p);
			CHECK(m != NULL && !m->lo, "a new mapping in the child is locked");
			oracle_free(&o);
		}
		munmap(p, MIB);
	}

	errno = 0;
	r = plock(UNLOCK);
	CHECK(r == -1 && errno == EINVAL, "child plock(UNLOCK) = %d, errno %d", r, errno);
	r = plock(TXTLOCK);
	CHECK(r == 0, "child's first plock(TXTLOCK): %s", strerror(errno));
	CHECK(plock_state() == TXTLOCK, "child state %d", plock_state());
	r = check_locks(TXTLOCK, NULL, NULL, stderr);
	CHECK(r == 0, "%d mappings locked wrongly in the child", r);
	exit(h_bad ? 1 : 0);
}

int main(void)
{
	struct oracle before;
	pid_t pid;
	int st, r;

	h_begin("parent-proclock");
	CHECK(oracle_read(0, &before) == 0, "smaps: %s", strerror(errno));
	CHECK(plock(PROCLOCK) == 0, "plock(PROCLOCK): %s", strerror(errno));
	h_end();

	h_begin("fork");
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child();
	CHECK(pid > 0, "fork: %s", strerror(errno));
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the child failed (status %#x)", st);
	h_end();

	h_begin("parent-keeps-state");
	CHECK(plock_state() == (TXTLOCK | DATLOCK), "parent state %d", plock_state());
	CHECK(oracle_vmlck(0) > 0, "parent VmLck 0");
	r = check_locks(TXTLOCK | DATLOCK, &before, NULL, stderr);
	CHECK(r == 0, "%d mappings locked wrongly in the parent", r);
	CHECK(plock(PROCLOCK) == -1 && errno == EINVAL, "parent PROCLOCK again not EINVAL");
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	CHECK(oracle_vmlck(0) == 0, "VmLck %" PRIu64 " after UNLOCK", oracle_vmlck(0));
	h_end();
	oracle_free(&before);
	return h_done("c-fork");
}
