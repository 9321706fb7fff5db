/*
 * The lock engine: locks the mappings of some classes in a process (the
 * caller, or another process held through ptrace), and if any step fails,
 * puts back exactly what was locked before the call.  It also decides why a
 * call failed and how many bytes it needed, the one place that does.
 *
 * A call reads /proc/PID/maps (smaps when anything is locked already, for its
 * "lo" flags), records what was locked before it (struct pl_snapshot), locks
 * the mappings of its classes that are not locked yet and, for data, turns
 * on mlockall(MCL_FUTURE | MCL_ONFAULT) first.  Linux can end MCL_FUTURE only
 * with munlockall(), which unlocks everything: so a data lock that fails,
 * and UNLOCK, lock again every range of the record that is still the same
 * memory, and turn the recorded MCL_FUTURE back on.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <string.h>

#include "internal.h"

struct engine {
	const struct pl_proc *p;
	struct pl_table t;
	int have;		/* t is read and classified */
	int smaps;		/* t is read from smaps */
	int limited;		/* RLIMIT_MEMLOCK applies; -1: not asked yet */
	int sysmem;		/* the kernel said EAGAIN: the system, not the limit */
	int moved;		/* a mapping to lock was unmapped, wholly or in part */
	struct plock_reason *why;
};

/* Every engine starts so: nothing read, nothing asked, why's limit unknown. */
static void engine_init(struct engine *e, const struct pl_proc *p, struct plock_reason *why)
{
	memset(e, 0, sizeof *e);
	e->p = p;
	e->limited = -1;
	e->why = why;
	why->memlock = PLOCK_UNLIMITED;
}

/*
 * Whether RLIMIT_MEMLOCK applies to the process: not with CAP_IPC_LOCK, nor
 * with an infinite limit.  If in doubt, yes.  Asked once per call.
 */
static int limited(struct engine *e)
{
	uint64_t cur, max;
	int cap;

	if (e->limited >= 0)
		return e->limited;
	e->limited = 1;
	if (pl_proc_cap_ipc_lock(e->p->pid, &cap) == 0)
		e->why->cap_ipc_lock = cap;
	if (pl_proc_memlock(e->p->pid, &cur, &max) == 0)
		e->why->memlock = cur;
	if (e->why->cap_ipc_lock || e->why->memlock == PLOCK_UNLIMITED)
		e->limited = 0;
	return e->limited;
}

static int read_table(struct engine *e)
{
	uintptr_t phdr;
	int err;

	e->have = 0;
	if ((err = pl_proc_phdr(e->p->pid, &phdr)) != 0 ||
	    (err = pl_table_read(&e->t, e->p->pid, e->smaps ? PL_SMAPS : 0)) != 0 ||
	    (err = pl_classify(&e->t, phdr)) != 0)
		return err;
	e->have = 1;
	return 0;
}

static int candidate(const struct pl_map *m, int classes)
{
	return (pl_seg_classes(m->seg) & classes) != 0 && !m->lo;
}

/* How often an ENOMEM of a wholly mapped range must repeat to be believed. */
#define PL_ENOMEM_TRIES	4

/* mlock, with the kernel's errors told apart. */
static int lock_range(struct engine *e, uintptr_t start, uintptr_t end, int on_fault)
{
	int err, tries;

	for (tries = 1;; tries++) {
		err = pl_mlock(e->p, start, end, on_fault);
		if (err == EAGAIN) {
			/* Some pages could not be locked: HP-UX says ENOMEM. */
			e->sysmem = 1;
			return ENOMEM;
		}
		if (err != ENOMEM && err != PL_ENOFAULT)
			return err;
		/*
		 * Without mlock2, most likely a PROT_NONE mapping locked but
		 * not faulted in; with no limit to exceed, taken as that.
		 * (This fallback is for valgrind, which also objects to the
		 * msync below on PROT_NONE memory, and for old kernels.)
		 */
		if (err == PL_ENOFAULT && !limited(e))
			return 0;
		/*
		 * Part of the range is unmapped: another thread unmapped it
		 * since the table was read.
		 */
		if (!pl_mapped(e->p, start, end))
			return PL_EGONE;
		/*
		 * Wholly mapped: over RLIMIT_MEMLOCK, or over vm.max_map_count
		 * (the split of a mapping); or there was a hole that another
		 * thread has filled again since.  The first two fail the same
		 * way every time; a hole that threads unmap and map again in a
		 * loop can be there twice running (seen when the calls are
		 * made in another process, each a ptrace round trip), rarely
		 * four times.  Believed if it repeats that often.
		 */
		if (tries == PL_ENOMEM_TRIES)
			return ENOMEM;
	}
}

