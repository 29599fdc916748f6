/*-------------------------------------------------------------------------
 *
 * vshint.h
 *	  Search-depth hints passed from the hybrid node to an index scan.
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
 * really looked at.  Since such a scan can reject thousands of entries
 * inside one amgettuple call, the caller may also set a check the scan
 * calls every VS_REJECT_CHECK_EVERY rejections; when it says so, the scan
 * gives up: it sets VsScanAbandoned and returns no more rows, and the
 * caller, seeing VsScanAbandoned after index_getnext_tid returned nothing,
 * knows the index was not exhausted and answers another way.  The caller
 * sets the check just before index_getnext_tid and clears it just after.
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
 * Fraction of the index's rows the caller expects to pass its filter (the
 * rows it counted, or the planner's estimate), or 0 when unknown.  Set and
 * cleared with VsScanRowsHint.  A search that returns its first round's
 * rows in order gives the caller only this fraction of them: a scan may
 * widen its first round so that the rows passing come from as good a
 * search as an unfiltered query's.
 */
extern double VsScanPassHint;

/*
 * Candidates the caller will read before it first looks at how many pass
 * its filter, or 0 when it has no such look to make.  Set and cleared with
 * VsScanRowsHint.  The caller sets it when it may give up on the scan at
 * that look (the rows it counted would be cheaper ranked exactly unless
 * they sit around the query): a scan that searches its first round whole
 * before returning a row may then open with a round of just this many,
 * and continue to its usual first round if asked for more, so that the
 * look costs a fraction of the search and nothing is searched twice.
 */
extern int	VsScanProbeHint;

/*
 * Set by a scan in amrescan to the size of its first round (HNSW's
 * window, the probe's when it opens with one), left 0 by a scan without
 * one; the hybrid node clears it before index_rescan and reads it after,
 * for EXPLAIN.
 */
extern int	VsScanFirstWindow;

/*
 * Index entries rejected by their stored key values, ever, in this
 * backend; vsearch's scans add to it, callers read differences.
 */
extern int64 VsScanKeyRejected;

/*
 * Batches of lists an IVF scan started reading, ever, in this backend
 * (a batch read again because its pass left rows out counts once).  Rows
 * come in exact distance order within a batch and only roughly across
 * batches, so a caller that must know whether a closer row can still come
 * reads differences: the hybrid node, when its filter fails around the
 * query, reads on into the batch after the one that gave its k-th row
 * (planner README).
 */
extern int64 VsScanBatches;

/*
 * The index's own distance of the row an IVF scan returned last (set by
 * each amgettuple that returns a row), comparable only with other rows of
 * the same scan: the caller reads it right after index_getnext_tid.
 */
extern double VsScanLastDistance;

#define VS_REJECT_CHECK_EVERY	64

/* Returns true when the scan should give up; arg is VsScanRejectArg. */
typedef bool (*VsScanRejectFn) (void *arg);

extern VsScanRejectFn VsScanRejectCheck;
extern void *VsScanRejectArg;
extern bool VsScanAbandoned;

/*
 * VsScanKeyReject counts one entry rejected by its key values and returns
 * true (setting VsScanAbandoned) when the caller's check asks the scan to
 * give up.
 */
extern bool VsScanKeyReject(void);

#endif							/* VSEARCH_VSHINT_H */
