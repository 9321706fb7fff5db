/*
 * plock_status(): what limits locking in a process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "internal.h"

int plock_status(int pid, struct plock_status *st)
{
	static const struct pl_proc caller = { 0, NULL };
	int self, mode, err;

	pid = pl_proc_pid(pid);
	self = pid == 0;
	memset(st, 0, sizeof *st);
	if ((err = pl_proc_vmlck(pid, &st->vmlck)) != 0 ||
	    (err = pl_proc_memlock(pid, &st->memlock_cur, &st->memlock_max)) != 0 ||
	    (err = pl_proc_cap_ipc_lock(pid, &st->cap_ipc_lock)) != 0) {
		errno = err;
		return -1;
	}
	/*
	 * Nothing in /proc shows a process's MCL_FUTURE; the caller can probe
	 * its own, which it may have set itself with mlockall() as well as
	 * through a data lock.  The probe needs a mapping of its own, which
	 * fails at vm.max_map_count: then a data lock still says yes.
	 */
	st->state = self ? plock_state() : -1;
	st->future = -1;
	if (self && pl_future_mode(&caller, &mode) == 0)
		st->future = mode != PL_FUTURE_OFF;
	else if (self && (st->state & DATLOCK))
		st->future = 1;
	if (st->cap_ipc_lock || st->memlock_cur == PLOCK_UNLIMITED)
		st->headroom = PLOCK_UNLIMITED;
	else
		st->headroom = st->memlock_cur > st->vmlck ? st->memlock_cur - st->vmlck : 0;
	return 0;
}
