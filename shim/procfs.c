/*
 * Facts about a process other than its mappings: where its program headers
 * are, VmLck, RLIMIT_MEMLOCK and CAP_IPC_LOCK.  pid 0 is the caller.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

void pl_proc_path(pid_t pid, pid_t tid, const char *file, char path[64])
{
	if (tid != 0)
		snprintf(path, 64, "/proc/%d/task/%d/%s", (int)pid, (int)tid, file);
	else
		snprintf(path, 64, "/proc/%d/%s", (int)pid, file);
}

pid_t pl_proc_pid(pid_t pid)
{
	return pid == getpid() ? 0 : pid;
}

int pl_proc_stat(pid_t pid, pid_t tid, char *buf, size_t size, const char **rest)
{
	char path[64];
	const char *s;
	int err;

	pl_proc_path(pid, tid, "stat", path);
	if ((err = pl_read_file(path, buf, size, NULL)) != 0)
		return err;
	/* The command name, in parentheses, may hold anything: the last ")" ends it. */
	if ((s = strrchr(buf, ')')) == NULL || s[1] != ' ')
		return EIO;
	*rest = s + 2;
	return 0;
}

/* The state letter of thread tid of pid (field 3 of its stat), or 0 if gone. */
static char task_state(pid_t pid, pid_t tid)
{
	char buf[512];
	const char *s;

	return pl_proc_stat(pid, tid, buf, sizeof buf, &s) == 0 ? s[0] : 0;
}

int pl_proc_live(char state)
{
	return state != 0 && state != 'Z' && state != 'X';
}

int pl_tasks_open(struct pl_tasks *it, pid_t pid)
{
	char path[64];

	pl_proc_path(pid, 0, "task", path);
	it->pid = pid;
	if ((it->dir = opendir(path)) == NULL)
		return pl_proc_errno(pid, errno);
	return 0;
}

pid_t pl_tasks_next(struct pl_tasks *it, char *state)
{
	struct dirent *d;
	long tid;

	while ((d = readdir(it->dir)) != NULL) {
		/* ".", "..": not a thread. */
		if ((tid = strtol(d->d_name, NULL, 10)) <= 0)
			continue;
		if (state != NULL)
			*state = task_state(it->pid, (pid_t)tid);
		return (pid_t)tid;
	}
	return 0;
}

void pl_tasks_close(struct pl_tasks *it)
{
	closedir(it->dir);
	it->dir = NULL;
}

/*
 * The path of /proc/PID/file (pid 0: the caller), in path[64]; or ESRCH.
 * A process whose main thread has exited (pthread_exit) while others run
 * on keeps that thread as a zombie, with no memory: its maps, auxv, mem
 * and memory lines of status are empty.  Then the files of a live thread,
 * /proc/PID/task/TID/file, are the process's.
 */
static int proc_path(pid_t pid, const char *file, char path[64])
{
	struct pl_tasks it;
	pid_t tid;
	char c;

	if (pid < 0)
		return ESRCH;
	if (pid == 0) {
		snprintf(path, 64, "/proc/self/%s", file);
		return 0;
	}
	pl_proc_path(pid, 0, file, path);
	if (task_state(pid, pid) != 'Z' || pl_tasks_open(&it, pid) != 0)
		return 0;
	while ((tid = pl_tasks_next(&it, &c)) != 0) {
		if (tid != pid && pl_proc_live(c)) {
			pl_proc_path(pid, tid, file, path);
			break;
		}
	}
	pl_tasks_close(&it);
	return 0;
}

