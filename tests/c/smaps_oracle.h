/*
 * The test oracle: what the kernel says is locked, read from /proc/PID/smaps
 * and /proc/PID/status without any code of the library under test.  Tests
 * decide what SHOULD be locked from plock_segments()' classes, but check
 * what IS locked only through this.
 */
#ifndef TESTS_C_SMAPS_ORACLE_H
#define TESTS_C_SMAPS_ORACLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct oracle_map {
	uintptr_t start, end;
	char perms[5];		/* "r-xp" */
	int lo;			/* VmFlags has "lo" (VM_LOCKED) */
	uint64_t rss;		/* bytes */
	char path[256];		/* name, truncated; "" for anonymous */
};

struct oracle {
	struct oracle_map *m;
	size_t n;
	uint64_t vmlck;		/* bytes, from status */
};

/* Reads smaps and VmLck of pid (0: the caller).  0, or -1 with errno. */
int oracle_read(pid_t pid, struct oracle *o);
void oracle_free(struct oracle *o);

/* The mapping that holds addr, or NULL. */
const struct oracle_map *oracle_find(const struct oracle *o, uintptr_t addr);

/* VmLck of pid in bytes; UINT64_MAX if it cannot be read. */
uint64_t oracle_vmlck(pid_t pid);

/*
 * Whether a and b lock the same: equal VmLck, and every mapping of either
 * has the lo flag of the mapping at its start in the other (a mapping found
 * in one only must have no lo).  Differences are printed to why.
 */
int oracle_same_locks(const struct oracle *a, const struct oracle *b, FILE *why);

#endif /* TESTS_C_SMAPS_ORACLE_H */
