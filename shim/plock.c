/*
 * plock(2) for Linux: the per-process lock state and its transitions.
 *
 * The state is a set of {text, data, shlib}, kept as an OR of TXTLOCK,
 * DATLOCK and SHLIBLOCK.  A call that would lock a class already locked is
 * EINVAL, decided from the state alone before any system call.  A lock
 * reads /proc/self/maps (smaps, when anything is locked already, for its
 * "lo" flags), locks the mappings of the classes asked for that are not
 * locked yet and, for data, turns on mlockall(MCL_FUTURE) first; if any
 * step fails, it unlocks what it locked, so a failed call changes nothing.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "internal.h"

#define PL_ALL	(TXTLOCK | DATLOCK | SHLIBLOCK)

struct pl_range {
	uintptr_t start, end;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int init_err;

/* Guarded by mu. */
static int state;
static struct pl_range *user;	/* locked by the program before the first lock */
static size_t nuser, capuser;

/* The classes an op locks; -1 if op is no op. */
static int op_classes(int op)
{
	switch (op) {
	case UNLOCK:		return 0;
	case PROCLOCK:		return TXTLOCK | DATLOCK;
	case TXTLOCK:		return TXTLOCK;
	case DATLOCK:		return DATLOCK;
	case SHLIBLOCK:		return SHLIBLOCK;
	case PROCSHLIBLOCK:	return TXTLOCK | DATLOCK | SHLIBLOCK;
	case TXTSHLIBLOCK:	return TXTLOCK | SHLIBLOCK;
	case DATSHLIBLOCK:	return DATLOCK | SHLIBLOCK;
	default:		return -1;
	}
}

static int seg_class_bit(int seg)
{
	switch (seg) {
	case PLOCK_SEG_TEXT:
		return TXTLOCK;
	case PLOCK_SEG_DATA:
	case PLOCK_SEG_STACK:
		return DATLOCK;
	case PLOCK_SEG_SHLIB_TEXT:
	case PLOCK_SEG_SHLIB_DATA:
		return SHLIBLOCK;
	default:
		return 0;
	}
}

/*
 * Whether the program has shared objects at all: it names an interpreter
 * (PT_INTERP).  Read from its program headers in memory, so that SHLIBLOCK's
 * EINVAL needs no system call.  A static executable, static-pie included,
 * has none.
 */
static int dynamic(void)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long i, n = getauxval(AT_PHNUM);

	for (i = 0; ph != NULL && i < n; i++)
		if (ph[i].p_type == PT_INTERP)
			return 1;
	return 0;
}

/*
 * Locks are not inherited across fork(): the child starts with no state.
 * Holding mu across fork() keeps the child from inheriting it locked.
 */
static void atfork_prepare(void) { pthread_mutex_lock(&mu); }
static void atfork_parent(void) { pthread_mutex_unlock(&mu); }
static void atfork_child(void)
{
	state = 0;
	nuser = 0;
	pthread_mutex_unlock(&mu);
}

/*
 * The fork handlers are registered when the library is loaded, before any
 * thread can hold mu: registered later, a fork while another thread holds
 * mu would give the child mu locked, and registering at the first call
 * would cost that call (an EINVAL one, say) a malloc and maybe a brk.
 */
