/*
 * Telling another process's libplock what we locked in it (plock_handoff,
 * <plock.h>), so that the process has one plock state, the library's.
 *
 * The word is found from the ELF symbol tables of the files the process
 * maps: its libplock*.so (exported, .dynsym) or its executable when that
 * has libplock linked in (.symtab).  A process without libplock has no such
 * symbol, and nothing is written.  The write is one aligned 64-bit word,
 * made with process_vm_writev(), which we may do to a process we trace;
 * it honours page protection, and the word is in writable data.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#define SYMTAB_MAX	(64u << 20)	/* a Go binary's .symtab is a few MiB */

static int read_at(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off) == (ssize_t)len ? 0 : EIO;
}

/* The value of symbol name in table sec (linked to its string table). */
static int find_in(int fd, const Elf64_Ehdr *eh, const Elf64_Shdr *sec, const char *name,
		   uint64_t *value)
{
	Elf64_Shdr strs;
	Elf64_Sym *syms = NULL;
	char *str = NULL;
	size_t i, n, len = strlen(name);
	int err = ENOENT;

	if (sec->sh_link >= eh->e_shnum || sec->sh_size > SYMTAB_MAX ||
	    read_at(fd, &strs, sizeof strs, (off_t)(eh->e_shoff + sec->sh_link * eh->e_shentsize)) != 0 ||
	    strs.sh_size > SYMTAB_MAX)
		return EIO;
	if ((syms = malloc(sec->sh_size + 1)) == NULL || (str = malloc(strs.sh_size + 1)) == NULL) {
		err = ENOMEM;
		goto out;
	}
	if (read_at(fd, syms, sec->sh_size, (off_t)sec->sh_offset) != 0 ||
	    read_at(fd, str, strs.sh_size, (off_t)strs.sh_offset) != 0) {
		err = EIO;
		goto out;
	}
	str[strs.sh_size] = '\0';
	n = sec->sh_size / sizeof *syms;
	for (i = 0; i < n && err == ENOENT; i++)
		if (syms[i].st_shndx != SHN_UNDEF && syms[i].st_name + len < strs.sh_size &&
		    ELF64_ST_TYPE(syms[i].st_info) == STT_OBJECT &&
		    memcmp(str + syms[i].st_name, name, len + 1) == 0) {
			*value = syms[i].st_value;
			err = 0;
		}
out:
	free(syms);
	free(str);
	return err;
}

/*
 * Where plock_handoff is in the process, if the file at path, mapped from
 * offset 0 at start (a mapping of device/inode m), defines it.
 */
static int find_word(const char *path, const struct pl_map *m, uintptr_t *addr)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, dyn;
	Elf64_Phdr ph;
	struct stat st;
	uint64_t value = 0, low = UINT64_MAX;
	int fd, err = ENOENT, have_dyn = 0;
	size_t i;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno;
	/* The same file as the mapping, not another one at that path now. */
	if (fstat(fd, &st) != 0 || st.st_ino != m->inode ||
	    read_at(fd, &eh, sizeof eh, 0) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof sh ||
	    eh.e_phentsize != sizeof ph)
		goto out;
	for (i = 0; i < eh.e_phnum; i++) {
		if (read_at(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != 0)
			goto out;
		if (ph.p_type == PT_LOAD && ph.p_vaddr < low)
			low = ph.p_vaddr & ~(uint64_t)4095;
	}
	/* The full symbol table if there is one (a static link), else the exported. */
	for (i = 0; i < eh.e_shnum && err == ENOENT; i++) {
		if (read_at(fd, &sh, sizeof sh, (off_t)(eh.e_shoff + i * sizeof sh)) != 0)
			break;
		if (sh.sh_type == SHT_SYMTAB)
			err = find_in(fd, &eh, &sh, "plock_handoff", &value);
		else if (sh.sh_type == SHT_DYNSYM && !have_dyn) {
			dyn = sh;
			have_dyn = 1;
		}
	}
	if (err != 0 && have_dyn)
		err = find_in(fd, &eh, &dyn, "plock_handoff", &value);
	if (err == 0 && low != UINT64_MAX)
		*addr = (uintptr_t)(m->start - low + value);
	else if (err == 0)
		err = ENOENT;
out:
	close(fd);
	return err;
}

static int is_libplock(const char *path)
{
	const char *base = strrchr(path, '/');

	return strncmp(base != NULL ? base + 1 : path, "libplock", 8) == 0;
}

void pl_handoff_tell(const struct pl_proc *p, int classes, int reset)
{
	struct pl_table t = PL_TABLE_INIT;
	uintptr_t phdr = 0, addr = 0;
	uint64_t old = 0, word;
	struct iovec local, remote;
	const char *path;
	size_t i, j;
	int exe;

	if (p->remote == NULL || pl_proc_phdr(p->pid, &phdr) != 0 ||
	    pl_table_read(&t, p->pid, PL_PATHS) != 0)
		return;
	for (i = 0; i < t.n && addr == 0; i++) {
		if (t.map[i].kind != PL_FILE || t.map[i].offset != 0)
			continue;
		path = pl_map_path(&t, &t.map[i]);
		/* The executable: the file whose mapping holds its program headers. */
		for (exe = 0, j = i; j < t.n && !exe; j++)
			exe = t.map[j].inode == t.map[i].inode && t.map[j].start <= phdr &&
			      phdr < t.map[j].end;
		if (path[0] == '/' && (exe || is_libplock(path)) && find_word(path, &t.map[i], &addr) != 0)
			addr = 0;
	}
	pl_table_free(&t);
	if (addr == 0 || (addr & 7) != 0 || pl_peek(p, addr, &old, sizeof old) != 0)
		return;
	/* A word not taken yet by this process is kept, and added to. */
	word = (uint64_t)(uint32_t)p->pid << 32;
	if (!reset && (old >> 32) == (uint64_t)(uint32_t)p->pid)
		word |= old & 0xffffffffu;
	word |= reset ? PLOCK_HANDOFF_RESET : (uint64_t)classes;
	local.iov_base = &word;
	local.iov_len = sizeof word;
	remote.iov_base = (void *)addr;
	remote.iov_len = sizeof word;
	(void)process_vm_writev(p->pid, &local, 1, &remote, 1, 0);
}
