/*
 * plock_segments() and plock_status() basics: every class present in a
 * dynamic program, with the right paths; the fields agree with the
 * oracle; another live process can be listed; a dead one is ESRCH.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

static void classes(void)
{
	struct plock_segment *v;
	size_t n, i, seen[PLOCK_SEG_NCLASS] = { 0 };
	int libc = 0, vdso = 0, heap = 0;
	struct oracle o;
	char *p = malloc(100);

	(void)sbrk(4096);	/* so that there is a [heap], even under ASan */

	h_begin("segments-self");
	v = plock_segments(0, &n);
	if (!CHECK(v != NULL && n > 0, "plock_segments: %s", strerror(errno))) {
		free(p);
		h_end();
		return;
	}
	CHECK(oracle_read(0, &o) == 0, "smaps: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		const struct plock_segment *s = &v[i];
		const struct oracle_map *m = oracle_find(&o, s->start);
		int c = s->seg_class;

		CHECK(c >= 0 && c < PLOCK_SEG_NCLASS, "class %d", c);
		if (c < 0 || c >= PLOCK_SEG_NCLASS)
			continue;
		seen[c]++;
		CHECK(s->size == s->end - s->start && s->start < s->end, "size %" PRIu64, s->size);
		CHECK(i == 0 || v[i - 1].end <= s->start, "segments out of order at %zu", i);
		CHECK(s->lock_on_fault == (s->inode == 0), "%s: lock_on_fault %d", s->path,
		      s->lock_on_fault);
		CHECK(s->locked == 0 && s->locked_bytes == 0, "%s locked", s->path);
		CHECK(m != NULL && m->start == s->start && strcmp(m->path, s->path) == 0,
		      "%s at %" PRIxPTR " is not in smaps", s->path, s->start);
		if (c == PLOCK_SEG_TEXT)
			CHECK(strcmp(s->path, self_path()) == 0 && !(s->prot & PLOCK_PROT_WRITE),
			      "text segment %s", s->path);
		if (c == PLOCK_SEG_STACK)
			CHECK(strcmp(s->path, "[stack]") == 0, "stack segment %s", s->path);
		if (strcmp(s->path, "[heap]") == 0)
			heap += CHECK(c == PLOCK_SEG_DATA, "[heap] is %s", plock_segment_class_name(c));
		/*
		 * A PROT_NONE mapping of libc is the gap between two of its
		 * segments (arm64's, aligned to 64 KiB), which is other.
		 */
		if (strstr(s->path, "/libc.so") != NULL && (s->prot & PROT_ANY) == 0)
			CHECK(c == PLOCK_SEG_OTHER, "libc's PROT_NONE gap is %s",
			      plock_segment_class_name(c));
		else if (strstr(s->path, "/libc.so") != NULL)
			libc += CHECK(c == PLOCK_SEG_SHLIB_TEXT || c == PLOCK_SEG_SHLIB_DATA,
				      "libc is %s", plock_segment_class_name(c));
		if (strcmp(s->path, "[vdso]") == 0 || strcmp(s->path, "[vvar]") == 0)
			vdso += CHECK(c == PLOCK_SEG_OTHER, "%s is %s", s->path,
				      plock_segment_class_name(c));
	}
	for (i = 1; i < PLOCK_SEG_NCLASS; i++)
		CHECK(seen[i] > 0, "no %s segment", plock_segment_class_name((int)i));
	CHECK(seen[PLOCK_SEG_STACK] == 1, "%zu stacks", seen[PLOCK_SEG_STACK]);
	CHECK(libc >= 2 && vdso >= 1 && heap == 1, "libc %d, vdso/vvar %d, heap %d", libc, vdso,
	      heap);
	oracle_free(&o);
	free(v);
	free(p);
	h_end();
}

static void names(void)
{
	static const char *const want[] = {
		"other", "text", "data", "stack", "shlib-text", "shlib-data",
	};
	int i;

	h_begin("class-names");
	for (i = 0; i < PLOCK_SEG_NCLASS; i++)
		CHECK(strcmp(plock_segment_class_name(i), want[i]) == 0, "class %d is %s", i,
		      plock_segment_class_name(i));
	CHECK(strcmp(plock_segment_class_name(-1), "?") == 0, "class -1");
	CHECK(strcmp(plock_segment_class_name(PLOCK_SEG_NCLASS), "?") == 0, "class NCLASS");
	h_end();
}

