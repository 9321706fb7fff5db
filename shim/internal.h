/*
 * Internal interfaces of libplock.  Not installed.
 *
 * Convention: internal functions return 0 or a positive errno value and
 * never touch errno themselves; the public entry points turn that value
 * into errno in one place.  Two values are not errnos: PL_EGONE, "the
 * range is no longer (wholly) mapped", which plock() does not report, and
 * PL_ENOFAULT below, which only the engine sees.
 */
#ifndef PLOCK_INTERNAL_H
#define PLOCK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../include/plock.h"

#define PL_EGONE	(-1)
/*
 * From pl_mlock() without mlock2: plain mlock said ENOMEM for a range asked
 * to be locked on fault.  On a PROT_NONE mapping the kernel sets the lock
 * and then fails to fault the pages in; it may also be the limit.
 */
#define PL_ENOFAULT	(-2)
/* From pl_remote_attach(): the process executed a new program meanwhile. */
#define PL_EEXEC	(-3)

/* What a mapping's name says it is. */
enum {
	PL_ANON,	/* no name, or [anon:NAME] */
	PL_FILE,	/* a file (path) */
	PL_HEAP,	/* [heap] */
	PL_STACK,	/* [stack] */
	PL_SPECIAL	/* [vdso], [vvar], [vsyscall], ... */
};

/* One line (maps) or entry (smaps) of /proc/PID/maps. */
struct pl_map {
	uintptr_t start, end;
	uint64_t offset, inode;
	uint64_t rss;		/* bytes; smaps only */
	unsigned int major, minor;
	unsigned char prot;	/* PLOCK_PROT_* */
	unsigned char kind;	/* PL_ANON ... */
	unsigned char lo;	/* VmFlags has "lo"; smaps only */
	unsigned char lf;	/* VmFlags has "lf" (locked on fault); smaps only */
	unsigned char nolock;	/* VmFlags says the kernel never locks it: "dp"
				   (MAP_DROPPABLE), "io", "pf" (device memory);
				   smaps only */
	unsigned char seg;	/* PLOCK_SEG_*, set by pl_classify() */
	size_t path;		/* offset of the NUL-terminated name in strs */
};

/* A file, as the classifier knows it: by device and inode. */
struct pl_file_id {
	uint64_t inode;
	unsigned int major, minor;
};

/* All mappings of a process, in address order. */
struct pl_table {
	struct pl_map *map;
	size_t n, cap;
	char *strs;		/* names, when PL_PATHS was asked for */
	size_t slen, scap;
	char *line;		/* the parser's line buffer, kept for the next read */
	int flags;
	struct pl_file_id *ids;	/* the classifier's scratch, kept likewise */
	size_t idcap;
};

#define PL_TABLE_INIT	{ NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL, 0 }

/* Flags of pl_table_read() and pl_parser_init(). */
#define PL_SMAPS	1	/* read smaps: Rss and VmFlags too */
#define PL_PATHS	2	/* keep the names */

/*
 * A line parser that takes its input in pieces of any size, in fixed
 * memory.  A line is kept whole up to PL_LINE_MAX bytes; past that, only a
 * mapping's name can go on (a path may be longer than any buffer): its bytes
 * go straight to the names, and its kind is known from its first bytes and
 * its length.  Any other longer line is cut at PL_LINE_MAX.
 */
#define PL_LINE_MAX	4096
#define PL_NAME_HEAD	8	/* what name_kind() needs of a name */
struct pl_parser {
	struct pl_table *t;
	char *line;		/* PL_LINE_MAX bytes, owned by t */
	size_t len;
	int in_entry;		/* a header line has been seen */
	int mode;		/* PL_WHOLE, PL_NAME or PL_CUT: see maps.c */
	size_t name_len;	/* the name so far, in PL_NAME */
	char name_head[PL_NAME_HEAD];
};

int pl_parser_init(struct pl_parser *p, struct pl_table *t, int flags);
int pl_parser_feed(struct pl_parser *p, const char *buf, size_t n);
int pl_parser_end(struct pl_parser *p);
void pl_parser_free(struct pl_parser *p);

/*
 * maps.c: makes room for need elements of size bytes in the array *p of
 * *cap elements, doubling it (from 64): 0 or ENOMEM, and *p as it was.
 * The one place an array grows; it allocates only when need > *cap.
 */
