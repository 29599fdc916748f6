/*-------------------------------------------------------------------------
 *
 * hnswscan.c
 *	  Ordered index scan for vsearch_hnsw: ORDER BY vector <op> query.
 *
 * Design: the layer-0 search is resumable.  A round runs the best-first
 * search with a result window of ef elements and returns the window's
 * elements in distance order; when the executor asks for more (a LIMIT
 * above ef_search, rows removed by a WHERE clause), the next round widens
 * the window and continues from where the search stopped:
 * every element found is kept (window, overflow or candidate heap), so
 * nothing is searched twice and nothing is lost.  When the graph search is
 * exhausted, one pass over the index pages returns any element it could
 * not reach, so a scan read to the end returns every row and LIMIT is
 * never silently capped.  Order is exact within a round; an element found
 * in a later round can be closer than one already returned (rare, and
 * shown in the README).  Rounds grow by half the window, at least
 * ef_search.  Elements at +inf (distances between vectors with huge
 * elements overflow float4) are held back until the search and the final
 * pass are done, and returned last: the search cannot tell which way a row
 * at a finite distance lies when everything around is at +inf, and such a
 * row must never come after one at +inf.  WHERE clauses on key columns
 * (common/vskeys.h) arrive as scan keys and are tested on the values
 * stored in each element before its rows are returned; the search goes on
 * through elements that fail.
 *
 * Memory: about 50 bytes per element visited (visited set and heaps),
 * in a per-scan context freed at rescan and end of scan.
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswscan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relscan.h"
#include "common/vshint.h"
#include "common/vsbuffer.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include <math.h>

typedef struct HnswScanOpaqueData
{
	MemoryContext scanCtx;		/* reset at every rescan */
	bool		started;
	bool		done;
	bool		flatdone;		/* the final pass over all pages ran */
	HnswDiskCtx disk;
	VsHeap		cand;			/* unexpanded elements, closest first */
	VsHeap		window;			/* the ef closest found, farthest first */
	VsHeap		overflow;		/* found but outside the window, closest first */
	VsTidSet   *emitted;
	VsKeyFilter *filter;		/* scan keys on key columns, or NULL */
	bool		abandoned;		/* the caller asked it to give up (vshint.h) */
	int			ef;				/* current window size */
	int			firstef;		/* window of the first round */
	int			probeef;		/* smaller window opening it, or 0 (vshint.h) */
	VsHeapEntry *batch;			/* elements to return, closest first */
	int			nbatch;
	int			batchpos;
	VsHeapEntry *deferred;		/* found at +inf, returned after all others */
	int			ndeferred;
	int			deferredcap;
	ItemPointerData heaptids[HNSW_HEAPTIDS];
	int			nheaptids;
	int			heaptidpos;
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

/*
 * FilteredWindow is the first round's window for the caller's filter
 * (common/vshint.h): ef_search / sqrt(p) when a fraction p >= 1/4 of the
 * rows is expected to pass, ef_search otherwise.  Without it, a filter
 * keeping half the rows took its 10 rows from the 20 passing elements of
 * a 40-element window, a search as shallow as ef_search 20 (200,000 x
 * 768: recall 0.955).  A window of ef_search / p, as many passing
 * elements as an unfiltered search has, gave 0.990 there, but cost twice
 * the search: 1,000,000 x 128, half the rows, 756 queries/s against
 * 1,200 for the core plan's post-filtered scan at recall 0.957.  The
 * square root goes half-way (0.974 at a window of 60 on 200,000 x 768).
 * Below 1/4, the k passing rows take several rounds, each wider, and a
 * low global estimate is often wrong around the query (a filter
 * correlated with the vectors, which passes nearly everything there), so
 * the first round stays as it is.
 */
static int
FilteredWindow(void)
{
	double		p = VsScanPassHint;

	if (p < HNSW_WIDEN_MIN_PASS || p >= 1.0)
		return hnsw_ef_search;
	return (int) Min(ceil(hnsw_ef_search / sqrt(p)), HNSW_MAX_FIRST_WINDOW);
}

/* FirstRound is the window of the scan's first layer-0 round. */
static inline int
FirstRound(HnswScanOpaque so)
{
	return (so->probeef > 0) ? so->probeef : so->firstef;
}

/* hnswbeginscan is ambeginscan: state lives until hnswendscan. */
IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->scanCtx = AllocSetContextCreate(CurrentMemoryContext, "vsearch_hnsw scan",
										ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	return scan;
}

/*
 * hnswrescan is amrescan: remembers the ORDER BY argument (the query
 * vector) and the scan keys on key columns; the search starts at the first
 * hnswgettuple.
 */
