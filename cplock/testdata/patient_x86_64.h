/*
 * patient.c's register round on x86-64 (included by patient.c alone).
 *
 * patient_round loads known values, distinct in every round, into every
 * general register but rsp, the flags (arithmetic flags and DF),
 * xmm0-15 (ymm0-15 with AVX; zmm0-31 and k0-7 with AVX-512 F and BW),
 * MXCSR and the x87 control word, and a pattern into the 128 bytes of red
 * zone below rsp; then makes the call (a blocked thread is stopped there,
 * with all of them loaded), spins with the flags held (loop), spins
 * comparing every general register, and stores them all.  verify_round()
 * compares what came back with what went in; rsp must be what it was.
 *
 * The thread pointer checked after every round is the FS base.  The
 * "ready" line's vec= is sse, avx or avx512, the registers it checks, and
 * its xsave= the offsets of XSAVE components 2, 5, 6 and 7 (0: none), for
 * a test that changes them.
 */
#include <asm/prctl.h>
#include <cpuid.h>

/* What patient_round loads, and what it found at the end. */
struct round {
	uint64_t want[15];	/* rax rbx rcx rdx rsi rdi rbp r8 ... r15 */
	uint64_t flags;		/* rflags: arithmetic flags and DF */
	int64_t sysnr;		/* the system call to make, or -1 */
	uint64_t spinf;		/* iterations with the flags held (>= 1) */
	uint64_t sping;		/* iterations comparing registers (>= 1) */
	uint64_t level;		/* 0 SSE, 1 AVX, 2 AVX-512 (F and BW) */
	uint32_t mxcsr, fcw;
	uint64_t rz[15];	/* the red zone: -128(%rsp) to -16(%rsp) */

	uint64_t got[15];
	uint64_t flags_sys;	/* right after the system call */
	uint64_t flags_f;	/* after the spin with the flags held */
	uint64_t flags_end;	/* at the end (DF only: cmp changed the rest) */
	int64_t sysres;
	uint64_t rsp0, rsp1;	/* rsp at the start and at the end */
	uint64_t left;		/* compare iterations left: 0 unless one failed */
	uint32_t mxcsr_got, fcw_got;
	uint64_t rz_got[15];
	uint64_t kwant[8], kgot[8];
	_Alignas(64) unsigned char vwant[32][64];
	unsigned char vgot[32][64];
};

/* The offsets, for the assembly; checked against the struct. */
#define R_WANT		0
#define R_FLAGS		120
#define R_SYSNR		128
#define R_SPINF		136
#define R_SPING		144
#define R_LEVEL		152
#define R_MXCSR		160
#define R_FCW		164
#define R_RZ		168
#define R_GOT		288
#define R_FLAGS_SYS	408
#define R_FLAGS_F	416
#define R_FLAGS_END	424
#define R_SYSRES	432
#define R_RSP0		440
#define R_RSP1		448
#define R_LEFT		456
#define R_MXCSR_GOT	464
#define R_FCW_GOT	468
#define R_RZ_GOT	472
#define R_KWANT		592
#define R_KGOT		656
#define R_VWANT		768
#define R_VGOT		2816

_Static_assert(offsetof(struct round, flags) == R_FLAGS, "flags");
_Static_assert(offsetof(struct round, sysnr) == R_SYSNR, "sysnr");
_Static_assert(offsetof(struct round, spinf) == R_SPINF, "spinf");
_Static_assert(offsetof(struct round, sping) == R_SPING, "sping");
_Static_assert(offsetof(struct round, level) == R_LEVEL, "level");
_Static_assert(offsetof(struct round, mxcsr) == R_MXCSR, "mxcsr");
_Static_assert(offsetof(struct round, fcw) == R_FCW, "fcw");
_Static_assert(offsetof(struct round, rz) == R_RZ, "rz");
_Static_assert(offsetof(struct round, got) == R_GOT, "got");
_Static_assert(offsetof(struct round, flags_sys) == R_FLAGS_SYS, "flags_sys");
_Static_assert(offsetof(struct round, flags_f) == R_FLAGS_F, "flags_f");
_Static_assert(offsetof(struct round, flags_end) == R_FLAGS_END, "flags_end");
_Static_assert(offsetof(struct round, sysres) == R_SYSRES, "sysres");
_Static_assert(offsetof(struct round, rsp0) == R_RSP0, "rsp0");
_Static_assert(offsetof(struct round, rsp1) == R_RSP1, "rsp1");
_Static_assert(offsetof(struct round, left) == R_LEFT, "left");
_Static_assert(offsetof(struct round, mxcsr_got) == R_MXCSR_GOT, "mxcsr_got");
_Static_assert(offsetof(struct round, fcw_got) == R_FCW_GOT, "fcw_got");
_Static_assert(offsetof(struct round, rz_got) == R_RZ_GOT, "rz_got");
_Static_assert(offsetof(struct round, kwant) == R_KWANT, "kwant");
_Static_assert(offsetof(struct round, kgot) == R_KGOT, "kgot");
_Static_assert(offsetof(struct round, vwant) == R_VWANT, "vwant");
_Static_assert(offsetof(struct round, vgot) == R_VGOT, "vgot");

