/*
 * <plock.h> - the extended interface of libplock.
 *
 * <sys/lock.h> is the portable System V interface: plock(op).  This header
 * adds what Linux needs on top of it: the lock state, a strict variant of
 * plock() for runtimes that cannot survive a failed mmap, and the one
 * classification of a process's mappings into segments that plock() itself
 * uses, so that a caller can see exactly what plock() locks.
 *
 * Every function is safe to call from any thread.  None of them is
 * async-signal-safe.  See plock(3).
 */
#ifndef _PLOCK_H
#define _PLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/lock.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * plock_state returns what plock() has locked in this process: 0, or an OR
 * of TXTLOCK, DATLOCK and SHLIBLOCK.  (TXTLOCK|DATLOCK is what PROCLOCK
 * makes.)  It makes no system call and cannot fail.
 */
int plock_state(void);

/*
 * Flags for plock_flags().
 *
 * PLOCK_STRICT_FUTURE: a data lock (DATLOCK, PROCLOCK and their SHLIBLOCK
 * forms) fails with ENOMEM, changing nothing, when the process lacks
 * CAP_IPC_LOCK and its RLIMIT_MEMLOCK is finite.  A data lock turns on
 * mlockall(MCL_FUTURE), after which Linux counts every new mapping against
 * RLIMIT_MEMLOCK; a runtime that aborts when mmap fails (Go's does) would
 * die at its next heap growth.  With a limit of 0 the call fails with EPERM,
 * as plock() does.
 */
#define PLOCK_STRICT_FUTURE	1

/*
 * plock_flags is plock(op) with flags (0 or PLOCK_STRICT_FUTURE).
 * plock_flags(op, 0) is plock(op).  Unknown flags give EINVAL.
 */
int plock_flags(int op, int flags);

/* The class of a mapping: what plock() does with it. */
#define PLOCK_SEG_OTHER		0	/* never locked by plock() */
#define PLOCK_SEG_TEXT		1	/* main program, not writable: TXTLOCK */
#define PLOCK_SEG_DATA		2	/* main program writable, heap, anonymous: DATLOCK */
#define PLOCK_SEG_STACK		3	/* the main thread's [stack]: DATLOCK */
#define PLOCK_SEG_SHLIB_TEXT	4	/* shared object, not writable: SHLIBLOCK */
#define PLOCK_SEG_SHLIB_DATA	5	/* shared object, writable: SHLIBLOCK */
#define PLOCK_SEG_NCLASS	6

/* Bits of plock_segment.prot. */
#define PLOCK_PROT_READ		1
#define PLOCK_PROT_WRITE	2
#define PLOCK_PROT_EXEC		4
#define PLOCK_PROT_SHARED	8	/* a MAP_SHARED mapping */

/* One mapping of a process, as /proc/PID/smaps shows it, with its class. */
struct plock_segment {
	uintptr_t start;	/* first address */
	uintptr_t end;		/* one past the last address */
	uint64_t offset;	/* offset in the file */
	uint64_t inode;		/* 0 for anonymous memory */
	unsigned int dev_major;
	unsigned int dev_minor;
	int seg_class;		/* PLOCK_SEG_* */
	int prot;		/* PLOCK_PROT_* */
	int locked;		/* 1 if the mapping is locked (VmFlags "lo") */
	int lock_on_fault;	/* 1 if plock() locks it on fault, 0 if eagerly */
	uint64_t size;		/* end - start */
	uint64_t resident;	/* bytes resident (Rss) */
	uint64_t locked_bytes;	/* bytes resident and locked */
	const char *path;	/* file, [heap], [stack], ... or "" (anonymous);
				   points into the block plock_segments returned */
};

/*
 * plock_segments lists the mappings of process pid (0 for the caller), in
 * address order, classified as plock() classifies them.  It returns one block
 * from malloc() holding *count entries and their paths; release it with
 * free().  On failure it returns NULL with errno set: ESRCH (no such
 * process), EACCES or EPERM (the caller may not read the process's
 * /proc/PID/smaps), ENOMEM, or EIO (/proc said something this library does
 * not understand).
 */
struct plock_segment *plock_segments(int pid, size_t *count);

/* plock_segment_class_name returns "text", "data", "stack", "shlib-text",
 * "shlib-data" or "other", and "?" for a value out of range. */
const char *plock_segment_class_name(int seg_class);

#define PLOCK_UNLIMITED	UINT64_MAX

/* What limits locking in a process. */
struct plock_status {
	int state;		/* plock_state() for the caller; -1 for another process */
	int future;		/* 1: memory mapped later is locked (MCL_FUTURE, from
				   a data lock or the caller's own mlockall);
				   0: it is not; -1: unknown (another process, or
				   the caller at vm.max_map_count) */
	int cap_ipc_lock;	/* 1 if the process has CAP_IPC_LOCK in effect */
	uint64_t vmlck;		/* bytes the kernel counts as locked (VmLck) */
	uint64_t memlock_cur;	/* RLIMIT_MEMLOCK soft limit, or PLOCK_UNLIMITED */
	uint64_t memlock_max;	/* RLIMIT_MEMLOCK hard limit, or PLOCK_UNLIMITED */
	uint64_t headroom;	/* bytes it may still lock: memlock_cur - vmlck,
				   or PLOCK_UNLIMITED with CAP_IPC_LOCK or no limit */
};

/*
 * plock_status fills *st for process pid (0 for the caller).  It returns 0,
 * or -1 with errno set as for plock_segments().
 */
int plock_status(int pid, struct plock_status *st);

#ifdef __cplusplus
}
#endif

#endif /* _PLOCK_H */