void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old;
	Vector	   *query = NULL;

	MemoryContextReset(so->scanCtx);
	memset(&so->disk, 0, sizeof(so->disk));
	so->started = false;
	so->done = false;
	so->abandoned = false;
	so->flatdone = false;
	so->batch = NULL;
	so->nbatch = so->batchpos = 0;
	so->deferred = NULL;
	so->ndeferred = so->deferredcap = 0;
	so->nheaptids = so->heaptidpos = 0;
	/* a caller that knows its LIMIT gets a first round wide enough for it */
	so->firstef = Max(FilteredWindow(), Min(VsScanRowsHint, HNSW_MAX_FIRST_WINDOW));
	so->probeef = (VsScanProbeHint > 0 && VsScanProbeHint < so->firstef) ?
		VsScanProbeHint : 0;
	VsScanFirstWindow = FirstRound(so);

	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));

	old = MemoryContextSwitchTo(so->scanCtx);
	{
		bool		never;

		so->filter = VsKeyFilterCreate(scan->indexRelation, scan->keyData,
									   scan->numberOfKeys, &never);
		if (never)
		{
			so->done = true;
			MemoryContextSwitchTo(old);
			return;
		}
	}
	if (scan->numberOfOrderBys > 0 && !(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		HnswMetric	metric;
		int			dim = TupleDescAttr(RelationGetDescr(scan->indexRelation), 0)->atttypmod;
		Vector	   *arg = DatumGetVector(scan->orderByData[0].sk_argument);

		HnswInitMetric(scan->indexRelation, &metric);
		/* the same error an exact scan gives for this query */
		if (arg->dim != dim)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("different vector dimensions %d and %d", dim, arg->dim)));
		query = HnswPrepareVector(&metric, scan->orderByData[0].sk_argument, dim);
	}
	/* NULL query or a zero vector under cosine: nothing is close to it */
	if (query == NULL)
		so->done = true;
	else
		HnswDiskCtxInit(&so->disk, scan->indexRelation, query);
	MemoryContextSwitchTo(old);
}

/*
 * StartSearch reads the entry point, descends greedily to layer 1 and
 * searches layer 1 with a small window (HNSW_SEEDS) whose elements seed
 * the layer-0 search.  On clustered data a single seed, where a greedy
 * walk ended, sometimes leaves a whole query's neighbourhood out of
 * reach of an ef_search 40 window: 20,000 x 32 in 50 overlapping
 * clusters (the pgTAP hybrid set), 8 builds of 30 lost one or two of 200
 * queries entirely (none of their 10 rows found); with 8 seeds 1 of 30.
 * Layer 1 holds 1/m of the elements, so the wider start costs little:
 * fashion-mnist, ef_search 40, 1,649 queries/s with one seed and 1,632
 * with 8 (medians of 5; recall 0.997 -> 0.998).
 */
static void
StartSearch(HnswScanOpaque so)
{
	HnswMetaPageData meta;
	VsHeapEntry ep;
	VsHeapEntry *seeds;
	int			nseeds;
	bool		found;

	HnswReadMeta(so->disk.index, &meta);
	so->disk.deleted = VsTidSetCreate(CurrentMemoryContext, 64);
	VsHeapInit(&so->cand, 256, false);
	VsHeapInit(&so->window, hnsw_ef_search + 1, true);
	VsHeapInit(&so->overflow, 256, false);
	so->emitted = VsTidSetCreate(CurrentMemoryContext, 256);
	so->ef = 0;
	HnswLoadEntry(&so->disk, &meta, &ep, &found);
	if (!found)
		return;					/* no entry point: the final pass finds any element */
	seeds = HnswDescendSeeds(&so->disk, &ep, meta.entry_level,
							 HNSW_SEEDS(FirstRound(so)),
							 &nseeds);
	/* found, not yet in a window: the first round takes the closest */
	for (int i = 0; i < nseeds; i++)
	{
		VsHeapPush(&so->cand, seeds[i].dist, seeds[i].id);
		VsHeapPush(&so->overflow, seeds[i].dist, seeds[i].id);
	}
	pfree(seeds);
}

/* AtInfinity is true for an element at +inf from the query. */
static inline bool
AtInfinity(const VsHeapEntry *e)
{
	return isinf(e->dist) && e->dist > 0;
}

/*
 * Defer keeps element e, found at +inf, for the end of the scan; the
 * array grows in the scan context.
 */
static void
Defer(HnswScanOpaque so, const VsHeapEntry *e)
{
	if (so->ndeferred == so->deferredcap)
	{
		so->deferredcap = Max(64, so->deferredcap * 2);
		so->deferred = so->deferred == NULL ?
			palloc(sizeof(VsHeapEntry) * so->deferredcap) :
			repalloc_huge(so->deferred, sizeof(VsHeapEntry) * so->deferredcap);
	}
	so->deferred[so->ndeferred++] = *e;
}