/* Records a rollback step that the kernel refused. */
static void refused(struct engine *e, uint64_t bytes)
{
	e->why->flags |= PLOCK_REASON_ROLLBACK;
	e->why->unrestored += bytes;
}

/*
 * Unlocks the candidates t->map[i..j), which this call locked.  A range that
 * is gone is no error; one the kernel refuses to unlock is a rollback that
 * failed.
 */
static void unlock_run(struct engine *e, size_t i, size_t j)
{
	size_t k;
	int err;

	for (k = i; k < j; k++) {
		const struct pl_map *m = &e->t.map[k];

		err = pl_munlock(e->p, m->start, m->end);
		if (err != 0 && err != PL_EGONE)
			refused(e, m->end - m->start);
	}
}

/*
 * Locks the run of candidates t->map[i..j), which are adjacent and locked
 * the same way: one system call for the run; if part of it was unmapped by
 * another thread meanwhile, one per mapping.  A mapping that is gone, or
 * has lost a part, is no error: it is noted in e->moved, for a data lock
 * to read the table again (mlock stops at the first hole, so what is left
 * of a mapping that shrank may not be locked).
 */
static int lock_run(struct engine *e, size_t i, size_t j, int undo)
{
	const struct pl_map *a = &e->t.map[i], *b = &e->t.map[j - 1];
	int err;
	size_t k;

	err = lock_range(e, a->start, b->end, pl_lock_on_fault(a));
	if (err != PL_EGONE)
		return err;
	for (k = i; k < j; k++) {
		const struct pl_map *m = &e->t.map[k];

		err = lock_range(e, m->start, m->end, pl_lock_on_fault(m));
		if (err == PL_EGONE) {
			e->moved = 1;
			continue;
		}
		if (err != 0) {
			if (undo)
				unlock_run(e, i, k);
			return err;
		}
	}
	return 0;
}

/* Runs gathered for one pl_mlock_many(). */
#define PL_RUNS	64

/*
 * Locks every candidate of classes, in runs of adjacent mappings locked the
 * same way.  The runs go to pl_mlock_many() PL_RUNS at a time (another
 * process makes them in one stop); the first it did not lock, and the rest,
 * go through lock_run(), which tells the errors apart.  On failure, with
 * undo, unlocks what it locked (a data lock leaves that to munlockall())
 * and returns the error.
 */
static int apply(struct engine *e, int classes, int undo)
{
	const struct pl_table *t = &e->t;
	struct pl_lockrange v[PL_RUNS];
	size_t from[PL_RUNS], to[PL_RUNS];
	size_t i = 0, j, k, n, b, done;
	int err;

	while (i < t->n) {
		for (n = 0; i < t->n && n < PL_RUNS; i = j) {
			if (!candidate(&t->map[i], classes)) {
				j = i + 1;
				continue;
			}
			for (j = i + 1; j < t->n && candidate(&t->map[j], classes) &&
				t->map[j].start == t->map[j - 1].end &&
				pl_lock_on_fault(&t->map[j]) == pl_lock_on_fault(&t->map[i]); j++)
				;
			v[n].start = t->map[i].start;
			v[n].end = t->map[j - 1].end;
			v[n].on_fault = pl_lock_on_fault(&t->map[i]);
			from[n] = i;
			to[n++] = j;
		}
		done = n > 1 ? pl_mlock_many(e->p, v, n) : 0;
		for (b = done; b < n; b++) {
			if ((err = lock_run(e, from[b], to[b], undo)) != 0) {
				if (undo)
					for (k = 0; k < from[b]; k++)
						if (candidate(&t->map[k], classes))
							unlock_run(e, k, k + 1);
				return err;
			}
		}
	}
	return 0;
}

/* What RLIMIT_MEMLOCK must allow for classes: VmLck and what they add. */
static uint64_t need(struct engine *e, int classes, uint64_t vmlck)
{
	uint64_t n = vmlck;
	size_t i;

	if (!e->have && read_table(e) != 0)
		return 0;
	for (i = 0; i < e->t.n; i++)
		if (candidate(&e->t.map[i], classes))
			n += e->t.map[i].end - e->t.map[i].start;
	return n;
}

