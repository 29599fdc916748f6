/*-------------------------------------------------------------------------
 *
 * vsearch.c
 *	  Library entry point: initialises each room in a fixed order.
 *
 * Design: this is the only file that knows every room; rooms register their
 * own settings and hooks in their init functions, so adding a room means
 * one call here.
 *
 * IDENTIFICATION
 *	  src/vsearch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "distance/distance.h"
#include "hnsw/hnsw.h"
#include "fmgr.h"
#include "ivf/ivf.h"
#include "planner/planner.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

extern PGDLLEXPORT void _PG_init(void);

/*
 * _PG_init runs once per backend when the library is loaded (by CREATE
 * EXTENSION, the first call of one of its functions, or
 * shared_preload_libraries).  The distance room comes first: everything
 * else computes distances.
 */
void
_PG_init(void)
{
	VsDistanceInit();
	VsHnswInit();
	VsIvfInit();
	VsPlannerInit();
	MarkGUCPrefixReserved("vsearch");
}