int pl_grow(void **p, size_t *cap, size_t need, size_t size);

/* maps.c: read /proc/PID/maps or smaps (pid 0: the caller). */
int pl_table_read(struct pl_table *t, pid_t pid, int flags);
void pl_table_free(struct pl_table *t);
int pl_table_reserve(struct pl_table *t, size_t extra);
const char *pl_map_path(const struct pl_table *t, const struct pl_map *m);

/* classify.c: set every map's seg.  phdr is the program's AT_PHDR. */
int pl_classify(struct pl_table *t, uintptr_t phdr);
int pl_lock_on_fault(const struct pl_map *m);
struct pl_proc;
/*
 * Whether process p has shared-library segments (SHLIBLOCK is EINVAL
 * without): for the caller, its loader's list says so without a system
 * call; t, read and classified (NULL: not read yet), says so for any.
 */
int pl_has_shlibs(const struct pl_proc *p, const struct pl_table *t);

/* procfs.c: other facts about a process (pid 0: the caller). */
/* pid as they take it: 0 for the caller, named by 0 or by its own pid. */
pid_t pl_proc_pid(pid_t pid);
/* /proc/PID/task/TID/FILE, or /proc/PID/FILE for tid 0, in path[64]. */
void pl_proc_path(pid_t pid, pid_t tid, const char *file, char path[64]);
int pl_proc_phdr(pid_t pid, uintptr_t *phdr);
int pl_proc_vmlck(pid_t pid, uint64_t *bytes);
int pl_proc_memlock(pid_t pid, uint64_t *cur, uint64_t *max);
int pl_proc_cap_ipc_lock(pid_t pid, int *has);
int pl_proc_cap(pid_t pid, int cap, int *has);
/*
 * The text after "key:" in the status of process pid (tid 0) or of its
 * thread tid, up to the end of the line; pl_proc_status_long is it as a
 * number (dflt if absent).  pl_proc_state is a thread's state letter (R, S,
 * D, T, t, Z, X; tid 0: the main thread), or 0 if it is gone.
 */
int pl_proc_status(pid_t pid, pid_t tid, const char *key, char *out, size_t n);
long pl_proc_status_long(pid_t pid, pid_t tid, const char *key, long dflt);
char pl_proc_state(pid_t pid, pid_t tid);
/* Whether every thread of pid has exited: a zombie, or gone. */
int pl_proc_exiting(pid_t pid);
/* Whether a thread in state (pl_proc_state's letter) runs on: not gone, Z or X. */
int pl_proc_live(char state);
/*
 * The stat of thread tid of pid (tid 0: of the process) in buf, and in
 * *rest its fields after the command name: the state letter first.
 * Returns 0, the errno of the read, or EIO.
 */
int pl_proc_stat(pid_t pid, pid_t tid, char *buf, size_t size, const char **rest);
/*
 * The threads of pid, as /proc/PID/task lists them: pl_tasks_open (0 or an
 * errno), then pl_tasks_next until it returns 0 (with state not NULL, the
 * thread's state letter too, 0 if it is gone), then pl_tasks_close.  A
 * thread may exit, and another start, during the listing.
 */
struct pl_tasks {
	void *dir;		/* DIR * */
	pid_t pid;
};
int pl_tasks_open(struct pl_tasks *it, pid_t pid);
pid_t pl_tasks_next(struct pl_tasks *it, char *state);
void pl_tasks_close(struct pl_tasks *it);
int pl_proc_open(pid_t pid, const char *file, int mode, int *fd);
int pl_proc_errno(pid_t pid, int err);
int pl_proc_auxv(pid_t pid, unsigned long type, uintptr_t *value);
int pl_read_file(const char *path, char *buf, size_t size, size_t *len);

/*
 * The process whose memory a call locks: the caller, or another process
 * held stopped through ptrace (remote.c), which executes each system call
 * for us.  The lock engine runs over this, so that what to lock and how to
 * roll back are written once for both.
 */
struct pl_remote;
struct pl_proc {
	pid_t pid;			/* 0: the caller */
	struct pl_remote *remote;	/* NULL for the caller */
};

/* A range to lock, for pl_mlock_many(). */
struct pl_lockrange {
	uintptr_t start, end;
	int on_fault;
};

