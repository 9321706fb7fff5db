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
 * plock_op_classes returns the classes op locks, as an OR of TXTLOCK,
 * DATLOCK and SHLIBLOCK (0 for UNLOCK; PROCLOCK is TXTLOCK|DATLOCK), or -1
 * if op is no op of <sys/lock.h>.  The library's one table of the ops.
 */
int plock_op_classes(int op);

/*
 * plock_state returns what plock() has locked in this process: 0, or an OR
 * of TXTLOCK, DATLOCK and SHLIBLOCK.  (TXTLOCK|DATLOCK is what PROCLOCK
 * makes.)  It makes no system call and cannot fail.
 */
int plock_state(void);

/*
 * plock_handoff is how a tracer that locks this process from outside
 * (cplock run, cplock lock and unlock: plock_ctl with a pid) tells the
 * library what it did, so that the process has one plock state: the
 * library's.  The tracer finds the symbol in the process's libplock (or in
 * its executable, linked statically), and writes it through
 * /proc/PID/mem, in one aligned 64-bit store: the process's pid in the high
 * 32 bits, and in the low bits PLOCK_HANDOFF_RESET (everything was
 * unlocked, munlockall()) and/or the classes locked (TXTLOCK, DATLOCK,
 * SHLIBLOCK).  The library takes it into its state at its next plock()
 * or plock_state() (with no system call), if the pid is its own process's
 * (a fork child's copy is not), and clears it.  A program never writes it.
 */
extern volatile uint64_t plock_handoff;
#define PLOCK_HANDOFF_RESET	0x100

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

/*
 * Why a call failed: plock_ctl() fills a struct plock_reason, so that a
 * caller can say what happened and what would make the call succeed
 * without asking the kernel again.  Each value names the errno it comes
 * with.
 */
#define PLOCK_WHY_NONE		0	/* the call succeeded */
#define PLOCK_WHY_BADOP		1	/* EINVAL: op is no <sys/lock.h> op, or flags unknown */
#define PLOCK_WHY_LOCKED	2	/* EINVAL: .classes are locked already */
#define PLOCK_WHY_NOTHING	3	/* EINVAL: UNLOCK, and nothing is locked */
#define PLOCK_WHY_NOSHLIB	4	/* EINVAL: a shlib op, and the process has no
					   shared objects (static, nothing dlopen()ed) */
#define PLOCK_WHY_VFORK		5	/* EINVAL: called between vfork() (or
					   clone(CLONE_VM)) and exec, in memory that
					   belongs to the parent */
#define PLOCK_WHY_STRICT	6	/* ENOMEM: PLOCK_STRICT_FUTURE refused a data
					   lock under a finite .memlock without
					   CAP_IPC_LOCK */
#define PLOCK_WHY_ZEROLIMIT	7	/* EPERM: RLIMIT_MEMLOCK is 0 and the process
					   lacks CAP_IPC_LOCK */
#define PLOCK_WHY_LIMIT		8	/* ENOMEM: .need bytes do not fit under
					   RLIMIT_MEMLOCK .memlock */
#define PLOCK_WHY_NOMEM		9	/* ENOMEM: no limit applies, but the system
					   could not lock .need bytes */
#define PLOCK_WHY_NOPROC	10	/* ENOENT, EACCES...: /proc/PID/maps of the
					   process could not be opened (no /proc) */
#define PLOCK_WHY_GONE		11	/* ESRCH: no such process, or it exited */
#define PLOCK_WHY_PTRACE	12	/* EPERM: the kernel refused to trace the
					   process (other user without
					   CAP_SYS_PTRACE, Yama ptrace_scope, seccomp,
					   or traced by another tracer already) */
#define PLOCK_WHY_UNSUPPORTED	13	/* ENOSYS: locking another process is not
					   supported on this architecture yet */
