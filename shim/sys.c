/*
 * The system calls, and nothing else.  Each is made by a process p: the
 * caller, through syscall(2), or another process held through ptrace, which
 * executes it for us (remote.c).
 *
 * The caller goes through syscall(2) rather than the libc wrappers:
 * AddressSanitizer and ThreadSanitizer intercept mlock, munlock, mlockall and
 * munlockall and turn them into no-ops that return 0, which would make
 * plock() report success with nothing locked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	0x01
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT	4
#endif

long pl_sys(const struct pl_proc *p, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long args[6], r;

	if (p->remote != NULL) {
		args[0] = a0, args[1] = a1, args[2] = a2;
		args[3] = a3, args[4] = a4, args[5] = a5;
		return pl_remote_syscall(p->remote, nr, args);
	}
	r = syscall(nr, a0, a1, a2, a3, a4, a5);
	return r == -1 ? -errno : r;
}

/* Reads len bytes at addr in p's memory. */
int pl_peek(const struct pl_proc *p, uintptr_t addr, void *buf, size_t len)
{
	struct iovec local, remote;

	if (p->remote == NULL) {
		memcpy(buf, (const void *)addr, len);
		return 0;
	}
	/* Allowed: we trace p, which is what process_vm_readv asks. */
	local.iov_base = buf;
	local.iov_len = len;
	remote.iov_base = (void *)addr;
	remote.iov_len = len;
	if (process_vm_readv(p->pid, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	return errno ? errno : EIO;
}

/* Set once mlock2 said ENOSYS. */
static int no_mlock2;

/*
 * Returns 0 or the kernel's errno as it is: EAGAIN (pages could not be
 * locked), ENOMEM (over RLIMIT_MEMLOCK, part of the range unmapped, or
 * vm.max_map_count reached by the split), EPERM (RLIMIT_MEMLOCK 0 without
 * CAP_IPC_LOCK); or PL_ENOFAULT.  The engine tells them apart.
 */
int pl_mlock(const struct pl_proc *p, uintptr_t start, uintptr_t end, int on_fault)
{
	long r = -ENOSYS;

	/*
	 * MLOCK_ONFAULT locks the pages present now and every page faulted in
	 * later, and allocates nothing: anonymous memory can be huge and
	 * untouched (a sanitizer's shadow, a runtime's reservations).
	 */
	if (on_fault && !no_mlock2 &&
	    (r = pl_sys(p, SYS_mlock2, (long)start, (long)(end - start), MLOCK_ONFAULT, 0, 0, 0)) == -ENOSYS)
		no_mlock2 = 1;
	/*
	 * Without mlock2 (kernels before 4.4, valgrind 3.19, some seccomp
	 * sandboxes), lock eagerly, as plain MCL_FUTURE does.  The kernel
	 * cannot fault in a PROT_NONE mapping: it sets the lock, then says
	 * ENOMEM (its EFAULT, as mlock reports it).
	 */
	if (!on_fault || no_mlock2) {
		r = pl_sys(p, SYS_mlock, (long)start, (long)(end - start), 0, 0, 0, 0);
		if (on_fault && r == -ENOMEM)
			return PL_ENOFAULT;
	}
	return r < 0 ? (int)-r : 0;
}

/* munlock's only ENOMEM is a hole in the range: PL_EGONE. */
int pl_munlock(const struct pl_proc *p, uintptr_t start, uintptr_t end)
{
	long r = pl_sys(p, SYS_munlock, (long)start, (long)(end - start), 0, 0, 0, 0);

	if (r == -ENOMEM)
		return PL_EGONE;
	return r < 0 ? (int)-r : 0;
}

/*
 * Turns on MCL_FUTURE, on fault (PL_FUTURE_ONFAULT) or not.  Without
 * MCL_CURRENT, mlockall changes only the flags that new mappings get, so it
 * never fails for the limit; it fails with EPERM when RLIMIT_MEMLOCK is 0
 * without CAP_IPC_LOCK.  Kernels before 4.4 refuse MCL_ONFAULT with EINVAL:
 * plain MCL_FUTURE there.
 */
int pl_mlockall(const struct pl_proc *p, int future_mode)
{
	long r = -EINVAL;

	if (future_mode != PL_FUTURE_EAGER)
		r = pl_sys(p, SYS_mlockall, MCL_FUTURE | MCL_ONFAULT, 0, 0, 0, 0, 0);
	if (r == -EINVAL)
		r = pl_sys(p, SYS_mlockall, MCL_FUTURE, 0, 0, 0, 0, 0);
	return r < 0 ? (int)-r : 0;
}

/* Unlocks every mapping and clears MCL_FUTURE: the only way to clear it. */
int pl_munlockall(const struct pl_proc *p)
{
	long r = pl_sys(p, SYS_munlockall, 0, 0, 0, 0, 0, 0);

	return r < 0 ? (int)-r : 0;
}

/*
 * Whether [start, end) is wholly mapped.  msync(MS_ASYNC) does nothing on
 * Linux but check the range, and fails with ENOMEM exactly when part of it
 * is unmapped.
 */
int pl_mapped(const struct pl_proc *p, uintptr_t start, uintptr_t end)
{
	return pl_sys(p, SYS_msync, (long)start, (long)(end - start), MS_ASYNC, 0, 0, 0) != -ENOMEM;
}

size_t pl_mlock_many(const struct pl_proc *p, const struct pl_lockrange *v, size_t n)
{
	if (p->remote == NULL || no_mlock2)
		return 0;
	return pl_remote_mlock_many(p->remote, v, n);
}

/*
 * Every system call that this file and future.c make, with the arguments
 * that do not depend on the memory: what a filter that checks arguments
 * sees.  mlockall(MCL_FUTURE) alone, the fallback of kernels before 4.4, is
 * checked when it is made.
 */
static const struct {
	long nr, a[6];
} calls[] = {
	{ SYS_mlock2, { 0, 0, MLOCK_ONFAULT, 0, 0, 0 } },
	{ SYS_mlock, { 0, 0, 0, 0, 0, 0 } },
	{ SYS_munlock, { 0, 0, 0, 0, 0, 0 } },
	{ SYS_mlockall, { MCL_FUTURE | MCL_ONFAULT, 0, 0, 0, 0, 0 } },
	{ SYS_munlockall, { 0, 0, 0, 0, 0, 0 } },
	{ SYS_msync, { 0, 0, MS_ASYNC, 0, 0, 0 } },
	{ SYS_mmap, { 0, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 } },
	{ SYS_madvise, { 0, 0, MADV_DONTNEED, 0, 0, 0 } },
	{ SYS_mincore, { 0, 0, 0, 0, 0, 0 } },
	{ SYS_munmap, { 0, 0, 0, 0, 0, 0 } },
};

long pl_sys_forbidden(const struct pl_proc *p)
{
	size_t i;

	for (i = 0; i < sizeof calls / sizeof calls[0]; i++)
		if (!pl_remote_allowed(p->remote, calls[i].nr, calls[i].a))
			return calls[i].nr;
	return 0;
}
