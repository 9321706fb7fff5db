/*
 * What was locked before a call is what is locked after it fails, and what
 * the program locked itself before its first lock is what UNLOCK leaves:
 *
 *  - a failed data lock keeps the ranges the program locked itself, whenever
 *    it locked them, and its own MCL_FUTURE, with or without MCL_ONFAULT;
 *  - when the kernel refuses a step of that rollback (a seccomp filter
 *    here), the call still fails with its own errno, says so, and the state
 *    lists only the classes still locked;
 *  - UNLOCK locks again only ranges that are still the memory the program
 *    locked (not a buffer mapped anew at the same address), and turns the
 *    program's own MCL_FUTURE back on.
 *
 * Each scenario runs in a child of its own, which may drop CAP_IPC_LOCK,
 * lower RLIMIT_MEMLOCK and install a seccomp filter.  The test locks through
 * syscall(2): sanitizers make libc's mlock family no-ops.  Locks are checked
 * in /proc/self/smaps by this file's own reader of VmFlags (lo, lf), an
 * oracle independent of the library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT	4
#endif

#define PAGE	4096
#define BUF	(64 * 1024)

/* The VmFlags lo and lf of the mapping that holds addr: 0 or -1. */
static int vmflags(const void *addr, int *lo, int *lf)
{
	char line[512];
	uintptr_t a = (uintptr_t)addr, s, e;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (f == NULL)
		return -1;
	*lo = *lf = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &s, &e) == 2 && strchr(line, ' ') &&
		    line[strcspn(line, "-")] == '-' && strncmp(line, "VmFlags", 7) != 0) {
			in = s <= a && a < e;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			*lo = strstr(line, " lo") != NULL;
			*lf = strstr(line, " lf") != NULL;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

/* Whether a fresh mapping is born locked, and how: 0 off, 1 eager, 2 on fault. */
static int future_now(void)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char in = 0;
	int lo = 0, lf = 0;

	/*
	 * Locked at birth: MCL_FUTURE is on.  Plain MCL_FUTURE faults the
	 * page in at mmap time, MCL_ONFAULT does not: mincore() says which.
	 * (Not VmFlags' "lf": Linux 6.1 does not show it.)
	 */
	if (p == MAP_FAILED || vmflags(p, &lo, &lf) != 0 || mincore(p, PAGE, &in) != 0)
		return -1;
	munmap(p, PAGE);
	return !lo ? 0 : (in & 1) ? 1 : 2;
}

/* Drops CAP_IPC_LOCK from the effective set and lowers RLIMIT_MEMLOCK. */
static int limit_to(uint64_t bytes)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl = { bytes, bytes };

	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	if (syscall(SYS_capset, &h, d) != 0)
		return -1;
	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

/* A data segment far over the limit: 8 MiB touched. */
static void big_data(void)
{
	char *p = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, 1, 8 * MIB);
}

/*
 * Big data, not locked, and a limit of VmLck now plus 2 MiB: far under the
 * data, and room for what the program maps meanwhile under its own eager
 * MCL_FUTURE (AddressSanitizer's allocator maps a lot) and for the probe
 * of MCL_FUTURE's mode, which needs a mapping of two pages.
 */
static void over_limit(void)
{
	big_data();
	CHECK(limit_to(oracle_vmlck(0) + 2 * MIB) == 0, "limit: %s", strerror(errno));
}

/* A DATLOCK that fails for the limit. */
static void failed_datlock(struct plock_reason *why)
{
	int r;

	r = plock_ctl(0, DATLOCK, 0, why);
	CHECK(r == -1 && errno == ENOMEM, "DATLOCK under the limit = %d, errno %d", r, errno);
	CHECK(why->why == PLOCK_WHY_LIMIT, "why %s", plock_why_name(why->why));
	CHECK(why->need > why->memlock, "need %" PRIu64 " <= memlock %" PRIu64, why->need,
	      why->memlock);
}