static void other_process(void)
{
	struct plock_segment *v;
	struct plock_status st;
	int fds[2], status, ntext = 0;
	size_t n, i;
	pid_t pid;
	char c;

	h_begin("segments-other-process");
	CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 0 ? 0 : 1);	/* waits for the parent */
	}
	close(fds[0]);
	v = plock_segments(pid, &n);
	if (CHECK(v != NULL, "plock_segments(%d): %s", (int)pid, strerror(errno))) {
		for (i = 0; i < n; i++)
			if (v[i].seg_class == PLOCK_SEG_TEXT)
				ntext += CHECK(strcmp(v[i].path, self_path()) == 0, "child text %s",
					       v[i].path);
		CHECK(ntext >= 2, "%d text segments in the child", ntext);
		free(v);
	}
	CHECK(plock_status(pid, &st) == 0, "plock_status(%d): %s", (int)pid, strerror(errno));
	CHECK(st.state == -1 && st.future == -1, "another process: state %d, future %d",
	      st.state, st.future);
	CHECK(st.vmlck == 0 && st.cap_ipc_lock == 1, "child vmlck %" PRIu64 ", cap %d", st.vmlck,
	      st.cap_ipc_lock);
	close(fds[1]);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	h_end();

	/* Now reaped: no such process. */
	h_begin("dead-pid-esrch");
	errno = 0;
	CHECK(plock_status(pid, &st) == -1 && errno == ESRCH, "plock_status(dead): errno %d",
	      errno);
	errno = 0;
	v = plock_segments(pid, &n);
	CHECK(v == NULL && errno == ESRCH, "plock_segments(dead): errno %d", errno);
	free(v);
	errno = 0;
	CHECK(plock_status(-5, &st) == -1 && errno == ESRCH, "plock_status(-5): errno %d", errno);
	h_end();
}

/* Under TXTSHLIBLOCK, text and shlib text are locked and wholly resident. */
static void locked_fields(void)
{
	struct plock_segment *v;
	struct oracle o;
	size_t n, i, nlocked = 0;

	h_begin("segments-locked-fields");
	CHECK(plock(TXTSHLIBLOCK) == 0, "plock(TXTSHLIBLOCK): %s", strerror(errno));
	v = plock_segments(0, &n);
	if (CHECK(v != NULL && oracle_read(0, &o) == 0, "%s", strerror(errno))) {
		for (i = 0; i < n; i++) {
			const struct plock_segment *s = &v[i];
			const struct oracle_map *m = oracle_find(&o, s->start);

			if (s->seg_class != PLOCK_SEG_TEXT && s->seg_class != PLOCK_SEG_SHLIB_TEXT)
				continue;
			nlocked++;
			CHECK(s->locked && s->resident == s->size && s->locked_bytes == s->size,
			      "%s: locked %d, resident %" PRIu64 ", locked %" PRIu64 " of %" PRIu64,
			      s->path, s->locked, s->resident, s->locked_bytes, s->size);
			CHECK(m != NULL && m->lo && m->rss == s->resident,
			      "%s: the oracle says lo %d, Rss %" PRIu64, s->path, m ? m->lo : -1,
			      m ? m->rss : 0);
		}
		CHECK(nlocked >= 4, "%zu text segments", nlocked);
		oracle_free(&o);
	}
	free(v);
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	h_end();
}

static void status_self(void)
{
	struct plock_status st;

	h_begin("status-self");
	CHECK(plock(TXTLOCK) == 0, "plock(TXTLOCK): %s", strerror(errno));
	CHECK(plock_status(0, &st) == 0, "plock_status: %s", strerror(errno));
	CHECK(st.state == TXTLOCK && st.future == 0, "state %d future %d", st.state, st.future);
	CHECK(st.vmlck == oracle_vmlck(0) && st.vmlck > 0, "vmlck %" PRIu64, st.vmlck);
	CHECK(plock_status(getpid(), &st) == 0 && st.state == TXTLOCK,
	      "plock_status(getpid()) is not the caller's");
	CHECK(plock(DATLOCK) == 0 && plock_status(0, &st) == 0 && st.future == 1,
	      "future %d after DATLOCK", st.future);
	CHECK(plock(UNLOCK) == 0, "plock(UNLOCK): %s", strerror(errno));
	CHECK(plock_status(0, &st) == 0 && st.future == 0, "future %d after UNLOCK", st.future);
	h_end();
}

/*
 * future is the kernel's MCL_FUTURE, not plock's bookkeeping: a program that
 * calls mlockall() itself sees it too, eager or on fault.  (Raw system calls:
 * sanitizers make libc's mlockall a no-op.)
 */
static void status_own_mlockall(void)
{
	static const int flags[] = { MCL_FUTURE, MCL_FUTURE | MCL_ONFAULT };
	struct plock_status st;
	size_t i;

	for (i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		h_begin("status-own-mlockall");
		CHECK(syscall(SYS_mlockall, flags[i]) == 0, "mlockall(%d): %s", flags[i],
		      strerror(errno));
		CHECK(plock_status(0, &st) == 0, "plock_status: %s", strerror(errno));
		CHECK(st.future == 1 && st.state == 0, "future %d state %d after mlockall(%d)",
		      st.future, st.state, flags[i]);
		CHECK(syscall(SYS_munlockall) == 0, "munlockall: %s", strerror(errno));
		CHECK(plock_status(0, &st) == 0 && st.future == 0, "future %d after munlockall",
		      st.future);
		CHECK(oracle_vmlck(0) == 0, "VmLck %" PRIu64 ": the probe left a lock behind",
		      oracle_vmlck(0));
		h_end();
	}
}

int main(void)
{
	classes();
	names();
	locked_fields();
	other_process();
	status_self();
	status_own_mlockall();
	return h_done("c-segments");
}
