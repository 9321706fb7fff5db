/*
 * Compiled, not run, by headers.sh as C89, C99, C11, C++98 and C++17 with
 * -Wall -Wextra -pedantic -Werror: both headers, every name they define.
 */
#include <sys/lock.h>
#include <plock.h>

static const int ops[] = {
	UNLOCK, PROCLOCK, TXTLOCK, DATLOCK, SHLIBLOCK, PROCSHLIBLOCK, TXTSHLIBLOCK, DATSHLIBLOCK,
};

int main(void)
{
	int (*f)(int) = plock;
	int (*g)(int, int) = plock_flags;
	int (*h)(void) = plock_state;
	struct plock_segment *(*s)(int, size_t *) = plock_segments;
	int (*st)(int, struct plock_status *) = plock_status;
	const char *(*name)(int) = plock_segment_class_name;
	struct plock_segment seg;
	struct plock_status status;
	uint64_t unlimited = PLOCK_UNLIMITED;
	int classes = PLOCK_SEG_OTHER + PLOCK_SEG_TEXT + PLOCK_SEG_DATA + PLOCK_SEG_STACK +
		      PLOCK_SEG_SHLIB_TEXT + PLOCK_SEG_SHLIB_DATA + PLOCK_SEG_NCLASS;
	int prot = PLOCK_PROT_READ | PLOCK_PROT_WRITE | PLOCK_PROT_EXEC | PLOCK_PROT_SHARED;

	seg.path = 0;
	status.headroom = unlimited;
	return (f != 0) + (g != 0) + (h != 0) + (s != 0) + (st != 0) + (name != 0) +
	       (int)sizeof ops + classes + prot + PLOCK_STRICT_FUTURE +
	       (seg.path == 0) + (int)(status.headroom & 1);
}
