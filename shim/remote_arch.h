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
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#if defined(__x86_64__)

#include <sys/user.h>
#include <linux/audit.h>

#define PL_REMOTE_SUPPORTED	1
#define PL_REMOTE_ARCH		"x86-64"
#define PL_AUDIT_ARCH		AUDIT_ARCH_X86_64
#define PL_NR_RESTART_SYSCALL	219	/* __NR_restart_syscall */

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
 * orig_rax -1 says "not in a system call", so that the kernel's restart
 * logic, which runs on the way back to user mode whenever a signal is
 * pending or a tracer detaches, leaves these registers alone; the
 * instruction itself sets orig_rax to nr.
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

/*
 * What the kernel does to a thread stopped in a system call when it goes
 * back to user mode with no signal handler to run (arch_do_signal_or_restart
 * in arch/x86/kernel/signal.c): a call that said -ERESTARTSYS,
 * -ERESTARTNOINTR or -ERESTARTNOHAND is made again (rax = orig_rax, the
 * program counter back over the 2-byte instruction); -ERESTART_RESTARTBLOCK
 * makes restart_syscall(), which goes on from the thread's restart_block
 * (what is left of a nanosleep, say).  The result is the user-mode state
 * that a SIGSTOP/SIGCONT pair leaves.
 */
