/*-------------------------------------------------------------------------
 *
 * ivfscan.c
 *	  Ordered scans of a vsearch_ivf index (ORDER BY column <op> query).
 *
 * Design: lists are ranked by the query's distance to their centroids and
 * read in batches of `probes` lists in that order; rows come out in
 * distance order within a batch.  When a batch is used up and the
 * executor still asks (a LIMIT beyond what the batch held, or rows a WHERE
 * clause rejected), the next batch is read, until every list was read: the
 * index never caps the number of rows silently.  Memory is bounded: a pass
 * over a batch keeps only the work_mem-sized set of nearest rows not yet
 * returned (a max-heap); if rows were left out, the batch is read again
 * for the rows after the last one returned, in (distance, TID) order, so
 * each row is returned exactly once.  Pages are read under a share lock,
 * one at a time, and their rows copied out: no pin is held between calls.
 * With an MVCC snapshot that is safe even when vacuum removes a returned
 * TID and the heap reuses it: the new tuple is invisible to the snapshot.
 * Conditions on key columns arrive as scan keys and are tested on each
 * row's stored key values before its distance is computed.  Rows at +inf
 * or NaN (distances between vectors with huge elements overflow float4)
 * are skipped by the batches and returned by one last pass over every
 * list, so they come after every row at a finite distance: the centroids
 * say nothing about where such a row lies, and it could otherwise be
 * returned before a finite one from a list read later.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfscan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "common/vshint.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "types/vector.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Rows a pass starts with room for; grows up to the work_mem bound. */
#define IVF_SCAN_INITIAL_ITEMS	1024

/* A candidate row: its order key is (dist, tid). */
typedef struct IvfScanItem
{
	float		dist;
	ItemPointerData tid;
} IvfScanItem;

typedef struct IvfScanOpaqueData
{
	MemoryContext ctx;			/* everything below lives here */
	bool		started;
	bool		finished;
	int			metric;
	int			dims;
	int			nlists;
	int			probes;
	float	   *query;			/* prepared query, dims floats */
	BlockNumber *listOrder;		/* start pages, nearest list first */
	int			batchStart;		/* current batch: listOrder[batchStart..batchEnd) */
	int			batchEnd;
	VsKeyFilter *filter;		/* scan keys on key columns, or NULL */
	bool		abandoned;		/* the caller asked it to give up (vshint.h) */
	bool		sawUnbounded;	/* a batch skipped a row at +inf or NaN */
	bool		tail;			/* the last pass: every list, those rows only */

	/* the current pass */
	IvfScanItem *items;			/* unordered or a max-heap while collecting,
								 * then a min-heap of the rows left to return */
	int			nitems;
	int			capacity;
	int			maxItems;		/* work_mem bound */
	bool		truncated;		/* the pass left rows out: read the batch again */
	bool		haveLast;
	IvfScanItem last;			/* last row returned from this batch */
} IvfScanOpaqueData;

typedef IvfScanOpaqueData *IvfScanOpaque;

/*
 * ItemCmp orders candidates by distance, NaN last, then by TID; a total
 * order, so a re-read of a batch can resume exactly after a row.
 */
static inline int
ItemCmp(const IvfScanItem *a, const IvfScanItem *b)
{
	if (a->dist < b->dist)
		return -1;
	if (a->dist > b->dist)
		return 1;
	if (isnan(a->dist) != isnan(b->dist))
		return isnan(a->dist) ? 1 : -1;
	return ItemPointerCompare((ItemPointer) &a->tid, (ItemPointer) &b->tid);
}

/*
 * SiftDown restores the heap property downwards from position i: a max-heap
 * when max is true, else a min-heap.
 */
static inline void
SiftDown(IvfScanItem *h, int n, int i, bool max)
{
	int			sign = max ? 1 : -1;
	IvfScanItem tmp = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && sign * ItemCmp(&h[c + 1], &h[c]) > 0)
			c++;
		if (sign * ItemCmp(&h[c], &tmp) <= 0)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = tmp;
}

/* Heapify turns h[0..n) into a max-heap or a min-heap in O(n). */
static void
Heapify(IvfScanItem *h, int n, bool max)
{
	int			i;

	for (i = n / 2 - 1; i >= 0; i--)
		SiftDown(h, n, i, max);
}

/*
 * Offer adds a candidate to the pass's items, keeping only the maxItems
 * nearest; notes when a row is left out.  Items are appended unordered
 * until the work_mem bound is reached; from then on they form a max-heap
 * whose top is replaced by nearer rows.
 */
