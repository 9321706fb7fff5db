/*
 * What each op locks, as plock_op_classes() says, and the bytes a lock
 * needs, as plock_ctl() reports them when it fails for the limit: VmLck plus every mapping of the op's classes that is not locked.
 * Checked for every op against this file's own table of what each op locks
 * (independent of the library's on purpose) and the sizes plock_segments()
 * lists.  (cplock's first copy of the table forgot text and data for
 * PROCSHLIBLOCK and told users to raise the limit to too little.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

static const struct {
	int op, classes;
	const char *name;
} ops[] = {
	{ PROCLOCK, TXTLOCK | DATLOCK, "PROCLOCK" },
	{ TXTLOCK, TXTLOCK, "TXTLOCK" },
	{ DATLOCK, DATLOCK, "DATLOCK" },
	{ SHLIBLOCK, SHLIBLOCK, "SHLIBLOCK" },
	{ PROCSHLIBLOCK, TXTLOCK | DATLOCK | SHLIBLOCK, "PROCSHLIBLOCK" },
	{ TXTSHLIBLOCK, TXTLOCK | SHLIBLOCK, "TXTSHLIBLOCK" },
	{ DATSHLIBLOCK, DATLOCK | SHLIBLOCK, "DATSHLIBLOCK" },
};

/* VmLck plus the unlocked segments of classes, from plock_segments(). */
static uint64_t expected(int classes)
{
	struct plock_segment *v;
	uint64_t n = oracle_vmlck(0);
	size_t i, count;

	if ((v = plock_segments(0, &count)) == NULL)
		return 0;
	for (i = 0; i < count; i++)
		if ((class_bit(v[i].seg_class) & classes) && !v[i].locked)
			n += v[i].size;
	free(v);
	return n;
}

/* In a child without CAP_IPC_LOCK under a 16 KiB limit: every op fails. */
static int child(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl = { 16384, 16384 };
	struct plock_reason why;
	size_t i;

	if (syscall(SYS_capget, &h, d) != 0)
		return 2;
	d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	if (syscall(SYS_capset, &h, d) != 0 || setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
		return 2;
	h_begin("op-classes");
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
		CHECK(plock_op_classes(ops[i].op) == ops[i].classes, "plock_op_classes(%s) = %d, want %d",
		      ops[i].name, plock_op_classes(ops[i].op), ops[i].classes);
	CHECK(plock_op_classes(UNLOCK) == 0, "UNLOCK locks %d", plock_op_classes(UNLOCK));
	CHECK(plock_op_classes(3) == -1 && plock_op_classes(-1) == -1 && plock_op_classes(16) == -1,
	      "a value that is no op has classes");
	h_end();
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		uint64_t want;

		h_begin(ops[i].name);
		/* Once first, so that the heap has grown to what a call takes. */
		(void)plock_ctl(0, ops[i].op, 0, &why);
		want = expected(ops[i].classes);
		CHECK(plock_ctl(0, ops[i].op, 0, &why) == -1 && errno == ENOMEM,
		      "plock(%s) under 16 KiB: errno %d", ops[i].name, errno);
		CHECK(why.why == PLOCK_WHY_LIMIT && why.memlock == 16384, "why %s, memlock %" PRIu64,
		      plock_why_name(why.why), why.memlock);
		CHECK(why.need == want, "%s needs %" PRIu64 ", want %" PRIu64, ops[i].name,
		      why.need, want);
		h_end();
	}
	return h_done("c-need");
}

int main(void)
{
	pid_t pid;
	int status;

	/* The child reports the tests; a child that dies reports none. */
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(child());
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		perror("test_need: fork");
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
