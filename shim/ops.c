/*
 * The rules of <sys/lock.h>, written once: which classes each op locks, and
 * which class locks each kind of segment.  The state of plock() is an OR of
 * TXTLOCK, DATLOCK and SHLIBLOCK, the ops' own values for their one class.
 */
#include "internal.h"

/* The classes op locks; -1 if op is no op of <sys/lock.h>. */
int plock_op_classes(int op)
{
	switch (op) {
	case UNLOCK:		return 0;
	case PROCLOCK:		return TXTLOCK | DATLOCK;
	case TXTLOCK:		return TXTLOCK;
	case DATLOCK:		return DATLOCK;
	case SHLIBLOCK:		return SHLIBLOCK;
	case PROCSHLIBLOCK:	return TXTLOCK | DATLOCK | SHLIBLOCK;
	case TXTSHLIBLOCK:	return TXTLOCK | SHLIBLOCK;
	case DATSHLIBLOCK:	return DATLOCK | SHLIBLOCK;
	default:		return -1;
	}
}

/* The class that locks a segment of class seg (PLOCK_SEG_*); 0: none. */
int pl_seg_classes(int seg)
{
	switch (seg) {
	case PLOCK_SEG_TEXT:
		return TXTLOCK;
	case PLOCK_SEG_DATA:
	case PLOCK_SEG_STACK:
		return DATLOCK;
	case PLOCK_SEG_SHLIB_TEXT:
	case PLOCK_SEG_SHLIB_DATA:
		return SHLIBLOCK;
	default:
		return 0;
	}
}
