/*
 * The one parser of /proc/PID/maps and /proc/PID/smaps.
 *
 * maps has a line per mapping:
 *	start-end perms offset major:minor inode [name]
 * smaps has the same line followed by "Key: value" lines; we keep Rss and
 * the "lo" (VM_LOCKED) flag of VmFlags.  The kernel escapes a newline in a
 * file name as \012, so a line is a mapping; a name may hold spaces.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "internal.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses a number in base 16 or 10 at *s, at most 16 hex or 20 decimal digits. */
static int number(const char **s, const char *end, int base, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int d, ndig = 0;

	while (p < end && (d = hexval((unsigned char)*p)) >= 0 && d < base) {
		if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return EIO;
		x = x * (uint64_t)base + (uint64_t)d;
		p++;
		ndig++;
	}
	if (ndig == 0)
		return EIO;
	*s = p;
	*v = x;
	return 0;
}

static int expect(const char **s, const char *end, char c)
{
	if (*s >= end || **s != c)
		return EIO;
	(*s)++;
	return 0;
}

int pl_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > (size_t)-1 / 2 / size)
			return ENOMEM;
		n *= 2;
	}
	q = realloc(*p, n * size);
	if (q == NULL)
		return ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* What a name says, from its first bytes (head) and its length n. */
static int name_kind(const char *s, size_t n)
{
	if (n == 0 || (n > 6 && memcmp(s, "[anon:", 6) == 0))
		return PL_ANON;
	if (s[0] != '[')
		return PL_FILE;
	if (n == 6 && memcmp(s, "[heap]", 6) == 0)
		return PL_HEAP;
	/* "[stack:TID]" is how kernels before 4.5 named thread stacks. */
	if ((n == 7 && memcmp(s, "[stack]", 7) == 0) ||
	    (n > 7 && memcmp(s, "[stack:", 7) == 0))
		return PL_STACK;
	return PL_SPECIAL;
}

/* The parser's modes: how the current line goes on past PL_LINE_MAX. */
enum {
	PL_WHOLE,	/* the line is in p->line */
	PL_NAME,	/* a header whose name goes on: streamed into the names */
	PL_CUT		/* any other line: the rest is dropped */
};

/* Appends n bytes of the current name. */
static int name_add(struct pl_parser *p, const char *s, size_t n)
{
	struct pl_table *t = p->t;
	size_t head = p->name_len < PL_NAME_HEAD ? PL_NAME_HEAD - p->name_len : 0;
	int err;

	memcpy(p->name_head + p->name_len, s, head < n ? head : n);
	p->name_len += n;
	if (!(t->flags & PL_PATHS))
		return 0;
	if ((err = pl_grow((void **)&t->strs, &t->scap, t->slen + n + 1, 1)) != 0)
		return err;
	memcpy(t->strs + t->slen, s, n);
	t->slen += n;
	return 0;
}

/* The name is whole: its kind, and its NUL. */
static void name_end(struct pl_parser *p)
{
	struct pl_table *t = p->t;
	struct pl_map *m = &t->map[t->n - 1];

	m->kind = (unsigned char)name_kind(p->name_head, p->name_len);
	if (m->kind == PL_FILE && m->inode == 0 && m->major == 0 && m->minor == 0)
		m->kind = PL_SPECIAL;	/* a name with no file behind it */
	if (t->flags & PL_PATHS)
		t->strs[t->slen++] = '\0';	/* room made by name_add() */
}

/*
 * A header line, s to end: the mapping's fields and the start of its name,
 * which goes on in the next input if whole is 0.
 */
