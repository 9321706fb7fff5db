/*
 * The one classification of mappings into segments (docs/CONTRACT.md,
 * "Segments").  plock() locks by it, plock_segments() reports it, and the Go
 * package and the cplock command see it through plock_segments().
 *
 *	text		private, not writable, of the main program
 *	data		private, writable, of the main program; [heap];
 *			private anonymous memory, writable or PROT_NONE (a
 *			reservation opened later by mprotect, which
 *			MCL_FUTURE does not reach: locked itself, on fault)
 *	stack		[stack]
 *	shlib text/data	private mappings of any other file that the process
 *			maps executable (shared objects, the dynamic loader)
 *	other		everything else: shared mappings, other files,
 *			file-backed PROT_NONE (gaps between a shared
 *			object's segments), [vdso], [vvar], [vsyscall], and
 *			mappings the kernel never locks (MAP_DROPPABLE,
 *			device memory: VmFlags dp, io, pf)
 *
 * The last are known from smaps only.  When plock() reads maps (nothing is
 * locked yet), they look like data and it calls mlock2() on them, which
 * succeeds and locks nothing: the kernel skips them.
 * A file is known by its device and inode, not by its name, which may be
 * "(deleted)" or hold anything.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <sys/auxv.h>

#include "internal.h"

static int id_cmp(const void *a, const void *b)
{
	const struct pl_file_id *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->major != y->major)
		return x->major < y->major ? -1 : 1;
	if (x->minor != y->minor)
		return x->minor < y->minor ? -1 : 1;
	return 0;
}

static struct pl_file_id id_of(const struct pl_map *m)
{
	struct pl_file_id id;

	id.inode = m->inode;
	id.major = m->major;
	id.minor = m->minor;
	return id;
}

static int classify(const struct pl_map *m, const struct pl_file_id *exe,
		    const struct pl_file_id *shlibs, size_t nshlibs)
{
	int writable = (m->prot & PLOCK_PROT_WRITE) != 0;
	int none = !(m->prot & (PLOCK_PROT_READ | PLOCK_PROT_WRITE | PLOCK_PROT_EXEC));
	struct pl_file_id id;

	if ((m->prot & PLOCK_PROT_SHARED) || m->nolock)
		return PLOCK_SEG_OTHER;
	if (none)
		return m->kind == PL_ANON ? PLOCK_SEG_DATA : PLOCK_SEG_OTHER;
	switch (m->kind) {
	case PL_HEAP:
		return PLOCK_SEG_DATA;
	case PL_STACK:
		return PLOCK_SEG_STACK;
	case PL_ANON:
		return writable ? PLOCK_SEG_DATA : PLOCK_SEG_OTHER;
	case PL_FILE:
		id = id_of(m);
		if (exe != NULL && id_cmp(&id, exe) == 0)
			return writable ? PLOCK_SEG_DATA : PLOCK_SEG_TEXT;
		if (bsearch(&id, shlibs, nshlibs, sizeof *shlibs, id_cmp) != NULL)
			return writable ? PLOCK_SEG_SHLIB_DATA : PLOCK_SEG_SHLIB_TEXT;
		return PLOCK_SEG_OTHER;
	default:
		return PLOCK_SEG_OTHER;
	}
}

int pl_classify(struct pl_table *t, uintptr_t phdr)
{
	struct pl_file_id exe, *shlibs;
	int have_exe = 0, err;
	size_t i, n = 0;

	/*
	 * The main program is the file mapped at AT_PHDR.  /proc/self/exe
	 * would name the dynamic loader when the program was started as
	 * "ld.so ./prog".
	 */
	for (i = 0; i < t->n; i++) {
		const struct pl_map *m = &t->map[i];

		if (m->kind == PL_FILE && m->start <= phdr && phdr < m->end) {
			exe = id_of(m);
			have_exe = 1;
			break;
		}
	}
	/* Kept with the table: classifying it again allocates nothing. */
	if ((err = pl_table_reserve(t, 0)) != 0)
		return err;
	shlibs = t->ids;
	for (i = 0; i < t->n; i++) {
		const struct pl_map *m = &t->map[i];

		if (m->kind == PL_FILE && (m->prot & PLOCK_PROT_EXEC)) {
			struct pl_file_id id = id_of(m);

			if (!have_exe || id_cmp(&id, &exe) != 0)
				shlibs[n++] = id;
		}
	}
	qsort(shlibs, n, sizeof *shlibs, id_cmp);
	for (i = 0; i < t->n; i++)
		t->map[i].seg = (unsigned char)classify(&t->map[i], have_exe ? &exe : NULL, shlibs, n);
	return 0;
}

/* An object in the loader's list other than the program and the vDSO. */
static int count_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	int *n = arg;

	(void)size;
	if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0' &&
	    info->dlpi_addr != (ElfW(Addr))getauxval(AT_SYSINFO_EHDR))
		(*n)++;
	return *n > 0;
}

/*
 * The rule of SHLIBLOCK's EINVAL, "the process has no shared-library
 * segments", from every source there is: the caller's loader's list (a
 * static program has no object there until it dlopen()s one), which
 * dl_iterate_phdr reads without a system call, so that the EINVAL is
 * decided before any; and t, if read, classified as above.
 */
int pl_has_shlibs(const struct pl_proc *p, const struct pl_table *t)
{
	int n = 0;
	size_t i;

	if (p->pid == 0 && p->remote == NULL) {
		dl_iterate_phdr(count_object, &n);
		if (n == 0)
			return 0;
	}
	if (t == NULL)
		return 1;
	for (i = 0; i < t->n; i++)
		if (pl_seg_classes(t->map[i].seg) == SHLIBLOCK)
			return 1;
	return 0;
}

/*
 * Files are locked eagerly: their pages exist and plock() promises them
 * resident.  Anonymous memory is locked on fault, so that nothing untouched
 * is allocated (a sanitizer's terabytes of shadow, a runtime's arenas).
 */
int pl_lock_on_fault(const struct pl_map *m)
{
	return m->kind != PL_FILE;
}

const char *plock_segment_class_name(int seg_class)
{
	static const char *const names[PLOCK_SEG_NCLASS] = {
		"other", "text", "data", "stack", "shlib-text", "shlib-data",
	};

	if (seg_class < 0 || seg_class >= PLOCK_SEG_NCLASS)
		return "?";
	return names[seg_class];
}
