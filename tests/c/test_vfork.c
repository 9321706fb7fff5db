/*
 * "This process": a child that shares the caller's memory (vfork(),
 * clone(CLONE_VM | CLONE_VFORK)) gets EINVAL before it execs and changes
 * nothing in the parent, which never called plock; a child of a raw fork
 * system call, which runs no atfork handler, starts with no state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

/* What the child saw; written by the child into memory it shares. */
static volatile int child_ret, child_errno, child_why;

static void call_in_child(void)
{
	struct plock_reason why;

	child_ret = plock_ctl(0, PROCLOCK, 0, &why);
	child_errno = errno;
	child_why = why.why;
}

static int clone_child(void *arg)
{
	(void)arg;
	call_in_child();
	_exit(0);
}

/* The parent, after the child: nothing of it changed. */
static void parent_unchanged(const struct oracle *before)
{
	struct plock_status st;
	struct oracle after;

	CHECK(child_ret == -1 && child_errno == EINVAL && child_why == PLOCK_WHY_VFORK,
	      "the child's plock(PROCLOCK) = %d, errno %d, why %s", child_ret, child_errno,
	      plock_why_name(child_why));
	CHECK(plock_state() == 0, "the parent's state is %d", plock_state());
	CHECK(plock_status(0, &st) == 0 && st.future == 0, "the parent's MCL_FUTURE: %d",
	      st.future);
	if (CHECK(oracle_read(0, &after) == 0, "smaps: %s", strerror(errno))) {
		CHECK(oracle_same_locks(before, &after, stderr), "the parent's locks changed");
		oracle_free(&after);
	}
	/* And the parent can lock as if nothing had happened. */
	CHECK(plock(PROCLOCK) == 0, "the parent's plock(PROCLOCK): %s", strerror(errno));
	CHECK(plock(UNLOCK) == 0, "the parent's plock(UNLOCK): %s", strerror(errno));
}

static void vfork_child(void)
{
	struct oracle before;
	pid_t pid;
	int status;

	h_begin("vfork-child-einval");
	child_ret = 0;
	if (!CHECK(oracle_read(0, &before) == 0, "smaps: %s", strerror(errno))) {
		h_end();
		return;
	}
	pid = vfork();
	if (pid == 0) {
		call_in_child();
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && status == 0, "vfork: %s",
	      strerror(errno));
	parent_unchanged(&before);
	oracle_free(&before);
	h_end();
}

static void clone_vm_child(void)
{
	static char stack[64 * 1024];
	struct oracle before;
	pid_t pid;
	int status;

	h_begin("clone-vm-vfork-child-einval");
	child_ret = 0;
	if (!CHECK(oracle_read(0, &before) == 0, "smaps: %s", strerror(errno))) {
		h_end();
		return;
	}
	pid = clone(clone_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && status == 0, "clone: %s",
	      strerror(errno));
	parent_unchanged(&before);
	oracle_free(&before);
	h_end();
}

/*
 * fork(2) as the kernel has it, past the C library's atfork handlers:
 * SYS_fork where the architecture has one (x86-64), and elsewhere (arm64,
 * which never had fork) the clone it is, with SIGCHLD as its exit signal.
 */
static pid_t raw_fork(void)
{
#ifdef SYS_fork
	return (pid_t)syscall(SYS_fork);
#else
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
}

/*
 * The child of a raw fork system call: no state, nothing locked, and its own
 * plock works (its exit status says which check failed).
 */
static void raw_fork_child(void)
{
	pid_t pid;
	int status;

	h_begin("raw-fork-child-starts-clean");
	CHECK(plock(PROCLOCK) == 0, "plock(PROCLOCK): %s", strerror(errno));
	pid = raw_fork();
	if (pid == 0) {
		if (plock_state() != 0)
			_exit(10);
		if (oracle_vmlck(0) != 0)
			_exit(11);
		if (plock(UNLOCK) != -1 || errno != EINVAL)
			_exit(12);
		if (plock(PROCLOCK) != 0)
			_exit(13);
		if (oracle_vmlck(0) == 0 || plock_state() != (TXTLOCK | DATLOCK))
			_exit(14);
		if (plock(UNLOCK) != 0)
			_exit(15);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork: %s", strerror(errno));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the raw fork child failed check %d (10: state, 11: VmLck, 12: UNLOCK, "
	      "13: PROCLOCK, 14: its lock, 15: its UNLOCK)", WEXITSTATUS(status));
	CHECK(plock_state() == (TXTLOCK | DATLOCK), "the parent's state %d", plock_state());
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	h_end();
}

/* A vfork child of a locked parent: EINVAL too, for a class not locked. */
static void vfork_child_of_locked(void)
{
	struct oracle before;
	struct plock_reason why;
	pid_t pid;
	int status;

	h_begin("vfork-child-of-locked-parent");
	CHECK(plock(TXTLOCK) == 0, "plock(TXTLOCK): %s", strerror(errno));
	if (!CHECK(oracle_read(0, &before) == 0, "smaps: %s", strerror(errno))) {
		h_end();
		return;
	}
	child_ret = 0;
	pid = vfork();
	if (pid == 0) {
		child_ret = plock_ctl(0, DATLOCK, 0, &why);
		child_errno = errno;
		child_why = why.why;
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "vfork: %s", strerror(errno));
	CHECK(child_ret == -1 && child_errno == EINVAL && child_why == PLOCK_WHY_VFORK,
	      "the child's DATLOCK = %d, errno %d, why %s", child_ret, child_errno,
	      plock_why_name(child_why));
	CHECK(plock_state() == TXTLOCK, "the parent's state %d", plock_state());
	{
		struct oracle after;

		if (CHECK(oracle_read(0, &after) == 0, "smaps: %s", strerror(errno))) {
			CHECK(oracle_same_locks(&before, &after, stderr), "the parent's locks changed");
			oracle_free(&after);
		}
	}
	oracle_free(&before);
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	h_end();
}

int main(void)
{
	vfork_child();
	clone_vm_child();
	raw_fork_child();
	vfork_child_of_locked();
	return h_done("c-vfork");
}
