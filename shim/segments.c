/*
 * plock_segments(): the mappings of a process as plock() sees them, through
 * the same parser and classifier that plock() locks by.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct plock_segment *plock_segments(int pid, size_t *count)
{
	struct pl_table t = PL_TABLE_INIT;
	struct plock_segment *v = NULL;
	uintptr_t phdr;
	char *strs;
	size_t i;
	int err;

	pid = pl_proc_pid(pid);
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
