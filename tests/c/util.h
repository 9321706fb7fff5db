/*
 * Helpers shared by the C tests: running programs, and checking the locks
 * of every mapping against the lock state.
 */
#ifndef TESTS_C_UTIL_H
#define TESTS_C_UTIL_H

#include <stddef.h>
#include <stdio.h>

#include <plock.h>

#include "smaps_oracle.h"

#define MIB	(1024 * 1024)

/* The access bits of plock_segment.prot: 0 for a PROT_NONE mapping. */
#define PROT_ANY	(PLOCK_PROT_READ | PLOCK_PROT_WRITE | PLOCK_PROT_EXEC)

/*
 * Runs argv (searched in PATH) with extra environment entries env (NULL or
 * NULL-terminated "K=V"), waits, and returns its exit status, 128+signal if
 * it was killed, or -1 if it could not be run.
 */
int run(char *const argv[], char *const env[]);

/*
 * Copies this program into a new directory under /tmp that every user can
 * enter (0755 all the way), as name.  Fills dir and path; 0 or -1.
 */
int copy_self(const char *name, char *dir, size_t dlen, char *path, size_t plen);

/* Whether the running kernel is Linux major.minor or later (uname(2)). */
int kernel_at_least(int major, int minor);

/* The absolute path of this program (readlink of /proc/self/exe). */
const char *self_path(void);

/* Removes what copy_self() made. */
void remove_copy(const char *dir, const char *path);

/*
 * Runs "prog mode" under strace -f, and returns how many system calls it
 * made between its two markers: faccessat of "/plock-test-marker-begin" and
 * of "/plock-test-marker-end" (see marker()), or -1 if the run failed or the
 * markers were not seen.  If show, the calls found are printed to stderr.
 */
int syscalls_between_markers(const char *prog, const char *mode, int show);

/* The marker system calls for syscalls_between_markers(). */
void marker(int end);

/* The PLOCK_SEG_* of the segment that holds addr, or -1. */
int class_at(const struct plock_segment *v, size_t n, uintptr_t addr);

/*
 * The state bit (TXTLOCK, DATLOCK, SHLIBLOCK) that locks a class; 0 for other.
 * An independent oracle, written from the contract, of the library's
 * pl_seg_classes(): the tests check the library against it.
 */
int class_bit(int seg_class);

/*
 * Checks every mapping of the caller against state: a text, data, stack or
 * shlib mapping carries lo exactly when its class is in state.  An "other"
 * mapping never carries lo, except one that is not in before (the mappings
 * before the data lock) while DATLOCK is in state: mlockall(MCL_FUTURE) locks
 * new mappings of any kind.  Mappings the program locked itself are in
 * user (may be NULL): they must carry lo whatever the state.  Prints every
 * mismatch to why; returns the number of mismatches, or -1 on error.
 */
int check_locks(int state, const struct oracle *before, const struct oracle *user, FILE *why);

#endif /* TESTS_C_UTIL_H */