/* Collects, in FlatPass, the live elements no search has seen. */
typedef struct FlatCollect
{
	HnswScanOpaque so;
	VsHeapEntry *batch;
	int			nbatch;
	int			capacity;
} FlatCollect;

static void
FlatCollectElement(HnswElementTuple etup, ItemPointer tid, void *arg)
{
	FlatCollect *fc = (FlatCollect *) arg;
	HnswScanOpaque so = fc->so;
	uint64		key = VsTidToKey(tid);

	if (etup->deleted || etup->vec.dim != so->disk.dim ||
		VsTidSetContains(so->disk.visited, key) || VsTidSetContains(so->emitted, key))
		return;
	if (fc->nbatch == fc->capacity)
	{
		fc->capacity *= 2;
		fc->batch = repalloc_huge(fc->batch, sizeof(VsHeapEntry) * fc->capacity);
	}
	fc->batch[fc->nbatch].id = key;
	fc->batch[fc->nbatch].dist = HnswDistance(&so->disk.metric, so->disk.query, &etup->vec);
	if (AtInfinity(&fc->batch[fc->nbatch]))
		Defer(so, &fc->batch[fc->nbatch]);
	else
		fc->nbatch++;
	VsTidSetAdd(so->emitted, key);
}

/*
 * FlatPass returns, closest first, every live element the graph search
 * never reached (the graph may leave a few elements without in-links
 * after many updates).  It runs once, after the search is exhausted, so
 * a scan that is read to the end returns every row of the index.
 */
static void
FlatPass(HnswScanOpaque so)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(so->disk.index);
	FlatCollect fc;

	fc.so = so;
	fc.capacity = 64;
	fc.nbatch = 0;
	fc.batch = palloc(sizeof(VsHeapEntry) * fc.capacity);
	for (BlockNumber blkno = 1; blkno < nblocks; blkno++)
	{
		CHECK_FOR_INTERRUPTS();
		HnswForEachElement(so->disk.index, blkno, NULL, FlatCollectElement, &fc);
	}
	HnswSortEntries(fc.batch, fc.nbatch);
	if (so->batch)
		pfree(so->batch);
	so->batch = fc.batch;
	so->nbatch = fc.nbatch;
	so->batchpos = 0;
	so->flatdone = true;
}

/*
 * NextRound widens the window (the first round opens it at firstef:
 * ef_search, or the caller's row hint when larger), continues the layer-0 search
 * and collects the window's elements not returned yet into so->batch.
 * When the caller announced an early look at its pass rate (probeef), the
 * first round is that small and the second widens to firstef: the search
 * continues, so the two cost what the first round alone would have.
 */
static void
NextRound(HnswScanOpaque so)
{
	int			maxn = HNSW_LAYER_SLOTS(0, so->disk.m);
	uint64	   *nbrs = palloc(sizeof(uint64) * maxn);
	float	   *dists = palloc(sizeof(float) * maxn);
	bool	   *ok = palloc(sizeof(bool) * maxn);
	VsHeapEntry *batch;
	int			nbatch = 0;

	/*
	 * Each round collects the whole window, so the window grows by half
	 * its size (at least ef_search): a scan read deep costs O(n log n), not
	 * O(n^2 / ef_search).
	 */
	if (so->ef == 0 && so->probeef > 0)
		so->ef = so->probeef;
	else if (so->ef < so->firstef)
		so->ef = so->firstef;
	else
		so->ef += Max(hnsw_ef_search, so->ef / 2);
	while (so->window.count < so->ef && so->overflow.count > 0)
	{
		VsHeapEntry e = VsHeapPop(&so->overflow);

		VsHeapPush(&so->window, e.dist, e.id);
	}

	while (so->cand.count > 0)
	{
		VsHeapEntry c = *VsHeapTop(&so->cand);
		int			n;

		if (so->window.count >= so->ef && c.dist > VsHeapTop(&so->window)->dist)
			break;
		VsHeapPop(&so->cand);
		CHECK_FOR_INTERRUPTS();

		n = HnswExpand(&HnswDiskOps, &so->disk, c.id, 0, nbrs, maxn, dists, ok);
		for (int i = 0; i < n; i++)
		{
			float		d = dists[i];

			if (!ok[i])
				continue;
			VsHeapPush(&so->cand, d, nbrs[i]);
			if (so->window.count < so->ef || d < VsHeapTop(&so->window)->dist)
			{
				VsHeapPush(&so->window, d, nbrs[i]);
				if (so->window.count > so->ef)
				{
					VsHeapEntry out = VsHeapPop(&so->window);

					VsHeapPush(&so->overflow, out.dist, out.id);
				}
			}
			else
				VsHeapPush(&so->overflow, d, nbrs[i]);
		}
	}
	pfree(nbrs);
	pfree(dists);
	pfree(ok);

	/* the window's new elements, closest first */
	batch = palloc(sizeof(VsHeapEntry) * Max(so->window.count, 1));
	for (int i = 0; i < so->window.count; i++)
	{
		VsHeapEntry *e = &so->window.items[i];

		if (VsTidSetContains(so->emitted, e->id))
			continue;
		VsTidSetAdd(so->emitted, e->id);
		if (VsTidSetContains(so->disk.deleted, e->id))
			continue;
		if (AtInfinity(e))
			Defer(so, e);
		else
			batch[nbatch++] = *e;
	}
	HnswSortEntries(batch, nbatch);
	if (so->batch)
		pfree(so->batch);
	so->batch = batch;
	so->nbatch = nbatch;
	so->batchpos = 0;

	/*
	 * graph exhausted: finish with the elements it could not reach, then
	 * with those at +inf
	 */
	if (nbatch == 0 && so->cand.count == 0 && so->overflow.count == 0)
	{
		if (!so->flatdone)
			FlatPass(so);
		if (so->nbatch == 0 && so->ndeferred > 0)
		{
			if (so->batch)
				pfree(so->batch);
			so->batch = so->deferred;
			so->nbatch = so->ndeferred;
			so->batchpos = 0;
			so->deferred = NULL;
			so->ndeferred = so->deferredcap = 0;
		}
		if (so->nbatch == 0)
			so->done = true;
	}
}