static inline void
Offer(IvfScanOpaque so, const IvfScanItem *it)
{
	if (likely(so->nitems < so->capacity))
	{
		so->items[so->nitems++] = *it;
		return;
	}
	if (so->capacity < so->maxItems)
	{
		so->capacity = Min(so->maxItems, so->capacity * 2);
		so->items = repalloc_huge(so->items, sizeof(IvfScanItem) * (Size) so->capacity);
		so->items[so->nitems++] = *it;
		return;
	}
	if (!so->truncated)
	{
		so->truncated = true;
		Heapify(so->items, so->nitems, true);
	}
	if (ItemCmp(it, &so->items[0]) < 0)
	{
		so->items[0] = *it;
		SiftDown(so->items, so->nitems, 0, true);
	}
}

/*
 * ReadBatch reads every row of the lists in the current batch that comes
 * after so->last (when set), keeps the nearest maxItems as a min-heap.
 * Takes a share lock on one list page at a time.
 */
static void
ReadBatch(IndexScanDesc scan)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	Size		itemsz = IVF_LIST_TUPLE_SIZE(so->dims);
	int			b;

	so->nitems = 0;
	so->truncated = false;

	for (b = so->batchStart; b < so->batchEnd; b++)
	{
		BlockNumber blkno = so->listOrder[b];

		while (BlockNumberIsValid(blkno))
		{
			Buffer		buf;
			Page		page;
			OffsetNumber off,
						maxoff;

			CHECK_FOR_INTERRUPTS();
			buf = IvfReadListPage(index, blkno, BUFFER_LOCK_SHARE, NULL);
			page = BufferGetPage(buf);
			maxoff = PageGetMaxOffsetNumber(page);
			for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
			{
				ItemId		iid = PageGetItemId(page, off);
				IvfListTuple lt;
				IvfScanItem it;

				if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) < itemsz)
					continue;
				lt = (IvfListTuple) PageGetItem(page, iid);
				/* a row whose key values fail costs no distance */
				if (so->filter &&
					!VsKeyFilterMatch(so->filter, IVF_LIST_TUPLE_KEYS(lt, so->dims)))
				{
					if (VsScanKeyReject())
						so->abandoned = true;
					continue;
				}
				it.dist = IvfDistance(so->metric, so->query, lt->x, so->dims);
				it.tid = lt->heaptid;
				/* +inf and NaN only in the last pass, and only there */
				if (!(it.dist < get_float4_infinity()) != so->tail)
				{
					so->sawUnbounded = true;
					continue;
				}
				if (so->haveLast && ItemCmp(&it, &so->last) <= 0)
					continue;
				Offer(so, &it);
			}
			blkno = IvfPageGetOpaque(page)->nextblkno;
			UnlockReleaseBuffer(buf);
		}
	}
	/* a min-heap: rows are popped in order, most scans need only a few */
	Heapify(so->items, so->nitems, false);
}

/* ListDist pairs a list with its centroid's distance, for sorting. */
typedef struct ListDist
{
	float		dist;
	int			list;
} ListDist;

static int
ListDistCmp(const void *a, const void *b)
{
	const ListDist *x = a;
	const ListDist *y = b;

	if (x->dist < y->dist)
		return -1;
	if (x->dist > y->dist)
		return 1;
	if (isnan(x->dist) != isnan(y->dist))
		return isnan(x->dist) ? 1 : -1;
	return x->list - y->list;
}

/*
 * StartScan prepares the query and ranks the lists; returns false when the
 * scan returns no rows (NULL query, or an index without lists).  Raises
 * the standard error for a query of other dimensions than the index.
 */
