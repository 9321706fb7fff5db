/*
 * The register details of remote.c, one section per architecture: how to
 * read and write a stopped thread's registers, how to set them up to execute
 * one system call, where its result is, and the instructions remote.c
 * searches for and plants.
 *
 * PL_REMOTE_SUPPORTED is 0 where remote.c's method is not complete yet:
 * pl_remote_attach() then says ENOSYS, and the rest still compiles.
 */
#ifndef PLOCK_REMOTE_ARCH_H
#define PLOCK_REMOTE_ARCH_H

#include <elf.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#if defined(__x86_64__)

#include <sys/user.h>

#define PL_REMOTE_SUPPORTED	1
#define PL_REMOTE_ARCH		"x86-64"

typedef struct user_regs_struct pl_regs;

/* syscall: 0f 05, at any address. */
static const unsigned char pl_syscall_insn[] = { 0x0f, 0x05 };
#define PL_INSN_ALIGN	1

/* int3 traps with the program counter one past it. */
static const unsigned char pl_break_insn[] = { 0xcc };
#define PL_BREAK_PC_AFTER	1

static uintptr_t pl_regs_pc(const pl_regs *r)
{
	return (uintptr_t)r->rip;
}

static void pl_regs_set_pc(pl_regs *r, uintptr_t pc)
{
	r->rip = pc;
}

/*
 * A 32-bit program (cs 0x23) makes system calls with other numbers and
 * another instruction: not handled.
 */
static int pl_regs_native(const pl_regs *r)
{
	return r->cs == 0x33;
}

/*
 * Sets up system call nr with args at the syscall instruction insn.
 * orig_rax -1 says "not in a system call", so that no signal delivered
 * before the instruction runs applies the kernel's restart logic to these
 * registers; the instruction itself sets orig_rax to nr.
 */
static void pl_regs_set_call(pl_regs *r, uintptr_t insn, long nr, const long a[6])
{
	r->rip = insn;
	r->rax = (unsigned long)nr;
	r->orig_rax = (unsigned long)-1;
	r->rdi = (unsigned long)a[0];
	r->rsi = (unsigned long)a[1];
	r->rdx = (unsigned long)a[2];
	r->r10 = (unsigned long)a[3];
	r->r8 = (unsigned long)a[4];
	r->r9 = (unsigned long)a[5];
}

static long pl_regs_result(const pl_regs *r)
{
	return (long)r->rax;
}

static int pl_regs_get(pid_t tid, pl_regs *r)
{
	struct iovec v = { r, sizeof *r };

	return ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &v) == 0 ? 0 : errno;
}

static int pl_regs_set(pid_t tid, const pl_regs *r)
{
	struct iovec v = { (void *)r, sizeof *r };

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &v) == 0 ? 0 : errno;
}

#elif defined(__aarch64__)

#include <asm/ptrace.h>

/*
 * Not yet: a thread interrupted in a system call that the kernel will
 * restart keeps the call's first argument in orig_x0, which ptrace can
 * neither read nor write, and every injected call overwrites it.  Restoring
 * such a thread needs the restart done by hand from a copy of x0 that does
 * not exist.  The register access below is what the rest needs.
 */
#define PL_REMOTE_SUPPORTED	0
#define PL_REMOTE_ARCH		"arm64"

typedef struct user_pt_regs pl_regs;

/* svc #0, little-endian, at 4-byte aligned addresses. */
static const unsigned char pl_syscall_insn[] = { 0x01, 0x00, 0x00, 0xd4 };
#define PL_INSN_ALIGN	4

/* brk #0 traps with the program counter on it. */
static const unsigned char pl_break_insn[] = { 0x00, 0x00, 0x20, 0xd4 };
#define PL_BREAK_PC_AFTER	0

static uintptr_t pl_regs_pc(const pl_regs *r)
{
	return (uintptr_t)r->pc;
}

static void pl_regs_set_pc(pl_regs *r, uintptr_t pc)
{
	r->pc = pc;
}

static int pl_regs_native(const pl_regs *r)
{
	(void)r;
	return 1;
}

static void pl_regs_set_call(pl_regs *r, uintptr_t insn, long nr, const long a[6])
{
	int i;

	r->pc = insn;
	r->regs[8] = (unsigned long)nr;
	for (i = 0; i < 6; i++)
		r->regs[i] = (unsigned long)a[i];
}

static long pl_regs_result(const pl_regs *r)
{
	return (long)r->regs[0];
}

static int pl_regs_get(pid_t tid, pl_regs *r)
{
	struct iovec v = { r, sizeof *r };

	return ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &v) == 0 ? 0 : errno;
}

/*
 * Registers only.  Also left to do: a call set up at a system call stop
 * (the second call in a row) needs the kernel's own copy of its number set
 * too (NT_ARM_SYSTEM_CALL), not only x8.
 */
static int pl_regs_set(pid_t tid, const pl_regs *r)
{
	struct iovec v = { (void *)r, sizeof *r };

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &v) == 0 ? 0 : errno;
}

#else

#define PL_REMOTE_SUPPORTED	0
#define PL_REMOTE_ARCH		"this architecture"
#define PL_REMOTE_NOREGS	1

#endif

#endif /* PLOCK_REMOTE_ARCH_H */
