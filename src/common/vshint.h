/*-------------------------------------------------------------------------
 *
 * vshint.h
 *	  A search-depth hint passed from the hybrid node to an index scan.
 *
 * Design: PostgreSQL never tells an index scan the query's LIMIT, but the
 * hybrid node (src/planner) knows it at run time.  It sets the hint just
 * before index_rescan and clears it just after; an access method reads it
 * in amrescan, where it sizes the first round of its search.  The hint
 * changes how much work the first round does (and so, for HNSW, the near
 * order in which rows come), never how many rows a scan can return: every
 * scan still streams until the caller stops.
 *
 * The other way, a scan counts the index entries whose stored key values
 * failed its scan keys (common/vskeys.h): the caller never sees those, so
 * the hybrid node reads the counter to know how many candidates a search
 * really looked at.
 *
 * IDENTIFICATION
 *	  src/common/vshint.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSHINT_H
#define VSEARCH_VSHINT_H

/*
 * Rows the caller expects to read from the next scan started by
 * index_rescan, or 0 when unknown.  Only the hybrid node sets it.
 */
extern int	VsScanRowsHint;

/*
 * Index entries rejected by their stored key values, ever, in this
 * backend; vsearch's scans add to it, callers read differences.
 */
extern int64 VsScanKeyRejected;

#endif							/* VSEARCH_VSHINT_H */
