/*-------------------------------------------------------------------------
 *
 * hnswvalidate.c
 *	  amvalidate for vsearch_hnsw operator classes.
 *
 * Design: the checks are common to vsearch's index AMs (common/vsvalidate);
 * this file only states what vsearch_hnsw's operator classes hold: the
 * distance (support 1, two arguments, required) and the optional norm
 * used to normalise vectors (support 2, one argument).
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswvalidate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/vsvalidate.h"
#include "hnsw/hnsw.h"

/* hnswvalidate returns true if the operator class is usable. */
bool
hnswvalidate(Oid opclassoid)
{
	static const VsSupportProc procs[] = {
		{HNSW_DISTANCE_PROC, 2, true},
		{HNSW_NORM_PROC, 1, false},
	};

	return VsValidateOpclass(opclassoid, "vsearch_hnsw", procs, lengthof(procs));
}
