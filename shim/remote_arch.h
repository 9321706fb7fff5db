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

/* The system calls leave the vector state as it was: nothing else to put back. */
static int pl_regs_set_ext(pid_t tid, const pl_regs *r)
{
	(void)tid;
	(void)r;
	return 0;
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
#include <asm/sigcontext.h>
#include <linux/audit.h>
#include <stddef.h>

#define PL_REMOTE_SUPPORTED	1
#define PL_REMOTE_ARCH		"arm64"
#define PL_AUDIT_ARCH		AUDIT_ARCH_AARCH64
#define PL_NR_RESTART_SYSCALL	128	/* __NR_restart_syscall */
#define PL_NR_RT_SIGRETURN	139
#define PL_NR_MLOCK2		284
#define PL_NR_TGKILL		131
#define PL_RESTART_HIDDEN	1

#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL	0x404
#endif
#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK	0x420a
#endif
#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU		31
#endif
#ifndef NT_ARM_SVE
#define NT_ARM_SVE		0x405
#endif

/*
 * SVE: the NT_ARM_SVE regset of a thread found with live SVE state (header
 * flags SVE_PT_REGS_SVE), for vector lengths up to the architecture's 2048
 * bits (vq 16).  Its data after SVE_PT_REGS_OFFSET (z0-z31, p0-p15, ffr)
 * is laid out as a signal frame's sve_context after SVE_SIG_REGS_OFFSET.
 */
#define PL_SVE_VQ_MAX	16
#define PL_SVE_MAX	SVE_PT_SIZE(PL_SVE_VQ_MAX, SVE_PT_REGS_SVE)
#define PL_ROUND16(n)	(((n) + 15) & ~(size_t)15)

/*
 * A stopped thread as the injected code and rt_sigreturn need it: the
 * general registers, the FP/SIMD registers (rt_sigreturn wants them in its
 * frame), the signal mask the thread will have when it goes back to user
 * mode, and, after probe_restart() in remote.c, the number of the call
 * that a restart_syscall it is to make continues (-1: none known).
 */
typedef struct {
	struct user_pt_regs r;
	struct user_fpsimd_state fp;
	uint64_t sigmask;
	long restart_of;
	uint32_t sve_len;	/* bytes of sve (header and data), 0: no live SVE state */
	uint32_t sve_vq;
	unsigned char sve[PL_SVE_MAX];
} pl_regs;

/* svc #0, little-endian, at 4-byte aligned addresses. */
static const unsigned char pl_syscall_insn[] = { 0x01, 0x00, 0x00, 0xd4 };
#define PL_INSN_ALIGN	4

/* brk #0 traps with the program counter on it. */
static const unsigned char pl_break_insn[] = { 0x00, 0x00, 0x20, 0xd4 };
#define PL_BREAK_PC_AFTER	0

static uintptr_t pl_regs_pc(const pl_regs *r)
{
	return (uintptr_t)r->r.pc;
}

static void pl_regs_set_pc(pl_regs *r, uintptr_t pc)
{
	r->r.pc = pc;
}

/* PSR_MODE32_BIT: an AArch32 program, with other calls: not handled. */
static int pl_regs_native(const pl_regs *r)
{
	return (r->r.pstate & 0x10) == 0;
}

/*
 * Sets up system call nr with args at the svc instruction insn, with the
 * stack pointer at the frame (pl_frame_write).  The
 * kernel's copy of the number (syscallno) is set to -1 by pl_regs_set(),
 * as x86's orig_rax: "not in a system call", so that its restart logic
 * leaves these registers alone; the svc itself takes the number from x8.
 * x7 is left as it is: at a syscall stop the kernel shows 0 or 1 in it
 * (entry or exit) and puts its own value back afterwards, discarding ours.
 */
static uintptr_t pl_frame_at(const pl_regs *r);

static void pl_regs_set_call(pl_regs *r, uintptr_t insn, long nr, const long a[6])
{
	int i;

	r->r.pc = insn;
	r->r.sp = pl_frame_at(r);
	r->r.regs[8] = (unsigned long)nr;
	for (i = 0; i < 6; i++)
		r->r.regs[i] = (unsigned long)a[i];
}

static long pl_regs_result(const pl_regs *r)
{
	return (long)r->r.regs[0];
}

/*
 * The kernel's restart, which x86 needs done by hand, is done already on
 * arm64 when the thread stops: do_signal() (arch/arm64/kernel/signal.c)
 * puts orig_x0 back in x0 and the program counter back on the svc before
 * get_signal(), where every ptrace-stop of a running thread is, so that
 * "a debugger will see the already changed PC".  Only -ERESTART_RESTARTBLOCK
 * is finished after get_signal() (x8 = __NR_restart_syscall), which
 * probe_restart() in remote.c finds out.  For the frame that the injected
 * code restores when we are gone, one thing differs: rt_sigreturn resets
 * the thread's restart_block (a restart_syscall after it says EINTR), so the
 * frame makes the original call again, from its start.
 */
static void pl_regs_restarted(pl_regs *r)
{
	if (r->r.regs[8] == PL_NR_RESTART_SYSCALL && r->restart_of >= 0)
		r->r.regs[8] = (unsigned long)r->restart_of;
}

/*
 * Calls that may make a restart block (set_restart_fn() in the kernel:
 * relative sleeps, futex waits with a timeout): a thread stopped on the svc
 * of one of them may be about to make restart_syscall instead, which its
 * registers do not show (see pl_regs_restarted).
 */
static int pl_regs_may_restart_block(const pl_regs *r)
{
	unsigned long nr = r->r.regs[8];

	return nr == 101 || nr == 115 || nr == 98;	/* nanosleep, clock_nanosleep, futex */
}

static int pl_regs_get(pid_t tid, pl_regs *r)
{
	struct iovec v = { &r->r, sizeof r->r }, f = { &r->fp, sizeof r->fp };

	r->restart_of = -1;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &v) != 0 ||
	    ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRFPREG, &f) != 0)
		return errno;
	/*
	 * The mask it goes back to user mode with: PTRACE_GETSIGMASK gives
	 * the saved one of a thread stopped in ppoll, pselect6 or
	 * epoll_pwait (TIF_RESTORE_SIGMASK), not the call's temporary one.
	 */
	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof r->sigmask, &r->sigmask) != 0)
		return errno;
	/*
	 * SVE state that is live (the thread has run SVE code since its last
	 * system call): the injected svc discards it, so it is kept here for
	 * the release (PTRACE_SETREGSET) and the frame (sve_context).  Not on
	 * a kernel or CPU without SVE (EINVAL), nor in streaming mode (SME).
	 */
	r->sve_len = 0;
	r->sve_vq = 0;
	{
		struct iovec sv = { r->sve, sizeof r->sve };
		struct user_sve_header h;

		if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_SVE, &sv) == 0 && sv.iov_len >= sizeof h) {
			memcpy(&h, r->sve, sizeof h);
			if ((h.flags & SVE_PT_REGS_MASK) == SVE_PT_REGS_SVE && sve_vl_valid(h.vl) &&
			    sve_vq_from_vl(h.vl) <= PL_SVE_VQ_MAX &&
			    sv.iov_len >= SVE_PT_SIZE(sve_vq_from_vl(h.vl), SVE_PT_REGS_SVE)) {
				r->sve_vq = sve_vq_from_vl(h.vl);
				r->sve_len = SVE_PT_SIZE(r->sve_vq, SVE_PT_REGS_SVE);
			}
		}
	}
	return 0;
}