/* rflags bits that user code sets and a context switch keeps: CF PF AF ZF SF DF OF. */
#define FLAGS_MASK	0xcd5ULL
#define FLAG_DF		0x400ULL

/*
 * The stack frame of patient_round, above the red zone (rsp-relative:
 * every register but rsp holds a test value, so nothing else can address
 * memory): the context, the wanted registers, what was found.
 */
#define S_CTX		0
#define S_W		8	/* 15 slots */
#define S_FLAGS		128
#define S_SYSNR		136
#define S_SPINF		144
#define S_CNT		152
#define S_G		160	/* 15 slots */
#define S_FSYS		280
#define S_FF		288
#define S_FEND		296
#define S_SYSRES	304
#define S_RSP0		312
#define S_RSP1		320
#define S_MXCSR_ORIG	328
#define S_FCW_ORIG	332
#define S_MXCSR_GOT	336
#define S_FCW_GOT	340
#define FRAME		352

#define STR_(x) #x
#define STR(x) STR_(x)
#define I15 "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14"
#define I16 I15 ",15"
#define I32 I16 ",16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31"

/* Index of each register in want[] and got[], and its slot. */
#define GPRS(X) X(rax, 0) X(rbx, 1) X(rcx, 2) X(rdx, 3) X(rsi, 4) X(rdi, 5) X(rbp, 6) \
	X(r8, 7) X(r9, 8) X(r10, 9) X(r11, 10) X(r12, 11) X(r13, 12) X(r14, 13) X(r15, 14)
#define LOAD(r, i) "\tmov " STR(S_W) "+8*" #i "(%rsp), %" #r "\n"
#define CHECK(r, i) "\tcmp " STR(S_W) "+8*" #i "(%rsp), %" #r "\n\tjne 23f\n"
#define STORE(r, i) "\tmov %" #r ", " STR(S_G) "+8*" #i "(%rsp)\n"
#define NAME(r, i) #r,
static const char *const gpr_name[15] = { GPRS(NAME) };
enum { RAX, RBX, RCX, RDX, RSI, RDI, RBP, R8, R9, R10, R11, R12, R13, R14, R15 };

void patient_round(struct round *r);

