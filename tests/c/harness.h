/*
 * A minimal test harness: named tests made of CHECKs.
 *
 *	h_begin("name");  CHECK(cond, "what went wrong: %d", x);  h_end();
 *	return h_done("suite");
 *
 * A test passes when none of its CHECKs failed.  h_done() prints
 * "SUITE: N passed, M failed" (the line tests/c/run.sh adds up) and returns
 * the exit status.  A failed CHECK prints where and why on stderr.
 */
#ifndef TESTS_C_HARNESS_H
#define TESTS_C_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int h_passed, h_failed;
static int h_bad;		/* failed CHECKs in the current test */
static const char *h_name = "?";

#define CHECK(cond, ...) h_check((cond) != 0, __FILE__, __LINE__, #cond, __VA_ARGS__)

static inline void h_begin(const char *name)
{
	h_name = name;
	h_bad = 0;
}

static inline int h_check(int ok, const char *file, int line, const char *expr,
			  const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return 1;
	h_bad++;
	fprintf(stderr, "FAIL %s (%s:%d): %s: ", h_name, file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 0;
}

/* Ends the current test; returns 1 if it passed. */
static inline int h_end(void)
{
	if (h_bad == 0)
		h_passed++;
	else
		h_failed++;
	return h_bad == 0;
}

static inline int h_done(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, h_passed, h_failed);
	fflush(stdout);
	return h_failed == 0 && h_passed > 0 ? 0 : 1;
}

#endif /* TESTS_C_HARNESS_H */
