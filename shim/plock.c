/*
 * plock(2) for Linux: the per-process lock state, the EINVAL rules, and the
 * entry points.  The locking itself is the engine's (engine.c).
 *
 * The state is a set of {text, data, shlib}, kept as an OR of TXTLOCK,
 * DATLOCK and SHLIBLOCK.  A call that would lock a class already locked is
 * EINVAL, decided from the state alone before any system call.
 *
 * "This process".  The state belongs to the process whose memory it
 * describes, and three kinds of child share or copy that memory:
 *
 *  - fork() and a raw fork system call copy it: the child must start with
 *    no state, and a raw fork runs no pthread_atfork handler;
 *  - vfork() and clone(CLONE_VM) share it: until the child execs or exits,
 *    a call from it must fail and change nothing in the parent.
 *
 * So the state lives in one page advised MADV_WIPEONFORK (Linux 4.14),
 * which reads zero in the child of every real fork and is shared with a
 * vfork child.  Zero is an unlocked mutex, no state and no owner: a fork
 * child starts clean without any handler.  The page also holds the owner's
 * pid, set at load time and by the atfork child handler; a call that is
 * about to make system calls compares it with getpid(), which differs in a
 * vfork child.  The EINVAL path reads the page and makes no system call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK	18
#endif

struct self {
	pthread_mutex_t mu;
	pid_t owner;		/* the process this memory belongs to; 0: not yet known */
	int state;		/* guarded by mu */
	struct pl_snapshot user; /* what the program had locked before its first lock */
};

/*
 * Where the kernel has no MADV_WIPEONFORK: static memory, reset by the
 * atfork handlers; a raw fork child and a vfork child cannot be told apart
 * there.
 */
static struct self fallback = { PTHREAD_MUTEX_INITIALIZER, 0, 0, { NULL, 0, 0, 0 } };
static struct self *me = &fallback;

volatile uint64_t plock_handoff;
static int wiped_on_fork;
static int init_err;

/*
 * A child drops the state it found: the snapshot's array is the parent's,
 * not ours to free.
 */
static void forget(void)
{
	me->state = 0;
	me->user.r = NULL;
	pl_snapshot_free(&me->user);
}

static void atfork_prepare(void)
{
	if (!wiped_on_fork)
		pthread_mutex_lock(&me->mu);
}

static void atfork_parent(void)
{
	if (!wiped_on_fork)
		pthread_mutex_unlock(&me->mu);
}

static void atfork_child(void)
{
	if (!wiped_on_fork) {
		forget();
		pthread_mutex_unlock(&me->mu);
	}
	me->owner = getpid();
}

/*
 * Set up when the library is loaded, before any thread can call plock: the
 * page, its owner, and the fork handlers (registered later, a fork while
 * another thread holds mu would give the child mu locked, and registering
 * at the first call would cost that call a malloc).
 */
__attribute__((constructor)) static void init(void)
{
	static const pthread_mutex_t unlocked = PTHREAD_MUTEX_INITIALIZER;
	static const char zero[sizeof(pthread_mutex_t)];
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	/* The wiped page holds an unlocked mutex only if that is all zeros. */
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		if (memcmp(&unlocked, zero, sizeof zero) == 0 &&
		    madvise(p, (size_t)page, MADV_WIPEONFORK) == 0) {
			me = p;
			wiped_on_fork = 1;
		} else {
			munmap(p, (size_t)page);
		}
	}
	me->owner = getpid();
	init_err = pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/*
 * Whether the caller is the process whose memory this is: not a vfork or
 * CLONE_VM child.  Costs one getpid(); called only on the way to system
 * calls.  A child of a raw fork system call finds the page wiped and takes
 * it.
 */
static int owner(void)
{
	pid_t pid = getpid();

	if (me->owner == 0 || !wiped_on_fork) {
		/* A raw fork child; without the page, maybe a vfork child too. */
		if (me->owner != pid)
			forget();
		me->owner = pid;
	}
	return me->owner == pid;
}

/*
 * What a tracer locked in this process from outside (<plock.h>): taken into
 * the state under mu, if it names this process.  A fork child finds the
 * parent's pid there (its copy of the word is the parent's) and its owner
 * set to its own: it takes nothing, and its locks were not inherited.  Only
 * memory is read: no system call.
 */
