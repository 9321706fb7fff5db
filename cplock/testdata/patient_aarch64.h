/*
 * patient.c's register round on arm64 (AArch64; included by patient.c alone).
 *
 * patient_round loads known values, distinct in every round, into
 *  - x0-x30, every general register: x18 too (the platform register, to
 *    which Linux gives no role in user space: the kernel saves and restores
 *    it with the others, and so must anything that stops the thread), x29
 *    and x30 (frame pointer and link register, saved in the frame first).
 *    sp is the round's one address, as rsp is on x86-64, and must be what
 *    it was.  In a round that makes a system call, x8 is its number and
 *    x0-x2 its arguments; x0 comes back with the result;
 *  - NZCV, set before the general registers and held until
 *    patient_checked: the loop that compares uses eor and cbnz, which
 *    neither read nor set flags, so that the flags are checked after the
 *    call and at the end (there is no spin with the flags held apart, as on
 *    x86-64: spinf is not used);
 *  - v0-v31, all 128 bits (the bits of an SVE register beyond them are
 *    discarded by every system call, by the SVE ABI, and are not loaded);
 *  - FPCR: AHP, DN, FZ and RMode, the controls every implementation has
 *    (the trap enables stay 0: no FP trap may fire); FPSR: the cumulative
 *    exception bits and QC;
 *  - a pattern into 120 bytes of its own frame, above sp.  AArch64 Linux
 *    has no red zone: the memory below sp is for any signal frame, and the
 *    engine puts the frame of its rt_sigreturn there (shim/remote_arch.h),
 *    so nothing below sp is checked.  Above it nothing may write.
 * then makes the call (svc #0), and spins comparing every general register.
 * From patient_loaded to patient_checked every register but sp holds a
 * test value, so the frame is addressed through sp alone.  A compare needs
 * a second register: the loop spills x30 to the frame (S_T), checks x0-x29
 * against x30, takes x30 back, then spills x29 to check x30 and takes it
 * back; each register is checked with the value it had, and goes on with
 * it.  verify_round() compares what came back with what went in.
 *
 * One change is the kernel's own, and allowed: a nanosleep that is stopped
 * and resumed (SIGSTOP and SIGCONT, a tracer's interrupt) comes back with
 * x8 = __NR_restart_syscall.  When a call says -ERESTART_RESTARTBLOCK,
 * do_signal() (arch/arm64/kernel/signal.c) moves the pc back onto the svc
 * and, after the stop, sets x8 to restart_syscall's number, which goes on
 * with what is left of the sleep and returns with x8 as it is.  glibc never
 * reads x8 after an svc.  So after a nanosleep x8 may be that or the call's
 * own number; after any other call, its own.
 *
 * The thread pointer checked after every round is TPIDR_EL0.  The "ready"
 * line says vec=neon xsave=0,0,0,0: there is no XSAVE area.
 */

/* What patient_round loads, and what it found at the end. */
struct round {
	uint64_t want[31];	/* x0 ... x30 */
	uint64_t flags;		/* NZCV */
	int64_t sysnr;		/* the system call to make, or -1 */
	uint64_t sping;		/* iterations comparing registers (>= 1) */
	uint32_t fpcr, fpsr;
	uint64_t pat[15];	/* the pattern: S_PAT(sp) to S_PAT+112(sp) */

	uint64_t got[31];
	uint64_t flags_sys;	/* right after the system call */
	uint64_t flags_end;	/* at the end */
	uint64_t x8_sys;	/* x8 right after the system call */
	int64_t sysres;
	uint64_t sp0, sp1;	/* sp at the start and at the end */
	uint64_t left;		/* compare iterations left: 0 unless one failed */
	uint32_t fpcr_got, fpsr_got;
	uint64_t pat_got[15];
	_Alignas(16) unsigned char vwant[32][16];
	unsigned char vgot[32][16];
};

/* The offsets, for the assembly; checked against the struct. */
#define R_WANT		0
#define R_FLAGS		248
#define R_SYSNR		256
#define R_SPING		264
#define R_FPCR		272
#define R_FPSR		276
#define R_PAT		280
#define R_GOT		400
#define R_FLAGS_SYS	648
#define R_FLAGS_END	656
#define R_X8_SYS	664
#define R_SYSRES	672
#define R_SP0		680
#define R_SP1		688
#define R_LEFT		696
#define R_FPCR_GOT	704
#define R_FPSR_GOT	708
#define R_PAT_GOT	712
#define R_VWANT		832	/* ldr q: a multiple of 16 */
#define R_VGOT		1344