void pl_snapshot_free(struct pl_snapshot *s)
{
	free(s->r);
	s->r = NULL;
	s->n = s->cap = 0;
	s->future = PL_FUTURE_OFF;
}

/* Records every locked mapping of the table. */
static int snapshot(struct pl_snapshot *s, const struct pl_table *t)
{
	size_t i;

	s->n = 0;
	for (i = 0; i < t->n; i++) {
		const struct pl_map *m = &t->map[i];
		struct pl_range *r;

		if (!m->lo)
			continue;
		if (pl_grow((void **)&s->r, &s->cap, s->n + 1, sizeof *s->r) != 0)
			return ENOMEM;
		r = &s->r[s->n++];
		r->start = m->start;
		r->end = m->end;
		r->offset = m->offset;
		r->inode = m->inode;
		r->major = m->major;
		r->minor = m->minor;
		r->kind = m->kind;
		r->lf = m->lf;
	}
	return 0;
}

/*
 * Whether m, as read now, is still the memory that r recorded: the same
 * file at the same offset, or anonymous memory of the same kind, and still
 * locked the same way.  A range the program unmapped is gone; one mapped
 * anew at its address is not locked (or, born under our MCL_FUTURE, locked
 * on fault where the program had locked eagerly): not the same.
 */
static int same_memory(const struct pl_range *r, const struct pl_map *m)
{
	if (!m->lo || m->lf != r->lf || m->kind != r->kind || m->inode != r->inode ||
	    m->major != r->major || m->minor != r->minor)
		return 0;
	return r->kind != PL_FILE || m->offset + (r->start - m->start) == r->offset;
}

/*
 * After munlockall(): locks again every part of s that the table, read
 * just before it, shows as still the same memory (blind: every part), and
 * turns s's MCL_FUTURE back on.  Every step is taken; the ones the kernel
 * refuses are counted.
 */
static void restore(struct engine *e, const struct pl_snapshot *s, int blind)
{
	const struct pl_table *t = &e->t;
	size_t i, k = 0;
	int err;

	for (i = 0; i < s->n; i++) {
		const struct pl_range *r = &s->r[i];

		if (blind) {
			if ((err = pl_mlock(e->p, r->start, r->end, r->lf)) != 0 && err != ENOMEM &&
			    err != PL_ENOFAULT)
				refused(e, r->end - r->start);
			continue;
		}
		while (k < t->n && t->map[k].end <= r->start)
			k++;
		for (size_t m = k; m < t->n && t->map[m].start < r->end; m++) {
			uintptr_t a = t->map[m].start > r->start ? t->map[m].start : r->start;
			uintptr_t b = t->map[m].end < r->end ? t->map[m].end : r->end;

			if (!same_memory(r, &t->map[m]))
				continue;
			err = pl_mlock(e->p, a, b, r->lf);
			if (err != 0 && err != PL_ENOFAULT)
				refused(e, b - a);
		}
	}
	if (s->future != PL_FUTURE_OFF &&
	    (err = pl_mlockall(e->p, s->future < 0 ? PL_FUTURE_ONFAULT : s->future)) != 0)
		refused(e, 0);
}

/*
 * UNLOCK: munlockall(), then restore s.  The table that says what is still
 * the same memory is read first, from smaps; if it cannot be, nothing is
 * changed.
 */
static int unlock_all(struct engine *e, const struct pl_snapshot *s)
{
	int err;

	if (s != NULL && s->n > 0) {
		e->smaps = 1;
		if ((err = read_table(e)) != 0)
			return err;
	}
	if ((err = pl_munlockall(e->p)) != 0)
		return err;
	if (s != NULL)
		restore(e, s, 0);
	return 0;
}

/*
 * The rollback of a data lock that failed: as UNLOCK, but it must end the
 * MCL_FUTURE it turned on whatever happens.  If the table cannot be read,
 * every recorded range is locked again as it was (blind).
 */
static void rollback(struct engine *e, const struct pl_snapshot *s)
{
	int err, blind = 0;

	e->smaps = 1;
	if (s->n > 0 && read_table(e) != 0)
		blind = 1;
	if ((err = pl_munlockall(e->p)) != 0) {
		refused(e, 0);	/* MCL_FUTURE stays on */
		return;
	}
	restore(e, s, blind);
}

