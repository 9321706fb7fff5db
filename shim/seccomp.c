/*
 * The seccomp filters of another process's thread, and what they decide for
 * a system call that thread would make.  cplock makes a stopped thread of
 * its target execute mlock2, mlockall and munlockall; a call the thread's
 * filters would not let it make itself must never be made in it (it would
 * kill the process, run its SIGSYS handler for a call it never made, or
 * fail with an errno that says nothing about memory locks).
 *
 * The filters are read with PTRACE_SECCOMP_GET_FILTER and run here by a
 * classic BPF interpreter with the kernel's semantics (kernel/seccomp.c,
 * net/core/filter.c): the same instructions accepted, the same 32-bit
 * arithmetic, the same order of filters and precedence of actions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS	0x80000000U
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF		0x7fc00000U
#endif
#ifndef SECCOMP_RET_LOG
#define SECCOMP_RET_LOG			0x7ffc0000U
#endif
#ifndef SECCOMP_RET_ACTION_FULL
#define SECCOMP_RET_ACTION_FULL		0xffff0000U
#endif
#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER	0x420c
#endif

/*
 * What the kernel puts in seccomp_data.arch for a native system call.  On
 * an architecture not listed here eval cannot build the data a filter sees,
 * and says KILL_PROCESS: refuse.
 */
#if defined(__x86_64__) && defined(__LP64__)
#define SC_ARCH		AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && defined(__LP64__)
#define SC_ARCH		AUDIT_ARCH_AARCH64
#endif

#define SC_DATA_LEN	((uint32_t)sizeof(struct seccomp_data))	/* 64 */
#define SC_MODE_DEAD	3	/* the kernel's SECCOMP_MODE_DEAD: being killed */

_Static_assert(sizeof(struct seccomp_data) == 64, "struct seccomp_data is 64 bytes");
_Static_assert(BPF_MEMWORDS == 16, "the kernel's checker tracks 16 scratch words");

/* One filter: instructions [off, off + len) of the set's insn. */
struct sc_filter {
	size_t off, len;
	int ok;			/* the kernel's checks pass */
};

struct pl_seccomp {
	int mode;		/* SECCOMP_MODE_STRICT, _FILTER, or SC_MODE_DEAD */
	size_t n;		/* filters; [0] is the oldest, as ptrace numbers them */
	struct sc_filter *f;
	struct sock_filter *insn;
};

/* ------------------------------------------------------------ checking */

/*
 * The kernel's checks of a classic BPF seccomp filter, in its order:
 * bpf_check_classic() (known codes, no division by a constant 0, shifts by
 * a constant under 32, scratch words under 16, jumps inside the program,
 * RET last, no scratch word read before written on every path), then
 * seccomp_check_filter(), whose list of codes is shorter: no BPF_MOD, no
 * LD H/B, no IND, no MSH, and LD W ABS only of an aligned word of
 * seccomp_data.  Every filter the kernel attached passes; one that does not
 * was not read right, and counts as KILL_PROCESS.
 */
static int sc_code_ok(uint16_t code)
{
	switch (code) {
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_ALU | BPF_ADD | BPF_K:
	case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_K:
	case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_AND | BPF_K:
	case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_K:
	case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_X:
	case BPF_ALU | BPF_NEG:
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_IMM:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
	case BPF_JMP | BPF_JA:
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_X:
		return 1;
	}
	return 0;
}

static int sc_is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && code != (BPF_JMP | BPF_JA);
}

/* One instruction's own checks; pc of len. */
static int sc_insn_ok(const struct sock_filter *p, size_t pc, size_t len)
{
	uint32_t k = p[pc].k;

	if (!sc_code_ok(p[pc].code))
		return 0;
	switch (p[pc].code) {
	case BPF_ALU | BPF_DIV | BPF_K:
		return k != 0;
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
		return k < 32;
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
		return k < BPF_MEMWORDS;
	case BPF_JMP | BPF_JA:
		return k < len - pc - 1;
	case BPF_LD | BPF_W | BPF_ABS:
		return k < SC_DATA_LEN && (k & 3) == 0;
	}
	if (sc_is_cond_jump(p[pc].code))
		return pc + p[pc].jt + 1 < len && pc + p[pc].jf + 1 < len;
	return 1;
}

