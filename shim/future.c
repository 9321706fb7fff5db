/*
 * Which MCL_FUTURE a process has on.  The kernel shows it nowhere (it is
 * mm->def_flags), but gives it to every new mapping, so we map two pages and
 * look at them:
 *
 *  - madvise(MADV_DONTNEED) refuses a locked mapping with EINVAL and succeeds
 *    on any other private anonymous one: locked means MCL_FUTURE is on;
 *  - plain MCL_FUTURE also faults the whole mapping in at mmap time, and
 *    MCL_FUTURE | MCL_ONFAULT does not: mincore() of the first page says
 *    which.  Its answer is written into the second page, so that the first
 *    stays untouched.
 *
 * Five system calls, all made by p itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

int pl_future_mode(const struct pl_proc *p, int *mode)
{
	long page = sysconf(_SC_PAGESIZE), a, r, in;
	unsigned char vec = 0;
	int err = 0;

	a = pl_sys(p, SYS_mmap, 0, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a < 0) {
		/*
		 * An anonymous mapping fails with EAGAIN only when it would be
		 * locked and does not fit under RLIMIT_MEMLOCK: on, and the
		 * probe cannot say how.
		 */
		if (a != -EAGAIN)
			return (int)-a;
		*mode = -1;
		return 0;
	}
	r = pl_sys(p, SYS_madvise, a, page, MADV_DONTNEED, 0, 0, 0);
	if (r == 0) {
		*mode = PL_FUTURE_OFF;
	} else if (r != -EINVAL) {
		err = (int)-r;
	} else {
		in = pl_sys(p, SYS_mincore, a, page, a + page, 0, 0, 0);
		if (in < 0)
			err = (int)-in;
		else if ((err = pl_peek(p, (uintptr_t)(a + page), &vec, 1)) == 0)
			*mode = (vec & 1) ? PL_FUTURE_EAGER : PL_FUTURE_ONFAULT;
	}
	(void)pl_sys(p, SYS_munmap, a, 2 * page, 0, 0, 0, 0);
	return err;
}