/* Sets why->why from the errno of a call that failed. */
static void explain(struct engine *e, int err, int classes, uint64_t vmlck)
{
	struct plock_reason *why = e->why;

	why->err = err;
	switch (err) {
	case EPERM:
		(void)limited(e);
		why->why = PLOCK_WHY_ZEROLIMIT;
		why->need = need(e, classes, vmlck);
		break;
	case ENOMEM:
		if (why->why == PLOCK_WHY_STRICT)
			break;
		why->why = !e->sysmem && limited(e) ? PLOCK_WHY_LIMIT : PLOCK_WHY_NOMEM;
		why->need = need(e, classes, vmlck);
		break;
	case ESRCH:
		why->why = PLOCK_WHY_GONE;
		break;
	case ENOENT:
	case EACCES:
		why->why = PLOCK_WHY_NOPROC;
		break;
	case EINVAL:
		if (why->why == PLOCK_WHY_NOSHLIB)
			break;
		/* fall through */
	default:
		why->why = PLOCK_WHY_SYSTEM;
		break;
	}
}

/*
 * The locking of a data lock, under its MCL_FUTURE: reads the table and
 * locks the candidates of classes.  Another thread may unmap part of a
 * mapping between the read and the lock (glibc maps a thread arena at twice
 * its size, then trims it), and mlock stops at the first hole.  Then the
 * table is read again, from smaps, and what is still unlocked is locked.
 * This ends: what is mapped after MCL_FUTURE is born locked, so a read
 * that finds a mapping moved again finds less memory to lock than the one
 * before, and the memory of the process at the call is finite.
 */
static int settle(struct engine *e, int classes)
{
	int err;

	for (;;) {
		e->moved = 0;
		if ((err = read_table(e)) != 0 || (err = apply(e, classes, 0)) != 0)
			return err;
		if (!e->moved)
			return 0;
		e->smaps = 1;
	}
}

static int lock(struct engine *e, struct pl_call *c, uint64_t *vmlck)
{
	int data = c->classes & DATLOCK, err;

	if ((err = pl_proc_vmlck(e->p->pid, vmlck)) != 0)
		return err;
	e->why->vmlck = *vmlck;
	/*
	 * The strict rule, for a runtime that aborts when mmap fails: refuse
	 * a data lock that later mmaps could trip on (EPERM if the limit is 0).
	 */
	if (data && (c->flags & PLOCK_STRICT_FUTURE) && limited(e)) {
		if (e->why->memlock == 0)
			return EPERM;
		e->why->why = PLOCK_WHY_STRICT;
		return ENOMEM;
	}
	/*
	 * smaps costs the kernel about ten times what maps does (it walks the
	 * page tables to count Rss), and the engine needs from it only the
	 * "lo" flags: with VmLck 0, no mapping has them, and maps says enough.
	 *
	 * Read before MCL_FUTURE, which makes every new mapping look locked:
	 * for the record of what was locked before; for another process, to
	 * see what it has before changing anything; and, for a data lock
	 * under a limit, so that the table's memory is allocated before our
	 * own heap growth counts against RLIMIT_MEMLOCK.
	 */
	e->smaps = *vmlck != 0;
	if (e->smaps || e->p->remote != NULL || (data && limited(e))) {
		/*
		 * The room for the read after MCL_FUTURE too: under a limit,
		 * growing the table then would count against it.
		 */
		if ((err = read_table(e)) != 0 || (err = snapshot(c->before, &e->t)) != 0 ||
		    (err = pl_table_reserve(&e->t, 256)) != 0)
			return err;
		if ((c->classes & SHLIBLOCK) && !pl_has_shlibs(e->p, &e->t)) {
			e->why->why = PLOCK_WHY_NOSHLIB;
			return EINVAL;
		}
	}
	if (!data) {
		if (!e->have && (err = read_table(e)) != 0)
			return err;
		return apply(e, c->classes, 1);
	}
	/*
	 * Growth after a data lock is locked too, on fault.  Turned on before
	 * the read that the locking follows: whatever another thread maps
	 * from now on is born locked, and whatever it mapped before is in
	 * that read.  The MCL_FUTURE the process had itself is recorded
	 * first, for the rollback.
	 */
	if (pl_future_mode(e->p, &c->before->future) != 0)
		c->before->future = PL_FUTURE_OFF;	/* at vm.max_map_count: unknown */
	if ((err = pl_mlockall(e->p, PL_FUTURE_ONFAULT)) != 0)
		return err;
	if ((err = settle(e, c->classes)) == 0)
		return 0;
	/* Why, from the table this call locked by, before the rollback reads another. */
	explain(e, err, c->classes, *vmlck);
	rollback(e, c->before);
	return err;
}

