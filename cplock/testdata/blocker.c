/*
 * A program for cplock's restart tests (restart_test.go): it blocks in one
 * system call, in its only thread, and says what that call returned.
 *
 *	blocker CALL DIR
 *
 * In DIR (an empty directory of the test's) it makes the FIFO DIR/wake and
 * whatever CALL needs, prints "ready NR" (NR: the number of the system call
 * it is about to make) and makes that call, through syscall(2), so that the
 * number is exactly that call's and not whatever the C library would
 * choose.  When the call returns it prints one line:
 *
 *	CALL ret=R errno=E elapsed=S DATA...
 *
 * R is the result (some are normalized so that two runs compare: "fd" for a
 * new descriptor, "child" for the helper's PID), E the errno name when R is
 * -1 (else 0), S the seconds the call took, and DATA what it got (bytes
 * read, a signal number, a child's status, poll's revents).  Then it reads
 * its standard input to its end, so that it is still there for a cplock
 * unlock after a call that came back early, and exits 0.
 *
 * What wakes the call (restart_test.go knows which):
 *	fifo	a write to DIR/wake: the call reads or polls it, or a helper
 *		child, forked before "ready", reads it and then does what
 *		wakes the call (sends, connects, accepts, FUTEX_WAKE, semop,
 *		msgsnd, exits, or exits releasing a lock it holds)
 *	signal	SIGUSR1, which has a handler (pause, sigsuspend) or is
 *		blocked and waited for (sigtimedwait)
 *	none	the call's own timeout, timeout_ms (the "-timeout" calls,
 *		nanosleep, clock_nanosleep, recv with SO_RCVTIMEO, semtimedop)
 *
 * A SysV semaphore set or message queue is named in DIR/ipc ("sem ID" or
 * "msg ID"), and removed once the call returned.
 *
 * Exit 2: bad usage; 3: the setup failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#define SIGSETSIZE	(_NSIG / 8)	/* the kernel's sigset_t, not glibc's */

enum { RET_RAW, RET_FD, RET_CHILD };

static int wakefd = -1;		/* DIR/wake, O_RDWR: reads block until a write */
static pid_t child = -1;	/* the helper, if any */
static int semid = -1, msqid = -1;
static int sockfd = -1, peerfd = -1;	/* the call's socket; the other end or listener */
static int lockfd = -1;
static int epfd = -1;
static int *word;		/* the futex, shared with the helper */
static volatile sig_atomic_t caught;
static char data[256];		/* what the call got, as text */
static int retkind = RET_RAW;
/* The timed calls' timeout: $BLOCKER_TIMEOUT_MS, else 1.5 s. */
static long timeout_ms = 1500;

static void fail(const char *what)
{
	fprintf(stderr, "blocker: %s: %s\n", what, strerror(errno));
	exit(3);
}

static void on_usr1(int sig)
{
	caught = sig;
}

static struct timespec timeout_ts(void)
{
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };

	return ts;
}

static void unix_addr(struct sockaddr_un *a)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, "sock");
}

/*
 * The helper child: it does prep (taking a lock, say), says so through a
 * pipe, waits for a byte on DIR/wake, does act and exits with status 7.
 * It dies with the blocker (PR_SET_PDEATHSIG), whatever happens to it.
 */
static void helper(void (*prep)(void), void (*act)(void))
{
	pid_t parent = getpid();
	int p[2];
	char c;

	if (pipe(p) != 0)
		fail("pipe");
	child = fork();
	if (child < 0)
		fail("fork");
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (prep != NULL)
			prep();
		if (write(p[1], "", 1) != 1)
			_exit(1);
		if (read(wakefd, &c, 1) != 1)
			_exit(1);
		if (act != NULL)
			act();
		_exit(7);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fprintf(stderr, "blocker: the helper failed to start\n");
		exit(3);
	}
	close(p[0]);
}

/* What helpers do. */
static void send_hello(void)
{
	if (write(peerfd, "hello", 5) != 5)
		_exit(1);
}

static void connect_sock(void)
{
	struct sockaddr_un a;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	unix_addr(&a);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		_exit(1);
}

static void accept_one(void)
{
	if (accept(peerfd, NULL, NULL) < 0)
		_exit(1);
}

