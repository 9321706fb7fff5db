/*
 * The C runner of the cross-language cases: for each case of the table
 * (testdata/crosslang/cases.txt), fork a child that makes the case's
 * plock() calls and prints the case's line from what it measured.  See the
 * table for the format.  Usage: crosslang CASES
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <plock.h>

#define MAXOPS	16

static const struct {
	const char *name;
	int op;
} ops[] = {
	{ "UNLOCK", UNLOCK }, { "PROCLOCK", PROCLOCK }, { "TXTLOCK", TXTLOCK },
	{ "DATLOCK", DATLOCK }, { "SHLIBLOCK", SHLIBLOCK },
	{ "PROCSHLIBLOCK", PROCSHLIBLOCK }, { "TXTSHLIBLOCK", TXTSHLIBLOCK },
	{ "DATSHLIBLOCK", DATSHLIBLOCK },
};

/* An op's name, or a number for a value that is no op. */
static int op_value(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(s, ops[i].name) == 0)
			return ops[i].op;
	return atoi(s);
}

static const char *errno_name(int e)
{
	switch (e) {
	case 0:		return "OK";
	case EINVAL:	return "EINVAL";
	case EPERM:	return "EPERM";
	case ENOMEM:	return "ENOMEM";
	default:	return strerror(e);
	}
}

/* Runs one case in this (fresh) process and prints its line. */
static int run(const char *id, char *list)
{
	static const int classes[] = { PLOCK_SEG_TEXT, PLOCK_SEG_DATA, PLOCK_SEG_STACK,
				       PLOCK_SEG_SHLIB_TEXT, PLOCK_SEG_SHLIB_DATA };
	static const struct { int bit; const char *name; } bits[] = {
		{ TXTLOCK, "TXTLOCK" }, { DATLOCK, "DATLOCK" }, { SHLIBLOCK, "SHLIBLOCK" },
	};
	const char *names[MAXOPS], *res[MAXOPS], *sep;
	struct plock_segment *segs;
	size_t nseg, i, k, n = 0;
	char *tok, *save;
	int state, any;

	for (tok = strtok_r(list, ",", &save); tok != NULL && n < MAXOPS;
	     tok = strtok_r(NULL, ",", &save)) {
		names[n] = tok;
		res[n] = errno_name(plock(op_value(tok)) == 0 ? 0 : errno);
		n++;
	}
	state = plock_state();
	if ((segs = plock_segments(0, &nseg)) == NULL) {
		perror("plock_segments");
		return 1;
	}
	printf("%s ops=", id);
	for (i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", names[i]);
	printf(" res=");
	for (i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", res[i]);
	printf(" state=");
	for (sep = "", any = 0, i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (state & bits[i].bit) {
			printf("%s%s", sep, bits[i].name);
			sep = "|";
			any = 1;
		}
	if (!any)
		printf("none");
	printf(" locked=");
	for (sep = "", any = 0, k = 0; k < sizeof classes / sizeof classes[0]; k++) {
		size_t have = 0, locked = 0;

		for (i = 0; i < nseg; i++)
			if (segs[i].seg_class == classes[k]) {
				have++;
				locked += segs[i].locked != 0;
			}
		if (have > 0 && locked == have) {
			printf("%s%s", sep, plock_segment_class_name(classes[k]));
			sep = ",";
			any = 1;
		}
	}
	printf("%s\n", any ? "" : "-");
	free(segs);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	char line[1024], *id, *list, *save;
	FILE *f;
	int failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CASES\n", argv[0]);
		return 2;
	}
	if ((f = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		pid_t pid;
		int status;

		if (line[0] == '#' || (id = strtok_r(line, " \t\n", &save)) == NULL)
			continue;
		list = strtok_r(NULL, " \t\n", &save);
		if (list == NULL || strncmp(list, "ops=", 4) != 0) {
			fprintf(stderr, "%s: bad case\n", id);
			failed = 1;
			continue;
		}
		fflush(stdout);
		if ((pid = fork()) < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0)
			_exit(run(id, list + 4));
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "%s: child failed (status %#x)\n", id, status);
			failed = 1;
		}
	}
	fclose(f);
	return failed;
}