/*
 * check_load_and_stores(): which scratch words are written on every path
 * to each instruction, the kernel's way.  masks[pc] collects the words
 * written on every jump to pc; after a jump, the next instruction starts
 * from "all" and takes its own mask (so that a jump's fall-through, whose
 * mask the jump itself set, or dead code after a JA, is judged as the
 * kernel judges it).  masks has len entries.
 */
static int sc_memory_ok(const struct sock_filter *p, size_t len, uint16_t *masks)
{
	uint16_t valid = 0;
	size_t pc;

	for (pc = 0; pc < len; pc++)
		masks[pc] = 0xffff;
	for (pc = 0; pc < len; pc++) {
		valid &= masks[pc];
		switch (p[pc].code) {
		case BPF_ST:
		case BPF_STX:
			valid |= (uint16_t)(1u << p[pc].k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
			if (!(valid & (1u << p[pc].k)))
				return 0;
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + p[pc].k] &= valid;
			valid = 0xffff;
			break;
		default:
			if (sc_is_cond_jump(p[pc].code)) {
				masks[pc + 1 + p[pc].jt] &= valid;
				masks[pc + 1 + p[pc].jf] &= valid;
				valid = 0xffff;
			}
		}
	}
	return 1;
}

static int sc_filter_ok(const struct sock_filter *p, size_t len, uint16_t *masks)
{
	size_t pc;

	if (len == 0 || len > BPF_MAXINSNS)
		return 0;
	for (pc = 0; pc < len; pc++)
		if (!sc_insn_ok(p, pc, len))
			return 0;
	if (p[len - 1].code != (BPF_RET | BPF_K) && p[len - 1].code != (BPF_RET | BPF_A))
		return 0;
	return sc_memory_ok(p, len, masks);
}

/* ------------------------------------------------------------ running */

/*
 * Runs one checked filter over the 16 words of a seccomp_data, as the
 * kernel runs it after converting it to eBPF (bpf_convert_filter):
 *   - A, X and the scratch words are 32 bits; A and X start at 0;
 *   - arithmetic wraps at 32 bits and is unsigned: DIV is unsigned,
 *     RSH is logical, NEG is 0 - A;
 *   - DIV by X == 0 ends the filter, which returns 0 (SECCOMP_RET_KILL_THREAD);
 *   - LSH and RSH by X shift by X & 31, as the eBPF interpreter does and
 *     as the x86-64 and arm64 JITs' 32-bit shift instructions do;
 *   - JGT, JGE compare unsigned 32-bit values, a K with its top bit set
 *     included (the kernel moves such a K into a register, zero-extended,
 *     rather than compare with a sign-extended immediate);
 *   - LD W ABS reads the word at byte k in host byte order; LEN is 64.
 * Every jump is forward and the last instruction is a RET, so the loop ends.
 */