static void pl_regs_restarted(pl_regs *r)
{
	if ((long)r->orig_rax < 0)
		return;
	switch (-(long)r->rax) {
	case 512: case 513: case 514:	/* ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND */
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case 516:			/* ERESTART_RESTARTBLOCK */
		r->rax = PL_NR_RESTART_SYSCALL;
		r->rip -= 2;
		break;
	}
	r->orig_rax = (unsigned long)-1;
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

/*
 * The injected code (see remote.c): a syscall instruction, then code that
 * puts every register back from a context block after it, in user mode,
 * and jumps to the thread's own program counter.  It never touches the
 * stack: the stack pointer is the thread's own throughout, so a signal
 * delivered meanwhile finds its frame where it would have anyway, and the
 * red zone is left alone.  The general registers come back with
 * rip-relative moves; the flags without popf (which needs the stack): DF
 * with cld/std, OF from an add that overflows or a xor that clears it, SF ZF
 * AF PF CF with sahf, then rax.  (AC, set only by programs that trap
 * unaligned accesses on purpose, is not restored: the one loss, and only
 * when the command dies mid-call.)  PL_CODE_MAX bytes at most.
 */
#define PL_CODE_MAX	256

/* The encoding number of each general register but rsp, and its value. */
static int pl_code_regs(const pl_regs *r, unsigned long v[15], int num[15])
{
	static const int n[15] = { 3, 1, 2, 6, 7, 5, 8, 9, 10, 11, 12, 13, 14, 15, 0 };
	const unsigned long val[15] = {
		r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->r8, r->r9,
		r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rax,
	};
	int i;

	for (i = 0; i < 15; i++) {
		num[i] = n[i];
		v[i] = val[i];
	}
	return 15;
}

/* Writes the rip-relative displacement of target from end, the address
 * after the instruction. */
static unsigned char *pl_code_rel(unsigned char *p, uintptr_t end, uintptr_t target)
{
	int32_t d = (int32_t)(target - end);

	memcpy(p, &d, 4);
	return p + 4;
}

/*
 * Writes the code for registers r, to run at address at, into buf
 * (PL_CODE_MAX bytes); returns its length.  The syscall instruction is at
 * offset 0.
 */
static size_t pl_code_build(unsigned char *buf, uintptr_t at, const pl_regs *r)
{
	unsigned long v[15];
	int num[15], i, n = pl_code_regs(r, v, num);
	unsigned char *p = buf;
	uintptr_t ctx = at + 128;	/* the context block: v[], then rip */
	unsigned long flags = r->eflags;

	*p++ = 0x0f, *p++ = 0x05;			/* syscall */
	for (i = 0; i < n - 1; i++) {			/* mov ctx+8i(%rip), reg */
		*p++ = (unsigned char)(0x48 | (num[i] >= 8 ? 4 : 0));
		*p++ = 0x8b;
		*p++ = (unsigned char)(((num[i] & 7) << 3) | 5);
		p = pl_code_rel(p, at + (uintptr_t)(p - buf) + 4, ctx + 8 * (uintptr_t)i);
	}
	*p++ = (flags & 0x400) ? 0xfd : 0xfc;		/* std or cld */
	if (flags & 0x800)
		*p++ = 0xb0, *p++ = 0x7f, *p++ = 0x04, *p++ = 0x01;	/* mov $0x7f,%al; add $1,%al */
	else
		*p++ = 0x31, *p++ = 0xc0;		/* xor %eax,%eax */
	*p++ = 0xb4, *p++ = (unsigned char)(flags & 0xd5);	/* mov $flags,%ah */
	*p++ = 0x9e;					/* sahf */
	*p++ = 0x48, *p++ = 0x8b, *p++ = 0x05;		/* mov ctx+8*14(%rip), %rax */
	p = pl_code_rel(p, at + (uintptr_t)(p - buf) + 4, ctx + 8 * 14);
	*p++ = 0xff, *p++ = 0x25;			/* jmp *ctx+8*15(%rip) */
	p = pl_code_rel(p, at + (uintptr_t)(p - buf) + 4, ctx + 8 * 15);
	memset(p, 0xcc, (size_t)(buf + 128 - p));
	memcpy(buf + 128, v, sizeof v);
	memcpy(buf + 128 + sizeof v, &r->rip, 8);
	return 128 + sizeof v + 8;
}

/*
 * The batch: the same restore, after a loop that makes mlock2() for each
 * entry of a list (address, length, flags: PL_BATCH_ENTRY bytes each) and
 * stops at the first that fails, then sends the thread a signal that its
 * process ignores, tgkill(tgid, tid, sig).  With us there, that signal stops
 * the thread (a tracee's ignored signals are not discarded: the tracer sees
 * them), and we read how far it got: rbx entries succeeded, rbp is the
 * result of the last one made.  Without us, the kernel discards the signal
 * and the thread restores itself.  At entry: r12 the list, r13 its length,
 * rbx 0, and rdi, rsi, rdx what tgkill() takes.
 */
#define PL_BATCH_CODE	80
#define PL_BATCH_ENTRY	24

static size_t pl_batch_build(unsigned char *buf, uintptr_t at, uintptr_t restore)
{
	static const unsigned char loop[] = {
		0x49, 0x89, 0xf8,		/* mov %rdi,%r8: tgkill's arguments aside */
		0x49, 0x89, 0xf1,		/* mov %rsi,%r9 */
		0x49, 0x89, 0xd2,		/* mov %rdx,%r10 */
		0x49, 0x8b, 0x3c, 0x24,		/* 9: mov (%r12),%rdi */
		0x49, 0x8b, 0x74, 0x24, 0x08,	/* mov 8(%r12),%rsi */
		0x49, 0x8b, 0x54, 0x24, 0x10,	/* mov 16(%r12),%rdx */
		0xb8, 0x45, 0x01, 0x00, 0x00,	/* mov $SYS_mlock2,%eax */
		0x0f, 0x05,			/* syscall */
		0x48, 0x85, 0xc0,		/* test %rax,%rax */
		0x75, 0x0c,			/* jnz stop */
		0x49, 0x83, 0xc4, 0x18,		/* add $24,%r12 */
		0x48, 0xff, 0xc3,		/* inc %rbx */
		0x4c, 0x39, 0xeb,		/* cmp %r13,%rbx */
		0x72, 0xda,			/* jb 9 */
		0x48, 0x89, 0xc5,		/* stop: mov %rax,%rbp */
		0x4c, 0x89, 0xc7,		/* mov %r8,%rdi */
		0x4c, 0x89, 0xce,		/* mov %r9,%rsi */
		0x4c, 0x89, 0xd2,		/* mov %r10,%rdx */
		0xb8, 0xea, 0x00, 0x00, 0x00,	/* mov $SYS_tgkill,%eax */
		0x0f, 0x05,			/* syscall */
		0xe9,				/* jmp restore */
	};
	int32_t d;

	memcpy(buf, loop, sizeof loop);
	d = (int32_t)(restore - (at + sizeof loop + 4));
	memcpy(buf + sizeof loop, &d, 4);
	return sizeof loop + 4;
}

static void pl_regs_set_batch(pl_regs *r, uintptr_t entry, uintptr_t list, size_t n,
			      pid_t tgid, pid_t tid, int sig)
{
	r->rip = entry;
	r->orig_rax = (unsigned long)-1;
	r->r12 = list;
	r->r13 = n;
	r->rbx = 0;
	r->rdi = (unsigned long)tgid;
	r->rsi = (unsigned long)tid;
	r->rdx = (unsigned long)sig;
}

/* How many entries succeeded, and the result of the last one made. */
static size_t pl_regs_batch_done(const pl_regs *r, long *res)
{
	*res = (long)r->rbp;
	return (size_t)r->rbx;
}

#elif defined(__aarch64__)

#include <asm/ptrace.h>
#include <linux/audit.h>

/*
 * Not yet: a thread interrupted in a system call that the kernel will
 * restart keeps the call's first argument in orig_x0, which ptrace can
 * neither read nor write, and every injected call overwrites it.  Restoring
 * such a thread needs the restart done by hand from a copy of x0 that does
 * not exist.  The register access below is what the rest needs.
 */
#define PL_REMOTE_SUPPORTED	0
#define PL_REMOTE_ARCH		"arm64"
#define PL_AUDIT_ARCH		AUDIT_ARCH_AARCH64
#define PL_CODE_MAX		256

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

/* Not yet: what remote.c needs to restore a thread from user mode. */
static void pl_regs_restarted(pl_regs *r)
{
	(void)r;
}

static size_t pl_code_build(unsigned char *buf, uintptr_t at, const pl_regs *r)
{
	(void)buf, (void)at, (void)r;
	return 0;
}

#define PL_BATCH_CODE	80
#define PL_BATCH_ENTRY	24

static size_t pl_batch_build(unsigned char *buf, uintptr_t at, uintptr_t restore)
{
	(void)buf, (void)at, (void)restore;
	return 0;
}

static void pl_regs_set_batch(pl_regs *r, uintptr_t entry, uintptr_t list, size_t n,
			      pid_t tgid, pid_t tid, int sig)
{
	(void)r, (void)entry, (void)list, (void)n, (void)tgid, (void)tid, (void)sig;
}

static size_t pl_regs_batch_done(const pl_regs *r, long *res)
{
	(void)r;
	*res = -ENOSYS;
	return 0;
}

#else

#define PL_REMOTE_SUPPORTED	0
#define PL_REMOTE_ARCH		"this architecture"
#define PL_REMOTE_NOREGS	1

#endif

#endif /* PLOCK_REMOTE_ARCH_H */
