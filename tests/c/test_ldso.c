/*
 * Started as "/lib64/ld-linux-x86-64.so.2 ./prog", /proc/self/exe names the
 * loader, but the program is the file mapped at AT_PHDR: its mappings are
 * text (and data), the loader's are shlib, and TXTLOCK locks the program's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#if defined(__aarch64__)
#define LDSO	"/lib/ld-linux-aarch64.so.1"
#else
#define LDSO	"/lib64/ld-linux-x86-64.so.2"
#endif

static int probe(const char *prog)
{
	struct plock_segment *v;
	size_t n, i, ntext = 0, nldso = 0;
	struct oracle o;
	int r;

	h_begin("ldso-classes");
	/* The premise: the kernel ran the loader, not the program. */
	CHECK(strstr(self_path(), "ld-linux") != NULL, "/proc/self/exe is %s", self_path());
	v = plock_segments(0, &n);
	if (!CHECK(v != NULL, "plock_segments: %s", strerror(errno)))
		return h_done("c-ldso-probe");
	for (i = 0; i < n; i++) {
		int mine = strcmp(v[i].path, prog) == 0, ldso = strstr(v[i].path, "ld-linux") != NULL;

		/*
		 * A file's PROT_NONE mapping is a gap between its segments
		 * (arm64 aligns them to 64 KiB): other, whoever's it is.
		 */
		if ((mine || ldso) && (v[i].prot & PROT_ANY) == 0) {
			CHECK(v[i].seg_class == PLOCK_SEG_OTHER, "a PROT_NONE gap of %s is %s",
			      v[i].path, plock_segment_class_name(v[i].seg_class));
			continue;
		}

		if (v[i].seg_class == PLOCK_SEG_TEXT) {
			ntext++;
			CHECK(mine, "text segment %s is not the program %s", v[i].path, prog);
		}
		if (mine)
			CHECK(v[i].seg_class == ((v[i].prot & PLOCK_PROT_WRITE) ? PLOCK_SEG_DATA
				: PLOCK_SEG_TEXT), "the program's mapping is %s",
			      plock_segment_class_name(v[i].seg_class));
		if (ldso) {
			nldso++;
			CHECK(v[i].seg_class == PLOCK_SEG_SHLIB_TEXT ||
			      v[i].seg_class == PLOCK_SEG_SHLIB_DATA,
			      "the loader's mapping is %s", plock_segment_class_name(v[i].seg_class));
		}
	}
	CHECK(ntext >= 2 && nldso >= 2, "%zu text segments, %zu of the loader", ntext, nldso);
	h_end();

	h_begin("ldso-txtlock");
	CHECK(plock(TXTLOCK) == 0, "plock(TXTLOCK): %s", strerror(errno));
	r = check_locks(TXTLOCK, NULL, NULL, stderr);
	CHECK(r == 0, "%d mappings locked wrongly", r);
	/* And by the oracle alone: the program's text is locked, the loader not. */
	if (CHECK(oracle_read(0, &o) == 0, "smaps: %s", strerror(errno))) {
		for (i = 0; i < o.n; i++) {
			if (strcmp(o.m[i].path, prog) == 0 && o.m[i].perms[1] != 'w' &&
			    memcmp(o.m[i].perms, "---", 3) != 0)
				CHECK(o.m[i].lo, "program text %lx not locked", (unsigned long)o.m[i].start);
			if (strstr(o.m[i].path, "ld-linux") != NULL)
				CHECK(!o.m[i].lo, "loader %lx locked", (unsigned long)o.m[i].start);
		}
		oracle_free(&o);
	}
	h_end();
	free(v);
	return h_done("c-ldso-probe");
}

int main(int argc, char **argv)
{
	char prog[4096];
	int r;

	if (argc > 2 && strcmp(argv[1], "probe") == 0)
		return probe(argv[2]);
	snprintf(prog, sizeof prog, "%s", self_path());
	{
		char *run_argv[] = { LDSO, prog, "probe", prog, NULL };

		h_begin("ldso-run");
		r = run(run_argv, NULL);
		CHECK(r == 0, "%s %s probe exited %d", LDSO, prog, r);
		h_end();
	}
	return h_done("c-ldso");
}