static int header(struct pl_parser *p, const char *s, const char *end, int whole)
{
	struct pl_table *t = p->t;
	struct pl_map m;
	uint64_t v, dev;
	int err;

	memset(&m, 0, sizeof m);
	if ((err = number(&s, end, 16, &v)) != 0)
		return err;
	m.start = (uintptr_t)v;
	if ((err = expect(&s, end, '-')) != 0 || (err = number(&s, end, 16, &v)) != 0)
		return EIO;
	m.end = (uintptr_t)v;
	if (m.end < m.start || expect(&s, end, ' ') != 0 || end - s < 5)
		return EIO;
	if ((s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
	    (s[2] != 'x' && s[2] != '-') || (s[3] != 's' && s[3] != 'p'))
		return EIO;
	m.prot = (s[0] == 'r' ? PLOCK_PROT_READ : 0) | (s[1] == 'w' ? PLOCK_PROT_WRITE : 0) |
		 (s[2] == 'x' ? PLOCK_PROT_EXEC : 0) | (s[3] == 's' ? PLOCK_PROT_SHARED : 0);
	s += 4;
	if (expect(&s, end, ' ') || number(&s, end, 16, &m.offset) || expect(&s, end, ' ') ||
	    number(&s, end, 16, &dev) || expect(&s, end, ':'))
		return EIO;
	m.major = (unsigned int)dev;
	if (number(&s, end, 16, &dev) || expect(&s, end, ' ') || number(&s, end, 10, &m.inode))
		return EIO;
	m.minor = (unsigned int)dev;
	/* The name starts after the padding; it may itself hold spaces. */
	while (s < end && *s == ' ')
		s++;
	m.path = t->slen;
	/*
	 * maps is sorted and its entries do not overlap, but each read()
	 * resumes at the first mapping that ends after the last one reported:
	 * if another thread merged or grew that mapping meanwhile, it comes
	 * again, starting before the last end.  The newer entry wins.
	 */
	while (t->n > 0 && m.start < t->map[t->n - 1].end)
		t->n--;
	if ((err = pl_grow((void **)&t->map, &t->cap, t->n + 1, sizeof m)) != 0)
		return err;
	t->map[t->n++] = m;
	p->in_entry = 1;
	p->name_len = 0;
	if ((err = name_add(p, s, (size_t)(end - s))) != 0)
		return err;
	if (whole)
		name_end(p);
	return 0;
}

/* Whether a VmFlags line has the two-letter flag f. */
static int has_flag(const char *s, const char *end, const char *f)
{
	for (; s + 2 <= end; s++)
		if (s[-1] == ' ' && s[0] == f[0] && s[1] == f[1] && (s + 2 == end || s[2] == ' '))
			return 1;
	return 0;
}

/*
 * Whether smaps shows VM_LOCKONFAULT as "lf": Linux 6.2 and later (commit
 * 8614d6c5eda0).  Before, the flag is there but unnamed ("??"), and a range
 * locked on fault reads as locked eagerly.  Asked of uname(2) once; threads
 * that race compute the same answer.
 */
static int shows_lf(void)
{
	static int known;	/* 0: not asked yet, 1: no, 2: yes */
	struct utsname u;
	int v = __atomic_load_n(&known, __ATOMIC_RELAXED), major = 0, minor = 0;

	if (v == 0) {
		v = 2;
		if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
		    (major < 6 || (major == 6 && minor < 2)))
			v = 1;
		__atomic_store_n(&known, v, __ATOMIC_RELAXED);
	}
	return v == 2;
}

/* "Key:   value kB" and "VmFlags: rd wr mr mw me lo ..." of smaps. */
static int field(struct pl_parser *p, const char *s, const char *end)
{
	struct pl_map *m;
	uint64_t v;

	if (!p->in_entry)
		return EIO;
	m = &p->t->map[p->t->n - 1];
	if (end - s > 4 && memcmp(s, "Rss:", 4) == 0) {
		s += 4;
		while (s < end && *s == ' ')
			s++;
		if (number(&s, end, 10, &v) || v > UINT64_MAX / 1024)
			return EIO;
		m->rss = v * 1024;
	} else if (end - s >= 8 && memcmp(s, "VmFlags:", 8) == 0) {
		s += 8;
		m->lo = (unsigned char)has_flag(s, end, "lo");
		m->lf = (unsigned char)has_flag(s, end, "lf");
		/*
		 * Without "lf": a range mlock() locked eagerly is resident
		 * whole (mlock faults it in, and locked pages stay), so one
		 * locked but not all resident is locked on fault.  (Its Rss
		 * line comes first.)  One locked on fault and since touched
		 * whole reads as eager, which it then is in all but name.
		 */
		if (m->lo && !shows_lf())
			m->lf = m->rss < (uint64_t)(m->end - m->start);
		/* mlock() succeeds on these and locks nothing: never locked. */
		m->nolock = (unsigned char)(has_flag(s, end, "dp") || has_flag(s, end, "io") ||
					    has_flag(s, end, "pf"));
	}
	return 0;
}

/* Addresses are lower-case hex; smaps keys start with a capital. */
static int is_header(const char *s, size_t n)
{
	return n > 0 && hexval((unsigned char)s[0]) >= 0 && !(s[0] >= 'A' && s[0] <= 'F');
}