_Static_assert(offsetof(struct round, flags) == R_FLAGS, "flags");
_Static_assert(offsetof(struct round, sysnr) == R_SYSNR, "sysnr");
_Static_assert(offsetof(struct round, sping) == R_SPING, "sping");
_Static_assert(offsetof(struct round, fpcr) == R_FPCR, "fpcr");
_Static_assert(offsetof(struct round, fpsr) == R_FPSR, "fpsr");
_Static_assert(offsetof(struct round, pat) == R_PAT, "pat");
_Static_assert(offsetof(struct round, got) == R_GOT, "got");
_Static_assert(offsetof(struct round, flags_sys) == R_FLAGS_SYS, "flags_sys");
_Static_assert(offsetof(struct round, flags_end) == R_FLAGS_END, "flags_end");
_Static_assert(offsetof(struct round, x8_sys) == R_X8_SYS, "x8_sys");
_Static_assert(offsetof(struct round, sysres) == R_SYSRES, "sysres");
_Static_assert(offsetof(struct round, sp0) == R_SP0, "sp0");
_Static_assert(offsetof(struct round, sp1) == R_SP1, "sp1");
_Static_assert(offsetof(struct round, left) == R_LEFT, "left");
_Static_assert(offsetof(struct round, fpcr_got) == R_FPCR_GOT, "fpcr_got");
_Static_assert(offsetof(struct round, fpsr_got) == R_FPSR_GOT, "fpsr_got");
_Static_assert(offsetof(struct round, pat_got) == R_PAT_GOT, "pat_got");
_Static_assert(offsetof(struct round, vwant) == R_VWANT, "vwant");
_Static_assert(offsetof(struct round, vgot) == R_VGOT, "vgot");

#define NZCV_MASK	0xf0000000ULL	/* N Z C V: bits 31-28 of NZCV */
#define FPCR_MASK	0x07c00000U	/* AHP DN FZ RMode */
#define FPSR_MASK	0x0800009fU	/* QC IDC IXC UFC OFC DZC IOC */

/*
 * The stack frame of patient_round, all of it above sp (sp-relative: every
 * other register holds a test value): the context, the spill slot, the
 * wanted registers, what was found, the pattern, and what the procedure
 * call standard has it keep (x18-x30, d8-d15).  A multiple of 16.
 */
#define S_CTX		0
#define S_T		8	/* the spill slot of the compare loop */
#define S_W		16	/* 31 slots */
#define S_SYSNR		264
#define S_CNT		272
#define S_G		280	/* 31 slots */
#define S_FSYS		528
#define S_FEND		536
#define S_X8SYS		544
#define S_SYSRES	552
#define S_SP0		560
#define S_SP1		568
#define S_FPCR_ORIG	576
#define S_FPSR_ORIG	580
#define S_FPCR_GOT	584
#define S_FPSR_GOT	588
#define S_PAT		592	/* 15 slots */
#define S_SAVE		712	/* x18-x30, then d8-d15 */
#define FRAME		880

#define STR_(x) #x
#define STR(x) STR_(x)
#define I15 "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14"
#define I30 I15 ",15,16,17,18,19,20,21,22,23,24,25,26,27,28,29"
#define I31 I30 ",30"
#define I32 I31 ",31"
#define KEPT_X "18,19,20,21,22,23,24,25,26,27,28,29,30"
#define KEPT_D "8,9,10,11,12,13,14,15"

/* A word of the frame into the context, through x1. */
#define COPY(s, r) "\tldr x1, [sp, #" STR(s) "]\n\tstr x1, [x0, #" STR(r) "]\n"
#define COPY32(s, r) "\tldr w1, [sp, #" STR(s) "]\n\tstr w1, [x0, #" STR(r) "]\n"

void patient_round(struct round *r);