static uint32_t sc_run(const struct sock_filter *p, size_t len, const uint32_t *data)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	size_t pc;
	int t;

	for (pc = 0; pc < len; pc++) {
		uint32_t k = p[pc].k;

		t = -1;
		switch (p[pc].code) {
		case BPF_LD | BPF_W | BPF_ABS:	a = data[k / 4]; break;
		case BPF_LD | BPF_W | BPF_LEN:	a = SC_DATA_LEN; break;
		case BPF_LDX | BPF_W | BPF_LEN:	x = SC_DATA_LEN; break;
		case BPF_LD | BPF_IMM:		a = k; break;
		case BPF_LDX | BPF_IMM:		x = k; break;
		case BPF_LD | BPF_MEM:		a = mem[k]; break;
		case BPF_LDX | BPF_MEM:		x = mem[k]; break;
		case BPF_ST:			mem[k] = a; break;
		case BPF_STX:			mem[k] = x; break;
		case BPF_MISC | BPF_TAX:	x = a; break;
		case BPF_MISC | BPF_TXA:	a = x; break;
		case BPF_ALU | BPF_ADD | BPF_K:	a += k; break;
		case BPF_ALU | BPF_ADD | BPF_X:	a += x; break;
		case BPF_ALU | BPF_SUB | BPF_K:	a -= k; break;
		case BPF_ALU | BPF_SUB | BPF_X:	a -= x; break;
		case BPF_ALU | BPF_MUL | BPF_K:	a *= k; break;
		case BPF_ALU | BPF_MUL | BPF_X:	a *= x; break;
		case BPF_ALU | BPF_DIV | BPF_K:	a /= k; break;
		case BPF_ALU | BPF_DIV | BPF_X:
			if (x == 0)
				return 0;
			a /= x;
			break;
		case BPF_ALU | BPF_AND | BPF_K:	a &= k; break;
		case BPF_ALU | BPF_AND | BPF_X:	a &= x; break;
		case BPF_ALU | BPF_OR | BPF_K:	a |= k; break;
		case BPF_ALU | BPF_OR | BPF_X:	a |= x; break;
		case BPF_ALU | BPF_XOR | BPF_K:	a ^= k; break;
		case BPF_ALU | BPF_XOR | BPF_X:	a ^= x; break;
		case BPF_ALU | BPF_LSH | BPF_K:	a <<= k; break;
		case BPF_ALU | BPF_LSH | BPF_X:	a <<= x & 31; break;
		case BPF_ALU | BPF_RSH | BPF_K:	a >>= k; break;
		case BPF_ALU | BPF_RSH | BPF_X:	a >>= x & 31; break;
		case BPF_ALU | BPF_NEG:		a = 0u - a; break;
		case BPF_JMP | BPF_JA:		pc += k; break;
		case BPF_JMP | BPF_JEQ | BPF_K:	t = a == k; break;
		case BPF_JMP | BPF_JEQ | BPF_X:	t = a == x; break;
		case BPF_JMP | BPF_JGT | BPF_K:	t = a > k; break;
		case BPF_JMP | BPF_JGT | BPF_X:	t = a > x; break;
		case BPF_JMP | BPF_JGE | BPF_K:	t = a >= k; break;
		case BPF_JMP | BPF_JGE | BPF_X:	t = a >= x; break;
		case BPF_JMP | BPF_JSET | BPF_K: t = (a & k) != 0; break;
		case BPF_JMP | BPF_JSET | BPF_X: t = (a & x) != 0; break;
		case BPF_RET | BPF_K:		return k;
		case BPF_RET | BPF_A:		return a;
		default:			return SECCOMP_RET_KILL_PROCESS;
		}
		if (t >= 0)
			pc += t ? p[pc].jt : p[pc].jf;
	}
	return SECCOMP_RET_KILL_PROCESS;	/* not reached by a checked filter */
}

/*
 * The order of actions, most restrictive first: the kernel compares
 * (s32)(ret & SECCOMP_RET_ACTION_FULL), so that KILL_PROCESS (0x80000000)
 * comes before KILL_THREAD (0).  Flipping the top bit makes that signed
 * order an unsigned one.
 */
static uint32_t sc_rank(uint32_t ret)
{
	return (ret & SECCOMP_RET_ACTION_FULL) ^ 0x80000000u;
}

/*
 * The kernel's __seccomp_filter() knows these actions; any other value
 * takes its "default:" branch, which kills the process.
 */
static int sc_known(uint32_t action)
{
	switch (action & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS:
	case SECCOMP_RET_KILL_THREAD:
	case SECCOMP_RET_TRAP:
	case SECCOMP_RET_ERRNO:
	case SECCOMP_RET_USER_NOTIF:
	case SECCOMP_RET_TRACE:
	case SECCOMP_RET_LOG:
	case SECCOMP_RET_ALLOW:
		return 1;
	}
	return 0;
}

/*
 * Strict mode (mode 1) lets a thread make read, write, _exit and
 * rt_sigreturn; any other call ends the thread, and only it, with
 * do_exit(SIGKILL), not SIGSYS.  (Kernels that have uretprobe let that one
 * through too; refusing it here errs on the safe side.)
 */
static uint32_t sc_strict(int nr)
{
	if (nr == SYS_read || nr == SYS_write || nr == SYS_exit || nr == SYS_rt_sigreturn)
		return SECCOMP_RET_ALLOW;
	return SECCOMP_RET_KILL_THREAD;
}