static void take_handoff(void)
{
	uint64_t h = __atomic_load_n(&plock_handoff, __ATOMIC_ACQUIRE);

	if (h == 0)
		return;
	if ((pid_t)(h >> 32) == me->owner && me->owner != 0) {
		if (h & PLOCK_HANDOFF_RESET) {
			/* munlockall() in it: nothing of before is locked any more */
			me->state = 0;
			pl_snapshot_free(&me->user);
		}
		me->state |= (int)(h & PL_ALL_CLASSES);
	}
	/* A tracer's later word is not lost: it is taken next time. */
	(void)__atomic_compare_exchange_n(&plock_handoff, &h, (uint64_t)0, 0, __ATOMIC_ACQ_REL,
					  __ATOMIC_RELAXED);
}

static const struct pl_proc caller = { 0, NULL };

/*
 * The classes op locks; or -1, why saying BADOP, if op is no op of
 * <sys/lock.h> or flags has one that is not in allowed.
 */
static int op_classes(int op, int flags, int allowed, struct plock_reason *why)
{
	int classes = plock_op_classes(op);

	if (classes < 0 || (flags & ~allowed) != 0) {
		why->why = PLOCK_WHY_BADOP;
		return -1;
	}
	why->classes = classes;
	return classes;
}

/*
 * A call of the engine that locks classes in p, which has held locked
 * already; before, emptied here, gets what was locked before it.
 */
static void call_init(struct pl_call *c, const struct pl_proc *p, int classes, int flags,
		      int held, struct pl_snapshot *before, struct plock_reason *why)
{
	memset(before, 0, sizeof *before);
	c->p = p;
	c->classes = classes;
	c->flags = flags & PLOCK_STRICT_FUTURE;
	c->held = held;
	c->before = before;
	c->why = why;
}

static int self_lock(int classes, int flags, struct plock_reason *why)
{
	struct pl_snapshot before;
	struct pl_call c;
	int err, still;

	call_init(&c, &caller, classes, flags, me->state, &before, why);
	err = pl_lock(&c);
	if (err == 0) {
		if (me->state == 0) {
			/* What the program locked itself: UNLOCK keeps it. */
			pl_snapshot_free(&me->user);
			me->user = before;
			before.r = NULL;
		} else if (classes & DATLOCK) {
			/* Its own MCL_FUTURE, which a data lock replaces. */
			me->user.future = before.future;
		}
		me->state |= classes;
	} else if ((why->flags & PLOCK_REASON_ROLLBACK) && me->state != 0 &&
		   pl_locked_classes(&caller, me->state, &still) == 0) {
		/* The kernel refused the rollback: the state says what is true. */
		me->state = still;
	}
	pl_snapshot_free(&before);
	return err;
}

static int self_unlock(struct plock_reason *why)
{
	int err;

	/*
	 * Without a data lock, plock never touched MCL_FUTURE: whatever is on
	 * now is the program's own, and munlockall() would end it.
	 */
	if (!(me->state & DATLOCK) && pl_future_mode(&caller, &me->user.future) != 0)
		me->user.future = PL_FUTURE_OFF;
	err = pl_unlock(&caller, &me->user, why);
	if (err == 0) {
		me->state = 0;
		pl_snapshot_free(&me->user);
	}
	return err;
}

static int self_call(int op, int flags, struct plock_reason *why)
{
	int classes = op_classes(op, flags, PLOCK_STRICT_FUTURE, why), err;

	if (classes < 0)
		return EINVAL;
	if (init_err != 0)
		return init_err;
	pthread_mutex_lock(&me->mu);
	take_handoff();
	if (op == UNLOCK && me->state == 0) {
		why->why = PLOCK_WHY_NOTHING;
		err = EINVAL;
	} else if ((classes & me->state) != 0) {
		why->why = PLOCK_WHY_LOCKED;
		why->classes = classes & me->state;
		err = EINVAL;
	} else if ((classes & SHLIBLOCK) && !pl_has_shlibs(&caller, NULL)) {
		why->why = PLOCK_WHY_NOSHLIB;
		err = EINVAL;
	} else if (!owner()) {
		why->why = PLOCK_WHY_VFORK;
		err = EINVAL;
	} else if (op == UNLOCK) {
		err = self_unlock(why);
	} else {
		err = self_lock(classes, flags, why);
	}
	pthread_mutex_unlock(&me->mu);
	return err;
}

