/*
 * Without /proc (a mount namespace where a tmpfs covers it, as a sandbox
 * may have), every call fails with the errno of the open, ENOENT or EACCES,
 * and changes nothing; never ESRCH, "no such process", for the caller.
 *
 * Needs root (CAP_SYS_ADMIN for the mount namespace); a run that is not
 * root says so and skips.  Each case runs in a child of its own namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

/* Drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: root obeys modes. */
static int obey_modes(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	d[0].effective &= ~(CAP_TO_MASK(CAP_DAC_OVERRIDE) | CAP_TO_MASK(CAP_DAC_READ_SEARCH));
	return (int)syscall(SYS_capset, &h, d);
}

/* In the child: cover /proc (mode: the tmpfs's), check, uncover, check. */
static void without_proc(const char *mode, int want)
{
	struct plock_segment *v;
	struct plock_status st;
	struct plock_reason why;
	uint64_t before = oracle_vmlck(0);
	size_t n;
	int r;

	if (!CHECK(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno)) ||
	    !CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "mount --make-rprivate: %s",
		   strerror(errno)) ||
	    !CHECK(mount("none", "/proc", "tmpfs", 0, mode) == 0, "mount tmpfs on /proc: %s",
		   strerror(errno)))
		return;
	if (want == EACCES)
		CHECK(obey_modes() == 0, "capset: %s", strerror(errno));
	errno = 0;
	r = plock_ctl(0, PROCLOCK, 0, &why);
	CHECK(r == -1 && errno == want && why.why == PLOCK_WHY_NOPROC,
	      "plock(PROCLOCK) = %d, errno %d (%s), why %s; want %s", r, errno, strerror(errno),
	      plock_why_name(why.why), strerror(want));
	errno = 0;
	CHECK(plock(TXTLOCK) == -1 && errno == want, "plock(TXTLOCK): errno %d", errno);
	CHECK(plock_state() == 0, "state %d", plock_state());
	errno = 0;
	v = plock_segments(0, &n);
	CHECK(v == NULL && errno == want, "plock_segments(0): %p, errno %d", (void *)v, errno);
	errno = 0;
	CHECK(plock_status(0, &st) == -1 && errno == want, "plock_status(0): errno %d", errno);
	/* /proc back: nothing was locked meanwhile. */
	CHECK(umount("/proc") == 0, "umount: %s", strerror(errno));
	CHECK(oracle_vmlck(0) == before, "VmLck %" PRIu64 ", was %" PRIu64, oracle_vmlck(0), before);
	CHECK(plock(PROCLOCK) == 0, "plock(PROCLOCK) with /proc back: %s", strerror(errno));
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
}

static void no_proc_enoent(void) { without_proc("mode=0755", ENOENT); }
static void no_proc_eacces(void) { without_proc("mode=0000", EACCES); }


int main(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (a mount namespace); run as root to test it\n");
		return 0;
	}
	h_child("no-proc-enoent", no_proc_enoent);
	h_child("no-proc-eacces", no_proc_eacces);
	return h_done("c-noproc");
}