/*
 * The SVE state back, at the release (after pl_regs_set): a thread stopped
 * while it ran SVE code had it live, and our svc discarded all of it but
 * the FP/SIMD registers (the SVE system call ABI): z0-z31 above 128 bits,
 * p0-p15 and ffr would come back zero.  Seen in the arm64 VM on qemu's
 * SVE CPU, at every vector length, before this.
 */
static int pl_regs_set_ext(pid_t tid, const pl_regs *r)
{
	struct iovec sv = { (void *)r->sve, r->sve_len };

	if (r->sve_len == 0)
		return 0;
	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_ARM_SVE, &sv) == 0 ? 0 : errno;
}

/*
 * The general registers, then syscallno -1 (NT_ARM_SYSTEM_CALL): at a
 * syscall-exit-stop the kernel would otherwise take the new x0 for the
 * stopped call's result when it goes back to user mode, and restart "it"
 * if x0 looked like -ERESTARTSYS.  In this order, a death in between
 * leaves the new registers with the old number, which restarts nothing
 * unless x0 is one of those four values.
 */
static int pl_regs_set(pid_t tid, const pl_regs *r)
{
	struct iovec v = { (void *)&r->r, sizeof r->r };
	int nr = -1;
	struct iovec s = { &nr, sizeof nr };

	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &v) != 0 ||
	    ptrace(PTRACE_SETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &s) != 0)
		return errno;
	return 0;
}