static void futex_wake(void)
{
	__atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void sem_post(void)
{
	struct sembuf b = { 0, 1, 0 };

	if (semop(semid, &b, 1) != 0)
		_exit(1);
}

static struct {
	long mtype;
	char mtext[64];
} msg;

static void msg_send(void)
{
	msg.mtype = 1;
	strcpy(msg.mtext, "hello");
	if (msgsnd(msqid, &msg, 5, 0) != 0)
		_exit(1);
}

static void take_flock(void)
{
	int fd = open("lock", O_RDWR);

	if (fd < 0 || flock(fd, LOCK_EX) != 0)
		_exit(1);
}

static struct flock whole = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

static void take_fcntl(void)
{
	int fd = open("lock", O_RDWR);

	if (fd < 0 || fcntl(fd, F_SETLK, &whole) != 0)
		_exit(1);
}

/* Setups shared by several calls. */
static void socketpair_with_helper(int timeout)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		fail("socketpair");
	sockfd = sv[0];
	peerfd = sv[1];
	if (timeout) {
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

		if (setsockopt(sockfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
			fail("SO_RCVTIMEO");
	} else {
		helper(NULL, send_hello);
	}
}

static void listener(int backlog)
{
	struct sockaddr_un a;

	unix_addr(&a);
	peerfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (peerfd < 0 || bind(peerfd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(peerfd, backlog) != 0)
		fail("listen");
}

static void open_lockfile(void)
{
	lockfd = open("lock", O_RDWR | O_CREAT, 0600);
	if (lockfd < 0)
		fail("lock");
}

static void usr1_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		fail("sigaction");
}

static void block_usr1(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &s, NULL) != 0)
		fail("sigprocmask");
}

/*
 * SysV objects outlive their process: DIR/ipc names ours, for the test to
 * remove if it has to kill us before we do.
 */
static void note_ipc(const char *kind, int id)
{
	FILE *f = fopen("ipc", "w");

	if (f == NULL || fprintf(f, "%s %d\n", kind, id) < 0 || fclose(f) != 0)
		fail("ipc");
}

static void fd_data(const char *what, int got)
{
	snprintf(data, sizeof data, "%s=%d", what, got);
}

/*
 * Each call: its setup, then the call itself.  Each returns the call's
 * number in *nr before it makes it; block() is called twice: first with
 * go 0 to set up, then with go 1 to call.
 */
typedef long (*call_fn)(int go, long *nr);

#define CALL(n) static long call_##n(int go, long *nr)

CALL(read)
{
	static char buf[64];
	long r;

	*nr = SYS_read;
	if (!go)
		return 0;
	r = syscall(SYS_read, wakefd, buf, sizeof buf);
	if (r > 0)
		snprintf(data, sizeof data, "data=%.*s", (int)r, buf);
	return r;
}

static long do_recv(int go, long *nr, int timeout)
{
	static char buf[64];
	long r;

	*nr = SYS_recvfrom;
	if (!go) {
		socketpair_with_helper(timeout);
		return 0;
	}
	r = syscall(SYS_recvfrom, sockfd, buf, sizeof buf, 0, NULL, NULL);
	if (r > 0)
		snprintf(data, sizeof data, "data=%.*s", (int)r, buf);
	return r;
}

CALL(recv)
{
	return do_recv(go, nr, 0);
}

CALL(recv_rcvtimeo)
{
	return do_recv(go, nr, 1);
}

CALL(accept)
{
	*nr = SYS_accept;
	if (!go) {
		listener(1);
		helper(NULL, connect_sock);
		return 0;
	}
	retkind = RET_FD;
	return syscall(SYS_accept, peerfd, NULL, NULL);
}

/*
 * A listener with a backlog of 0 takes one connection; a second connect
 * waits until the helper accepts the first.
 */
CALL(connect)
{
	struct sockaddr_un a;
	int first;

	*nr = SYS_connect;
	unix_addr(&a);
	if (!go) {
		listener(0);
		first = socket(AF_UNIX, SOCK_STREAM, 0);
		if (first < 0 || connect(first, (struct sockaddr *)&a, sizeof a) != 0)
			fail("first connect");
		sockfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (sockfd < 0)
			fail("socket");
		helper(NULL, accept_one);
		return 0;
	}
	return syscall(SYS_connect, sockfd, (struct sockaddr *)&a, sizeof a);
}

#ifdef SYS_poll
static long do_poll(int go, long *nr, int timeout)
{
	struct pollfd p = { .fd = wakefd, .events = POLLIN };
	long r;

	*nr = SYS_poll;
	if (!go)
		return 0;
	r = syscall(SYS_poll, &p, 1, timeout ? (int)timeout_ms : -1);
	fd_data("revents", p.revents);
	return r;
}