__asm__(
	".text\n"
	".globl patient_round\n"
	".type patient_round, %function\n"
	".p2align 4\n"
	"patient_round:\n"
	"\tsub sp, sp, #" STR(FRAME) "\n"
	"\t.irp i," KEPT_X "\n\tstr x\\i, [sp, #" STR(S_SAVE) "+8*(\\i-18)]\n\t.endr\n"
	"\t.irp i," KEPT_D "\n\tstr d\\i, [sp, #" STR(S_SAVE) "+104+8*(\\i-8)]\n\t.endr\n"
	"\tstr x0, [sp, #" STR(S_CTX) "]\n"
	/* The wanted registers and the pattern into the frame. */
	"\t.irp i," I31 "\n"
	"\tldr x1, [x0, #" STR(R_WANT) "+8*\\i]\n"
	"\tstr x1, [sp, #" STR(S_W) "+8*\\i]\n"
	"\t.endr\n"
	"\t.irp i," I15 "\n"
	"\tldr x1, [x0, #" STR(R_PAT) "+8*\\i]\n"
	"\tstr x1, [sp, #" STR(S_PAT) "+8*\\i]\n"
	"\t.endr\n"
	"\tldr x1, [x0, #" STR(R_SYSNR) "]\n\tstr x1, [sp, #" STR(S_SYSNR) "]\n"
	"\tldr x1, [x0, #" STR(R_SPING) "]\n\tstr x1, [sp, #" STR(S_CNT) "]\n"
	"\tstr xzr, [sp, #" STR(S_FSYS) "]\n"
	"\tstr xzr, [sp, #" STR(S_X8SYS) "]\n"
	"\tstr xzr, [sp, #" STR(S_SYSRES) "]\n"
	"\tmov x1, sp\n\tstr x1, [sp, #" STR(S_SP0) "]\n"
	"\tmrs x1, fpcr\n\tstr w1, [sp, #" STR(S_FPCR_ORIG) "]\n"
	"\tmrs x1, fpsr\n\tstr w1, [sp, #" STR(S_FPSR_ORIG) "]\n"
	/* The vector registers, FPCR and FPSR, the flags. */
	"\t.irp i," I32 "\n\tldr q\\i, [x0, #" STR(R_VWANT) "+16*\\i]\n\t.endr\n"
	"\tldr w1, [x0, #" STR(R_FPCR) "]\n\tmsr fpcr, x1\n"
	"\tldr w1, [x0, #" STR(R_FPSR) "]\n\tmsr fpsr, x1\n"
	"\tldr x1, [x0, #" STR(R_FLAGS) "]\n\tmsr nzcv, x1\n"
	/* The general registers: from here on, sp is the only address. */
	"\t.irp i," I31 "\n\tldr x\\i, [sp, #" STR(S_W) "+8*\\i]\n\t.endr\n"
	/* From here to patient_checked, every register holds its test value. */
	"patient_loaded:\n"
	/* A call to make?  (add and cbz leave the flags alone.) */
	"\tstr x30, [sp, #" STR(S_T) "]\n"
	"\tldr x30, [sp, #" STR(S_SYSNR) "]\n"
	"\tadd x30, x30, #1\n"
	"\tcbz x30, 19f\n"
	"\tldr x30, [sp, #" STR(S_T) "]\n"
	/*
	 * The system call, number in x8, arguments in x0-x5: it changes x0
	 * alone (and x8, restarted: see above).  Flags, FP and vector
	 * registers must come back as they were.
	 */
	"\tsvc #0\n"
	"\tstr x0, [sp, #" STR(S_SYSRES) "]\n"
	"\tstr x8, [sp, #" STR(S_X8SYS) "]\n"
	"\tmrs x0, nzcv\n"
	"\tstr x0, [sp, #" STR(S_FSYS) "]\n"
	"\tldr x0, [sp, #" STR(S_W) "+8*0]\n"
	"\tldr x8, [sp, #" STR(S_W) "+8*8]\n"
	"\tb 22f\n"
	"19:\n"
	"\tldr x30, [sp, #" STR(S_T) "]\n"
	/* Spin comparing every general register: x0-x29 against x30 ... */
	"22:\n"
	"\tstr x30, [sp, #" STR(S_T) "]\n"
	"\t.irp i," I30 "\n"
	"\tldr x30, [sp, #" STR(S_W) "+8*\\i]\n"
	"\teor x30, x30, x\\i\n"
	"\tcbnz x30, 23f\n"
	"\t.endr\n"
	"\tldr x30, [sp, #" STR(S_T) "]\n"
	/* ... x30 against x29, and the count. */
	"\tstr x29, [sp, #" STR(S_T) "]\n"
	"\tldr x29, [sp, #" STR(S_W) "+8*30]\n"
	"\teor x29, x29, x30\n"
	"\tcbnz x29, 24f\n"
	"\tldr x29, [sp, #" STR(S_CNT) "]\n"
	"\tsub x29, x29, #1\n"
	"\tstr x29, [sp, #" STR(S_CNT) "]\n"
	"\tcbz x29, 24f\n"
	"\tldr x29, [sp, #" STR(S_T) "]\n"
	"\tb 22b\n"
	/* The spilled register back, whichever it was. */
	"23:\n"
	"\tldr x30, [sp, #" STR(S_T) "]\n"
	"\tb 25f\n"
	"24:\n"
	"\tldr x29, [sp, #" STR(S_T) "]\n"
	"25:\n"
	"patient_checked:\n"
	"\t.irp i," I31 "\n\tstr x\\i, [sp, #" STR(S_G) "+8*\\i]\n\t.endr\n"
	"\tmrs x0, nzcv\n\tstr x0, [sp, #" STR(S_FEND) "]\n"
	"\tmov x0, sp\n\tstr x0, [sp, #" STR(S_SP1) "]\n"
	"\tmrs x0, fpcr\n\tstr w0, [sp, #" STR(S_FPCR_GOT) "]\n"
	"\tmrs x0, fpsr\n\tstr w0, [sp, #" STR(S_FPSR_GOT) "]\n"
	/* Everything found, into the context. */
	"\tldr x0, [sp, #" STR(S_CTX) "]\n"
	"\t.irp i," I31 "\n"
	"\tldr x1, [sp, #" STR(S_G) "+8*\\i]\n"
	"\tstr x1, [x0, #" STR(R_GOT) "+8*\\i]\n"
	"\t.endr\n"
	"\t.irp i," I15 "\n"
	"\tldr x1, [sp, #" STR(S_PAT) "+8*\\i]\n"
	"\tstr x1, [x0, #" STR(R_PAT_GOT) "+8*\\i]\n"
	"\t.endr\n"
	COPY(S_FSYS, R_FLAGS_SYS)
	COPY(S_FEND, R_FLAGS_END)
	COPY(S_X8SYS, R_X8_SYS)
	COPY(S_SYSRES, R_SYSRES)
	COPY(S_SP0, R_SP0)
	COPY(S_SP1, R_SP1)
	COPY(S_CNT, R_LEFT)
	COPY32(S_FPCR_GOT, R_FPCR_GOT)
	COPY32(S_FPSR_GOT, R_FPSR_GOT)
	"\t.irp i," I32 "\n\tstr q\\i, [x0, #" STR(R_VGOT) "+16*\\i]\n\t.endr\n"
	/* The caller's FPCR, FPSR and registers back. */
	"\tldr w1, [sp, #" STR(S_FPCR_ORIG) "]\n\tmsr fpcr, x1\n"
	"\tldr w1, [sp, #" STR(S_FPSR_ORIG) "]\n\tmsr fpsr, x1\n"
	"\t.irp i," KEPT_D "\n\tldr d\\i, [sp, #" STR(S_SAVE) "+104+8*(\\i-8)]\n\t.endr\n"
	"\t.irp i," KEPT_X "\n\tldr x\\i, [sp, #" STR(S_SAVE) "+8*(\\i-18)]\n\t.endr\n"
	"\tadd sp, sp, #" STR(FRAME) "\n"
	"\tret\n"
	".size patient_round, .-patient_round\n");

