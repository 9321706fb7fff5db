/*
 * The model test: every sequence of up to three plock() calls drawn from
 * the eight ops and six invalid values, each in a fresh forked child,
 * checked against a model of the state (docs/CONTRACT.md, "State and EINVAL
 * rules") and, after every call, mapping by mapping against smaps.
 *
 * "test_model quick" runs every sequence of length 1 and 2, and those of
 * length 3 over the eight ops and two invalid values (for ASan);
 * "test_model short" those of length 1 and 2 (for valgrind).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

static const int ops[] = {
	UNLOCK, PROCLOCK, TXTLOCK, DATLOCK, SHLIBLOCK, PROCSHLIBLOCK, TXTSHLIBLOCK,
	DATSHLIBLOCK, -1, 3, 16, 5, 13, 0x7fffffff,
};
#define NOPS	((int)(sizeof ops / sizeof ops[0]))
#define NVALID	8

/*
 * The model: the state after op from state, and the errno op must fail with
 * (0: it succeeds).  This test program is dynamic, so SHLIBLOCK has
 * segments to lock.
 */
static int model(int state, int op, int *err)
{
	int c;

	switch (op) {
	case UNLOCK:
		*err = state == 0 ? EINVAL : 0;
		return 0;
	case PROCLOCK:		c = TXTLOCK | DATLOCK; break;
	case TXTLOCK:		c = TXTLOCK; break;
	case DATLOCK:		c = DATLOCK; break;
	case SHLIBLOCK:		c = SHLIBLOCK; break;
	case PROCSHLIBLOCK:	c = TXTLOCK | DATLOCK | SHLIBLOCK; break;
	case TXTSHLIBLOCK:	c = TXTLOCK | SHLIBLOCK; break;
	case DATSHLIBLOCK:	c = DATLOCK | SHLIBLOCK; break;
	default:
		*err = EINVAL;
		return state;
	}
	*err = (state & c) ? EINVAL : 0;
	return *err ? state : state | c;
}

/* Runs seq[0..len) in this process; returns the number of failures. */
static int run_sequence(const int *seq, int len, const char *name)
{
	struct oracle before;
	int i, state = 0, bad = 0;

	if (oracle_read(0, &before) != 0) {
		fprintf(stderr, "%s: reading smaps: %s\n", name, strerror(errno));
		return 1;
	}
	for (i = 0; i < len; i++) {
		int want_err, want_state = model(state, seq[i], &want_err), r, e, got, m;

		/* Remember the mappings present before a data lock starts. */
		if (!(state & DATLOCK)) {
			oracle_free(&before);
			if (oracle_read(0, &before) != 0) {
				fprintf(stderr, "%s: reading smaps: %s\n", name, strerror(errno));
				return bad + 1;
			}
		}
		errno = 0;
		r = plock(seq[i]);
		e = errno;
		if (want_err ? (r != -1 || e != want_err) : r != 0) {
			fprintf(stderr, "FAIL %s: call %d plock(%d) = %d (%s), want %s\n", name, i + 1,
				seq[i], r, r ? strerror(e) : "ok", want_err ? strerror(want_err) : "0");
			bad++;
		}
		state = want_state;
		if ((got = plock_state()) != state) {
			fprintf(stderr, "FAIL %s: after call %d plock_state() = %d, want %d\n",
				name, i + 1, got, state);
			bad++;
		}
		if ((m = check_locks(state, &before, NULL, stderr)) != 0) {
			fprintf(stderr, "FAIL %s: after call %d, %d mappings locked wrongly\n",
				name, i + 1, m);
			bad++;
		}
	}
	oracle_free(&before);
	return bad;
}

/* Children run NPAR at a time; each is one test, named by its sequence. */
#define NPAR	2
static struct {
	pid_t pid;
	char name[96];
} running[NPAR];
static int nrunning;

/* Waits for one child and records its result. */
static void reap(void)
{
	int st, i;
	pid_t pid = wait(&st);

	for (i = 0; i < nrunning; i++)
		if (running[i].pid == pid)
			break;
	if (pid < 0 || i == nrunning) {
		h_begin("wait");
		CHECK(0, "wait: %s", strerror(errno));
		h_end();
		nrunning = 0;
		return;
	}
	h_begin(running[i].name);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	h_end();
	running[i] = running[--nrunning];
}

static void sequence(const int *seq, int len)
{
	char *name;
	int i, n;
	pid_t pid;

	if (nrunning == NPAR)
		reap();
	name = running[nrunning].name;
	n = snprintf(name, sizeof running[0].name, "seq");
	for (i = 0; i < len; i++)
		n += snprintf(name + n, sizeof running[0].name - (size_t)n, "%s%d", i ? "," : " ",
			      seq[i]);
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		exit(run_sequence(seq, len, name) ? 1 : 0);
	if (pid < 0) {
		h_begin(name);
		CHECK(0, "fork: %s", strerror(errno));
		h_end();
		return;
	}
	running[nrunning++].pid = pid;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "full";
	int quick = strcmp(mode, "quick") == 0, len3 = strcmp(mode, "short") != 0;
	int a, b, c, seq[3];

	for (a = 0; a < NOPS; a++) {
		seq[0] = ops[a];
		sequence(seq, 1);
	}
	for (a = 0; a < NOPS; a++)
		for (b = 0; b < NOPS; b++) {
			seq[0] = ops[a];
			seq[1] = ops[b];
			sequence(seq, 2);
		}
	for (a = 0; len3 && a < NOPS; a++)
		for (b = 0; b < NOPS; b++)
			for (c = 0; c < NOPS; c++) {
				int lim = NVALID + 2;

				if (quick && (a >= lim || b >= lim || c >= lim))
					continue;
				seq[0] = ops[a];
				seq[1] = ops[b];
				seq[2] = ops[c];
				sequence(seq, 3);
			}
	while (nrunning > 0)
		reap();
	printf("(model: %s)\n", mode);
	return h_done("c-model");
}