__attribute__((constructor)) static void init(void)
{
	init_err = pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static int candidate(const struct pl_map *m, int classes)
{
	return (seg_class_bit(m->seg) & classes) != 0 && !m->lo;
}

/*
 * Applies mlock or munlock to the run of candidates t->map[i..j), which are
 * adjacent.  One system call for the run; if part of it was unmapped by
 * another thread meanwhile, one per mapping, and a mapping that is gone is
 * no error.
 */
static int apply_run(const struct pl_table *t, size_t i, size_t j, int lock)
{
	const struct pl_map *a = &t->map[i], *b = &t->map[j - 1];
	int err;
	size_t k;

	err = lock ? pl_mlock(a->start, b->end, pl_lock_on_fault(a))
		   : pl_munlock(a->start, b->end);
	if (err != PL_EGONE)
		return err;
	for (k = i; k < j; k++) {
		const struct pl_map *m = &t->map[k];

		err = lock ? pl_mlock(m->start, m->end, pl_lock_on_fault(m))
			   : pl_munlock(m->start, m->end);
		if (err == PL_EGONE)
			continue;
		if (err != 0) {
			if (lock && k > i)
				apply_run(t, i, k, 0);
			return err;
		}
	}
	return 0;
}

/*
 * Locks (or unlocks) every candidate of classes in t->map[0..limit), in runs
 * of adjacent mappings locked the same way.  On failure, unlocks what it
 * locked and returns the error.
 */
static int apply(const struct pl_table *t, int classes, size_t limit, int lock)
{
	size_t i = 0, j;
	int err;

	while (i < limit) {
		if (!candidate(&t->map[i], classes)) {
			i++;
			continue;
		}
		for (j = i + 1; j < limit && candidate(&t->map[j], classes) &&
			t->map[j].start == t->map[j - 1].end &&
			pl_lock_on_fault(&t->map[j]) == pl_lock_on_fault(&t->map[i]); j++)
			;
		err = apply_run(t, i, j, lock);
		if (err != 0 && lock) {
			apply(t, classes, i, 0);
			return err;
		}
		i = j;
	}
	return 0;
}

/* Remembers what the program had locked itself before its first lock. */
static int save_user(const struct pl_table *t)
{
	size_t i;

	nuser = 0;
	for (i = 0; i < t->n; i++) {
		const struct pl_map *m = &t->map[i];

		if (!m->lo)
			continue;
		if (nuser > 0 && user[nuser - 1].end == m->start) {
			user[nuser - 1].end = m->end;
			continue;
		}
		if (nuser == capuser) {
			size_t n = capuser ? 2 * capuser : 16;
			struct pl_range *u = realloc(user, n * sizeof *u);

			if (u == NULL)
				return ENOMEM;
			user = u;
			capuser = n;
		}
		user[nuser].start = m->start;
		user[nuser].end = m->end;
		nuser++;
	}
	return 0;
}

/*
 * PLOCK_STRICT_FUTURE, for a caller under a limit: refuse a data lock that
 * later mmaps could trip on (EPERM first if the limit is 0).
 */
static int strict_future(void)
{
	uint64_t cur, max;
	int err;

	if ((err = pl_proc_memlock(0, &cur, &max)) != 0)
		return err;
	return cur == 0 ? EPERM : ENOMEM;
}

/*
 * Reads the mappings and classifies them.  smaps costs the kernel about ten
 * times what maps does (it walks the page tables to count Rss), and plock
 * needs from it only the "lo" flag: with VmLck 0, no mapping has it, and
 * maps says enough.
 */
static int read_table(struct pl_table *t, int smaps)
{
	int err;

	if ((err = pl_table_read(t, 0, smaps ? PL_SMAPS : 0)) != 0)
		return err;
	return pl_classify(t, (uintptr_t)getauxval(AT_PHDR));
}

/*
 * Ends the MCL_FUTURE of a data lock that failed.  munlockall() is the only
 * way, and it unlocks everything: lock again what was locked before the
 * call, the program's own ranges and the classes in keep.
 */
static void undo_future(struct pl_table *t, int keep)
{
	size_t i;

	(void)pl_munlockall();
	for (i = 0; i < nuser; i++)
		(void)pl_mlock(user[i].start, user[i].end, 1);
	if (keep != 0 && read_table(t, 1) == 0)
		(void)apply(t, keep, t->n, 1);
}

static int lock(int classes, int flags)
{
	struct pl_table t = PL_TABLE_INIT;
	int smaps, limited, have = 0, err;
	uint64_t vmlck;

	if (init_err != 0)
		return init_err;
	/* Only a data lock cares whether RLIMIT_MEMLOCK applies. */
	limited = (classes & DATLOCK) && pl_limited();
	if (limited && (flags & PLOCK_STRICT_FUTURE) && (err = strict_future()) != 0)
		return err;
	if ((err = pl_proc_vmlck(0, &vmlck)) != 0)
		return err;
	smaps = vmlck != 0;
	if (state == 0)
		nuser = 0;
	/*
	 * Read before MCL_FUTURE, which makes every new mapping look locked:
	 * for the ranges the program locked itself before its first lock;
	 * and, for a data lock under a limit, so that the table's memory is
	 * allocated before our own heap growth counts against RLIMIT_MEMLOCK.
	 */
	if ((state == 0 && smaps) || limited) {
		if ((err = read_table(&t, smaps)) != 0 ||
		    (state == 0 && (err = save_user(&t)) != 0))
			goto out;
		have = 1;
	}
	if (classes & DATLOCK) {
		/*
		 * Growth after a data lock is locked too, on fault.  Turned on
		 * before the read that the locking follows: whatever another
		 * thread maps from now on is born locked, and whatever it
		 * mapped before is in that read.
		 */
		if ((err = pl_mlockall_future()) != 0)
			goto out;
		if ((err = read_table(&t, smaps)) != 0 || (err = apply(&t, classes, t.n, 1)) != 0)
			undo_future(&t, state);
		goto out;
	}
	if (!have && (err = read_table(&t, smaps)) != 0)
		goto out;
	err = apply(&t, classes, t.n, 1);
out:
	if (err == 0)
		state |= classes;
	pl_table_free(&t);
	return err;
}

static int unlock(void)
{
	size_t i;
	int err;

	/*
	 * munlockall() is the only way to end MCL_FUTURE, and it unlocks
	 * everything; lock again what the program had locked itself.  Those
	 * pages stay resident meanwhile (nothing evicts them between two
	 * system calls unless memory is short), and locking them on fault
	 * allocates nothing they did not have.
	 */
	if ((err = pl_munlockall()) != 0)
		return err;
	for (i = 0; i < nuser; i++)
		(void)pl_mlock(user[i].start, user[i].end, 1);
	state = 0;
	nuser = 0;
	return 0;
}

int plock_flags(int op, int flags)
{
	int classes = op_classes(op), err;

	if (classes < 0 || (flags & ~PLOCK_STRICT_FUTURE) != 0) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&mu);
	if (op == UNLOCK)
		err = state == 0 ? EINVAL : unlock();
	else if ((classes & state) != 0)
		err = EINVAL;
	else if ((classes & SHLIBLOCK) && !dynamic())
		err = EINVAL;
	else
		err = lock(classes, flags);
	pthread_mutex_unlock(&mu);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int plock(int op)
{
	return plock_flags(op, 0);
}

int plock_state(void)
{
	int s;

	pthread_mutex_lock(&mu);
	s = state;
	pthread_mutex_unlock(&mu);
	return s & PL_ALL;
}

/*
 * Provisional: plock_ctl for the caller only, with the reason worked out
 * after the fact.  Replaced by the engine that decides the reason where it
 * decides the outcome.
 */
int plock_ctl(int pid, int op, int flags, struct plock_reason *why)
{
	int before = plock_state(), r, err;

	if (pid != 0) {
		err = ENOSYS;
		r = -1;
	} else {
		r = plock_flags(op, flags & ~PLOCK_AT_ENTRY);
		err = r == 0 ? 0 : errno;
	}
	if (why != NULL) {
		memset(why, 0, sizeof *why);
		why->op = op;
		why->err = err;
		why->classes = op_classes(op) < 0 ? 0 : op_classes(op);
		why->memlock = PLOCK_UNLIMITED;
		if (err == 0)
			why->why = PLOCK_WHY_NONE;
		else if (pid != 0)
			why->why = PLOCK_WHY_UNSUPPORTED;
		else if (err == EINVAL && op_classes(op) < 0)
			why->why = PLOCK_WHY_BADOP;
		else if (err == EINVAL && op == UNLOCK)
			why->why = PLOCK_WHY_NOTHING;
		else if (err == EINVAL && (op_classes(op) & before)) {
			why->why = PLOCK_WHY_LOCKED;
			why->classes = op_classes(op) & before;
		} else if (err == EINVAL)
			why->why = PLOCK_WHY_NOSHLIB;
		else if (err == EPERM)
			why->why = PLOCK_WHY_ZEROLIMIT;
		else if (err == ENOMEM)
			why->why = PLOCK_WHY_LIMIT;
		else
			why->why = PLOCK_WHY_SYSTEM;
	}
	if (r != 0)
		errno = err;
	return r;
}

const char *plock_why_name(int why)
{
	static const char *const names[PLOCK_WHY_NREASON] = {
		"none", "badop", "locked", "nothing", "noshlib", "vfork", "strict",
		"zerolimit", "limit", "nomem", "noproc", "gone", "ptrace",
		"unsupported", "system",
	};

	if (why < 0 || why >= PLOCK_WHY_NREASON)
		return "?";
	return names[why];
}
