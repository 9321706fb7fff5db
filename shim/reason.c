/*
 * The names of the reasons plock_ctl() reports (PLOCK_WHY_*).
 */
#include <sys/syscall.h>

#include "internal.h"

const char *plock_why_name(int why)
{
	static const char *const names[PLOCK_WHY_NREASON] = {
		"none", "badop", "locked", "nothing", "noshlib", "vfork", "strict",
		"zerolimit", "limit", "nomem", "noproc", "gone", "ptrace",
		"unsupported", "system", "seccomp", "exec",
	};

	if (why < 0 || why >= PLOCK_WHY_NREASON)
		return "?";
	return names[why];
}

const char *plock_syscall_name(int nr)
{
	static const struct {
		int nr;
		const char *name;
	} names[] = {
		{ SYS_mlock2, "mlock2" }, { SYS_mlock, "mlock" }, { SYS_munlock, "munlock" },
		{ SYS_mlockall, "mlockall" }, { SYS_munlockall, "munlockall" },
		{ SYS_msync, "msync" }, { SYS_mmap, "mmap" }, { SYS_madvise, "madvise" },
		{ SYS_mincore, "mincore" }, { SYS_munmap, "munmap" },
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].nr == nr)
			return names[i].name;
	return "?";
}