static bool
StartScan(IndexScanDesc scan)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;
	ScanKey		key = &scan->orderByData[0];
	const IvfCache *cache;
	Vector	   *q;
	ListDist   *ld;
	int			i;

	if (scan->numberOfOrderBys < 1 || (key->sk_flags & SK_ISNULL))
		return false;

	cache = IvfGetCache(scan->indexRelation);
	if (cache->nlists == 0)
		return false;
	q = DatumGetVector(key->sk_argument);
	if (q->dim != cache->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", cache->dims, q->dim)));

	so->metric = cache->metric;
	so->dims = cache->dims;
	so->nlists = cache->nlists;
	so->probes = IvfEffectiveProbes(so->nlists);
	so->query = palloc(sizeof(float) * so->dims);
	if (!IvfPrepareVector(so->metric, q->x, so->dims, so->query))
	{
		/* a zero query under cosine: every distance is NaN, any order is right */
		memset(so->query, 0, sizeof(float) * so->dims);
	}

	ld = palloc(sizeof(ListDist) * so->nlists);
	for (i = 0; i < so->nlists; i += IVF_DISTANCE_CHUNK)
	{
		float		dist[IVF_DISTANCE_CHUNK];
		int			count = Min(IVF_DISTANCE_CHUNK, so->nlists - i);

		IvfDistanceMany(so->metric, so->query, cache->centroids + (Size) i * so->dims,
						so->dims, count, dist);
		for (int j = 0; j < count; j++)
		{
			ld[i + j].dist = dist[j];
			ld[i + j].list = i + j;
		}
	}
	qsort(ld, so->nlists, sizeof(ListDist), ListDistCmp);
	so->listOrder = palloc(sizeof(BlockNumber) * so->nlists);
	for (i = 0; i < so->nlists; i++)
		so->listOrder[i] = cache->startPages[ld[i].list];
	pfree(ld);

	so->maxItems = (int) Min((double) work_mem * 1024.0 / sizeof(IvfScanItem),
							 (double) (MaxAllocHugeSize / sizeof(IvfScanItem)));
	so->maxItems = Max(so->maxItems, 64);
	so->capacity = Min(IVF_SCAN_INITIAL_ITEMS, so->maxItems);
	so->items = palloc(sizeof(IvfScanItem) * so->capacity);
	so->batchStart = so->batchEnd = 0;
	so->nitems = 0;
	so->truncated = false;
	so->haveLast = false;
	return true;
}

/*
 * ivfbeginscan allocates the scan descriptor and its private state in a
 * memory context of its own, freed by ivfendscan.
 */
IndexScanDesc
ivfbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext,
											  "vsearch_ivf scan",
											  ALLOCSET_DEFAULT_SIZES);
	IvfScanOpaque so = MemoryContextAllocZero(ctx, sizeof(IvfScanOpaqueData));

	so->ctx = ctx;
	scan->opaque = so;
	return scan;
}

/*
 * ivfrescan restarts the scan with new ORDER BY keys and scan keys (on
 * key columns, tested on stored values: common/vskeys.h); frees the
 * previous run's state.
 */
void
ivfrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;
	MemoryContext ctx = so->ctx;

	MemoryContextReset(ctx);
	so = MemoryContextAllocZero(ctx, sizeof(IvfScanOpaqueData));
	so->ctx = ctx;
	scan->opaque = so;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	{
		MemoryContext old = MemoryContextSwitchTo(ctx);
		bool		never;

		so->filter = VsKeyFilterCreate(scan->indexRelation, scan->keyData,
									   scan->numberOfKeys, &never);
		if (never)
			so->finished = true;
		MemoryContextSwitchTo(old);
	}
}

/*
 * ivfgettuple returns the next row in (approximate) distance order in
 * scan->xs_heaptid; false once every list was read.  Only forward scans.
 */
bool
ivfgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;
	MemoryContext old;

	if (so->finished)
		return false;
	if (!so->started)
	{
		if (scan->orderByData == NULL)
			elog(ERROR, "vsearch_ivf scans need an ORDER BY operator");
		old = MemoryContextSwitchTo(so->ctx);
		so->started = true;
		if (!StartScan(scan))
		{
			MemoryContextSwitchTo(old);
			so->finished = true;
			return false;
		}
		MemoryContextSwitchTo(old);
		pgstat_count_index_scan(scan->indexRelation);
	}

	while (so->nitems == 0)
	{
		old = MemoryContextSwitchTo(so->ctx);
		if (!so->truncated)
		{
			/* next batch; after the last one, every list for +inf and NaN */
			if (so->batchEnd >= so->nlists && (so->tail || !so->sawUnbounded))
			{
				MemoryContextSwitchTo(old);
				so->finished = true;
				return false;
			}
			if (so->batchEnd >= so->nlists)
			{
				so->tail = true;
				so->batchStart = 0;
			}
			else
				so->batchStart = so->batchEnd;
			so->batchEnd = Min(so->nlists, so->batchStart + (so->tail ? so->nlists : so->probes));
			so->haveLast = false;
			VsScanBatches++;
		}
		ReadBatch(scan);
		MemoryContextSwitchTo(old);
		if (so->abandoned)
		{
			so->finished = true;
			return false;
		}
	}

	so->last = so->items[0];
	so->items[0] = so->items[--so->nitems];
	if (so->nitems > 1)
		SiftDown(so->items, so->nitems, 0, false);
	so->haveLast = true;
	scan->xs_heaptid = so->last.tid;
	VsScanLastDistance = so->last.dist;
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	return true;
}

/* ivfendscan frees the scan's private state. */
void
ivfendscan(IndexScanDesc scan)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;

	MemoryContextDelete(so->ctx);
	scan->opaque = NULL;
}