#define PLOCK_WHY_SYSTEM	14	/* .err from the kernel, none of the above */
#define PLOCK_WHY_SECCOMP	15	/* EPERM: the process's seccomp filter forbids
					   system call .detail, which the lock needs
					   (nothing was made); .detail -1: it has a
					   filter that the caller may not read
					   (CAP_SYS_ADMIN), see PLOCK_SECCOMP_UNCHECKED */
#define PLOCK_WHY_EXEC		16	/* ESRCH: the process executed a new program
					   during the call; its locks went with the
					   old one */
#define PLOCK_WHY_NREASON	17

/*
 * Why the kernel refused to trace another process (plock_reason.cause, with
 * PLOCK_WHY_PTRACE), as far as the caller can tell from /proc and its own
 * credentials, checked in the kernel's order.
 */
#define PLOCK_PTRACE_UNKNOWN	0	/* none of the below: a security module? */
#define PLOCK_PTRACE_SELF	1	/* pid is the caller's own process */
#define PLOCK_PTRACE_KTHREAD	2	/* a kernel thread: no memory to lock */
#define PLOCK_PTRACE_EXITING	3	/* the process is exiting (a zombie) */
#define PLOCK_PTRACE_TRACED	4	/* traced already; .detail: the tracer's pid */
#define PLOCK_PTRACE_OTHER_USER	5	/* another user or group, and the caller
					   lacks CAP_SYS_PTRACE */
#define PLOCK_PTRACE_CAPS	6	/* it has capabilities the caller lacks,
					   and the caller lacks CAP_SYS_PTRACE */
#define PLOCK_PTRACE_NODUMP	7	/* not dumpable (a setuid or file-capability
					   program, or PR_SET_DUMPABLE 0), and the
					   caller lacks CAP_SYS_PTRACE */
#define PLOCK_PTRACE_YAMA	8	/* Yama: .detail is kernel.yama.ptrace_scope */
#define PLOCK_PTRACE_SECCOMP	9	/* the caller runs under a seccomp filter */
#define PLOCK_PTRACE_NCAUSE	10

/* Bits of plock_reason.flags. */
#define PLOCK_REASON_ROLLBACK	1	/* the kernel refused a step of the rollback
					   itself: see .unrestored */

struct plock_reason {
	int why;		/* PLOCK_WHY_* */
	int err;		/* the errno of the call; 0 if it succeeded */
	int op;			/* the op of the call */
	int classes;		/* LOCKED: the classes in the way; otherwise
				   the classes op locks (TXTLOCK|DATLOCK|SHLIBLOCK) */
	int flags;		/* PLOCK_REASON_* */
	int cap_ipc_lock;	/* 1 if the process has CAP_IPC_LOCK */
	int cause;		/* PTRACE: PLOCK_PTRACE_* */
	int detail;		/* PTRACE: the tracer's pid (TRACED), or
				   ptrace_scope (YAMA) */
	uint64_t need;		/* ZEROLIMIT, LIMIT, NOMEM, STRICT: the bytes
				   RLIMIT_MEMLOCK must allow: VmLck plus every
				   mapping op would lock that is not locked */
	uint64_t vmlck;		/* VmLck before the call, in bytes */
	uint64_t memlock;	/* RLIMIT_MEMLOCK soft limit, or PLOCK_UNLIMITED */
	uint64_t unrestored;	/* ROLLBACK: bytes that were locked before the
				   call and are not locked any more */
};

/*
 * Flag of plock_ctl() for a process started by the caller: pid is a child
 * that the calling thread traces (PTRACE_TRACEME) and that is stopped at its
 * execve().  plock_ctl() runs it to its entry point, where the dynamic loader
 * has mapped its shared objects and no instruction of the program has run,
 * locks it there and detaches from it, running.  If the lock fails, the
 * child stays stopped there, traced by the calling thread, which kills it
 * (the program never ran) or detaches from it (it runs unlocked).
 *
 * Start the child with SIGTRAP ignored and PR_SET_PDEATHSIG SIGKILL: then,
 * if the caller dies before the child's entry point, the child dies with
 * it, before any instruction of the program (the exec of a PTRACE_TRACEME
 * child is reported by a SIGTRAP, which would otherwise kill it with a core
 * dump).  plock_ctl() sets both back (SIGTRAP's default action, no
 * parent-death signal) before it lets the child go or holds it.
 */