/*
 * The bytes of the executable's PT_GNU_RELRO that its loader makes
 * read-only before the entry point (rounded as glibc's _dl_protect_relro
 * rounds): writable data at the exec, text at the entry.  0 if it has none
 * or its program headers cannot be read.
 */
static uint64_t relro_bytes(const struct pl_proc *p)
{
	uintptr_t phdr, phnum, bias = 0, start = 0, end = 0;
	int have_bias = 0;
	Elf64_Phdr ph;
	size_t i;

	if (pl_proc_phdr(p->pid, &phdr) != 0 || pl_proc_auxv(p->pid, AT_PHNUM, &phnum) != 0 ||
	    phdr == 0 || phnum > 256)
		return 0;
	for (i = 0; i < phnum; i++) {
		if (pl_peek(p, phdr + i * sizeof ph, &ph, sizeof ph) != 0)
			return 0;
		if (ph.p_type == PT_PHDR) {
			bias = phdr - (uintptr_t)ph.p_vaddr;
			have_bias = 1;
		} else if (ph.p_type == PT_GNU_RELRO) {
			start = (uintptr_t)ph.p_vaddr;
			end = (uintptr_t)(ph.p_vaddr + ph.p_memsz);
		}
	}
	if (!have_bias || end <= start)
		return 0;
	start = (bias + start) & ~(uintptr_t)4095;
	end = (bias + end) & ~(uintptr_t)4095;
	return end > start ? end - start : 0;
}

int pl_lock_feasible(struct pl_call *c)
{
	struct engine e;
	uint64_t vmlck = 0, n = 0;
	int err = 0;

	engine_init(&e, c->p, c->why);
	if ((err = pl_proc_vmlck(e.p->pid, &vmlck)) != 0 || !limited(&e))
		goto out;
	c->why->vmlck = vmlck;
	if ((c->classes & DATLOCK) && (c->flags & PLOCK_STRICT_FUTURE) && c->why->memlock != 0) {
		c->why->why = PLOCK_WHY_STRICT;
		err = ENOMEM;
	} else if (c->why->memlock == 0) {
		err = EPERM;
	} else {
		/*
		 * What the mappings need now, with the executable's RELRO
		 * moved from data to text, as its loader will have moved it
		 * at the entry point.  The shared objects the loader maps are
		 * not there yet: this is the least the lock needs.
		 */
		n = need(&e, c->classes, vmlck);
		if ((c->classes & (TXTLOCK | DATLOCK)) == TXTLOCK)
			n += relro_bytes(e.p);
		else if ((c->classes & (TXTLOCK | DATLOCK)) == DATLOCK)
			n -= n - vmlck > relro_bytes(e.p) ? relro_bytes(e.p) : 0;
		if (n > c->why->memlock)
			err = ENOMEM;
	}
	if (err != 0) {
		explain(&e, err, c->classes, vmlck);
		if (c->why->why == PLOCK_WHY_LIMIT)
			c->why->need = n;
	}
out:
	pl_table_free(&e.t);
	return err;
}

int pl_lock(struct pl_call *c)
{
	struct engine e;
	uint64_t vmlck = 0;
	int err;

	engine_init(&e, c->p, c->why);
	c->before->n = 0;
	c->before->future = PL_FUTURE_OFF;
	err = lock(&e, c, &vmlck);
	if (err != 0 && c->why->err == 0)
		explain(&e, err, c->classes, vmlck);
	pl_table_free(&e.t);
	return err;
}

int pl_unlock(const struct pl_proc *p, const struct pl_snapshot *keep, struct plock_reason *why)
{
	struct engine e;
	int err;

	engine_init(&e, p, why);
	if ((err = unlock_all(&e, keep)) != 0)
		explain(&e, err, 0, 0);
	pl_table_free(&e.t);
	return err;
}

/*
 * Which of classes are still wholly locked in p: after a rollback that the
 * kernel refused, the state is what is true.
 */
int pl_locked_classes(const struct pl_proc *p, int classes, int *still)
{
	struct plock_reason why;
	struct engine e;
	size_t i;
	int err;

	memset(&why, 0, sizeof why);
	engine_init(&e, p, &why);
	e.smaps = 1;
	*still = classes;
	if ((err = read_table(&e)) == 0)
		for (i = 0; i < e.t.n; i++)
			if (!e.t.map[i].lo)
				*still &= ~pl_seg_classes(e.t.map[i].seg);
	pl_table_free(&e.t);
	return err;
}
