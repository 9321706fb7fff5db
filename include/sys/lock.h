/*
 * <sys/lock.h> - System V plock(2) for Linux.
 *
 * The operations of plock(), with the values SVR4, Solaris/illumos, AIX,
 * IRIX and Ultrix give UNLOCK..DATLOCK.  The shared-library operations are
 * HP-UX's; their values are the bit compositions of the ones they combine.
 * See plock(3).
 */
#ifndef _SYS_LOCK_H
#define _SYS_LOCK_H

#define UNLOCK		0	/* remove every lock plock() made */
#define PROCLOCK	1	/* lock text and data (data includes the stack) */
#define TXTLOCK		2	/* lock text */
#define DATLOCK		4	/* lock data and stack */
#define SHLIBLOCK	8	/* lock shared-library text and data */
#define PROCSHLIBLOCK	9	/* PROCLOCK | SHLIBLOCK */
#define TXTSHLIBLOCK	10	/* TXTLOCK | SHLIBLOCK */
#define DATSHLIBLOCK	12	/* DATLOCK | SHLIBLOCK */

#ifdef __cplusplus
extern "C" {
#endif

int plock(int op);

#ifdef __cplusplus
}
#endif

#endif /* _SYS_LOCK_H */