/* The general registers alone, for probe_restart(). */
static int pl_regs_set_gp(pid_t tid, const pl_regs *r)
{
	struct iovec v = { (void *)&r->r, sizeof r->r };

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &v) == 0 ? 0 : errno;
}

/*
 * probe_restart() in remote.c, at the entry stop of the call a thread
 * stopped on (SYSEMU skips it): the pc back on the svc, x0 and x8 as they
 * are (the call's first argument and number), so that if we die before
 * the exit stop the thread's way back to user mode makes the call again.
 * Not x0 = -ERESTARTNOINTR for the kernel to restart it: that is done in
 * do_signal(), which runs only if a signal is pending, and a tracer that
 * dies while the thread runs leaves none: the call returned -513 (seen in
 * the arm64 VM's kill test).
 */
static void pl_regs_probe_entry(pl_regs *r)
{
	r->r.pc -= sizeof pl_syscall_insn;
}

/*
 * ... and at its exit stop: the registers the thread was found with
 * (before), the pc on the svc, the call number nr that the kernel took
 * from x8.  x7, which the kernel showed as 0 at the entry stop, is the
 * one found (ours is discarded anyway).
 */
static void pl_regs_probe_exit(pl_regs *r, const pl_regs *before, long nr)
{
	r->r = before->r;
	r->r.regs[8] = (unsigned long)nr;
	r->restart_of = nr == PL_NR_RESTART_SYSCALL ? (long)before->r.regs[8] : -1;
}

/* The kernel's copy of the number of the call a thread is stopped in. */
static long pl_regs_syscallno(pid_t tid)
{
	int nr = -1;
	struct iovec s = { &nr, sizeof nr };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &s) != 0)
		return -1;
	return nr;
}

/*
 * The injected code (see remote.c): the svc, then rt_sigreturn of a frame
 * that holds the thread's context.  A restore in user mode, as on x86,
 * cannot end on arm64: the branch back needs a register of its own.  So
 * the code ends as a signal handler does (and as CRIU's compel ends its
 * parasite): x8 = __NR_rt_sigreturn, svc, with sp at the frame.
 * rt_sigreturn (arch/arm64/kernel/signal.c) reads the frame at sp,
 * 16-byte aligned, and wants:
 *  - uc_sigmask: the blocked mask is set from it (the thread's own,
 *    pl_regs_get);
 *  - uc_mcontext: x0..x30, sp, pc, pstate, and in __reserved an
 *    fpsimd_context record (required), then the terminator record;
 *    only these are read, not the siginfo before them nor the rest of
 *    the 4 KiB __reserved;
 *  - uc_stack: restore_altstack(), whose errors other than EFAULT are
 *    ignored: ss_flags 3 (neither 0, SS_ONSTACK nor SS_DISABLE) makes
 *    do_sigaltstack() say EINVAL before it changes anything, so the
 *    thread's own alternate stack stays as it is.
 * It also forgets the system call (no restart after it) and resets the
 * restart_block (pl_regs_restarted).  SVE state, if the thread had it
 * live, follows the fpsimd_context as an sve_context, which rt_sigreturn
 * loads (vector lengths up to 768 bits, whose record fits in __reserved;
 * longer ones would need an extra_context, and come back with the FP/SIMD
 * registers alone, as after a system call).  SME's streaming state is not
 * kept (no server CPU has it yet).
 *
 * Where the frame goes: the kernel reads 1008 bytes of it, and the [vdso]
 * tail has less room than that on the 4 KiB-page kernels (704 bytes on
 * Debian 12's 6.1: a 3336-byte image in one page).  So it goes where
 * signal delivery puts its frames, which are more than four times larger:
 * just below the thread's stack pointer (arm64 has no red zone, so nothing
 * there is live).  The stack pointer of the injected registers is the
 * frame's, from the svc on, so that a signal delivered while the thread
 * executes our code (after our death, say) puts its own frame below ours
 * and returns to the code with ours intact.  The frame is written with
 * process_vm_writev(), which, unlike /proc/PID/mem, writes only where the
 * thread itself could (not into a guard page); a stack without 1 KiB of
 * room below its pointer (a Go goroutine's nearly full one) fails the
 * write, and with it the call.  The code, 16 bytes, and the batch loop
 * stay in the [vdso] tail.
 */
#define PL_CODE_MAX	64
#define PL_FRAME_BELOW_SP	1

