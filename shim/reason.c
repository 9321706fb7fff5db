/*
 * The names of the reasons plock_ctl() reports (PLOCK_WHY_*).
 */
#include "internal.h"

const char *plock_why_name(int why)
{
	static const char *const names[PLOCK_WHY_NREASON] = {
		"none", "badop", "locked", "nothing", "noshlib", "vfork", "strict",
		"zerolimit", "limit", "nomem", "noproc", "gone", "ptrace",
		"unsupported", "system",
	};

	if (why < 0 || why >= PLOCK_WHY_NREASON)
		return "?";
	return names[why];
}