CALL(poll)
{
	return do_poll(go, nr, 0);
}

CALL(poll_timeout)
{
	return do_poll(go, nr, 1);
}
#endif

/* ppoll, pselect6 and epoll_pwait get a signal mask: the empty set. */
static long do_ppoll(int go, long *nr, int timeout)
{
	struct pollfd p = { .fd = wakefd, .events = POLLIN };
	struct timespec ts = timeout_ts();
	sigset_t none;
	long r;

	*nr = SYS_ppoll;
	if (!go)
		return 0;
	sigemptyset(&none);
	r = syscall(SYS_ppoll, &p, 1, timeout ? &ts : NULL, &none, SIGSETSIZE);
	fd_data("revents", p.revents);
	return r;
}

CALL(ppoll)
{
	return do_ppoll(go, nr, 0);
}

CALL(ppoll_timeout)
{
	return do_ppoll(go, nr, 1);
}

#ifdef SYS_select
static long do_select(int go, long *nr, int timeout)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	fd_set r;
	long n;

	*nr = SYS_select;
	if (!go)
		return 0;
	FD_ZERO(&r);
	FD_SET(wakefd, &r);
	n = syscall(SYS_select, wakefd + 1, &r, NULL, NULL, timeout ? &tv : NULL);
	fd_data("readable", FD_ISSET(wakefd, &r) != 0);
	return n;
}

CALL(select)
{
	return do_select(go, nr, 0);
}

CALL(select_timeout)
{
	return do_select(go, nr, 1);
}
#endif

static long do_pselect6(int go, long *nr, int timeout)
{
	struct timespec ts = timeout_ts();
	sigset_t none;
	struct {
		const sigset_t *ss;
		size_t len;
	} mask = { &none, SIGSETSIZE };
	fd_set r;
	long n;

	*nr = SYS_pselect6;
	if (!go)
		return 0;
	sigemptyset(&none);
	FD_ZERO(&r);
	FD_SET(wakefd, &r);
	n = syscall(SYS_pselect6, wakefd + 1, &r, NULL, NULL, timeout ? &ts : NULL, &mask);
	fd_data("readable", FD_ISSET(wakefd, &r) != 0);
	return n;
}

CALL(pselect6)
{
	return do_pselect6(go, nr, 0);
}

CALL(pselect6_timeout)
{
	return do_pselect6(go, nr, 1);
}

static void epoll_setup(void)
{
	struct epoll_event ev = { .events = EPOLLIN };

	epfd = epoll_create1(0);
	if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) != 0)
		fail("epoll");
}

#ifdef SYS_epoll_wait
static long do_epoll_wait(int go, long *nr, int timeout)
{
	struct epoll_event ev = { 0 };
	long r;

	*nr = SYS_epoll_wait;
	if (!go) {
		epoll_setup();
		return 0;
	}
	r = syscall(SYS_epoll_wait, epfd, &ev, 1, timeout ? (int)timeout_ms : -1);
	fd_data("events", (int)ev.events);
	return r;
}

CALL(epoll_wait)
{
	return do_epoll_wait(go, nr, 0);
}

CALL(epoll_wait_timeout)
{
	return do_epoll_wait(go, nr, 1);
}
#endif

CALL(epoll_pwait)
{
	struct epoll_event ev = { 0 };
	sigset_t none;
	long r;

	*nr = SYS_epoll_pwait;
	if (!go) {
		epoll_setup();
		return 0;
	}
	sigemptyset(&none);
	r = syscall(SYS_epoll_pwait, epfd, &ev, 1, -1, &none, SIGSETSIZE);
	fd_data("events", (int)ev.events);
	return r;
}

static long do_futex(int go, long *nr, int timeout)
{
	struct timespec ts = timeout_ts();

	*nr = SYS_futex;
	if (!go) {
		/* Shared, not private: the helper is another process. */
		word = mmap(NULL, sizeof *word, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (word == MAP_FAILED)
			fail("mmap");
		*word = 0;
		if (!timeout)
			helper(NULL, futex_wake);
		return 0;
	}
	return syscall(SYS_futex, word, FUTEX_WAIT, 0, timeout ? &ts : NULL, NULL, 0);
}

CALL(futex)
{
	return do_futex(go, nr, 0);
}

CALL(futex_timeout)
{
	return do_futex(go, nr, 1);
}

CALL(nanosleep)
{
	struct timespec ts = timeout_ts(), rem = { 0, 0 };

	*nr = SYS_nanosleep;
	if (!go)
		return 0;
	return syscall(SYS_nanosleep, &ts, &rem);
}

CALL(clock_nanosleep)
{
	struct timespec ts = timeout_ts(), rem = { 0, 0 };

	*nr = SYS_clock_nanosleep;
	if (!go)
		return 0;
	return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, &rem);
}