/*
 * remote.c: ptrace.  pl_remote_attach stops one thread of pid, the worker
 * (flags of plock_ctl: with PLOCK_AT_ENTRY, pid is our PTRACE_TRACEME child
 * stopped at execve, run to its entry point first; with PLOCK_TRACED, pid
 * is traced and stopped already, and stays so, <plock.h>) and returns 0 or an errno (PL_EEXEC: pid
 * executed a new program meanwhile); pl_remote_syscall makes the worker
 * execute system call nr and returns its result, or -errno (-EPERM,
 * without making it, for a call its seccomp filter would refuse);
 * pl_remote_detach gives the worker its registers back and lets it go.
 * pl_remote_mlock_many is pl_mlock_many() for the worker.  After an ESRCH
 * (from it, or from /proc), pl_remote_execed says whether the process ran
 * a new program meanwhile.  pl_remote_allowed is whether the worker's
 * seccomp filter lets call nr with args run (1 when it has none);
 * pl_remote_filtered is whether it has one that could not be read (no
 * CAP_SYS_ADMIN).  pl_remote_tracer is the tracer of any thread of pid
 * other than the caller, or 0.
 */
int pl_remote_attach(pid_t pid, int flags, struct pl_remote **r);
/*
 * With PLOCK_TRACED | PLOCK_AT_ENTRY, pl_remote_attach leaves the process at
 * its exec stop, before its dynamic loader; pl_remote_enter runs it to its
 * entry point (0 for any other).
 */
int pl_remote_enter(struct pl_remote *r);
size_t pl_remote_mlock_many(struct pl_remote *r, const struct pl_lockrange *v, size_t n);
long pl_remote_syscall(struct pl_remote *r, long nr, const long args[6]);
void pl_remote_detach(struct pl_remote *r);
int pl_remote_execed(struct pl_remote *r);
int pl_remote_allowed(const struct pl_remote *r, long nr, const long args[6]);
int pl_remote_filtered(const struct pl_remote *r);
pid_t pl_remote_tracer(pid_t pid);

/*
 * handoff.c: tells the libplock of process p (traced by the caller), if it
 * has one, what the caller locked in it (classes) or that it unlocked
 * everything (reset): <plock.h>'s plock_handoff.
 */
void pl_handoff_tell(const struct pl_proc *p, int classes, int reset);

/* sys.c: the system calls, made by process p. */
long pl_sys(const struct pl_proc *p, long nr, long a0, long a1, long a2, long a3, long a4, long a5);
int pl_peek(const struct pl_proc *p, uintptr_t addr, void *buf, size_t len);
int pl_mlock(const struct pl_proc *p, uintptr_t start, uintptr_t end, int on_fault);
int pl_munlock(const struct pl_proc *p, uintptr_t start, uintptr_t end);
int pl_mlockall(const struct pl_proc *p, int future_mode);
int pl_munlockall(const struct pl_proc *p);
int pl_mapped(const struct pl_proc *p, uintptr_t start, uintptr_t end);
/*
 * The first system call that the engine may make in p and p's seccomp
 * filter forbids, or 0: checked before any is made.
 */
long pl_sys_forbidden(const struct pl_proc *p);
/*
 * Locks v[0..n) in order while each succeeds, in as few stops of another
 * process as it can (a batch: remote.c), and returns how many it locked;
 * the caller makes the rest with pl_mlock(), which tells errors apart.
 * The caller itself has nothing to gain: 0.
 */
size_t pl_mlock_many(const struct pl_proc *p, const struct pl_lockrange *v, size_t n);

/* What mlockall(MCL_FUTURE) a process has on: none, plain, or on fault. */
#define PL_FUTURE_OFF		0
#define PL_FUTURE_EAGER		1	/* MCL_FUTURE */
#define PL_FUTURE_ONFAULT	2	/* MCL_FUTURE | MCL_ONFAULT */

/* future.c: asks the kernel which MCL_FUTURE p has (-1: on, mode unknown). */
int pl_future_mode(const struct pl_proc *p, int *mode);

/* ops.c: the one table of what each op locks, and what locks each class. */
#define PL_ALL_CLASSES	(TXTLOCK | DATLOCK | SHLIBLOCK)
int pl_seg_classes(int seg);

/*
 * A record of what was locked in a process at one moment: the locked
 * ranges, each with what identifies its memory, and its MCL_FUTURE.  Every
 * rollback and UNLOCK restores from one.
 */