static int level;			/* of the vector registers: always 0 */
static const char *const level_name[] = { "neon" };

/* The thread pointer: TPIDR_EL0, which user mode reads itself. */
#define TP_NAME	"tpidr_el0"

static unsigned long thread_pointer(void)
{
	unsigned long tp;

	__asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
	return tp;
}

/*
 * Fills r for a round, with values drawn from seed: fresh values
 * everywhere, system call nr (or -1) with its first three arguments, which
 * are also the wanted x0, x1, x2, and its number the wanted x8.
 */
static void prepare_round(struct round *r, uint64_t *seed, long nr, uint64_t a0, uint64_t a1,
			  uint64_t a2, uint64_t spinf, uint64_t sping)
{
	size_t i, j;

	(void)spinf;
	for (i = 0; i < 31; i++)
		r->want[i] = splitmix(seed);
	for (i = 0; i < 15; i++)
		r->pat[i] = splitmix(seed);
	if (nr >= 0) {
		r->want[0] = a0;
		r->want[1] = a1;
		r->want[2] = a2;
		r->want[8] = (uint64_t)nr;
	}
	r->sysnr = nr;
	r->flags = splitmix(seed) & NZCV_MASK;
	r->sping = sping;
	r->fpcr = (uint32_t)splitmix(seed) & FPCR_MASK;
	r->fpsr = (uint32_t)splitmix(seed) & FPSR_MASK;
	for (i = 0; i < 32; i++)
		for (j = 0; j < 16; j += 8) {
			uint64_t v = splitmix(seed);

			memcpy(&r->vwant[i][j], &v, 8);
		}
	memset(r->vgot, 0, sizeof r->vgot);
}