CALL(clock_nanosleep_abs)
{
	struct timespec ts;

	*nr = SYS_clock_nanosleep;
	if (!go)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

CALL(sigsuspend)
{
	sigset_t none;
	long r;

	*nr = SYS_rt_sigsuspend;
	if (!go) {
		usr1_handler();
		block_usr1();
		return 0;
	}
	sigemptyset(&none);
	r = syscall(SYS_rt_sigsuspend, &none, SIGSETSIZE);
	fd_data("caught", caught);
	return r;
}

#ifdef SYS_pause
CALL(pause)
{
	long r;

	*nr = SYS_pause;
	if (!go) {
		usr1_handler();
		return 0;
	}
	r = syscall(SYS_pause);
	fd_data("caught", caught);
	return r;
}
#endif

static long do_sigtimedwait(int go, long *nr, int timeout)
{
	struct timespec ts = timeout_ts();
	siginfo_t info;
	sigset_t set;
	long r;

	*nr = SYS_rt_sigtimedwait;
	if (!go) {
		block_usr1();
		return 0;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	memset(&info, 0, sizeof info);
	r = syscall(SYS_rt_sigtimedwait, &set, &info, timeout ? &ts : NULL, SIGSETSIZE);
	fd_data("si_signo", info.si_signo);
	return r;
}

CALL(sigtimedwait)
{
	return do_sigtimedwait(go, nr, 0);
}

CALL(sigtimedwait_timeout)
{
	return do_sigtimedwait(go, nr, 1);
}

static long do_semop(int go, long *nr, int timeout)
{
	struct sembuf b = { 0, -1, 0 };
	struct timespec ts = timeout_ts();

	*nr = timeout ? SYS_semtimedop : SYS_semop;
	if (!go) {
		semid = semget(IPC_PRIVATE, 1, 0600);
		if (semid < 0)
			fail("semget");
		note_ipc("sem", semid);
		if (!timeout)
			helper(NULL, sem_post);
		return 0;
	}
	if (timeout)
		return syscall(SYS_semtimedop, semid, &b, 1, &ts);
	return syscall(SYS_semop, semid, &b, 1);
}

CALL(semop)
{
	return do_semop(go, nr, 0);
}

CALL(semtimedop)
{
	return do_semop(go, nr, 1);
}

CALL(msgrcv)
{
	static struct {
		long mtype;
		char mtext[64];
	} m;
	long r;

	*nr = SYS_msgrcv;
	if (!go) {
		msqid = msgget(IPC_PRIVATE, 0600);
		if (msqid < 0)
			fail("msgget");
		note_ipc("msg", msqid);
		helper(NULL, msg_send);
		return 0;
	}
	r = syscall(SYS_msgrcv, msqid, &m, sizeof m.mtext, 0, 0);
	if (r >= 0)
		snprintf(data, sizeof data, "mtype=%ld data=%.*s", m.mtype, (int)r, m.mtext);
	return r;
}

CALL(waitid)
{
	siginfo_t info;
	long r;

	*nr = SYS_waitid;
	if (!go) {
		helper(NULL, NULL);
		return 0;
	}
	memset(&info, 0, sizeof info);
	r = syscall(SYS_waitid, P_PID, child, &info, WEXITED, NULL);
	if (r == 0) {
		snprintf(data, sizeof data, "si_code=%d si_status=%d child=%d", info.si_code,
			 info.si_status, info.si_pid == child);
		child = -1;
	}
	return r;
}

CALL(wait4)
{
	int status = 0;
	long r;

	*nr = SYS_wait4;
	if (!go) {
		helper(NULL, NULL);
		return 0;
	}
	r = syscall(SYS_wait4, child, &status, 0, NULL);
	if (r == child) {
		snprintf(data, sizeof data, "exited=%d status=%d", WIFEXITED(status),
			 WEXITSTATUS(status));
		child = -1;
		retkind = RET_CHILD;
	}
	return r;
}

CALL(flock)
{
	*nr = SYS_flock;
	if (!go) {
		open_lockfile();
		helper(take_flock, NULL);
		return 0;
	}
	return syscall(SYS_flock, lockfd, LOCK_EX);
}

CALL(fcntl_setlkw)
{
	struct flock fl = whole;

	*nr = SYS_fcntl;
	if (!go) {
		open_lockfile();
		helper(take_fcntl, NULL);
		return 0;
	}
	return syscall(SYS_fcntl, lockfd, F_SETLKW, &fl);
}

static const struct {
	const char *name;
	call_fn fn;
} calls[] = {
	{ "read", call_read },
	{ "recv", call_recv },
	{ "recv-rcvtimeo", call_recv_rcvtimeo },
	{ "accept", call_accept },
	{ "connect", call_connect },
#ifdef SYS_poll
	{ "poll", call_poll },
	{ "poll-timeout", call_poll_timeout },
#endif
	{ "ppoll", call_ppoll },
	{ "ppoll-timeout", call_ppoll_timeout },
#ifdef SYS_select
	{ "select", call_select },
	{ "select-timeout", call_select_timeout },
#endif
	{ "pselect6", call_pselect6 },
	{ "pselect6-timeout", call_pselect6_timeout },
#ifdef SYS_epoll_wait
	{ "epoll_wait", call_epoll_wait },
	{ "epoll_wait-timeout", call_epoll_wait_timeout },
#endif
	{ "epoll_pwait", call_epoll_pwait },
	{ "futex", call_futex },
	{ "futex-timeout", call_futex_timeout },
	{ "nanosleep", call_nanosleep },
	{ "clock_nanosleep", call_clock_nanosleep },
	{ "clock_nanosleep-abs", call_clock_nanosleep_abs },
	{ "sigsuspend", call_sigsuspend },
#ifdef SYS_pause
	{ "pause", call_pause },
#endif
	{ "sigtimedwait", call_sigtimedwait },
	{ "sigtimedwait-timeout", call_sigtimedwait_timeout },
	{ "semop", call_semop },
	{ "semtimedop", call_semtimedop },
	{ "msgrcv", call_msgrcv },
	{ "waitid", call_waitid },
	{ "wait4", call_wait4 },
	{ "flock", call_flock },
	{ "fcntl-setlkw", call_fcntl_setlkw },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *name = argc == 3 ? argv[1] : "";
	call_fn fn = NULL;
	char ret[32], ename[32], c;
	const char *en;
	double t0, t1;
	long nr = -1, r;
	size_t i;
	int err;

	for (i = 0; i < sizeof calls / sizeof calls[0]; i++)
		if (strcmp(calls[i].name, name) == 0)
			fn = calls[i].fn;
	if (fn == NULL) {
		fprintf(stderr, "usage: blocker CALL DIR; CALL is one of:");
		for (i = 0; i < sizeof calls / sizeof calls[0]; i++)
			fprintf(stderr, " %s", calls[i].name);
		fprintf(stderr, "\n");
		return 2;
	}
	if (getenv("BLOCKER_TIMEOUT_MS") != NULL)
		timeout_ms = strtol(getenv("BLOCKER_TIMEOUT_MS"), NULL, 10);
	if (chdir(argv[2]) != 0)
		fail(argv[2]);
	if (mkfifo("wake", 0600) != 0)
		fail("mkfifo");
	wakefd = open("wake", O_RDWR);
	if (wakefd < 0)
		fail("wake");
	fn(0, &nr);
	printf("ready %ld\n", nr);
	fflush(stdout);

	t0 = now();
	r = fn(1, &nr);
	err = errno;
	t1 = now();

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (semid >= 0)
		semctl(semid, 0, IPC_RMID);
	if (msqid >= 0)
		msgctl(msqid, IPC_RMID, NULL);
	if (r >= 0 && retkind == RET_FD)
		strcpy(ret, "fd");
	else if (r >= 0 && retkind == RET_CHILD)
		strcpy(ret, "child");
	else
		snprintf(ret, sizeof ret, "%ld", r);
	/* A kernel-internal code (ERESTARTSYS is 512) has no name: its number. */
	en = strerrorname_np(err);
	if (en == NULL)
		snprintf(ename, sizeof ename, "%d", err);
	printf("%s ret=%s errno=%s elapsed=%.3f%s%s\n", name, ret,
	       r != -1 ? "0" : en != NULL ? en : ename, t1 - t0, data[0] ? " " : "", data);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
