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
	if (argc > 1 && strcmp(argv[1], "checksum") == 0)
		return checksum();
	if (argc > 2 && strcmp(argv[1], "threads") == 0)
		return threads(argv[2]);
	fprintf(stderr, "usage: target vmlck | fifo PATH | checksum | threads PATH\n");
	return 2;
}
