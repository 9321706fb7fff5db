/*
 * Helpers shared by the C tests (see util.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

int run(char *const argv[], char *const env[])
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		for (; env != NULL && *env != NULL; env++)
			putenv(*env);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int copy_self(const char *name, char *dir, size_t dlen, char *path, size_t plen)
{
	char buf[65536];
	ssize_t r;
	int in, out, ok = 1;

	snprintf(dir, dlen, "/tmp/plock-test-XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		return -1;
	snprintf(path, plen, "%s/%s", dir, name);
	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (in < 0 || out < 0)
		ok = 0;
	while (ok && (r = read(in, buf, sizeof buf)) > 0)
		ok = write(out, buf, (size_t)r) == r;
	if (in >= 0)
		close(in);
	if (out >= 0 && (fchmod(out, 0755) != 0 || close(out) != 0))
		ok = 0;
	return ok ? 0 : -1;
}

const char *self_path(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);

	path[n > 0 ? n : 0] = '\0';
	return path;
}

void remove_copy(const char *dir, const char *path)
{
	unlink(path);
	rmdir(dir);
}

#define MARK_BEGIN	"/plock-test-marker-begin"
#define MARK_END	"/plock-test-marker-end"

void marker(int end)
{
	/* A call strace shows with its argument, that nothing else makes. */
	(void)faccessat(AT_FDCWD, end ? MARK_END : MARK_BEGIN, F_OK, 0);
}

int syscalls_between_markers(const char *prog, const char *mode, int show)
{
	char out[] = "/tmp/plock-strace-XXXXXX";
	char *argv[] = { "strace", "-f", "-qq", "-o", out, (char *)prog, (char *)mode, NULL };
	/* LeakSanitizer cannot run under ptrace; the leak checks are elsewhere. */
	char *env[] = { "ASAN_OPTIONS=detect_leaks=0:halt_on_error=1", NULL };
	char *line = NULL;
	size_t cap = 0;
	int fd, st, in = 0, seen = 0, calls = 0;
	FILE *f;

	if ((fd = mkstemp(out)) < 0)
		return -1;
	close(fd);
	st = run(argv, env);
	f = fopen(out, "re");
	while (f != NULL && getline(&line, &cap, f) > 0) {
		if (strstr(line, MARK_BEGIN) != NULL) {
			in = 1;
			seen |= 1;
		} else if (strstr(line, MARK_END) != NULL) {
			in = 0;
			seen |= 2;
		} else if (in) {
			calls++;
			if (show)
				fprintf(stderr, "  system call between the markers: %s", line);
		}
	}
	free(line);
	if (f != NULL)
		fclose(f);
	unlink(out);
	if (st != 0 || seen != 3) {
		fprintf(stderr, "  strace %s %s: exit %d, markers %s\n", prog, mode, st,
			seen == 3 ? "seen" : "missing");
		return -1;
	}
	return calls;
}

int class_at(const struct plock_segment *v, size_t n, uintptr_t addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].start <= addr && addr < v[i].end)
			return v[i].seg_class;
	return -1;
}

int class_bit(int seg_class)
{
	switch (seg_class) {
	case PLOCK_SEG_TEXT:
		return TXTLOCK;
	case PLOCK_SEG_DATA:
	case PLOCK_SEG_STACK:
		return DATLOCK;
	case PLOCK_SEG_SHLIB_TEXT:
	case PLOCK_SEG_SHLIB_DATA:
		return SHLIBLOCK;
	default:
		return 0;
	}
}

static int same_mapping(const struct oracle *o, const struct oracle_map *m)
{
	const struct oracle_map *x = o ? oracle_find(o, m->start) : NULL;

	return x != NULL && x->start == m->start && x->end == m->end;
}

int check_locks(int state, const struct oracle *before, const struct oracle *user, FILE *why)
{
	struct plock_segment *v;
	struct oracle o;
	size_t n, i;
	int bad = 0;

	if ((v = plock_segments(0, &n)) == NULL) {
		fprintf(why, "  plock_segments: %s\n", strerror(errno));
		return -1;
	}
	if (oracle_read(0, &o) != 0) {
		fprintf(why, "  reading /proc/self/smaps: %s\n", strerror(errno));
		free(v);
		return -1;
	}
	for (i = 0; i < o.n; i++) {
		const struct oracle_map *m = &o.m[i];
		const struct oracle_map *u = user ? oracle_find(user, m->start) : NULL;
		int cls = class_at(v, n, m->start), want;

		if (u != NULL && u->lo) {
			want = 1;
		} else if (cls < 0) {
			/* Mapped between the two reads: only MCL_FUTURE may lock it. */
			if (!m->lo || (state & DATLOCK))
				continue;
			want = 0;
		} else if (cls == PLOCK_SEG_OTHER) {
			if (m->lo && (state & DATLOCK) && !same_mapping(before, m))
				continue;	/* new since the data lock */
			want = 0;
		} else {
			want = (class_bit(cls) & state) != 0;
		}
		if (m->lo != want) {
			bad++;
			fprintf(why, "  state %d: %" PRIxPTR "-%" PRIxPTR " %s %s (%s): lo %d, want %d\n",
				state, m->start, m->end, m->perms, m->path,
				cls < 0 ? "unlisted" : plock_segment_class_name(cls), m->lo, want);
		}
	}
	oracle_free(&o);
	free(v);
	return bad;
}

int kernel_at_least(int major, int minor)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 0;
	return a > major || (a == major && b >= minor);
}
