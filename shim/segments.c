/*
 * plock_segments() and plock_status(): what plock() sees of a process,
 * through the same parser and classifier that plock() locks by.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int is_self(int pid)
{
	return pid == 0 || pid == (int)getpid();
}

struct plock_segment *plock_segments(int pid, size_t *count)
{
	struct pl_table t = PL_TABLE_INIT;
	struct plock_segment *v = NULL;
	uintptr_t phdr;
	char *strs;
	size_t i;
	int err;

	if (is_self(pid))
		pid = 0;
	if ((err = pl_proc_phdr(pid, &phdr)) != 0 ||
	    (err = pl_table_read(&t, pid, PL_SMAPS | PL_PATHS)) != 0 ||
	    (err = pl_classify(&t, phdr)) != 0)
		goto out;
	/* One block: the array, then the names it points to. */
	v = malloc(t.n * sizeof *v + t.slen + 1);
	if (v == NULL) {
		err = ENOMEM;
		goto out;
	}
	strs = (char *)(v + t.n);
	memcpy(strs, t.strs ? t.strs : "", t.slen);
	strs[t.slen] = '\0';
	for (i = 0; i < t.n; i++) {
		const struct pl_map *m = &t.map[i];
		struct plock_segment *s = &v[i];

		s->start = m->start;
		s->end = m->end;
		s->offset = m->offset;
		s->inode = m->inode;
		s->dev_major = m->major;
		s->dev_minor = m->minor;
		s->seg_class = m->seg;
		s->prot = m->prot;
		s->locked = m->lo;
		s->lock_on_fault = pl_lock_on_fault(m);
		s->size = m->end - m->start;
		s->resident = m->rss;
		/*
		 * Every resident page of a locked mapping is locked.  smaps'
		 * own "Locked:" is proportional, like Pss: after fork() it
		 * counts shared pages by halves.
		 */
		s->locked_bytes = m->lo ? m->rss : 0;
		s->path = strs + m->path;
	}
	*count = t.n;
out:
	pl_table_free(&t);
	if (err != 0) {
		errno = err;
		return NULL;
	}
	return v;
}

int plock_status(int pid, struct plock_status *st)
{
	int self = is_self(pid), err;

	if (self)
		pid = 0;
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
	if (self && pl_future_on(&st->future) != 0)
		st->future = st->state & DATLOCK ? 1 : -1;
	if (st->cap_ipc_lock || st->memlock_cur == PLOCK_UNLIMITED)
		st->headroom = PLOCK_UNLIMITED;
	else
		st->headroom = st->memlock_cur > st->vmlck ? st->memlock_cur - st->vmlck : 0;
	return 0;
}
