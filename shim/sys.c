/*
 * The memory-locking system calls, and nothing else (and one probe of
 * whether MCL_FUTURE is on).
 *
 * Every call goes through syscall(2) rather than the libc wrappers:
 * AddressSanitizer and ThreadSanitizer intercept mlock, munlock, mlockall and
 * munlockall and turn them into no-ops that return 0, which would make
 * plock() report success with nothing locked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	0x01
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT	4
#endif

/*
 * mlock and munlock say ENOMEM both for "over RLIMIT_MEMLOCK" and for "part
 * of the range is not mapped".  msync(MS_ASYNC) does nothing on Linux but
 * check the range, and fails with ENOMEM exactly when part of it is
 * unmapped.
 */
static int mapped(uintptr_t start, uintptr_t end)
{
	return msync((void *)start, end - start, MS_ASYNC) == 0 || errno != ENOMEM;
}

/*
 * Whether RLIMIT_MEMLOCK applies to the caller: not with CAP_IPC_LOCK, nor
 * with an infinite limit.  If in doubt, yes.
 */
int pl_limited(void)
{
	uint64_t cur, max;
	int cap;

	if (pl_proc_cap_ipc_lock(0, &cap) == 0 && cap)
		return 0;
	return pl_proc_memlock(0, &cur, &max) != 0 || cur != PLOCK_UNLIMITED;
}

/* Set once mlock2 said ENOSYS; read and written under plock's mutex. */
static int no_mlock2;

int pl_mlock(uintptr_t start, uintptr_t end, int on_fault)
{
	long r;

	/*
	 * MLOCK_ONFAULT locks the pages present now and every page faulted in
	 * later, and allocates nothing: anonymous memory can be huge and
	 * untouched (a sanitizer's shadow, a runtime's reservations).
	 */
	if (on_fault && !no_mlock2 &&
	    (r = syscall(SYS_mlock2, start, end - start, MLOCK_ONFAULT)) != 0 && errno == ENOSYS)
		no_mlock2 = 1;
	/*
	 * Without mlock2 (kernels before 4.4, valgrind 3.19, some seccomp
	 * sandboxes), lock eagerly, as plain MCL_FUTURE does.
	 */
	if (!on_fault || no_mlock2)
		r = syscall(SYS_mlock, start, end - start);
	if (r == 0)
		return 0;
	switch (errno) {
	case EAGAIN:	/* some pages could not be locked: HP-UX says ENOMEM */
		return ENOMEM;
	case ENOMEM:
		/*
		 * ENOMEM is "over RLIMIT_MEMLOCK" or "part of the range is
		 * unmapped".  Another thread may have mapped the hole again
		 * already, so that mapped() says yes; but without a limit to
		 * exceed, ENOMEM can only have been the hole.
		 */
		return pl_limited() && mapped(start, end) ? ENOMEM : PL_EGONE;
	default:
		return errno;
	}
}

int pl_munlock(uintptr_t start, uintptr_t end)
{
	if (syscall(SYS_munlock, start, end - start) == 0)
		return 0;
	/* munlock's only ENOMEM is a hole in the range. */
	return errno == ENOMEM ? PL_EGONE : errno;
}

int pl_mlockall_future(void)
{
	/*
	 * Without MCL_CURRENT, mlockall changes only the flags that new
	 * mappings get, so it never fails for the limit; it fails with EPERM
	 * when RLIMIT_MEMLOCK is 0 without CAP_IPC_LOCK.  Kernels before 4.4
	 * refuse MCL_ONFAULT with EINVAL: take plain MCL_FUTURE there.
	 */
	if (syscall(SYS_mlockall, MCL_FUTURE | MCL_ONFAULT) == 0)
		return 0;
	if (errno == EINVAL && syscall(SYS_mlockall, MCL_FUTURE) == 0)
		return 0;
	return errno == EAGAIN ? ENOMEM : errno;
}

int pl_munlockall(void)
{
	/* Unlocks every mapping and clears MCL_FUTURE. */
	return syscall(SYS_munlockall) == 0 ? 0 : errno;
}

int pl_future_on(int *on)
{
	long page = sysconf(_SC_PAGESIZE), p, r;
	int e;

	/*
	 * The kernel shows MCL_FUTURE nowhere (it is mm->def_flags), but gives
	 * it to every new mapping: map a page that is never touched and ask
	 * whether it is locked.  madvise(MADV_DONTNEED) refuses a locked
	 * mapping with EINVAL and succeeds on any other private anonymous one.
	 * PROT_NONE: nothing is ever faulted in, not even under plain
	 * MCL_FUTURE, which populates only accessible mappings.
	 */
	p = syscall(SYS_mmap, 0, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == -1) {
		/*
		 * An anonymous mapping fails with EAGAIN only when it would be
		 * locked and does not fit under RLIMIT_MEMLOCK.
		 */
		if (errno != EAGAIN)
			return errno;
		*on = 1;
		return 0;
	}
	r = syscall(SYS_madvise, p, page, MADV_DONTNEED);
	e = errno;
	(void)syscall(SYS_munmap, p, page);
	if (r == 0)
		*on = 0;
	else if (e == EINVAL)
		*on = 1;
	else
		return e;
	return 0;
}
