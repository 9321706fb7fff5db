/*
 * Mappings that the first classifier got wrong:
 *
 *  - reservations: memory reserved PROT_NONE and opened later by mprotect
 *    (glibc thread arenas grow that way) is data, locked on fault, so that
 *    what a data lock promises for later growth holds in threads too;
 *  - MAP_DROPPABLE (which glibc 2.41 uses for its getrandom state): the
 *    kernel never locks it, so it is "other", never data left unlocked;
 *  - a file mapped from a path longer than any buffer (300 nested
 *    directories of 255-byte names): every op and plock_segments() work and
 *    report the whole path.
 *
 * Locks are checked in /proc/self/smaps through the test oracle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE	0x08
#endif

#define PAGE	4096

/* Whether the mapping that holds addr has lo, per the oracle. */
static int locked_at(const void *addr)
{
	struct oracle o;
	const struct oracle_map *m;
	int lo;

	if (oracle_read(0, &o) != 0)
		return -1;
	m = oracle_find(&o, (uintptr_t)addr);
	lo = m == NULL ? -1 : m->lo;
	oracle_free(&o);
	return lo;
}

/* A thread that mallocs on request: its own glibc arena. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase;
static char *first, *late[256];

static void *arena_thread(void *arg)
{
	int i;

	(void)arg;
	first = malloc(1000);		/* creates the thread's arena */
	pthread_mutex_lock(&mu);
	phase = 1;
	pthread_cond_broadcast(&cv);
	while (phase != 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	/* 256 x 8 KiB: the arena grows by mprotect of its reservation. */
	for (i = 0; i < 256; i++) {
		late[i] = malloc(8192);
		if (late[i] != NULL)
			memset(late[i], 1, 8192);
	}
	pthread_mutex_lock(&mu);
	phase = 3;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void thread_arena_growth(void)
{
	pthread_t th;
	int i, unlocked = 0;

	h_begin("thread-arena-growth-locked");
	CHECK(pthread_create(&th, NULL, arena_thread, NULL) == 0, "pthread_create");
	pthread_mutex_lock(&mu);
	while (phase != 1)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	CHECK(plock(DATLOCK) == 0, "plock(DATLOCK): %s", strerror(errno));
	pthread_mutex_lock(&mu);
	phase = 2;
	pthread_cond_broadcast(&cv);
	while (phase != 3)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	pthread_join(th, NULL);
	for (i = 0; i < 256; i++)
		unlocked += late[i] == NULL || locked_at(late[i]) != 1;
	CHECK(unlocked == 0, "%d of 256 blocks the thread allocated after DATLOCK are not locked",
	      unlocked);
	CHECK(locked_at(first) == 1, "the arena's first block is not locked");
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	for (i = 0; i < 256; i++)
		free(late[i]);
	h_end();
}

static void reservation_opened_later(void)
{
	char *r;
	struct plock_segment *v;
	size_t n;

	h_begin("reservation-opened-after-datlock");
	r = mmap(NULL, 64 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!CHECK(r != MAP_FAILED, "mmap: %s", strerror(errno))) {
		h_end();
		return;
	}
	v = plock_segments(0, &n);
	if (CHECK(v != NULL, "plock_segments: %s", strerror(errno))) {
		CHECK(class_at(v, n, (uintptr_t)r) == PLOCK_SEG_DATA, "a PROT_NONE reservation is %s",
		      plock_segment_class_name(class_at(v, n, (uintptr_t)r)));
		free(v);
	}
	CHECK(plock(DATLOCK) == 0, "plock(DATLOCK): %s", strerror(errno));
	CHECK(mprotect(r, 16 * PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect: %s", strerror(errno));
	memset(r, 1, 16 * PAGE);
	CHECK(locked_at(r) == 1, "the part opened by mprotect after DATLOCK is not locked");
	CHECK(locked_at(r + 32 * PAGE) == 1, "the rest of the reservation is not locked");
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	CHECK(locked_at(r) == 0, "still locked after UNLOCK");
	munmap(r, 64 * PAGE);
	h_end();
}

static void droppable(void)
{
	struct plock_segment *v;
	char *d;
	size_t i, n;

	d = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	if (!kernel_at_least(6, 11)) {
		/*
		 * MAP_DROPPABLE is Linux 6.11's; before, mmap refuses it, and
		 * glibc's getrandom state is ordinary private memory, which a
		 * PROCLOCK locks like all data.
		 */
		h_begin("map-droppable-refused-before-6.11");
		CHECK(d == MAP_FAILED && errno == EINVAL, "mmap(MAP_DROPPABLE) before Linux 6.11: %s",
		      d == MAP_FAILED ? strerror(errno) : "it worked");
		d = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(d != MAP_FAILED, "mmap: %s", strerror(errno));
		if (d != MAP_FAILED) {
			d[0] = 1;
			CHECK(plock(PROCLOCK) == 0, "plock(PROCLOCK): %s", strerror(errno));
			CHECK(locked_at(d) == 1, "private memory, the fallback, is not locked by PROCLOCK");
			CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
			munmap(d, 4 * PAGE);
		}
		h_end();
		return;
	}
	h_begin("map-droppable-is-other");
	if (!CHECK(d != MAP_FAILED, "mmap(MAP_DROPPABLE): %s (Linux 6.11)", strerror(errno))) {
		h_end();
		return;
	}
	d[0] = 1;
	CHECK(plock(PROCLOCK) == 0, "plock(PROCLOCK): %s", strerror(errno));
	v = plock_segments(0, &n);
	if (CHECK(v != NULL, "plock_segments: %s", strerror(errno))) {
		CHECK(class_at(v, n, (uintptr_t)d) == PLOCK_SEG_OTHER, "MAP_DROPPABLE is %s",
		      plock_segment_class_name(class_at(v, n, (uintptr_t)d)));
		/* No class PROCLOCK locks holds a mapping left unlocked. */
		for (i = 0; i < n; i++)
			CHECK(!(class_bit(v[i].seg_class) & (TXTLOCK | DATLOCK)) || v[i].locked,
			      "%lx-%lx %s is %s and not locked", (unsigned long)v[i].start,
			      (unsigned long)v[i].end, v[i].path,
			      plock_segment_class_name(v[i].seg_class));
		free(v);
	}
	CHECK(locked_at(d) == 0, "the kernel locked MAP_DROPPABLE memory");
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	munmap(d, 4 * PAGE);
	h_end();
}

#define DEPTH	300
#define NAMELEN	255

/* Makes DEPTH nested directories of NAMELEN-byte names under dir, a file
 * of 4 KiB at the bottom, and maps it.  Fills path (the whole path). */
static char *map_deep_file(const char *dir, char *path, size_t size)
{
	char name[NAMELEN + 1];
	size_t len;
	int fd = open(dir, O_RDONLY | O_DIRECTORY), nfd, i;
	char *p = NULL;

	memset(name, 'd', NAMELEN);
	name[NAMELEN] = '\0';
	len = (size_t)snprintf(path, size, "%s", dir);
	for (i = 0; fd >= 0 && i < DEPTH; i++) {
		name[0] = (char)('a' + i % 26);
		if (mkdirat(fd, name, 0700) != 0 && errno != EEXIST)
			break;
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = nfd;
		len += (size_t)snprintf(path + len, size - len, "/%s", name);
	}
	if (fd >= 0 && i == DEPTH) {
		nfd = openat(fd, "file", O_RDWR | O_CREAT, 0600);
		snprintf(path + len, size - len, "/file");
		if (nfd >= 0 && ftruncate(nfd, PAGE) == 0)
			p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, nfd, 0);
		if (nfd >= 0)
			close(nfd);
	}
	if (fd >= 0)
		close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * Removes what map_deep_file made under the directory fd, from level i
 * down, by descriptors: the path is longer than PATH_MAX, which rm(1)
 * need not handle (busybox's does not).  Returns 0 or -1 with errno.
 */
static int remove_deep(int fd, int i)
{
	char name[NAMELEN + 1];
	int nfd, r;

	if (i == DEPTH)
		return unlinkat(fd, "file", 0);
	memset(name, 'd', NAMELEN);
	name[NAMELEN] = '\0';
	name[0] = (char)('a' + i % 26);
	if ((nfd = openat(fd, name, O_RDONLY | O_DIRECTORY)) < 0)
		return -1;
	r = remove_deep(nfd, i + 1);
	close(nfd);
	return r == 0 ? unlinkat(fd, name, AT_REMOVEDIR) : -1;
}

static void long_path(void)
{
	static char path[DEPTH * (NAMELEN + 1) + 64];
	char dir[] = "/tmp/plock-longpath-XXXXXX";
	struct plock_segment *v;
	size_t i, n;
	char *p;
	int found = 0;

	h_begin("long-path");
	if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno))) {
		h_end();
		return;
	}
	p = map_deep_file(dir, path, sizeof path);
	if (!CHECK(p != NULL, "mapping a file under %d directories: %s", DEPTH, strerror(errno))) {
		h_end();
		return;
	}
	CHECK(strlen(path) > 64 * 1024, "the path is only %zu bytes", strlen(path));
	CHECK(plock(PROCLOCK) == 0, "plock(PROCLOCK): %s", strerror(errno));
	CHECK(plock(SHLIBLOCK) == 0, "plock(SHLIBLOCK): %s", strerror(errno));
	v = plock_segments(0, &n);
	if (CHECK(v != NULL, "plock_segments: %s", strerror(errno))) {
		for (i = 0; i < n; i++) {
			if (v[i].start != (uintptr_t)p)
				continue;
			found = 1;
			CHECK(strcmp(v[i].path, path) == 0, "the path reported is %zu bytes, want %zu",
			      strlen(v[i].path), strlen(path));
			CHECK(v[i].seg_class == PLOCK_SEG_OTHER, "the file is %s",
			      plock_segment_class_name(v[i].seg_class));
		}
		CHECK(found, "the mapping of the file is not listed");
		free(v);
	}
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	munmap(p, PAGE);
	{
		int fd = open(dir, O_RDONLY | O_DIRECTORY);

		CHECK(fd >= 0 && remove_deep(fd, 0) == 0 && rmdir(dir) == 0, "removing %s: %s", dir,
		      strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	h_end();
}

int main(void)
{
	reservation_opened_later();
	thread_arena_growth();
	droppable();
	long_path();
	return h_done("c-mappings");
}