int main(void);

static void keeps_own_range(void)
{
	struct plock_reason why;
	struct oracle before, after;
	char *buf = mmap(NULL, BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int lo = -1, lf = -1;

	CHECK(plock(TXTLOCK) == 0, "TXTLOCK: %s", strerror(errno));
	/* Locked by the program after plock's first lock. */
	CHECK(syscall(SYS_mlock, buf, PAGE) == 0, "mlock: %s", strerror(errno));
	over_limit();
	CHECK(oracle_read(0, &before) == 0, "smaps: %s", strerror(errno));
	failed_datlock(&why);
	CHECK(vmflags(buf, &lo, &lf) == 0 && lo && !lf, "own page after: lo %d lf %d", lo, lf);
	if (CHECK(oracle_read(0, &after) == 0, "smaps: %s", strerror(errno))) {
		CHECK(oracle_same_locks(&before, &after, stderr), "the locks changed");
		oracle_free(&after);
	}
	CHECK(plock_state() == TXTLOCK, "state %d", plock_state());
	CHECK(future_now() == 0, "MCL_FUTURE left on: %d", future_now());
	oracle_free(&before);
}

static void keeps_own_future(int flags, int mode)
{
	struct plock_reason why;

	over_limit();
	CHECK(syscall(SYS_mlockall, flags) == 0, "mlockall: %s", strerror(errno));
	CHECK(future_now() == mode, "own MCL_FUTURE %d, want %d", future_now(), mode);
	failed_datlock(&why);
	CHECK(future_now() == mode, "MCL_FUTURE after the failed DATLOCK: %d, want %d",
	      future_now(), mode);
	CHECK(plock_state() == 0, "state %d", plock_state());
}

static void keeps_own_future_onfault(void) { keeps_own_future(MCL_FUTURE | MCL_ONFAULT, 2); }
static void keeps_own_future_eager(void) { keeps_own_future(MCL_FUTURE, 1); }

/*
 * A filter that makes mlock(2) of the ranges starting at a or b fail with
 * EPERM, as only a seccomp filter or a security module can; every other
 * call works.  (x86-64: the low word of args[0] comes first.)
 */
static int refuse_mlock(uintptr_t a, uintptr_t b)
{
	const unsigned lo = offsetof(struct seccomp_data, args[0]), hi = lo + 4;
	struct sock_filter f[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mlock, 0, 9),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)a, 0, 2),
		/* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, hi),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)((uint64_t)a >> 32), 4, 0),
		/* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)b, 0, 3),
		/* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, hi),
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)((uint64_t)b >> 32), 0, 1),
		/* 10 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void rollback_refused(void)
{
	struct plock_reason why;
	struct oracle o;
	const struct oracle_map *text = NULL;
	char *buf = mmap(NULL, BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t vmlck;
	int lo = -1, lf = -1;

	CHECK(plock(TXTLOCK) == 0, "TXTLOCK: %s", strerror(errno));
	CHECK(syscall(SYS_mlock, buf, PAGE) == 0, "mlock: %s", strerror(errno));
	if (CHECK(oracle_read(0, &o) == 0, "smaps: %s", strerror(errno)))
		text = oracle_find(&o, (uintptr_t)main);
	if (!CHECK(text != NULL && text->lo, "the text mapping of main() is not locked"))
		return;
	over_limit();
	vmlck = oracle_vmlck(0);
	/* The rollback locks the page and that text mapping again with mlock(2). */
	CHECK(refuse_mlock((uintptr_t)buf, text->start) == 0, "seccomp: %s", strerror(errno));
	failed_datlock(&why);
	CHECK(why.flags & PLOCK_REASON_ROLLBACK, "no rollback failure reported");
	CHECK(why.unrestored == PAGE + (text->end - text->start),
	      "unrestored %" PRIu64 ", want %" PRIu64 " (the page and the text mapping)",
	      why.unrestored, (uint64_t)(PAGE + (text->end - text->start)));
	CHECK(vmflags(buf, &lo, &lf) == 0 && !lo, "own page: lo %d", lo);
	CHECK(vmflags((void *)text->start, &lo, &lf) == 0 && !lo, "text: lo %d", lo);
	CHECK(plock_state() == 0, "state %d: text is not wholly locked any more", plock_state());
	CHECK(future_now() == 0, "MCL_FUTURE left on");
	CHECK(oracle_vmlck(0) == vmlck - why.unrestored, "VmLck %" PRIu64 ", want %" PRIu64,
	      oracle_vmlck(0), vmlck - why.unrestored);
	oracle_free(&o);
}