/*
 * seccomp_run_filters(): every filter runs, the newest first; a filter's
 * value replaces the one so far only if its action is strictly more
 * restrictive, so that among equal actions the newest filter's data wins.
 * Then what __seccomp_filter() does with an action it does not know.
 * Recent x86-64 kernels (6.18 here) run uretprobe and uprobe, system calls
 * that only uprobes' trampolines make, without asking the filters; that is
 * not modelled: this says what the filters decide, the more restrictive.
 */
uint32_t pl_seccomp_eval(const struct pl_seccomp *f, int nr, const uint64_t args[6], uint64_t ip)
{
#ifdef SC_ARCH
	struct seccomp_data sd;
	uint32_t data[16], ret = SECCOMP_RET_ALLOW, cur;
	size_t i;
#endif

	if (f == NULL)
		return SECCOMP_RET_ALLOW;
	if (f->mode == SECCOMP_MODE_STRICT)
		return sc_strict(nr);
	/* A dying thread: every system call it makes ends it with SIGKILL. */
	if (f->mode != SECCOMP_MODE_FILTER)
		return SECCOMP_RET_KILL_THREAD;
#ifdef SC_ARCH
	/* The kernel's own answer to a filter mode with no filter. */
	if (f->n == 0)
		return SECCOMP_RET_KILL_PROCESS;
	memset(&sd, 0, sizeof sd);
	sd.nr = nr;
	sd.arch = SC_ARCH;
	sd.instruction_pointer = ip;
	if (args != NULL)
		memcpy(sd.args, args, sizeof sd.args);
	memcpy(data, &sd, sizeof data);
	for (i = f->n; i-- > 0;) {
		cur = f->f[i].ok ? sc_run(f->insn + f->f[i].off, f->f[i].len, data)
				 : SECCOMP_RET_KILL_PROCESS;
		if (sc_rank(cur) < sc_rank(ret))
			ret = cur;
	}
	if (!sc_known(ret))
		ret = SECCOMP_RET_KILL_PROCESS | (ret & SECCOMP_RET_DATA);
	return ret;
#else
	(void)nr, (void)args, (void)ip;
	return SECCOMP_RET_KILL_PROCESS;
#endif
}

int pl_seccomp_allows(uint32_t action)
{
	action &= SECCOMP_RET_ACTION_FULL;
	return action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG;
}

/* ------------------------------------------------------------ reading */

/*
 * The number on the "Seccomp:" line of /proc/PID/task/TID/status: 0, 1
 * (strict), 2 (filter), 3 (dead); 0 if there is no such line (a kernel
 * without CONFIG_SECCOMP).  The file is read to its end in pieces, not into
 * a buffer of a guessed size: its "Groups:" line, before "Seccomp:", holds
 * every supplementary group, up to 65536 of them.
 */
static int sc_status_mode(pid_t pid, pid_t tid, int *mode)
{
	static const char key[] = "Seccomp:";
	char path[64], buf[1024];
	size_t at = 0;		/* bytes of key matched at this line's start */
	int fd, state = 0;	/* 0 matching key, 1 in the value, 2 skipping the line */
	int v = 0, found = 0, err = 0;
	ssize_t r, i;

	*mode = 0;
	pl_proc_path(pid, tid, "status", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err = pl_proc_errno(pid, errno);
		return err == ESRCH ? ESRCH : EACCES;
	}
	while (!found && (r = read(fd, buf, sizeof buf)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* A thread that exits while we read: ESRCH. */
			err = errno == ESRCH ? ESRCH : EACCES;
			break;
		}
		for (i = 0; i < r && !found; i++) {
			char c = buf[i];

			if (c == '\n') {
				if (state == 1)
					found = 1;
				state = 0, at = 0;
			} else if (state == 0) {
				if (c == key[at]) {
					if (++at == sizeof key - 1)
						state = 1;
				} else {
					state = 2;
				}
			} else if (state == 1 && c >= '0' && c <= '9' && v < 1000) {
				v = v * 10 + (c - '0');
			}
		}
	}
	if (state == 1)
		found = 1;
	close(fd);
	if (err != 0)
		return err;
	*mode = found ? v : 0;
	return 0;
}