/* A whole line (or the first PL_LINE_MAX bytes of one that is not a header). */
static int line(struct pl_parser *p, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (is_header(s, n))
		return header(p, s, s + n, 1);
	if (!(p->t->flags & PL_SMAPS))
		return EIO;
	return field(p, s, s + n);
}

int pl_parser_init(struct pl_parser *p, struct pl_table *t, int flags)
{
	p->t = t;
	p->len = 0;
	p->in_entry = 0;
	p->mode = PL_WHOLE;
	p->name_len = 0;
	t->flags = flags;
	/*
	 * The buffer stays with the table, so that reading it again allocates
	 * nothing: under MCL_FUTURE our own heap growth counts against
	 * RLIMIT_MEMLOCK.
	 */
	if (t->line == NULL && (t->line = malloc(PL_LINE_MAX)) == NULL)
		return ENOMEM;
	p->line = t->line;
	return 0;
}

void pl_parser_free(struct pl_parser *p)
{
	p->line = NULL;
}

/* The end of the current line. */
static int end_line(struct pl_parser *p)
{
	int err = 0;

	switch (p->mode) {
	case PL_NAME:
		name_end(p);
		break;
	default:
		err = line(p, p->line, p->len);
		break;
	}
	p->len = 0;
	p->mode = PL_WHOLE;
	return err;
}

int pl_parser_feed(struct pl_parser *p, const char *buf, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t k = nl ? (size_t)(nl - buf) : n, take;
		int err;

		switch (p->mode) {
		case PL_NAME:
			if ((err = name_add(p, buf, k)) != 0)
				return err;
			break;
		case PL_CUT:
			break;
		default:
			take = k < PL_LINE_MAX - p->len ? k : PL_LINE_MAX - p->len;
			memcpy(p->line + p->len, buf, take);
			p->len += take;
			if (take == k)
				break;
			/*
			 * Longer than the buffer.  A header's fields are at its
			 * start, and what goes on is its name (a path longer
			 * than any buffer): stream it.  Anything else is cut.
			 */
			if (!is_header(p->line, p->len)) {
				p->mode = PL_CUT;
				break;
			}
			if ((err = header(p, p->line, p->line + p->len, 0)) != 0 ||
			    (err = name_add(p, buf + take, k - take)) != 0)
				return err;
			p->mode = PL_NAME;
			break;
		}
		if (nl == NULL)
			break;
		if ((err = end_line(p)) != 0)
			return err;
		buf += k + 1;
		n -= k + 1;
	}
	return 0;
}

int pl_parser_end(struct pl_parser *p)
{
	if (p->len == 0 && p->mode == PL_WHOLE)
		return 0;
	return end_line(p);
}

int pl_table_read(struct pl_table *t, pid_t pid, int flags)
{
	struct pl_parser p;
	char buf[16384];
	ssize_t r;
	int fd, err;

	t->n = 0;
	t->slen = 0;
	if ((err = pl_parser_init(&p, t, flags)) != 0)
		return err;
	if ((err = pl_proc_open(pid, (flags & PL_SMAPS) ? "smaps" : "maps", O_RDONLY, &fd)) != 0) {
		pl_parser_free(&p);
		return err;
	}
	/*
	 * The kernel fills each read with whole lines and resumes the next
	 * read at the address after the last mapping it reported, so mappings
	 * changed by other threads meanwhile are seen at most once, in order.
	 */
	for (;;) {
		r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			break;
		}
		if (r == 0) {
			err = pl_parser_end(&p);
			break;
		}
		if ((err = pl_parser_feed(&p, buf, (size_t)r)) != 0)
			break;
	}
	close(fd);
	pl_parser_free(&p);
	return err;
}

/*
 * Makes room for extra more mappings than the table holds, so that reading
 * it again allocates nothing unless the process mapped that many meanwhile.
 */
int pl_table_reserve(struct pl_table *t, size_t extra)
{
	int err = pl_grow((void **)&t->map, &t->cap, t->n + extra, sizeof *t->map);

	return err ? err : pl_grow((void **)&t->ids, &t->idcap, t->n + extra, sizeof *t->ids);
}

void pl_table_free(struct pl_table *t)
{
	free(t->map);
	free(t->strs);
	free(t->line);
	free(t->ids);
	t->ids = NULL;
	t->idcap = 0;
	t->map = NULL;
	t->strs = NULL;
	t->line = NULL;
	t->n = t->cap = t->slen = t->scap = 0;
}

const char *pl_map_path(const struct pl_table *t, const struct pl_map *m)
{
	return (t->flags & PL_PATHS) ? t->strs + m->path : "";
}