#define PLOCK_AT_ENTRY		2

/*
 * Flag of plock_ctl() for another process whose seccomp filter the caller
 * cannot read (it lacks CAP_SYS_ADMIN): go on as if the filter allowed the
 * calls.  Without it such a call fails with PLOCK_WHY_SECCOMP.  A filter
 * that kills on mlock2 then kills the process.
 */
#define PLOCK_SECCOMP_UNCHECKED	4

/*
 * Flags of plock_ctl() for a tracer that follows a program through its
 * execs and forks (cplock run).  PLOCK_TRACED: the calling thread traces
 * pid already (PTRACE_SEIZE, its only thread) and holds it in a ptrace-stop
 * at the start of a new program (an exec; with PLOCK_AT_ENTRY: run it to
 * its entry point first) or of a fork child (its first stop, before its
 * first instruction).  After the call, whether it succeeded or not, pid has
 * its own registers and is still stopped and traced by the calling thread,
 * with the options PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC |
 * PTRACE_O_TRACECLONE, and with PLOCK_FOLLOW PTRACE_O_TRACEFORK |
 * PTRACE_O_TRACEVFORK too; while the call runs, PTRACE_O_EXITKILL is on as
 * well, so that a process that cannot be locked before its first
 * instruction dies with the caller, and never after.  PLOCK_STARTED: pid
 * was started as PLOCK_AT_ENTRY says (SIGTRAP ignored, a parent-death
 * signal): both are set back before the call returns.
 */
#define PLOCK_TRACED		8
#define PLOCK_FOLLOW		16
#define PLOCK_STARTED		32

/*
 * plock_ctl applies op to process pid, with flags (PLOCK_STRICT_FUTURE,
 * PLOCK_AT_ENTRY), and says in *why (which may be NULL) why it failed.
 *
 * pid 0 is the caller: plock_ctl(0, op, flags, NULL) is plock_flags(op,
 * flags).  Any other pid is another process, which Linux lets no one lock
 * but itself: plock_ctl stops it with ptrace(2), makes it execute the
 * mlock2(), mlockall() and munlockall() calls, restores it and lets it go.
 * That needs permission to trace it (same user and ptrace allowed, or
 * CAP_SYS_PTRACE); the locks count against the process's own RLIMIT_MEMLOCK
 * and CAP_IPC_LOCK.  Another process has no plock state: an op locks the
 * classes it names that are not locked yet, and UNLOCK removes every lock
 * of the process (munlockall()).  A failed call changes nothing in it.
 *
 * Returns 0, or -1 with errno set.
 */
int plock_ctl(int pid, int op, int flags, struct plock_reason *why);

/*
 * plock_traceme_refusal is for a caller whose start of a child for
 * PLOCK_AT_ENTRY failed with EPERM, the error of the child's
 * PTRACE_TRACEME (a seccomp filter, Yama, or a tracer that follows forks
 * attached to the child first): it fills *why as plock_ctl(child, op, ...)
 * would have, PLOCK_WHY_PTRACE with its cause, and returns the cause;
 * PLOCK_PTRACE_UNKNOWN if none is seen (then the EPERM may have been
 * execve's own).
 */
int plock_traceme_refusal(int op, struct plock_reason *why);

/* plock_syscall_name returns the name of system call nr, for the calls the
 * lock makes ("mlock2", "mlockall", ...), and "?" for any other. */
const char *plock_syscall_name(int nr);

/* plock_why_name returns the name of a PLOCK_WHY_* value without its
 * prefix, in lower case ("locked", "limit", ...), and "?" out of range. */
const char *plock_why_name(int why);

#ifdef __cplusplus
}
#endif

#endif /* _PLOCK_H */