/*
 * The program locks a buffer, plock locks, the program replaces the buffer
 * by a fresh mapping at the same address: UNLOCK must not lock the fresh one.
 */
static void unlock_fresh(int op)
{
	char *buf = mmap(NULL, BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *keep = mmap(NULL, BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *fresh;
	int lo = -1, lf = -1;

	CHECK(syscall(SYS_mlock, buf, BUF) == 0 && syscall(SYS_mlock, keep, BUF) == 0,
	      "mlock: %s", strerror(errno));
	CHECK(plock(op) == 0, "plock(%d): %s", op, strerror(errno));
	munmap(buf, BUF);
	fresh = mmap(buf, BUF, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(fresh == buf, "mmap at %p: %p", (void *)buf, (void *)fresh);
	fresh[0] = 1;
	CHECK(plock(UNLOCK) == 0, "UNLOCK: %s", strerror(errno));
	CHECK(vmflags(fresh, &lo, &lf) == 0 && !lo, "the fresh buffer is locked after UNLOCK");
	CHECK(vmflags(keep, &lo, &lf) == 0 && lo && !lf, "the kept buffer: lo %d lf %d", lo, lf);
	CHECK(oracle_vmlck(0) == BUF, "VmLck %" PRIu64 ", want the kept buffer only",
	      oracle_vmlck(0));
}

static void unlock_fresh_txt(void) { unlock_fresh(TXTLOCK); }
static void unlock_fresh_dat(void) { unlock_fresh(DATLOCK); }

/* UNLOCK gives the program its own MCL_FUTURE back. */
static void unlock_own_future(int op, int flags, int mode)
{
	CHECK(syscall(SYS_mlockall, flags) == 0, "mlockall: %s", strerror(errno));
	CHECK(plock(op) == 0, "plock(%d): %s", op, strerror(errno));
	CHECK(plock(UNLOCK) == 0, "UNLOCK: %s", strerror(errno));
	CHECK(future_now() == mode, "MCL_FUTURE after UNLOCK: %d, want %d", future_now(), mode);
}

static void unlock_future_txt(void) { unlock_own_future(TXTLOCK, MCL_FUTURE | MCL_ONFAULT, 2); }
static void unlock_future_dat(void) { unlock_own_future(DATLOCK, MCL_FUTURE | MCL_ONFAULT, 2); }
static void unlock_future_proc_eager(void) { unlock_own_future(PROCLOCK, MCL_FUTURE, 1); }


int main(void)
{
	h_child("failed-datlock-keeps-own-range", keeps_own_range);
	h_child("failed-datlock-keeps-own-future-onfault", keeps_own_future_onfault);
	h_child("failed-datlock-keeps-own-future-eager", keeps_own_future_eager);
	h_child("rollback-refused-by-seccomp", rollback_refused);
	h_child("unlock-skips-fresh-memory-after-txtlock", unlock_fresh_txt);
	h_child("unlock-skips-fresh-memory-after-datlock", unlock_fresh_dat);
	h_child("unlock-restores-own-future-txtlock", unlock_future_txt);
	h_child("unlock-restores-own-future-datlock", unlock_future_dat);
	h_child("unlock-restores-own-future-eager-proclock", unlock_future_proc_eager);
	return h_done("c-rollback");
}
