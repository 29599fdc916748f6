/*-------------------------------------------------------------------------
 *
 * vsvalidate.h
 *	  amvalidate for the operator classes of vsearch's index AMs.
 *
 * Design: both index AMs have the same shape of operator class: one
 * ordering operator (strategy 1, type x type -> float8, sorted as float8)
 * and support functions that return float8 with a fixed number of
 * arguments of the indexed type.  One validator serves both; each AM
 * passes its name and its support functions.
 *
 * IDENTIFICATION
 *	  src/common/vsvalidate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSVALIDATE_H
#define VSEARCH_VSVALIDATE_H

/* One support function an operator class may or must have. */
typedef struct VsSupportProc
{
	int16		number;			/* support function number */
	int			nargs;			/* arguments, all of the indexed type */
	bool		required;
} VsSupportProc;

/*
 * Checks operator class opclassoid of access method amname, a vector class
 * with the support functions procs or a key-column class; every problem is
 * reported as an INFO message naming it.  Returns true if there is none.
 */
extern bool VsValidateOpclass(Oid opclassoid, const char *amname,
							  const VsSupportProc *procs, int nprocs);

#endif							/* VSEARCH_VSVALIDATE_H */