/* The errno of a PTRACE_SECCOMP_GET_FILTER that failed, in read's terms. */
static int sc_get_errno(int err)
{
	switch (err) {
	case ESRCH:		/* gone, or not stopped by us */
	case ENOMEM:
		return err;
	}
	/*
	 * EACCES: the caller lacks CAP_SYS_ADMIN, or runs under seccomp
	 * itself.  EIO: a kernel without CONFIG_CHECKPOINT_RESTORE, which
	 * does not know the request.  EINVAL: not in filter mode any more.
	 * EMEDIUMTYPE: a filter that is not classic BPF.  All say the
	 * filters are there and cannot be read.
	 */
	return EACCES;
}

/* Appends filter index idx of tid to f, read into buf (BPF_MAXINSNS long). */
static int sc_read_one(pid_t tid, unsigned long idx, struct sock_filter *buf,
		       uint16_t *masks, struct pl_seccomp *f, size_t *cap)
{
	struct sock_filter *insn;
	size_t total = f->n > 0 ? f->f[f->n - 1].off + f->f[f->n - 1].len : 0;
	long len;

	/*
	 * With a buffer the size of the largest filter the kernel accepts,
	 * one call is enough, and a filter that changed between a call that
	 * asks its length and one that copies it cannot overrun the buffer.
	 * Filters only ever get added, at the new end: index idx (0 the
	 * oldest) names the same filter from one call to the next.
	 */
	len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)idx, buf);
	if (len < 0)
		return errno == ENOENT ? ENOENT : sc_get_errno(errno);
	if (len == 0 || len > BPF_MAXINSNS)
		return EACCES;
	if (pl_grow((void **)&f->f, cap, f->n + 1, sizeof *f->f) != 0)
		return ENOMEM;
	if ((insn = realloc(f->insn, (total + (size_t)len) * sizeof *insn)) == NULL)
		return ENOMEM;
	f->insn = insn;
	memcpy(insn + total, buf, (size_t)len * sizeof *insn);
	f->f[f->n].off = total;
	f->f[f->n].len = (size_t)len;
	f->f[f->n].ok = sc_filter_ok(insn + total, (size_t)len, masks);
	f->n++;
	return 0;
}

/* Reads every filter of tid, the oldest first, until the kernel says ENOENT. */
static int sc_read_filters(pid_t tid, struct pl_seccomp *f)
{
	struct sock_filter *buf;
	uint16_t *masks;
	size_t cap = 0;
	unsigned long idx;
	int err = 0;

	buf = malloc(BPF_MAXINSNS * (sizeof *buf + sizeof *masks));
	if (buf == NULL)
		return ENOMEM;
	masks = (uint16_t *)(buf + BPF_MAXINSNS);
	for (idx = 0; err == 0; idx++)
		err = sc_read_one(tid, idx, buf, masks, f, &cap);
	free(buf);
	/* ENOENT past the last one; at index 0 it would mean no filter in filter mode. */
	if (err == ENOENT)
		err = f->n > 0 ? 0 : EACCES;
	return err;
}

int pl_seccomp_read(pid_t pid, pid_t tid, struct pl_seccomp **out)
{
	struct pl_seccomp *f;
	int mode, err;

	*out = NULL;
	/*
	 * The status says the mode even to a caller without privilege.  The
	 * mode and the filters can change only by the thread itself, which
	 * the caller holds stopped, or by another thread's
	 * SECCOMP_FILTER_FLAG_TSYNC: a caller that has not stopped every
	 * thread gets the filters as they were at some moment of the call.
	 */
	if ((err = sc_status_mode(pid, tid, &mode)) != 0)
		return err;
	if (mode == SECCOMP_MODE_DISABLED)
		return 0;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return ENOMEM;
	f->mode = mode == SECCOMP_MODE_STRICT || mode == SECCOMP_MODE_FILTER ? mode : SC_MODE_DEAD;
	if (f->mode == SECCOMP_MODE_FILTER && (err = sc_read_filters(tid, f)) != 0) {
		pl_seccomp_free(f);
		return err;
	}
	*out = f;
	return 0;
}

void pl_seccomp_free(struct pl_seccomp *f)
{
	if (f == NULL)
		return;
	free(f->f);
	free(f->insn);
	free(f);
}