__asm__(
	".text\n"
	".globl patient_round\n"
	".type patient_round, @function\n"
	".p2align 4\n"
	"patient_round:\n"
	"\tpush %rbp\n\tpush %rbx\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n"
	"\tsub $" STR(FRAME) ", %rsp\n"
	"\tmov %rdi, " STR(S_CTX) "(%rsp)\n"
	/* The wanted registers into the frame, the pattern into the red zone. */
	"\t.irp i," I15 "\n"
	"\tmov " STR(R_WANT) "+8*\\i(%rdi), %rax\n"
	"\tmov %rax, " STR(S_W) "+8*\\i(%rsp)\n"
	"\tmov " STR(R_RZ) "+8*\\i(%rdi), %rax\n"
	"\tmov %rax, -128+8*\\i(%rsp)\n"
	"\t.endr\n"
	"\tmov " STR(R_FLAGS) "(%rdi), %rax\n\tmov %rax, " STR(S_FLAGS) "(%rsp)\n"
	"\tmov " STR(R_SYSNR) "(%rdi), %rax\n\tmov %rax, " STR(S_SYSNR) "(%rsp)\n"
	"\tmov " STR(R_SPINF) "(%rdi), %rax\n\tmov %rax, " STR(S_SPINF) "(%rsp)\n"
	"\tmov " STR(R_SPING) "(%rdi), %rax\n\tmov %rax, " STR(S_CNT) "(%rsp)\n"
	"\tmov %rsp, " STR(S_RSP0) "(%rsp)\n"
	"\tstmxcsr " STR(S_MXCSR_ORIG) "(%rsp)\n"
	"\tfnstcw " STR(S_FCW_ORIG) "(%rsp)\n"
	/* The vector registers. */
	"\tcmpq $2, " STR(R_LEVEL) "(%rdi)\n\tje 10f\n"
	"\tcmpq $1, " STR(R_LEVEL) "(%rdi)\n\tje 11f\n"
	"\t.irp i," I16 "\n\tmovdqu " STR(R_VWANT) "+64*\\i(%rdi), %xmm\\i\n\t.endr\n"
	"\tjmp 12f\n"
	"11:\n"
	"\t.irp i," I16 "\n\tvmovdqu " STR(R_VWANT) "+64*\\i(%rdi), %ymm\\i\n\t.endr\n"
	"\tjmp 12f\n"
	"10:\n"
	"\t.irp i," I32 "\n\tvmovdqu64 " STR(R_VWANT) "+64*\\i(%rdi), %zmm\\i\n\t.endr\n"
	"\t.irp i,0,1,2,3,4,5,6,7\n\tkmovq " STR(R_KWANT) "+8*\\i(%rdi), %k\\i\n\t.endr\n"
	"12:\n"
	"\tldmxcsr " STR(R_MXCSR) "(%rdi)\n"
	"\tfldcw " STR(R_FCW) "(%rdi)\n"
	/* The general registers: from here on, rsp is the only address. */
	GPRS(LOAD)
	/* From here to patient_checked, every register holds its test value. */
	"patient_loaded:\n"
	"\tcmpq $-1, " STR(S_SYSNR) "(%rsp)\n"
	"\tje 20f\n"
	/* The system call, with the flags set; it changes rax, rcx and r11. */
	"\tpushq " STR(S_FLAGS) "(%rsp)\n"
	"\tpopfq\n"
	"\tmov " STR(S_SYSNR) "(%rsp), %rax\n"
	"\tsyscall\n"
	"\tpushfq\n"
	"\tpopq " STR(S_FSYS) "(%rsp)\n"
	"\tmov %rax, " STR(S_SYSRES) "(%rsp)\n"
	"\tmov " STR(S_W) "+8*0(%rsp), %rax\n"
	"\tmov " STR(S_W) "+8*2(%rsp), %rcx\n"
	"\tmov " STR(S_W) "+8*10(%rsp), %r11\n"
	/* Spin with the flags held: loop changes rcx alone. */
	"20:\n"
	"\tpushq " STR(S_FLAGS) "(%rsp)\n"
	"\tpopfq\n"
	"\tmov " STR(S_SPINF) "(%rsp), %rcx\n"
	"21:\n"
	"\tloop 21b\n"
	"\tpushfq\n"
	"\tpopq " STR(S_FF) "(%rsp)\n"
	"\tmov " STR(S_W) "+8*2(%rsp), %rcx\n"
	/* Spin comparing every general register. */
	"22:\n"
	GPRS(CHECK)
	"\tdecq " STR(S_CNT) "(%rsp)\n"
	"\tjnz 22b\n"
	"23:\n"
	"patient_checked:\n"
	"\tpushfq\n"
	"\tpopq " STR(S_FEND) "(%rsp)\n"
	"\tcld\n"
	GPRS(STORE)
	"\tmov %rsp, " STR(S_RSP1) "(%rsp)\n"
	"\tstmxcsr " STR(S_MXCSR_GOT) "(%rsp)\n"
	"\tfnstcw " STR(S_FCW_GOT) "(%rsp)\n"
	/* Everything found, into the context. */
	"\tmov " STR(S_CTX) "(%rsp), %rdi\n"
	"\t.irp i," I15 "\n"
	"\tmov " STR(S_G) "+8*\\i(%rsp), %rax\n"
	"\tmov %rax, " STR(R_GOT) "+8*\\i(%rdi)\n"
	"\tmov -128+8*\\i(%rsp), %rax\n"
	"\tmov %rax, " STR(R_RZ_GOT) "+8*\\i(%rdi)\n"
	"\t.endr\n"
	"\tmov " STR(S_FSYS) "(%rsp), %rax\n\tmov %rax, " STR(R_FLAGS_SYS) "(%rdi)\n"
	"\tmov " STR(S_FF) "(%rsp), %rax\n\tmov %rax, " STR(R_FLAGS_F) "(%rdi)\n"
	"\tmov " STR(S_FEND) "(%rsp), %rax\n\tmov %rax, " STR(R_FLAGS_END) "(%rdi)\n"
	"\tmov " STR(S_SYSRES) "(%rsp), %rax\n\tmov %rax, " STR(R_SYSRES) "(%rdi)\n"
	"\tmov " STR(S_RSP0) "(%rsp), %rax\n\tmov %rax, " STR(R_RSP0) "(%rdi)\n"
	"\tmov " STR(S_RSP1) "(%rsp), %rax\n\tmov %rax, " STR(R_RSP1) "(%rdi)\n"
	"\tmov " STR(S_CNT) "(%rsp), %rax\n\tmov %rax, " STR(R_LEFT) "(%rdi)\n"
	"\tmovl " STR(S_MXCSR_GOT) "(%rsp), %eax\n\tmovl %eax, " STR(R_MXCSR_GOT) "(%rdi)\n"
	"\tmovzwl " STR(S_FCW_GOT) "(%rsp), %eax\n\tmovl %eax, " STR(R_FCW_GOT) "(%rdi)\n"
	"\tcmpq $2, " STR(R_LEVEL) "(%rdi)\n\tje 30f\n"
	"\tcmpq $1, " STR(R_LEVEL) "(%rdi)\n\tje 31f\n"
	"\t.irp i," I16 "\n\tmovdqu %xmm\\i, " STR(R_VGOT) "+64*\\i(%rdi)\n\t.endr\n"
	"\tjmp 32f\n"
	"31:\n"
	"\t.irp i," I16 "\n\tvmovdqu %ymm\\i, " STR(R_VGOT) "+64*\\i(%rdi)\n\t.endr\n"
	"\tvzeroupper\n"
	"\tjmp 32f\n"
	"30:\n"
	"\t.irp i," I32 "\n\tvmovdqu64 %zmm\\i, " STR(R_VGOT) "+64*\\i(%rdi)\n\t.endr\n"
	"\t.irp i,0,1,2,3,4,5,6,7\n\tkmovq %k\\i, " STR(R_KGOT) "+8*\\i(%rdi)\n\t.endr\n"
	"\tvzeroupper\n"
	"32:\n"
	"\tldmxcsr " STR(S_MXCSR_ORIG) "(%rsp)\n"
	"\tfldcw " STR(S_FCW_ORIG) "(%rsp)\n"
	"\tadd $" STR(FRAME) ", %rsp\n"
	"\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbx\n\tpop %rbp\n"
	"\tret\n"
	".size patient_round, .-patient_round\n");

