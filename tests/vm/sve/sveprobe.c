/*
 * sveprobe MODE SECONDS [VL]: does an outside stop (cplock lock) change this
 * thread's SVE state?  The only thread loads a pattern into z0-z31 (full
 * vector length), p0-p15 and ffr, and for SECONDS checks them (spin.S):
 *   run:   no system call at all: every register must keep the pattern;
 *   sleep: nanosleep(20 ms) in a loop, the pattern loaded again before each
 *          call; after each, what the SVE syscall ABI leaves must be there
 *          (Linux: z low 128 bits kept, the rest of z, p and ffr zero).
 * Prints "ready PID" when it starts checking, then "SVE-OK ..." and exits 0,
 * or "SVE-HARMED ..." with what differs, and exits 1.  VL (bytes): set with
 * prctl(PR_SVE_SET_VL) first.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <asm/hwcap.h>

#ifndef PR_SVE_SET_VL
#define PR_SVE_SET_VL 50
#define PR_SVE_GET_VL 51
#endif

long sve_spin(const uint8_t *init, const uint8_t *expect, uint8_t *got,
	      uint64_t deadline, uint64_t *counter, long mode);

static uint64_t cntvct(void) { uint64_t v; __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v)); return v; }
static uint64_t cntfrq(void) { uint64_t v; __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v)); return v; }
static uint64_t rdvl(void) { uint64_t v; __asm__ volatile(".arch_extension sve\n\trdvl %0, #1" : "=r"(v)); return v; }

static volatile uint64_t ctl[2];	/* checks done, stop */

static void on_usr1(int sig)
{
	(void)sig;
	ctl[1] = 1;
}

static int allzero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	long mode, vl, pl, n, off, i;
	uint8_t *init, *expect, *got;
	uint64_t deadline, kept = 0;
	double secs;

	if (argc < 3 || (strcmp(argv[1], "run") && strcmp(argv[1], "sleep"))) {
		fprintf(stderr, "usage: sveprobe run|sleep SECONDS [VL]\n");
		return 2;
	}
	mode = strcmp(argv[1], "sleep") == 0;
	secs = atof(argv[2]);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!(getauxval(AT_HWCAP) & HWCAP_SVE)) {
		printf("SVE-NONE: no HWCAP_SVE\n");
		return 3;
	}
	if (argc > 3 && prctl(PR_SVE_SET_VL, atol(argv[3]), 0, 0, 0) < 0) {
		perror("PR_SVE_SET_VL");
		return 3;
	}
	vl = rdvl();
	pl = vl / 8;
	n = 32 * vl + 17 * pl;
	printf("sveprobe %s: pid %d, VL %ld bytes (%ld bits), prctl %#lx, hwcap %#lx hwcap2 %#lx\n",
	       argv[1], (int)getpid(), vl, vl * 8, (long)prctl(PR_SVE_GET_VL, 0, 0, 0, 0),
	       getauxval(AT_HWCAP), getauxval(AT_HWCAP2));
	init = malloc(n), expect = malloc(n), got = malloc(n);
	/* Pattern: nonzero, different in every byte of every register. */
	for (i = 0; i < n; i++)
		init[i] = (uint8_t)(0x5a ^ (i * 7 + i / 251 + 1)) | 1;
	/* FFR: the "initialised" part must be a valid FFR value... any value
	 * is allowed by WRFFR, but keep it monotonic to be safe (all true). */
	memset(init + 32 * vl + 16 * pl, 0xff, pl);
	/* Predicates: only the bits of a .b predicate matter; all are used. */
	memcpy(expect, init, n);
	if (mode) {
		/* After a system call: z low 128 bits kept, the rest zero. */
		for (i = 0; i < 32; i++)
			memset(expect + i * vl + 16, 0, vl - 16);
		memset(expect + 32 * vl, 0, 17 * pl);
	}
	signal(SIGUSR1, on_usr1);	/* stop early; a signal frame keeps SVE state */
	deadline = cntvct() + (uint64_t)(secs * cntfrq());
	printf("ready %d\n", (int)getpid());
	for (;;) {
		off = sve_spin(init, expect, got, deadline, (uint64_t *)ctl, mode);
		/* sleep: a kernel that kept the whole state over the call is fine too */
		if (off >= 0 && mode && memcmp(got, init, n) == 0) {
			kept++;
			ctl[0]++;
			if (ctl[1] || cntvct() >= deadline)
				off = -1;
			else
				continue;
		}
		break;
	}
	if (off < 0) {
		printf("SVE-OK %s: VL %ld, %llu checks, all equal%s (%llu with the state kept over the call)\n",
		       argv[1], vl, (unsigned long long)ctl[0], ctl[1] ? ", stopped by SIGUSR1" : ", deadline",
		       (unsigned long long)kept);
		return 0;
	}
	printf("SVE-HARMED %s: VL %ld, after %llu good checks, first difference at byte %ld\n",
	       argv[1], vl, (unsigned long long)ctl[0], off);
	{
		int zlow = 1, zup0 = 1, zupok = 1, p0 = 1, pok = 1, f0, fok;
		char bad[600] = "";
		for (i = 0; i < 32; i++) {
			const uint8_t *g = got + i * vl, *e = expect + i * vl;
			if (memcmp(g, e, 16)) zlow = 0;
			if (!allzero(g + 16, vl - 16)) zup0 = 0;
			if (memcmp(g + 16, e + 16, vl - 16)) zupok = 0;
			if (memcmp(g, e, vl)) sprintf(bad + strlen(bad), " z%ld", i);
		}
		for (i = 0; i < 16; i++) {
			const uint8_t *g = got + 32 * vl + i * pl, *e = expect + 32 * vl + i * pl;
			if (!allzero(g, pl)) p0 = 0;
			if (memcmp(g, e, pl)) { pok = 0; sprintf(bad + strlen(bad), " p%ld", i); }
		}
		f0 = allzero(got + 32 * vl + 16 * pl, pl);
		fok = !memcmp(got + 32 * vl + 16 * pl, expect + 32 * vl + 16 * pl, pl);
		if (!fok) strcat(bad, " ffr");
		printf("SVE-HARMED %s: differ:%s\n", argv[1], bad);
		printf("SVE-HARMED %s: z low 128 bits %s; z upper bits %s; p0-p15 %s; ffr %s\n", argv[1],
		       zlow ? "intact" : "CHANGED",
		       zupok ? "intact" : zup0 ? "ZEROED" : "CHANGED",
		       pok ? "intact" : p0 ? "ZEROED" : "CHANGED",
		       fok ? "intact" : f0 ? "ZEROED" : "CHANGED");
		printf("SVE-HARMED %s: z0 got", argv[1]);
		for (i = 0; i < vl; i++) printf(" %02x", got[i]);
		printf("\nSVE-HARMED %s: z0 exp", argv[1]);
		for (i = 0; i < vl; i++) printf(" %02x", expect[i]);
		printf("\n");
	}
	return 1;
}