#define PL_UC		128
#define PL_UC_STACK	(PL_UC + 16)
#define PL_UC_SIGMASK	(PL_UC + 40)
#define PL_UC_MCONTEXT	(PL_UC + 176)
#define PL_MC_RESERVED	(PL_UC_MCONTEXT + offsetof(struct sigcontext, __reserved))
#define PL_FRAME	(PL_MC_RESERVED + sizeof(struct fpsimd_context) + 16)
/* The sve_context record, rounded to 16 as the kernel's records are. */
#define PL_SVE_REC(vq)	PL_ROUND16(SVE_SIG_CONTEXT_SIZE(vq))
#define PL_FRAME_MAX	(PL_FRAME + PL_SVE_REC(PL_SVE_VQ_MAX))
/*
 * Whether the record fits in __reserved (4096 bytes) with the fpsimd_context
 * and the terminator, without an extra_context: vq <= 6 (768 bits).
 */
#define PL_SVE_FITS(vq)	(sizeof(struct fpsimd_context) + PL_SVE_REC(vq) + 16 <= \
			 sizeof(((struct sigcontext *)0)->__reserved))

static size_t pl_frame_size(const pl_regs *r)
{
	return PL_FRAME + (r->sve_len != 0 && PL_SVE_FITS(r->sve_vq) ? PL_SVE_REC(r->sve_vq) : 0);
}

/* The restore's own call, which a seccomp filter must let through too. */
#define PL_RESTORE_NR	PL_NR_RT_SIGRETURN
#define PL_RESTORE_PC	12			/* after its svc */

_Static_assert(offsetof(struct sigcontext, __reserved) == 288, "struct sigcontext");
_Static_assert(sizeof(struct fpsimd_context) == 528, "struct fpsimd_context");
_Static_assert(sizeof(struct user_fpsimd_state) == 528, "struct user_fpsimd_state");

static void pl_put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void pl_put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* The frame's address for a thread found with registers r. */
static uintptr_t pl_frame_at(const pl_regs *r)
{
	return (uintptr_t)((r->r.sp - pl_frame_size(r)) & ~(uint64_t)15);
}

/*
 * Writes the frame that restores r below r's stack pointer, in process pid:
 * the part the kernel reads, from the ucontext on.  0 or an errno.
 */
static int pl_frame_write(pid_t pid, const pl_regs *r)
{
	unsigned char b[PL_FRAME_MAX];
	unsigned char *fp = b + PL_MC_RESERVED;
	size_t size = pl_frame_size(r);
	uintptr_t at = pl_frame_at(r);
	struct iovec l = { b + PL_UC, size - PL_UC }, rv = { (void *)(at + PL_UC), size - PL_UC };
	int i;

	memset(b, 0, sizeof b);
	pl_put32(b + PL_UC_STACK + 8, 3);	/* ss_flags: invalid, ignored */
	pl_put64(b + PL_UC_SIGMASK, r->sigmask);
	for (i = 0; i < 31; i++)
		pl_put64(b + PL_UC_MCONTEXT + offsetof(struct sigcontext, regs) + 8 * i, r->r.regs[i]);
	pl_put64(b + PL_UC_MCONTEXT + offsetof(struct sigcontext, sp), r->r.sp);
	pl_put64(b + PL_UC_MCONTEXT + offsetof(struct sigcontext, pc), r->r.pc);
	pl_put64(b + PL_UC_MCONTEXT + offsetof(struct sigcontext, pstate), r->r.pstate);
	pl_put32(fp + offsetof(struct fpsimd_context, head.magic), FPSIMD_MAGIC);
	pl_put32(fp + offsetof(struct fpsimd_context, head.size), sizeof(struct fpsimd_context));
	pl_put32(fp + offsetof(struct fpsimd_context, fpsr), r->fp.fpsr);
	pl_put32(fp + offsetof(struct fpsimd_context, fpcr), r->fp.fpcr);
	memcpy(fp + offsetof(struct fpsimd_context, vregs), r->fp.vregs, sizeof r->fp.vregs);
	/*
	 * Then the SVE state, if it was live and fits: an sve_context (flags
	 * 0: not streaming), whose data is NT_ARM_SVE's.  rt_sigreturn checks
	 * vl against the thread's, copies the data into its SVE state, sets
	 * TIF_SVE, then puts the fpsimd_context's vregs into the low 128 bits
	 * of z0-z31 (the same values).
	 */
	if (size > PL_FRAME) {
		unsigned char *sp = fp + sizeof(struct fpsimd_context);
		struct user_sve_header h;

		memcpy(&h, r->sve, sizeof h);
		pl_put32(sp + offsetof(struct sve_context, head.magic), SVE_MAGIC);
		pl_put32(sp + offsetof(struct sve_context, head.size), PL_SVE_REC(r->sve_vq));
		memcpy(sp + offsetof(struct sve_context, vl), &h.vl, 2);
		memcpy(sp + SVE_SIG_REGS_OFFSET, r->sve + SVE_PT_REGS_OFFSET, SVE_SIG_REGS_SIZE(r->sve_vq));
	}
	/* The terminator record after them: zero, as memset left it. */
	errno = 0;
	if (process_vm_writev(pid, &l, 1, &rv, 1, 0) != (ssize_t)l.iov_len)
		return errno != 0 ? errno : EIO;
	return 0;
}

