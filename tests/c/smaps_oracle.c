/*
 * The test oracle (see smaps_oracle.h).  Deliberately simple stdio and
 * sscanf: it shares nothing with the library's parser in shim/maps.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "smaps_oracle.h"

static FILE *open_proc(pid_t pid, const char *file)
{
	char path[64];

	if (pid == 0)
		snprintf(path, sizeof path, "/proc/self/%s", file);
	else
		snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	return fopen(path, "re");
}

uint64_t oracle_vmlck(pid_t pid)
{
	FILE *f = open_proc(pid, "status");
	char *line = NULL;
	size_t cap = 0;
	unsigned long long kb;
	uint64_t v = UINT64_MAX;

	if (f == NULL)
		return UINT64_MAX;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "VmLck: %llu kB", &kb) == 1)
			v = (uint64_t)kb * 1024;
	free(line);
	fclose(f);
	return v;
}

static int has_lo(const char *flags)
{
	char buf[512], *tok, *save;

	snprintf(buf, sizeof buf, "%s", flags);
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (strcmp(tok, "lo") == 0)
			return 1;
	return 0;
}

int oracle_read(pid_t pid, struct oracle *o)
{
	FILE *f = open_proc(pid, "smaps");
	char *line = NULL;
	size_t cap = 0, mcap = 0;
	struct oracle_map *cur = NULL;
	unsigned long long kb;
	int err = 0;

	o->m = NULL;
	o->n = 0;
	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		unsigned long s, e;
		char perms[8];
		int name = -1;

		if (sscanf(line, "%lx-%lx %7s %*x %*x:%*x %*u %n", &s, &e, perms, &name) == 3) {
			if (o->n == mcap) {
				struct oracle_map *m;

				mcap = mcap ? 2 * mcap : 64;
				m = realloc(o->m, mcap * sizeof *m);
				if (m == NULL) {
					err = ENOMEM;
					break;
				}
				o->m = m;
			}
			cur = &o->m[o->n++];
			memset(cur, 0, sizeof *cur);
			cur->start = s;
			cur->end = e;
			memcpy(cur->perms, perms, 4);
			snprintf(cur->path, sizeof cur->path, "%s", name < 0 ? "" : line + name);
			cur->path[strcspn(cur->path, "\n")] = '\0';
		} else if (cur != NULL && sscanf(line, "Rss: %llu kB", &kb) == 1) {
			cur->rss = (uint64_t)kb * 1024;
		} else if (cur != NULL && strncmp(line, "VmFlags:", 8) == 0) {
			cur->lo = has_lo(line + 8);
		}
	}
	free(line);
	fclose(f);
	if (err == 0 && (o->vmlck = oracle_vmlck(pid)) == UINT64_MAX)
		err = errno ? errno : EIO;
	if (err == 0 && o->n == 0)
		err = EIO;
	if (err != 0) {
		oracle_free(o);
		errno = err;
		return -1;
	}
	return 0;
}

void oracle_free(struct oracle *o)
{
	free(o->m);
	o->m = NULL;
	o->n = 0;
}

const struct oracle_map *oracle_find(const struct oracle *o, uintptr_t addr)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->m[i].start <= addr && addr < o->m[i].end)
			return &o->m[i];
	return NULL;
}

/* Every mapping of a has the lo of its counterpart in b. */
static int covered(const struct oracle *a, const struct oracle *b, const char *an,
		   const char *bn, FILE *why)
{
	size_t i;
	int ok = 1;

	for (i = 0; i < a->n; i++) {
		const struct oracle_map *x = &a->m[i], *y = oracle_find(b, x->start);
		int lo = y ? y->lo : 0;

		if (x->lo != lo) {
			ok = 0;
			fprintf(why, "  %" PRIxPTR "-%" PRIxPTR " %s %s: lo %d %s, %d %s\n",
				x->start, x->end, x->perms, x->path, x->lo, an, lo, bn);
		}
	}
	return ok;
}

int oracle_same_locks(const struct oracle *a, const struct oracle *b, FILE *why)
{
	int ok = covered(a, b, "before", "after", why) & covered(b, a, "after", "before", why);

	if (a->vmlck != b->vmlck) {
		ok = 0;
		fprintf(why, "  VmLck %" PRIu64 " before, %" PRIu64 " after\n", a->vmlck, b->vmlck);
	}
	return ok;
}
