/*
 * An unmodified SVR4-style program: it locks itself in memory with
 * plock(PROCLOCK), does its work, and unlocks.  It knows nothing of Linux;
 * it builds with "cc legacy.c -lplock" once libplock is installed.
 */
#include <sys/lock.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	unsigned int seconds = argc > 1 ? (unsigned int)atoi(argv[1]) : 0;

	if (plock(PROCLOCK) != 0) {
		fprintf(stderr, "legacy: plock(PROCLOCK): %s\n", strerror(errno));
		return 1;
	}
	printf("legacy: text and data locked in memory\n");
	fflush(stdout);
	if (seconds > 0)
		sleep(seconds);		/* the real-time loop would run here */
	if (plock(UNLOCK) != 0) {
		fprintf(stderr, "legacy: plock(UNLOCK): %s\n", strerror(errno));
		return 1;
	}
	printf("legacy: unlocked\n");
	return 0;
}