/* Another process, through ptrace: no state; UNLOCK is munlockall(). */
static int other_call(pid_t pid, int op, int flags, struct plock_reason *why)
{
	struct pl_snapshot before;
	struct pl_proc p = { pid, NULL };
	struct pl_call c;
	int classes = op_classes(op, flags, PLOCK_STRICT_FUTURE | PLOCK_AT_ENTRY | PLOCK_TRACED |
				 PLOCK_FOLLOW | PLOCK_STARTED | PLOCK_SECCOMP_UNCHECKED, why), err;
	long nr;

	if (classes < 0)
		return EINVAL;
	if (pid < 0) {
		why->why = PLOCK_WHY_GONE;
		return ESRCH;
	}
	if ((err = pl_remote_attach(pid, flags, &p.remote)) != 0) {
		long detail = 0;

		if (err == PL_EEXEC) {
			why->why = PLOCK_WHY_EXEC;
			return ESRCH;
		}
		why->why = err == ESRCH ? PLOCK_WHY_GONE : err == EPERM ? PLOCK_WHY_PTRACE :
			   err == ENOSYS ? PLOCK_WHY_UNSUPPORTED : PLOCK_WHY_SYSTEM;
		if (err == EPERM) {
			why->cause = pl_remote_refusal(pid, &detail);
			why->detail = (int)detail;
		}
		return err;
	}
	/* A call its seccomp filter forbids is never made: refused before the first. */
	nr = pl_remote_filtered(p.remote) && !(flags & PLOCK_SECCOMP_UNCHECKED) ? -1 :
	     pl_sys_forbidden(&p);
	call_init(&c, &p, classes, flags, 0, &before, why);
	if (nr != 0) {
		why->why = PLOCK_WHY_SECCOMP;
		why->detail = (int)nr;
		err = EPERM;
	} else if (op != UNLOCK && (flags & PLOCK_TRACED) && (flags & PLOCK_AT_ENTRY) &&
		   ((err = pl_lock_feasible(&c)) != 0 || (err = pl_remote_enter(p.remote)) != 0)) {
		/*
		 * Held at its exec stop, before its dynamic loader: what can be
		 * known to fail is refused there, before any code of the new
		 * program (a library's constructor) runs.
		 */
	} else if (op == UNLOCK) {
		err = pl_unlock(&p, NULL, why);
	} else {
		err = pl_lock(&c);
		pl_snapshot_free(&before);
	}
	if (err == ESRCH && pl_remote_execed(p.remote))
		why->why = PLOCK_WHY_EXEC;
	/* The process's own libplock, if any, takes this as its own state. */
	if (err == 0)
		pl_handoff_tell(&p, classes, op == UNLOCK);
	/* A program that failed to lock at its entry point has not run yet. */
	if (err != 0 && (flags & (PLOCK_AT_ENTRY | PLOCK_TRACED)))
		pl_remote_hold(p.remote);
	else
		pl_remote_detach(p.remote);
	return err;
}

/* A reason for op, before anything is known. */
static void reason_init(struct plock_reason *why, int op)
{
	memset(why, 0, sizeof *why);
	why->op = op;
	why->memlock = PLOCK_UNLIMITED;
}

int plock_ctl(int pid, int op, int flags, struct plock_reason *why)
{
	struct plock_reason local;
	int err;

	if (why == NULL)
		why = &local;
	reason_init(why, op);
	err = pid == 0 ? self_call(op, flags, why) : other_call(pid, op, flags, why);
	if (err == 0) {
		why->why = PLOCK_WHY_NONE;
		return 0;
	}
	why->err = err;
	if (why->why == PLOCK_WHY_NONE)
		why->why = PLOCK_WHY_SYSTEM;
	errno = err;
	return -1;
}

int plock_traceme_refusal(int op, struct plock_reason *why)
{
	int classes = plock_op_classes(op);
	long detail = 0;

	reason_init(why, op);
	why->classes = classes < 0 ? 0 : classes;
	why->err = EPERM;
	why->why = PLOCK_WHY_PTRACE;
	why->cause = pl_traceme_refusal(&detail);
	why->detail = (int)detail;
	return why->cause;
}

int plock_flags(int op, int flags)
{
	return plock_ctl(0, op, flags, NULL);
}

int plock(int op)
{
	return plock_ctl(0, op, 0, NULL);
}

int plock_state(void)
{
	int s;

	pthread_mutex_lock(&me->mu);
	take_handoff();
	s = me->state;
	pthread_mutex_unlock(&me->mu);
	return s & PL_ALL_CLASSES;
}