static int level;			/* of the vector registers: vector_level() */
static const char *const level_name[] = { "sse", "avx", "avx512" };

/* The thread pointer: the FS base, which arch_prctl() reads. */
#define TP_NAME	"fs_base"

static unsigned long thread_pointer(void)
{
	unsigned long fs = 0;

	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) != 0)
		corrupt("CORRUPT what=arch_prctl(ARCH_GET_FS) errno=%d", errno);
	return fs;
}

/*
 * Fills r for a round, with values drawn from seed: fresh values
 * everywhere, system call nr (or -1) with its first three arguments, which
 * are also the wanted rdi, rsi, rdx.
 */
static void prepare_round(struct round *r, uint64_t *seed, long nr, uint64_t a0, uint64_t a1,
			  uint64_t a2, uint64_t spinf, uint64_t sping)
{
	size_t i, j;

	for (i = 0; i < 15; i++) {
		r->want[i] = splitmix(seed);
		r->rz[i] = splitmix(seed);
	}
	if (nr >= 0) {
		r->want[RDI] = a0;
		r->want[RSI] = a1;
		r->want[RDX] = a2;
	}
	r->sysnr = nr;
	r->flags = (splitmix(seed) & FLAGS_MASK) | FLAG_DF | 2;
	r->spinf = spinf;
	r->sping = sping;
	r->level = (uint64_t)level;
	/* Exceptions masked; random status flags, rounding, DAZ, FTZ. */
	r->mxcsr = 0x1f80 | ((uint32_t)splitmix(seed) & 0xe07f);
	/* Exceptions masked; random precision and rounding. */
	r->fcw = 0x007f | ((uint32_t)splitmix(seed) & 0x0f00);
	for (i = 0; i < 8; i++)
		r->kwant[i] = splitmix(seed);
	for (i = 0; i < 32; i++)
		for (j = 0; j < 64; j += 8) {
			uint64_t v = splitmix(seed);

			memcpy(&r->vwant[i][j], &v, 8);
		}
	memset(r->vgot, 0, sizeof r->vgot);
	memset(r->kgot, 0, sizeof r->kgot);
}