/*
 * Compares what round n of thread name found with what it loaded; aborts
 * on a difference.
 */
static void verify_round(const struct round *r, const char *name, uint64_t n)
{
	size_t i, j;

	for (i = 0; i < 31; i++)
		if (r->got[i] != r->want[i])
			corrupt("CORRUPT reg=x%zu got=0x%016" PRIx64 " want=0x%016" PRIx64
				" thread=%s round=%" PRIu64 " left=%" PRIu64,
				i, r->got[i], r->want[i], name, n, r->left);
	if (r->sp0 != r->sp1)
		corrupt("CORRUPT reg=sp got=0x%016" PRIx64 " want=0x%016" PRIx64 " thread=%s",
			r->sp1, r->sp0, name);
	if (r->sysnr >= 0 && (r->flags_sys & NZCV_MASK) != r->flags)
		corrupt("CORRUPT reg=nzcv(after-syscall) got=0x%" PRIx64 " want=0x%" PRIx64
			" thread=%s round=%" PRIu64, r->flags_sys & NZCV_MASK, r->flags, name, n);
	if (r->sysnr >= 0 && r->x8_sys != (uint64_t)r->sysnr &&
	    !(r->sysnr == SYS_nanosleep && r->x8_sys == SYS_restart_syscall))
		corrupt("CORRUPT reg=x8(after-syscall) got=0x%" PRIx64 " want=0x%" PRIx64
			" thread=%s round=%" PRIu64, r->x8_sys, (uint64_t)r->sysnr, name, n);
	if ((r->flags_end & NZCV_MASK) != r->flags)
		corrupt("CORRUPT reg=nzcv got=0x%" PRIx64 " want=0x%" PRIx64 " thread=%s round=%" PRIu64,
			r->flags_end & NZCV_MASK, r->flags, name, n);
	if (r->fpcr_got != r->fpcr)
		corrupt("CORRUPT reg=fpcr got=0x%x want=0x%x thread=%s round=%" PRIu64,
			r->fpcr_got, r->fpcr, name, n);
	if (r->fpsr_got != r->fpsr)
		corrupt("CORRUPT reg=fpsr got=0x%x want=0x%x thread=%s round=%" PRIu64,
			r->fpsr_got, r->fpsr, name, n);
	for (i = 0; i < 15; i++)
		if (r->pat_got[i] != r->pat[i])
			corrupt("CORRUPT what=stack at=sp+%zu got=0x%016" PRIx64 " want=0x%016" PRIx64
				" thread=%s round=%" PRIu64, (size_t)S_PAT + 8 * i, r->pat_got[i],
				r->pat[i], name, n);
	for (i = 0; i < 32; i++)
		for (j = 0; j < 16; j += 8) {
			uint64_t g, w;

			memcpy(&g, &r->vgot[i][j], 8);
			memcpy(&w, &r->vwant[i][j], 8);
			if (g != w)
				corrupt("CORRUPT reg=v%zu[%zu] got=0x%016" PRIx64 " want=0x%016" PRIx64
					" thread=%s round=%" PRIu64, i, j / 8, g, w, name, n);
		}
}

/* No XSAVE: every offset 0. */
static void xsave_offsets(unsigned int off[4])
{
	memset(off, 0, 4 * sizeof off[0]);
}

static int vector_level(void)
{
	return 0;
}