/*
 * LoadHeapTids copies the heap TIDs of element id (none if it was deleted
 * or freed since it was found, or if its key values fail the scan keys).
 */
static void
LoadHeapTids(HnswScanOpaque so, uint64 id)
{
	ItemPointerData tid;
	Buffer		buf;
	Page		page;
	OffsetNumber off;

	so->nheaptids = so->heaptidpos = 0;
	VsKeyToTid(id, &tid);
	buf = VsReadBuffer(so->disk.index, ItemPointerGetBlockNumber(&tid));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	off = ItemPointerGetOffsetNumber(&tid);
	if (off <= PageGetMaxOffsetNumber(page) && ItemIdIsNormal(PageGetItemId(page, off)))
	{
		HnswElementTuple etup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, off));

		if (etup->type == HNSW_ELEMENT_TUPLE && !etup->deleted)
		{
			if (!VsKeyFilterMatch(so->filter, HnswElementKeys(so->disk.index, etup)))
			{
				if (VsScanKeyReject())
					so->abandoned = true;
			}
			else
				for (int t = 0; t < HNSW_HEAPTIDS; t++)
					if (ItemPointerIsValid(&etup->heaptids[t]))
						so->heaptids[so->nheaptids++] = etup->heaptids[t];
		}
	}
	UnlockReleaseBuffer(buf);
}

/*
 * hnswgettuple is amgettuple: returns the next heap TID in (near) distance
 * order, widening the search as long as the executor asks.
 */
bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old;

	if (scan->numberOfOrderBys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vsearch_hnsw indexes only support ORDER BY distance scans"),
				 errhint("Use the index with ORDER BY column <operator> value LIMIT n.")));
	if (!IsMVCCSnapshot(scan->xs_snapshot))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("non-MVCC snapshots are not supported with vsearch_hnsw")));

	old = MemoryContextSwitchTo(so->scanCtx);
	for (;;)
	{
		if (so->heaptidpos < so->nheaptids)
		{
			scan->xs_heaptid = so->heaptids[so->heaptidpos++];
			scan->xs_recheck = false;
			scan->xs_recheckorderby = false;
			MemoryContextSwitchTo(old);
			return true;
		}
		if (so->batchpos < so->nbatch)
		{
			LoadHeapTids(so, so->batch[so->batchpos++].id);
			if (so->abandoned)
			{
				so->done = true;
				break;
			}
			continue;
		}
		if (so->done)
			break;
		if (!so->started)
		{
			so->started = true;
			pgstat_count_index_scan(scan->indexRelation);
			StartSearch(so);
			if (so->done)
				break;
		}
		NextRound(so);
	}
	MemoryContextSwitchTo(old);
	return false;
}

/* hnswendscan is amendscan: frees everything the scan allocated. */
void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	MemoryContextDelete(so->scanCtx);
	pfree(so);
	scan->opaque = NULL;
}
