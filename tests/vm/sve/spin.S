/*
 * long sve_spin(const u8 *init, const u8 *expect, u8 *got,
 *               u64 deadline, u64 *counter, long mode)
 * Buffers: 32 Z registers (VL bytes each), then p0..p15 and ffr (VL/8 each).
 * Loads z0-z31, p0-p15 and ffr from init, then loops until cntvct_el0 >=
 * deadline or counter[1] != 0: (mode 1 only: svc nanosleep(20 ms)), stores z0-z31, p0-p15, ffr
 * into got and compares got with expect byte by byte.  Returns -1 when the
 * deadline passes with every comparison equal, else the offset of the first
 * differing byte (got then holds the whole snapshot).  No calls; in mode 0
 * no system call.  d8-d15 are saved and restored (AAPCS64).
 */
	.arch armv8-a+sve
	.text
	.global sve_spin
	.type sve_spin, %function
sve_spin:
	stp	d8, d9, [sp, #-80]!
	stp	d10, d11, [sp, #16]
	stp	d12, d13, [sp, #32]
	stp	d14, d15, [sp, #48]
	mov	x9, x0			/* init */
	mov	x10, x1			/* expect */
	mov	x11, x2			/* got */
	mov	x12, x3			/* deadline */
	mov	x13, x4			/* counter */
	mov	x14, x5			/* mode */
	rdvl	x15, #1
	lsl	x16, x15, #5		/* 32*VL: offset of the predicates */
	lsr	x17, x15, #3		/* PL */
	add	x17, x16, x17, lsl #4	/* total bytes: 32*VL + 17*PL */
	add	x17, x17, x15, lsr #3
	/* sleep mode: timespec {0, 20 ms} on the stack */
	mov	x0, #0
	movz	x1, #0x2d00
	movk	x1, #0x131, lsl #16	/* 20000000 ns */
	stp	x0, x1, [sp, #64]

1:	/* load everything from init */
	add	x7, x9, x16
	ldr	p15, [x7, #16, mul vl]
	wrffr	p15.b
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	ldr	p\n, [x7, #\n, mul vl]
	.endr
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ldr	z\n, [x9, #\n, mul vl]
	.endr

2:	cbz	x14, 3f
	add	x0, sp, #64		/* nanosleep(&ts, NULL) */
	mov	x1, #0
	mov	x8, #101
	svc	#0
3:	/* snapshot */
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	str	z\n, [x11, #\n, mul vl]
	.endr
	add	x7, x11, x16
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	str	p\n, [x7, #\n, mul vl]
	.endr
	rdffr	p15.b
	str	p15, [x7, #16, mul vl]
	ldr	p15, [x7, #15, mul vl]	/* p15 back, as just stored */
	/* compare */
	mov	x0, #0
4:	ldrb	w1, [x11, x0]
	ldrb	w2, [x10, x0]
	cmp	w1, w2
	b.ne	9f
	add	x0, x0, #1
	cmp	x0, x17
	b.lo	4b
	ldr	x1, [x13]
	add	x1, x1, #1
	str	x1, [x13]
	ldr	x1, [x13, #8]		/* counter[1]: stop (SIGUSR1) */
	cbnz	x1, 8f
	mrs	x1, cntvct_el0
	cmp	x1, x12
	b.hs	8f
	cbz	x14, 3b
	b	1b			/* sleep mode: live state again, then the call */
8:	mov	x0, #-1
9:	ldp	d10, d11, [sp, #16]
	ldp	d12, d13, [sp, #32]
	ldp	d14, d15, [sp, #48]
	ldp	d8, d9, [sp], #80
	ret
	.size sve_spin, .-sve_spin
	.section .note.GNU-stack,"",%progbits