struct pl_range {
	uintptr_t start, end;
	uint64_t offset, inode;		/* offset - start is kept for files */
	unsigned int major, minor;
	unsigned char kind;		/* PL_ANON ... */
	unsigned char lf;		/* locked on fault */
};

struct pl_snapshot {
	struct pl_range *r;
	size_t n, cap;
	int future;			/* PL_FUTURE_*, or -1: on, mode unknown */
};

/* engine.c: locking a process, the caller or a traced one. */
struct pl_call {
	const struct pl_proc *p;
	int classes;			/* the classes the call locks */
	int flags;			/* PLOCK_STRICT_FUTURE */
	int held;			/* classes locked before the call */
	struct pl_snapshot *before;	/* filled with what was locked before */
	struct plock_reason *why;	/* filled on failure; never NULL */
};

int pl_lock(struct pl_call *c);
/*
 * Whether c can succeed as far as the process's limits tell before any
 * call is made in it (the strict rule, a limit of 0, RLIMIT_MEMLOCK against
 * VmLck and every mapping c would lock now): 0, or the errno pl_lock would
 * give, with c->why filled.
 */
int pl_lock_feasible(struct pl_call *c);
int pl_unlock(const struct pl_proc *p, const struct pl_snapshot *keep, struct plock_reason *why);
int pl_locked_classes(const struct pl_proc *p, int classes, int *still);
void pl_snapshot_free(struct pl_snapshot *s);

/*
 * refusal.c: why the kernel refused PTRACE_SEIZE of pid with EPERM, as far
 * as the caller can tell from /proc and its own credentials.  Returns a
 * PLOCK_PTRACE_* value (<plock.h>) and sets *detail where it says.  Asked
 * only after a refusal: each answer is what would make the call succeed,
 * checked in the kernel's order.
 */
int pl_remote_refusal(pid_t pid, long *detail);

/* The same for PTRACE_TRACEME in a child the caller starts (PLOCK_AT_ENTRY). */
int pl_traceme_refusal(long *detail);

/*
 * remote.c: for an at_entry process whose lock failed, instead of
 * pl_remote_detach: its registers back, but it stays stopped at its entry
 * point and traced by the calling thread, which then kills it (the program
 * never ran) or detaches it to run unlocked (PTRACE_DETACH).  Any other
 * process is detached.
 */
void pl_remote_hold(struct pl_remote *r);

/*
 * seccomp.c: the seccomp filters of a thread of another process, read
 * through ptrace, and what they decide for a system call that thread would
 * make: a call its filters would not allow is never made in it.
 */
struct pl_seccomp;

/*
 * Reads the filters of thread tid of pid, which the caller holds
 * ptrace-stopped.  The mode comes from the thread's status: 0, none (*out
 * NULL, returns 0); 1, strict; 2, filters, read with
 * PTRACE_SECCOMP_GET_FILTER (which numbers them from 0, the oldest).
 * Returns 0; EACCES when there are filters that cannot be read (the caller
 * lacks CAP_SYS_ADMIN, or runs under seccomp itself, or the kernel has no
 * PTRACE_SECCOMP_GET_FILTER); ENOMEM; ESRCH (gone, or not stopped by us).
 */
int pl_seccomp_read(pid_t pid, pid_t tid, struct pl_seccomp **out);

/*
 * What the thread's filters return for system call nr with args, made by a
 * native 64-bit thread at instruction address ip (seccomp_data's
 * instruction_pointer: the address after the system call instruction), as
 * the kernel combines them: the SECCOMP_RET_ACTION_FULL part of the most
 * restrictive one, with its data bits (an ERRNO's data is the errno, which
 * the kernel caps at 4095).  An action the kernel does not know is
 * KILL_PROCESS, as it is in the kernel; strict mode is ALLOW for read,
 * write, _exit and rt_sigreturn and KILL_THREAD for the rest.  f NULL: ALLOW.
 */
uint32_t pl_seccomp_eval(const struct pl_seccomp *f, int nr, const uint64_t args[6], uint64_t ip);

/* Whether an action lets the call run: ALLOW and LOG. */
int pl_seccomp_allows(uint32_t action);

void pl_seccomp_free(struct pl_seccomp *f);

#endif /* PLOCK_INTERNAL_H */