int pl_proc_open(pid_t pid, const char *file, int mode, int *fd)
{
	char path[64];

	if (proc_path(pid, file, path) != 0)
		return ESRCH;
	*fd = open(path, mode | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	return pl_proc_errno(pid, errno);
}

/*
 * The errno of a /proc file of pid that could not be opened or read.  For
 * the caller, as it is: ENOENT or EACCES means no /proc (unmounted, or a
 * sandbox hides it), never "no such process".  For another process, ENOENT
 * is ESRCH while /proc itself is there.
 */
int pl_proc_errno(pid_t pid, int err)
{
	if (err != ENOENT || pid == 0)
		return err;
	return access("/proc/self/maps", F_OK) == 0 ? ESRCH : ENOENT;
}

/*
 * Reads the small file path whole into buf, NUL-terminated; *len (if not
 * NULL) is its length.  Returns 0 or the errno of the open or the read.
 */
int pl_read_file(const char *path, char *buf, size_t size, size_t *len)
{
	size_t n = 0;
	ssize_t r;
	int fd, err = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno;
	while (n < size - 1) {
		r = read(fd, buf + n, size - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return err;
}

/* Reads /proc/PID/file (pid 0: the caller) with pl_read_file(). */
static int slurp(pid_t pid, const char *file, char *buf, size_t size, size_t *len)
{
	char path[64];

	if (proc_path(pid, file, path) != 0)
		return ESRCH;
	return pl_proc_errno(pid, pl_read_file(path, buf, size, len));
}

/*
 * The value of type in the auxiliary vector of process pid (pid 0: the
 * caller's, from getauxval, which the loader updates when a program is
 * started as "ld.so ./prog"); 0 if it has none (a kernel thread, or a
 * process that has exited).
 */
int pl_proc_auxv(pid_t pid, unsigned long type, uintptr_t *value)
{
	unsigned long aux[2 * 64];
	size_t len, i;
	int err;

	*value = 0;
	if (pid == 0) {
		*value = (uintptr_t)getauxval(type);
		return 0;
	}
	if ((err = slurp(pid, "auxv", (char *)aux, sizeof aux, &len)) != 0)
		return err;
	for (i = 0; i + 1 < len / sizeof aux[0]; i += 2)
		if (aux[i] == type) {
			*value = (uintptr_t)aux[i + 1];
			break;
		}
	return 0;
}

int pl_proc_phdr(pid_t pid, uintptr_t *phdr)
{
	return pl_proc_auxv(pid, AT_PHDR, phdr);
}

int pl_proc_vmlck(pid_t pid, uint64_t *bytes)
{
	char buf[8192];
	unsigned long long kb = 0;
	const char *s;
	size_t len;
	int err;

	if ((err = slurp(pid, "status", buf, sizeof buf, &len)) != 0)
		return err;
	s = strstr(buf, "\nVmLck:");
	/* Kernel threads and zombies have no memory and no VmLck line. */
	if (s != NULL && sscanf(s + 7, "%llu", &kb) != 1)
		return EIO;
	*bytes = (uint64_t)kb * 1024;
	return 0;
}

static uint64_t limit(rlim_t v)
{
	return v == RLIM_INFINITY ? PLOCK_UNLIMITED : (uint64_t)v;
}

int pl_proc_memlock(pid_t pid, uint64_t *cur, uint64_t *max)
{
	struct rlimit rl;
	char buf[4096], soft[32], hard[32];
	const char *s;
	size_t len;
	int err;

	if (prlimit(pid, RLIMIT_MEMLOCK, NULL, &rl) == 0) {
		*cur = limit(rl.rlim_cur);
		*max = limit(rl.rlim_max);
		return 0;
	}
	if (errno != EPERM)
		return errno;
	/*
	 * prlimit() on another user's process needs CAP_SYS_RESOURCE;
	 * /proc/PID/limits is readable by everyone.
	 */
	if ((err = slurp(pid, "limits", buf, sizeof buf, &len)) != 0)
		return err;
	s = strstr(buf, "\nMax locked memory");
	if (s == NULL || sscanf(s + 18, "%31s %31s", soft, hard) != 2)
		return EIO;
	*cur = strcmp(soft, "unlimited") == 0 ? PLOCK_UNLIMITED : strtoull(soft, NULL, 10);
	*max = strcmp(hard, "unlimited") == 0 ? PLOCK_UNLIMITED : strtoull(hard, NULL, 10);
	return 0;
}

int pl_proc_cap(pid_t pid, int cap, int *has)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = pid;
	/* capget() reads any process's capabilities; no privilege needed. */
	if (syscall(SYS_capget, &h, d) != 0)
		return errno;
	*has = (d[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)) != 0;
	return 0;
}

int pl_proc_cap_ipc_lock(pid_t pid, int *has)
{
	return pl_proc_cap(pid, CAP_IPC_LOCK, has);
}

int pl_proc_status(pid_t pid, pid_t tid, const char *key, char *out, size_t n)
{
	/* Room for the fields after Groups:, which can be long. */
	char path[64], buf[16384], pat[32];
	const char *s, *e;
	size_t len;
	int err;

	if (tid != 0) {
		pl_proc_path(pid, tid, "status", path);
		err = pl_proc_errno(pid, pl_read_file(path, buf, sizeof buf, NULL));
	} else {
		err = slurp(pid, "status", buf, sizeof buf, NULL);
	}
	if (err != 0)
		return err;
	snprintf(pat, sizeof pat, "\n%s:", key);
	if ((s = strstr(buf, pat)) == NULL)
		return ENOENT;
	s += strlen(pat);
	while (*s == '\t' || *s == ' ')
		s++;
	e = strchr(s, '\n');
	len = e != NULL ? (size_t)(e - s) : strlen(s);
	if (len >= n)
		len = n - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

long pl_proc_status_long(pid_t pid, pid_t tid, const char *key, long dflt)
{
	char v[64];

	return pl_proc_status(pid, tid, key, v, sizeof v) == 0 ? strtol(v, NULL, 10) : dflt;
}

int pl_proc_exiting(pid_t pid)
{
	struct pl_tasks it;
	int live = 0;
	char c;

	if (pl_tasks_open(&it, pid) != 0)
		return 1;
	while (!live && pl_tasks_next(&it, &c) != 0)
		live = pl_proc_live(c);
	pl_tasks_close(&it);
	return !live;
}

char pl_proc_state(pid_t pid, pid_t tid)
{
	return task_state(pid, tid != 0 ? tid : pid);
}
