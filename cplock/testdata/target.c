/*
 * A program for cplock's tests, in C (built dynamic and static):
 *
 *	target vmlck		print its own VmLck line and "ready", then read
 *				stdin to its end and exit 0
 *	target fifo PATH	open the FIFO PATH, print "ready", read 64 KiB
 *				from it: every read must succeed (no EINTR) and
 *				the bytes must be i*7 mod 251; exit 0
 *	target checksum		print "ready", compute a checksum between 2000
 *				nanosleeps of 1 ms (each must return 0); exit 0
 *				if it is right
 *	target threads PATH	fifo, while 8 threads map, touch and unmap memory
 *	target smaps		print "pid P exe K/M locked, stack S, VmLck N kB":
 *				of its own executable's mappings in
 *				/proc/self/smaps, K of M have the "lo" flag, and
 *				its [stack] has it (S 1) or not (0); exit 0
 *	target fork N		fork N children that each print their smaps line
 *				as the child of a server would (from its own
 *				/proc/self/smaps) and exit; wait for them, exit 0
 *
 * Exit 3: a call failed (EINTR, say); 4: wrong data or checksum.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSGLEN	(64 * 1024)

static atomic_int stop, errors;

static void vmlck(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmLck:", 6) == 0)
			fputs(line, stdout);
	if (f != NULL)
		fclose(f);
}

/* The line of "target smaps", read by the process itself. */
static int smaps(void)
{
	char exe[4096], line[4096], cur[4096] = "";
	int k = 0, m = 0, vmlck = -1, stack = 0;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	FILE *f = fopen("/proc/self/smaps", "r");

	if (n <= 0 || f == NULL)
		return 3;
	exe[n] = '\0';
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long lo, hi;
		char *path = strchr(line, '/');

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "VmFlags:", 8) == 0 && strcmp(cur, exe) == 0) {
			m++;
			k += strstr(line, " lo") != NULL;
		} else if (strncmp(line, "VmFlags:", 8) == 0 && strcmp(cur, "[stack]") == 0) {
			stack = strstr(line, " lo") != NULL;
		} else if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			snprintf(cur, sizeof cur, "%s", path != NULL ? path :
				 strstr(line, "[stack]") != NULL ? "[stack]" : "");
		}
	}
	fclose(f);
	f = fopen("/proc/self/status", "r");
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		sscanf(line, "VmLck: %d", &vmlck);
	if (f != NULL)
		fclose(f);
	printf("pid %d exe %d/%d locked, stack %d, VmLck %d kB\n", (int)getpid(), k, m, stack,
	       vmlck);
	fflush(stdout);
	return 0;
}

static int forks(int n)
{
	int i, st, rc = 0;

	for (i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0)
			_exit(smaps());
		if (p < 0)
			return 3;
	}
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = 3;
	return rc;
}

static int fifo(const char *path)
{
	static unsigned char buf[MSGLEN];
	size_t got = 0, i;
	ssize_t n;
	/* O_RDWR: the read blocks until data comes, not until a writer opens. */
	int fd = open(path, O_RDWR);

	if (fd < 0) {
		perror(path);
		return 3;
	}
	printf("ready\n");
	fflush(stdout);
	while (got < MSGLEN) {
		n = read(fd, buf + got, MSGLEN - got);
		if (n <= 0) {
			fprintf(stderr, "target: read: %s\n", n < 0 ? strerror(errno) : "end of file");
			return 3;
		}
		got += (size_t)n;
	}
	for (i = 0; i < MSGLEN; i++)
		if (buf[i] != (unsigned char)(i * 7 % 251))
			return 4;
	return 0;
}

static unsigned long long step(unsigned long long s, unsigned long long i)
{
	return s * 6364136223846793005ULL + i * i + 1442695040888963407ULL;
}

static int checksum(void)
{
	struct timespec d = { 0, 1000 * 1000 };
	volatile unsigned long long sum = 1;
	unsigned long long want = 1, i;

	for (i = 0; i < 2000; i++)
		want = step(want, i);
	printf("ready\n");
	fflush(stdout);
	for (i = 0; i < 2000; i++) {
		if (nanosleep(&d, NULL) != 0) {
			fprintf(stderr, "target: nanosleep: %s\n", strerror(errno));
			return 3;
		}
		sum = step(sum, i);
	}
	return sum == want ? 0 : 4;
}

static void *churn(void *arg)
{
	unsigned int seed = (unsigned int)(size_t)arg;

	while (!atomic_load(&stop)) {
		size_t len = (size_t)(1 + rand_r(&seed) % 32) * 4096;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			atomic_fetch_add(&errors, 1);
			continue;
		}
		memset(p, 1, len);
		if (munmap(p, len) != 0)
			atomic_fetch_add(&errors, 1);
	}
	return NULL;
}

static int threads(const char *path)
{
	pthread_t t[8];
	int i, rc;

	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, churn, (void *)(size_t)(i + 1));
	rc = fifo(path);
	atomic_store(&stop, 1);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	return rc != 0 ? rc : atomic_load(&errors) != 0 ? 3 : 0;
}

int main(int argc, char **argv)
{
	char c;

	if (argc > 1 && strcmp(argv[1], "vmlck") == 0) {
		vmlck();
		printf("ready\n");
		fflush(stdout);
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "fifo") == 0)
		return fifo(argv[2]);
	if (argc > 1 && strcmp(argv[1], "smaps") == 0)
		return smaps();
	if (argc > 2 && strcmp(argv[1], "fork") == 0)
		return forks(atoi(argv[2]));
	if (argc > 1 && strcmp(argv[1], "checksum") == 0)
		return checksum();
	if (argc > 2 && strcmp(argv[1], "threads") == 0)
		return threads(argv[2]);
	fprintf(stderr, "usage: target vmlck | fifo PATH | checksum | threads PATH\n");
	return 2;
}