/*
 * Compares what round n of thread name found with what it loaded; aborts
 * on a difference.
 */
static void verify_round(const struct round *r, const char *name, uint64_t n)
{
	size_t i, j, vn = level == 2 ? 32 : 16, vlen = level == 2 ? 64 : level == 1 ? 32 : 16;
	const char *vname = level == 2 ? "zmm" : level == 1 ? "ymm" : "xmm";

	for (i = 0; i < 15; i++)
		if (r->got[i] != r->want[i])
			corrupt("CORRUPT reg=%s got=0x%016" PRIx64 " want=0x%016" PRIx64
				" thread=%s round=%" PRIu64 " left=%" PRIu64,
				gpr_name[i], r->got[i], r->want[i], name, n, r->left);
	if (r->rsp0 != r->rsp1)
		corrupt("CORRUPT reg=rsp got=0x%016" PRIx64 " want=0x%016" PRIx64 " thread=%s",
			r->rsp1, r->rsp0, name);
	if (r->sysnr >= 0 && (r->flags_sys & FLAGS_MASK) != (r->flags & FLAGS_MASK))
		corrupt("CORRUPT reg=rflags(after-syscall) got=0x%" PRIx64 " want=0x%" PRIx64
			" thread=%s round=%" PRIu64, r->flags_sys & FLAGS_MASK, r->flags & FLAGS_MASK,
			name, n);
	if ((r->flags_f & FLAGS_MASK) != (r->flags & FLAGS_MASK))
		corrupt("CORRUPT reg=rflags got=0x%" PRIx64 " want=0x%" PRIx64 " thread=%s round=%" PRIu64,
			r->flags_f & FLAGS_MASK, r->flags & FLAGS_MASK, name, n);
	if (!(r->flags_end & FLAG_DF))
		corrupt("CORRUPT reg=rflags.DF got=0 want=1 thread=%s round=%" PRIu64, name, n);
	if (r->mxcsr_got != r->mxcsr)
		corrupt("CORRUPT reg=mxcsr got=0x%x want=0x%x thread=%s round=%" PRIu64,
			r->mxcsr_got, r->mxcsr, name, n);
	if ((r->fcw_got & 0x1f7f) != (r->fcw & 0x1f7f))
		corrupt("CORRUPT reg=fcw got=0x%x want=0x%x thread=%s round=%" PRIu64,
			r->fcw_got, r->fcw, name, n);
	for (i = 0; i < 15; i++)
		if (r->rz_got[i] != r->rz[i])
			corrupt("CORRUPT what=redzone at=rsp-%zu got=0x%016" PRIx64 " want=0x%016" PRIx64
				" thread=%s round=%" PRIu64, 128 - 8 * i, r->rz_got[i], r->rz[i],
				name, n);
	for (i = 0; i < vn; i++)
		for (j = 0; j < vlen; j += 8) {
			uint64_t g, w;

			memcpy(&g, &r->vgot[i][j], 8);
			memcpy(&w, &r->vwant[i][j], 8);
			if (g != w)
				corrupt("CORRUPT reg=%s%zu[%zu] got=0x%016" PRIx64 " want=0x%016" PRIx64
					" thread=%s round=%" PRIu64, vname, i, j / 8, g, w, name,
					n);
		}
	if (level == 2)
		for (i = 0; i < 8; i++)
			if (r->kgot[i] != r->kwant[i])
				corrupt("CORRUPT reg=k%zu got=0x%016" PRIx64 " want=0x%016" PRIx64
					" thread=%s round=%" PRIu64, i, r->kgot[i], r->kwant[i],
					name, n);
}

/* The offsets of XSAVE components 2, 5, 6 and 7 (AVX, opmask, ZMM_Hi256, Hi16_ZMM). */
static void xsave_offsets(unsigned int off[4])
{
	static const unsigned int comp[4] = { 2, 5, 6, 7 };
	unsigned int a, b, c, d, i;

	for (i = 0; i < 4; i++)
		off[i] = __get_cpuid_count(0xd, comp[i], &a, &b, &c, &d) && a != 0 ? b : 0;
}

static int vector_level(void)
{
	unsigned int a, b, c, d, lo, hi;
	uint64_t xcr0;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	xcr0 = (uint64_t)hi << 32 | lo;
	if ((xcr0 & 6) != 6)
		return 0;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX512F) && (b & bit_AVX512BW) &&
	    (xcr0 & 0xe6) == 0xe6)
		return 2;
	return 1;
}

