/*
 * The constructor of libplock-preload.so.  "cplock run" starts an unmodified
 * program with this library first in LD_PRELOAD; the dynamic loader maps it
 * with the program's other objects and runs this constructor before main(),
 * and it calls plock() there.  The library is the shim plus this file, so
 * its plock() is the one the program would link with -lplock: a program that
 * also calls plock() itself binds to this copy and sees its state.
 *
 * The request is in the environment:
 *
 *	PLOCK_PRELOAD_OP	the op, as the decimal value of <sys/lock.h>
 *	PLOCK_PRELOAD_FLAGS	flags of plock_flags() (optional; decimal)
 *	PLOCK_PRELOAD_FD	a descriptor (3 or more) to report the result on
 *				(optional); it is closed afterwards
 *	PLOCK_PRELOAD_ALLOW	"1": start the program even if plock() failed
 *	PLOCK_PRELOAD_LIB	this library's path, taken out of LD_PRELOAD
 *
 * All of them are removed from the environment, and this library from
 * LD_PRELOAD, before main(): the program's children do not inherit the
 * request.  Without PLOCK_PRELOAD_OP the constructor does nothing.
 *
 * The report is one line, written with one write(2) (shorter than
 * PIPE_BUF, so a pipe delivers it whole):
 *
 *	plock-preload 1 op=OP errno=E state=S future=F vmlck=N need=N
 *	    memlock=N hard=N cap=C
 *
 * (on one line): E is 0 on success; S and F the state and whether growth is
 * locked afterwards; vmlck the bytes VmLck counts afterwards; need the bytes
 * that would have to fit under RLIMIT_MEMLOCK for the op (EPERM and ENOMEM
 * only); memlock and hard the limits (UINT64_MAX: unlimited); cap 1 if the
 * process has CAP_IPC_LOCK.
 *
 * If plock() fails and PLOCK_PRELOAD_ALLOW is not "1", the program does not
 * start: the constructor reports and calls _exit(126), as a shell does for a
 * command it cannot execute.  Without PLOCK_PRELOAD_FD a failure is reported
 * on standard error.  Nothing is ever written to standard output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <plock.h>

#define PRELOAD_NOT_STARTED	126

struct request {
	long op, flags, fd;
	int allow;
};

/* Parses a decimal environment variable; def if it is unset or not a number. */
static long env_long(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return def;
	return v;
}

/*
 * Removes lib from LD_PRELOAD (whose entries are separated by colons or
 * spaces), and LD_PRELOAD itself if nothing else is left.
 */
static void strip_preload(const char *lib)
{
	const char *s = getenv("LD_PRELOAD");
	size_t n = strlen(lib), len;
	char *out, *o;

	if (s == NULL || n == 0)
		return;
	out = malloc(strlen(s) + 1);
	if (out == NULL)
		return;
	o = out;
	while (*s != '\0') {
		len = strcspn(s, ": ");
		if (len > 0 && !(len == n && strncmp(s, lib, n) == 0)) {
			if (o != out)
				*o++ = ':';
			memcpy(o, s, len);
			o += len;
		}
		s += len;
		if (*s != '\0')
			s++;
	}
	*o = '\0';
	if (o == out)
		unsetenv("LD_PRELOAD");
	else
		setenv("LD_PRELOAD", out, 1);
	free(out);
}

/* Reads the request and removes it from the environment. */
static int take_request(struct request *rq)
{
	const char *lib, *allow;

	if (getenv("PLOCK_PRELOAD_OP") == NULL)
		return 0;
	rq->op = env_long("PLOCK_PRELOAD_OP", -1);
	rq->flags = env_long("PLOCK_PRELOAD_FLAGS", 0);
	rq->fd = env_long("PLOCK_PRELOAD_FD", -1);
	/* Never the program's standard input, output or error. */
	if (rq->fd < 3 || rq->fd > INT32_MAX)
		rq->fd = -1;
	allow = getenv("PLOCK_PRELOAD_ALLOW");
	rq->allow = allow != NULL && strcmp(allow, "1") == 0;
	lib = getenv("PLOCK_PRELOAD_LIB");
	if (lib != NULL)
		strip_preload(lib);	/* lib stays valid: it is not freed */
	unsetenv("PLOCK_PRELOAD_OP");
	unsetenv("PLOCK_PRELOAD_FLAGS");
	unsetenv("PLOCK_PRELOAD_FD");
	unsetenv("PLOCK_PRELOAD_ALLOW");
	unsetenv("PLOCK_PRELOAD_LIB");
	return 1;
}

static void write_all(int fd, const char *buf, size_t len)
{
	ssize_t r;

	while (len > 0) {
		r = write(fd, buf, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		buf += r;
		len -= (size_t)r;
	}
}

__attribute__((constructor))
static void plock_preload(void)
{
	struct request rq;
	struct plock_status st;
	struct plock_reason why;
	uint64_t need = 0;
	char line[512];
	int err = 0, n, saved = errno;

	if (!take_request(&rq))
		return;
	if (rq.op < 0 || rq.op > INT32_MAX || rq.flags < 0 || rq.flags > INT32_MAX)
		err = EINVAL;
	else if (plock_ctl(0, (int)rq.op, (int)rq.flags, &why) != 0)
		err = errno;
	memset(&st, 0, sizeof st);
	(void)plock_status(0, &st);
	if (err == EPERM || err == ENOMEM)
		need = why.need;	/* the engine's: what the op's classes add to VmLck */

	if (rq.fd >= 0) {
		n = snprintf(line, sizeof line, "plock-preload 1 op=%ld errno=%d state=%d "
			     "future=%d vmlck=%llu need=%llu memlock=%llu hard=%llu cap=%d\n",
			     rq.op, err, plock_state(), st.future,
			     (unsigned long long)st.vmlck, (unsigned long long)need,
			     (unsigned long long)st.memlock_cur,
			     (unsigned long long)st.memlock_max, st.cap_ipc_lock);
		if (n > 0 && (size_t)n < sizeof line)
			write_all((int)rq.fd, line, (size_t)n);
		close((int)rq.fd);
	} else if (err != 0) {
		n = snprintf(line, sizeof line, "%s: plock(%ld) failed: %s%s\n",
			     program_invocation_short_name, rq.op, strerror(err),
			     rq.allow ? "; running unlocked" : "; not started");
		if (n > 0 && (size_t)n < sizeof line)
			write_all(2, line, (size_t)n);
	}
	if (err != 0 && !rq.allow)
		_exit(PRELOAD_NOT_STARTED);
	errno = saved;
}
