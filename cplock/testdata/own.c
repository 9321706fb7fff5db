/*
 * A program linked with libplock, for cplock's test that a lock made from
 * outside is its own plock state (follow_test.go):
 *
 *	own		at once: plock(PROCLOCK), then plock(UNLOCK), printing
 *			"PROCLOCK R ERRNO", "UNLOCK R ERRNO VmLck N" (kB, after)
 *	own wait	the same after printing "ready" and reading a line
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/lock.h>
#include <plock.h>

static int vmlck(void)
{
	char line[256];
	int kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		sscanf(line, "VmLck: %d", &kb);
	if (f != NULL)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	char buf[64];
	int r, e;

	if (argc > 1 && strcmp(argv[1], "wait") == 0) {
		printf("ready\n");
		fflush(stdout);
		if (fgets(buf, sizeof buf, stdin) == NULL)
			return 2;
	}
	printf("state %d\n", plock_state());
	errno = 0;
	r = plock(PROCLOCK);
	e = errno;
	printf("PROCLOCK %d %s\n", r, r == 0 ? "0" : e == EINVAL ? "EINVAL" : strerror(e));
	errno = 0;
	r = plock(UNLOCK);
	e = errno;
	printf("UNLOCK %d %s VmLck %d\n", r, r == 0 ? "0" : e == EINVAL ? "EINVAL" : strerror(e), vmlck());
	return 0;
}
