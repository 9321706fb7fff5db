/*
 * Growth after a data lock: mlockall(MCL_FUTURE | MCL_ONFAULT).  Memory
 * mapped later is locked as it is touched and only then: a 64 MiB
 * anonymous mapping half touched has lo and exactly the touched half
 * resident; a 256 MiB file mapped later and not touched is not paged in.
 * After UNLOCK new mappings are not locked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

/* The oracle's view of the mapping at p: lo and Rss; 0 or -1. */
static int mapping(const void *p, int *lo, uint64_t *rss)
{
	const struct oracle_map *m;
	struct oracle o;

	if (oracle_read(0, &o) != 0)
		return -1;
	m = oracle_find(&o, (uintptr_t)p);
	if (m != NULL) {
		*lo = m->lo;
		*rss = m->rss;
	}
	oracle_free(&o);
	return m ? 0 : -1;
}

static void anon(void)
{
	size_t len = 64 * MIB, i;
	uint64_t v0, v1, rss = 0;
	char *p;
	int lo = 0;

	h_begin("anon-locked-as-touched");
	v0 = oracle_vmlck(0);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno))) {
		h_end();
		return;
	}
	/* Whole huge pages would make Rss more than what was touched. */
	madvise(p, len, MADV_NOHUGEPAGE);
	CHECK(mapping(p, &lo, &rss) == 0 && lo && rss == 0,
	      "new mapping: lo %d, Rss %" PRIu64 " (want lo, nothing resident)", lo, rss);
	for (i = 0; i < len / 2; i += 4096)
		p[i] = 1;
	CHECK(mapping(p, &lo, &rss) == 0 && lo && rss == len / 2,
	      "half touched: lo %d, Rss %" PRIu64 ", want %zu", lo, rss, len / 2);
	/* The kernel counts a locked mapping whole in VmLck. */
	v1 = oracle_vmlck(0);
	CHECK(v1 >= v0 + len, "VmLck %" PRIu64 " -> %" PRIu64 " for a %zu-byte mapping", v0, v1, len);
	munmap(p, len);
	CHECK(oracle_vmlck(0) + len <= v1, "VmLck %" PRIu64 " after munmap, was %" PRIu64,
	      oracle_vmlck(0), v1);
	h_end();
}

static void file(void)
{
	char dir[] = "/tmp/plock-growth-XXXXXX", path[64];
	size_t len = 256 * MIB;
	uint64_t rss = 0;
	char *p;
	int fd, lo = 0;

	h_begin("file-not-paged-in");
	if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno))) {
		h_end();
		return;
	}
	snprintf(path, sizeof path, "%s/db", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)len) == 0, "creating %s: %s", path, strerror(errno));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (CHECK(p != MAP_FAILED, "mmap %s: %s", path, strerror(errno))) {
		CHECK(mapping(p, &lo, &rss) == 0 && lo && rss == 0,
		      "untouched file mapping: lo %d, Rss %" PRIu64 " (want lo, 0)", lo, rss);
		p[len / 2] = 1;
		CHECK(mapping(p, &lo, &rss) == 0 && lo && rss > 0 && rss <= 2 * MIB,
		      "one page touched: lo %d, Rss %" PRIu64, lo, rss);
		munmap(p, len);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmdir(dir);
	h_end();
}

static void after_unlock(void)
{
	uint64_t rss = 0;
	char *p;
	int lo = 1;

	h_begin("no-growth-lock-after-unlock");
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno))) {
		memset(p, 1, MIB);
		CHECK(mapping(p, &lo, &rss) == 0 && !lo, "a mapping made after UNLOCK is locked");
		munmap(p, MIB);
	}
	CHECK(oracle_vmlck(0) == 0, "VmLck %" PRIu64 " after UNLOCK", oracle_vmlck(0));
	h_end();
}

int main(void)
{
	h_begin("datlock");
	CHECK(plock(DATLOCK) == 0, "plock(DATLOCK): %s", strerror(errno));
	h_end();
	anon();
	file();
	after_unlock();
	return h_done("c-growth");
}