/*
 * Writes the code, to run at address at, into buf (PL_CODE_MAX bytes);
 * returns its length.  The svc is at offset 0; the frame is pl_frame_write's.
 */
static size_t pl_code_build(unsigned char *buf, uintptr_t at, const pl_regs *r)
{
	(void)at, (void)r;
	pl_put32(buf + 0, 0xd4000001);		/* svc #0: our call */
	pl_put32(buf + 4, 0xd2800008 | PL_NR_RT_SIGRETURN << 5);	/* mov x8, #139 */
	pl_put32(buf + 8, 0xd4000001);		/* svc #0: rt_sigreturn */
	pl_put32(buf + 12, 0xd4200000);		/* brk #0: never reached */
	return 16;
}

/*
 * The batch: as on x86, a loop of mlock2() over a list (address, length,
 * flags), stopping at the first that fails, then tgkill() of a signal the
 * process ignores, then a branch to the restore (rt_sigreturn of the frame).
 * x19 the list, x20 its length, x21 entries done, x22 the last result, x23..x25 tgkill's arguments, sp at the frame; x7 is not touched.
 */
#define PL_BATCH_CODE	80
#define PL_BATCH_ENTRY	24

static size_t pl_batch_build(unsigned char *buf, uintptr_t at, uintptr_t restore)
{
	static const uint32_t loop[] = {
		0xa9400660,	/* 0: ldp x0, x1, [x19] */
		0xf9400a62,	/* ldr x2, [x19, #16] */
		0xd2800008 | PL_NR_MLOCK2 << 5,	/* mov x8, #SYS_mlock2 */
		0xd4000001,	/* svc #0 */
		0xb50000a0,	/* cbnz x0, stop */
		0x91006273,	/* add x19, x19, #24 */
		0x910006b5,	/* add x21, x21, #1 */
		0xeb1402bf,	/* cmp x21, x20 */
		0x54ffff03,	/* b.lo 0 */
		0xaa0003f6,	/* stop: mov x22, x0 */
		0xaa1703e0,	/* mov x0, x23 */
		0xaa1803e1,	/* mov x1, x24 */
		0xaa1903e2,	/* mov x2, x25 */
		0xd2800008 | PL_NR_TGKILL << 5,	/* mov x8, #SYS_tgkill */
		0xd4000001,	/* svc #0 */
	};
	size_t i;
	int64_t d;

	for (i = 0; i < sizeof loop / sizeof loop[0]; i++)
		pl_put32(buf + 4 * i, loop[i]);
	d = ((int64_t)restore - (int64_t)(at + 4 * i)) / 4;
	pl_put32(buf + 4 * i, 0x14000000 | ((uint32_t)d & 0x3ffffff));	/* b restore */
	return 4 * (i + 1);
}

static void pl_regs_set_batch(pl_regs *r, uintptr_t entry, uintptr_t list, size_t n,
			      pid_t tgid, pid_t tid, int sig)
{
	r->r.pc = entry;
	r->r.sp = pl_frame_at(r);
	r->r.regs[19] = list;
	r->r.regs[20] = n;
	r->r.regs[21] = 0;
	r->r.regs[23] = (unsigned long)tgid;
	r->r.regs[24] = (unsigned long)tid;
	r->r.regs[25] = (unsigned long)sig;
}

/* How many entries succeeded, and the result of the last one made. */
static size_t pl_regs_batch_done(const pl_regs *r, long *res)
{
	*res = (long)r->r.regs[22];
	return (size_t)r->r.regs[21];
}

#else

#define PL_REMOTE_SUPPORTED	0
#define PL_REMOTE_ARCH		"this architecture"
#define PL_REMOTE_NOREGS	1

#endif

#endif /* PLOCK_REMOTE_ARCH_H */
