/*
 * <sys/lock.h> - System V plock(2) for Linux.
 *
 * The operations of plock(), with the values SVR4, Solaris/illumos, AIX,
 * IRIX and Ultrix give UNLOCK..DATLOCK.  The shared-library operations are
 * HP-UX's; their values are the bit compositions of the ones they combine.
 * Which classes each op locks is the library's one table, plock_op_classes()
 * of <plock.h>; plock(3) gives it in words.
 */
#ifndef _SYS_LOCK_H
#define _SYS_LOCK_H

#define UNLOCK		0	/* remove every lock plock() made */
#define PROCLOCK	1	/* TXTLOCK and DATLOCK, with its own value */
#define TXTLOCK		2	/* the text class */
#define DATLOCK		4	/* the data class (with the stack) */
#define SHLIBLOCK	8	/* the shared-library class */
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
