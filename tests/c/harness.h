/*
 * A minimal test harness: named tests made of CHECKs, reported as TAP.
 *
 *	h_begin("name");  CHECK(cond, "what went wrong: %d", x);  h_end();
 *	h_note("what was measured: %d", y);
 *	return h_done("suite");
 *
 * A test passes when none of its CHECKs failed.  Each failed CHECK prints
 * "# where and why" on stdout, h_end() then prints "ok N - name" or
 * "not ok N - name", and h_done() prints the plan "1..N" and returns the
 * exit status; tests/tap/PlockTAP.pm (make test, through prove) reads them.
 * Every line is flushed at once, so that a child forked later does not
 * print it again.  A test program that runs another one using this harness
 * (a helper, through exec) gets its lines indented by four spaces, a TAP
 * subtest: prove counts the outer test, which checks how the helper
 * exited, and shows the helper's lines with it if it failed.
 */
#ifndef TESTS_C_HARNESS_H
#define TESTS_C_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int h_passed, h_failed;
static int h_bad;		/* failed CHECKs in the current test */
static const char *h_name = "?";
static int h_depth;		/* nesting: H_TAP_DEPTH, for programs this one execs */
static char h_obuf[BUFSIZ];

/*
 * Before main: nothing may allocate once a test has lowered
 * RLIMIT_MEMLOCK under MCL_FUTURE (test_need), so stdout gets a static
 * buffer and the environment its H_TAP_DEPTH here.
 */
__attribute__((constructor)) static void h_init(void)
{
	const char *d = getenv("H_TAP_DEPTH");
	char buf[16];

	setvbuf(stdout, h_obuf, _IOFBF, sizeof h_obuf);
	h_depth = d != NULL ? atoi(d) : 0;
	snprintf(buf, sizeof buf, "%d", h_depth + 1);
	setenv("H_TAP_DEPTH", buf, 1);
}

static inline void h_indent(void)
{
	int i;

	for (i = 0; i < h_depth; i++)
		fputs("    ", stdout);
}

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
	h_indent();
	printf("# %s (%s:%d): %s: ", h_name, file, line, expr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return 0;
}

/* A line of information, not a test point: "# ..." in the TAP. */
static inline void h_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void h_note(const char *fmt, ...)
{
	va_list ap;

	h_indent();
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Ends the current test; returns 1 if it passed. */
static inline int h_end(void)
{
	if (h_bad == 0)
		h_passed++;
	else
		h_failed++;
	h_indent();
	printf("%s %d - %s\n", h_bad == 0 ? "ok" : "not ok", h_passed + h_failed, h_name);
	fflush(stdout);
	return h_bad == 0;
}

/*
 * Runs fn as the test name in a child process of its own, so that what it
 * changes (limits, capabilities, a seccomp filter, a mount namespace) stays
 * there.  A failed CHECK in the child (its message is printed there), or
 * its death, fails the test.
 */
static inline void h_child(const char *name, void (*fn)(void))
{
	pid_t pid;
	int status = 0;

	h_begin(name);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		fn();
		fflush(NULL);
		_exit(h_bad == 0 ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork or wait failed");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the test's child failed (status 0x%x; its messages are above)", status);
	h_end();
}

/* The plan; the suite's name is prove's, from the command line. */
static inline int h_done(const char *suite)
{
	(void)suite;
	h_indent();
	printf("1..%d\n", h_passed + h_failed);
	fflush(stdout);
	return h_failed == 0 && h_passed > 0 ? 0 : 1;
}

#endif /* TESTS_C_HARNESS_H */
