/*-------------------------------------------------------------------------
 *
 * hnswutils.c
 *	  Options, distance set-up, page and tuple helpers, and the page-level
 *	  implementation of HnswGraphOps shared by inserts, scans and vacuum.
 *
 * Design: every read of an element or neighbour tuple takes the buffer's
 * share lock only for the time it needs to copy or use the tuple, and
 * never while holding another buffer lock, so readers and writers can not
 * deadlock on buffer locks (which have no deadlock detection).
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswutils.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/xloginsert.h"
#include "distance/distance.h"
#include "common/vsbuffer.h"
#include "common/vsproc.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/rel.h"

/* ---------- options and metric ---------- */

/*
 * HnswGetOptions returns the index's reloptions, or a static copy of the
 * defaults when none were given.  The result must not be freed.
 */
HnswOptions *
HnswGetOptions(Relation index)
{
	static HnswOptions defaults = {0, HNSW_DEFAULT_M, HNSW_DEFAULT_EF_CONSTRUCTION};

	if (index->rd_options == NULL)
		return &defaults;
	return (HnswOptions *) index->rd_options;
}

/*
 * HnswInitMetric looks up the opclass's support functions.  When the
 * distance function is one of vsearch's kernels it is called directly;
 * a user-defined opclass goes through fmgr.  FmgrInfos live in the
 * relcache entry's context (index_getprocinfo).
 */
void
HnswInitMetric(Relation index, HnswMetric *metric)
{
	char	   *symbol = VsProcSymbol(index_getprocid(index, 1, HNSW_DISTANCE_PROC));

	metric->distproc = index_getprocinfo(index, 1, HNSW_DISTANCE_PROC);
	metric->normproc = OidIsValid(index_getprocid(index, 1, HNSW_NORM_PROC)) ?
		index_getprocinfo(index, 1, HNSW_NORM_PROC) : NULL;
	metric->collation = index->rd_indcollation[0];

	if (symbol && strcmp(symbol, "vs_l2_squared_distance") == 0)
		metric->kind = HNSW_METRIC_L2SQ;
	else if (symbol && strcmp(symbol, "vs_negative_inner_product") == 0)
		metric->kind = HNSW_METRIC_NEG_DOT;
	else if (symbol && strcmp(symbol, "vs_l1_distance") == 0)
		metric->kind = HNSW_METRIC_L1;
	else
		metric->kind = HNSW_METRIC_FMGR;
}

/*
 * HnswDistance returns the index-order distance between two vectors.  It
 * is computed in float4, as the operators compute it, so vectors with huge
 * elements can be +inf apart (or -inf under inner product); a NaN (an
 * inner product whose terms overflow to both +inf and -inf) is returned
 * as +inf, which heaps and sorts can order.
 */
float
HnswDistance(const HnswMetric *metric, const Vector *a, const Vector *b)
{
	float		d;

	switch (metric->kind)
	{
		case HNSW_METRIC_L2SQ:
			d = VsL2Squared(a->x, b->x, a->dim);
			break;
		case HNSW_METRIC_NEG_DOT:
			d = -VsDot(a->x, b->x, a->dim);
			break;
		case HNSW_METRIC_L1:
			d = VsL1(a->x, b->x, a->dim);
			break;
		default:
			d = (float) DatumGetFloat8(FunctionCall2Coll(metric->distproc,
														 metric->collation,
														 PointerGetDatum(a),
														 PointerGetDatum(b)));
			break;
	}
	return isnan(d) ? get_float4_infinity() : d;
}

/*
 * HnswPrepareVector returns a palloc'd copy of value ready for the index:
 * dimensions checked against expect_dim (when > 0) and normalised when the
 * opclass asks.  Returns NULL for a vector the index does not hold (zero
 * norm under a normalising opclass).
 */
Vector *
HnswPrepareVector(const HnswMetric *metric, Datum value, int expect_dim)
{
	Vector	   *v = (Vector *) PG_DETOAST_DATUM_COPY(value);

	if (expect_dim > 0 && v->dim != expect_dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", expect_dim, v->dim)));
	if (metric->normproc != NULL)
	{
		double		norm = DatumGetFloat8(FunctionCall1Coll(metric->normproc,
															metric->collation,
															PointerGetDatum(v)));

		if (!(norm > 0.0) || isinf(norm))
			return NULL;
		for (int i = 0; i < v->dim; i++)
			v->x[i] = (float) ((double) v->x[i] / norm);
	}
	return v;
}

/* ---------- element tuples ---------- */

/*
 * HnswElementSize returns the size of the element tuple of a vector of dim
 * dimensions with key tuple keys (NULL when the index has no key
 * columns), or raises an error when it cannot fit on an index page.
 */
Size
HnswElementSize(Relation index, int dim, IndexTuple keys)
{
	Size		size = HNSW_ELEMENT_TUPLE_SIZE(dim) + VsKeysSize(keys);

	if (MAXALIGN(size) > HNSW_MAX_ELEMENT_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("index row size %zu exceeds vsearch_hnsw maximum %zu for index \"%s\"",
						MAXALIGN(size), (Size) HNSW_MAX_ELEMENT_SIZE,
						RelationGetRelationName(index)),
				 errdetail("The vector takes %zu bytes and the key columns %zu.",
						   (Size) HNSW_ELEMENT_TUPLE_SIZE(dim), VsKeysSize(keys)),
				 errhint("Index fewer or smaller key columns.")));
	return size;
}

/*
 * HnswFillElement writes an element tuple of the given level for vec,
 * holding heaptid (when valid) and the key tuple keys, into etup, which
 * has HnswElementSize() bytes.  The neighbour TID is left invalid.
 */
void
HnswFillElement(HnswElementTuple etup, int level, Vector *vec, ItemPointer heaptid,
				IndexTuple keys)
{
	memset(etup, 0, HNSW_ELEMENT_TUPLE_SIZE(vec->dim));
	etup->type = HNSW_ELEMENT_TUPLE;
	etup->level = level;
	for (int t = 0; t < HNSW_HEAPTIDS; t++)
		ItemPointerSetInvalid(&etup->heaptids[t]);
	if (heaptid != NULL)
		etup->heaptids[0] = *heaptid;
	ItemPointerSetInvalid(&etup->neighbortid);
	memcpy(&etup->vec, vec, VARSIZE(vec));
	if (keys != NULL)
		memcpy((char *) etup + HNSW_ELEMENT_TUPLE_SIZE(vec->dim), keys, IndexTupleSize(keys));
}

/*
 * HnswElementKeys returns the key tuple stored in element etup of index
 * (a pointer into etup), or NULL when the index has no key columns.
 */
IndexTuple
HnswElementKeys(Relation index, HnswElementTuple etup)
{
	if (!VsIndexHasKeys(index))
		return NULL;
	return (IndexTuple) ((char *) etup + HNSW_ELEMENT_TUPLE_SIZE(etup->vec.dim));
}

/* ---------- pages ---------- */

/* HnswInitPage formats an empty page of the given kind. */
void
HnswInitPage(Page page, uint16 flags)
{
	HnswPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
	opaque = HnswPageGetOpaque(page);
	opaque->flags = flags;
	opaque->page_id = HNSW_PAGE_ID;
}

/* Fills page with a metapage for an empty index. */
static void
FillMetapage(Page page, int dim, int m, int efc)
{
	HnswMetaPage meta;

	HnswInitPage(page, HNSW_PAGE_META);
	meta = HnswPageGetMeta(page);
	memset(meta, 0, sizeof(HnswMetaPageData));
	meta->magic = HNSW_MAGIC;
	meta->version = HNSW_VERSION;
	meta->dimensions = dim;
	meta->m = m;
	meta->ef_construction = efc;
	ItemPointerSetInvalid(&meta->entry);
	meta->entry_level = -1;
	meta->insert_page = InvalidBlockNumber;
	/* pd_lower past the contents, or a full-page image would drop them */
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
}

/*
 * HnswWriteEmptyMetapage writes block 0 of fork: through shared buffers for
 * the main fork (logged when wal), directly with an immediate sync for the
 * init fork of an unlogged index (always logged, as bloom does).
 */
void
HnswWriteEmptyMetapage(Relation index, ForkNumber fork, int dim, int m, int efc, bool wal)
{
	if (fork == INIT_FORKNUM)
	{
		Page		page = (Page) palloc(BLCKSZ);

		FillMetapage(page, dim, m, efc);
		PageSetChecksumInplace(page, HNSW_METAPAGE_BLKNO);
		smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, HNSW_METAPAGE_BLKNO,
				  (char *) page, true);
		log_newpage(&RelationGetSmgr(index)->smgr_rnode.node, INIT_FORKNUM,
					HNSW_METAPAGE_BLKNO, page, true);
		smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
		pfree(page);
	}
	else
	{
		Buffer		buf = HnswNewBuffer(index);
		HnswEdit	edit;

		Assert(BufferGetBlockNumber(buf) == HNSW_METAPAGE_BLKNO);
		HnswEditBegin(&edit, index, wal);
		FillMetapage(HnswEditPage(&edit, buf, true), dim, m, efc);
		HnswEditFinish(&edit);
		UnlockReleaseBuffer(buf);
	}
}

/*
 * HnswReadMeta copies the metapage contents, checking magic and version:
 * an index written by an incompatible version must be rebuilt.
 */
void
HnswReadMeta(Relation index, HnswMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(meta, HnswPageGetMeta(BufferGetPage(buf)), sizeof(HnswMetaPageData));
	UnlockReleaseBuffer(buf);
	if (meta->magic != HNSW_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a vsearch_hnsw index",
						RelationGetRelationName(index))));
	if (meta->version != HNSW_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" has on-disk format version %u, this library reads version %d",
						RelationGetRelationName(index), meta->version, HNSW_VERSION),
				 errhint("REINDEX the index.")));
}

/*
 * HnswNewBuffer extends the index by one page and returns it exclusively
 * locked; the caller formats it (with a full-page image when logged).
 */
Buffer
HnswNewBuffer(Relation index)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * HnswPageReusableSpace returns the free space of a page plus the space
 * of tuples vacuum freed there: what the free space map should record.
 */
Size
HnswPageReusableSpace(Page page)
{
	Size		space = PageGetFreeSpace(page);

	for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
		 off = OffsetNumberNext(off))
	{
		ItemId		iid = PageGetItemId(page, off);

		if (ItemIdIsNormal(iid) && *((uint8 *) PageGetItem(page, iid)) == HNSW_FREE_TUPLE)
			space += MAXALIGN(ItemIdGetLength(iid));
	}
	return space;
}

/* HnswPageFits says whether a tuple of size bytes fits the page's free space. */
bool
HnswPageFits(Page page, Size size)
{
	return PageGetFreeSpace(page) >= MAXALIGN(size);
}

/*
 * HnswPageAddTuple stores item on page, reusing a tuple vacuum freed when
 * one can take it, else adding a line pointer.  Returns false if the page
 * has no room.  The page must be exclusively locked (in an edit).
 */
bool
HnswPageAddTuple(Page page, Item item, Size size, OffsetNumber *offno)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		iid = PageGetItemId(page, off);

		if (!ItemIdIsNormal(iid) || *((uint8 *) PageGetItem(page, iid)) != HNSW_FREE_TUPLE)
			continue;
		if (ItemIdGetLength(iid) >= size || PageGetExactFreeSpace(page) >= MAXALIGN(size))
		{
			if (PageIndexTupleOverwrite(page, off, item, size))
			{
				*offno = off;
				return true;
			}
		}
	}
	*offno = PageAddItem(page, item, size, InvalidOffsetNumber, false, false);
	return *offno != InvalidOffsetNumber;
}

/*
 * HnswForEachElement calls fn for every element tuple (deleted ones
 * included) of page blkno, holding the page's share lock; fn must neither
 * read other pages nor keep the tuple pointer.  Pages that are new or not
 * element pages are skipped.
 */
void
HnswForEachElement(Relation index, BlockNumber blkno, BufferAccessStrategy strategy,
				   HnswElementFn fn, void *arg)
{
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (!PageIsNew(page) && (HnswPageGetOpaque(page)->flags & HNSW_PAGE_ELEMENTS))
	{
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
			 off = OffsetNumberNext(off))
		{
			ItemId		iid = PageGetItemId(page, off);
			HnswElementTuple etup;
			ItemPointerData tid;

			if (!ItemIdIsNormal(iid))
				continue;
			etup = (HnswElementTuple) PageGetItem(page, iid);
			if (etup->type != HNSW_ELEMENT_TUPLE)
				continue;
			ItemPointerSet(&tid, blkno, off);
			fn(etup, &tid, arg);
		}
	}
	UnlockReleaseBuffer(buf);
}

/* ---------- edits ---------- */

void
HnswEditBegin(HnswEdit *edit, Relation index, bool wal)
{
	edit->wal = wal;
	edit->nbuf = 0;
	edit->state = wal ? GenericXLogStart(index) : NULL;
}

/*
 * HnswEditPage registers an exclusively locked buffer and returns the page
 * to modify (a Generic WAL copy when logged).
 */
Page
HnswEditPage(HnswEdit *edit, Buffer buf, bool fullimage)
{
	Assert(edit->nbuf < MAX_GENERIC_XLOG_PAGES);
	edit->bufs[edit->nbuf++] = buf;
	if (edit->wal)
		return GenericXLogRegisterBuffer(edit->state, buf,
										 fullimage ? GENERIC_XLOG_FULL_IMAGE : 0);
	return BufferGetPage(buf);
}

/* HnswEditFinish applies the changes (one WAL record when logged). */
void
HnswEditFinish(HnswEdit *edit)
{
	if (edit->wal)
		GenericXLogFinish(edit->state);
	else
		for (int i = 0; i < edit->nbuf; i++)
			MarkBufferDirty(edit->bufs[i]);
}

/* HnswEditAbort discards the changes; only valid for logged edits. */
void
HnswEditAbort(HnswEdit *edit)
{
	if (edit->wal)
		GenericXLogAbort(edit->state);
}

/* ---------- page-level graph access ---------- */

/*
 * ReadElementTuple returns the element tuple at tid on a share-locked page,
 * or NULL if the slot holds no element (freed, or not an element).
 */
static HnswElementTuple
ReadElementTuple(Page page, ItemPointer tid)
{
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	ItemId		iid;
	HnswElementTuple etup;

	if (off > PageGetMaxOffsetNumber(page))
		return NULL;
	iid = PageGetItemId(page, off);
	if (!ItemIdIsNormal(iid))
		return NULL;
	etup = (HnswElementTuple) PageGetItem(page, iid);
	if (etup->type != HNSW_ELEMENT_TUPLE)
		return NULL;
	return etup;
}

/*
 * HnswLoadVector returns a palloc'd copy of the vector of the element at
 * tid, and its level, or NULL if there is no element there.
 */
Vector *
HnswLoadVector(Relation index, ItemPointer tid, int *level)
{
	Buffer		buf = VsReadBuffer(index, ItemPointerGetBlockNumber(tid));
	HnswElementTuple etup;
	Vector	   *copy = NULL;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	etup = ReadElementTuple(BufferGetPage(buf), tid);
	if (etup != NULL)
	{
		copy = palloc(VARSIZE(&etup->vec));
		memcpy(copy, &etup->vec, VARSIZE(&etup->vec));
		if (level)
			*level = etup->level;
	}
	UnlockReleaseBuffer(buf);
	return copy;
}

/*
 * HnswLoadNeighbors copies the valid neighbour TIDs of layer lc of the
 * element at elemtid into out (HNSW_LAYER_SLOTS(lc, m) capacity) and
 * returns their number; 0 when the element is gone or has no layer lc.
 * The element's neighbour tuple TID is stored in *nbrtid when not NULL.
 */
int
HnswLoadNeighbors(Relation index, ItemPointer elemtid, int lc, int m,
				  ItemPointerData *out, ItemPointerData *nbrtid)
{
	Buffer		buf = VsReadBuffer(index, ItemPointerGetBlockNumber(elemtid));
	Page		page;
	HnswElementTuple etup;
	ItemPointerData ntid;
	int			level;
	int			count = 0;
	OffsetNumber off;
	ItemId		iid;
	HnswNeighborTuple ntup;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	etup = ReadElementTuple(page, elemtid);
	if (etup == NULL || etup->level < lc)
	{
		UnlockReleaseBuffer(buf);
		return 0;
	}
	ntid = etup->neighbortid;
	level = etup->level;
	if (nbrtid)
		*nbrtid = ntid;

	if (ItemPointerGetBlockNumber(&ntid) != BufferGetBlockNumber(buf))
	{
		UnlockReleaseBuffer(buf);
		buf = VsReadBuffer(index, ItemPointerGetBlockNumber(&ntid));
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
	}
	off = ItemPointerGetOffsetNumber(&ntid);
	if (off <= PageGetMaxOffsetNumber(page))
	{
		iid = PageGetItemId(page, off);
		ntup = ItemIdIsNormal(iid) ? (HnswNeighborTuple) PageGetItem(page, iid) : NULL;
		if (ntup != NULL && ntup->type == HNSW_NEIGHBOR_TUPLE &&
			ntup->count == HNSW_NEIGHBOR_SLOTS(level, m))
		{
			int			start = HNSW_LAYER_START(lc, m);

			for (int i = 0; i < HNSW_LAYER_SLOTS(lc, m); i++)
				if (ItemPointerIsValid(&ntup->tids[start + i]))
					out[count++] = ntup->tids[start + i];
		}
	}
	UnlockReleaseBuffer(buf);
	return count;
}



static bool
DiskVisit(void *arg, uint64 id)
{
	HnswDiskCtx *ctx = (HnswDiskCtx *) arg;

	return VsTidSetAdd(ctx->visited, id);
}

/*
 * DiskDistance computes the query's distance to the element at id under a
 * share lock, without copying the vector.  Elements marked deleted are
 * still usable for navigation; they are remembered in ctx->deleted.
 */
static bool
DiskDistance(void *arg, uint64 id, float *dist)
{
	HnswDiskCtx *ctx = (HnswDiskCtx *) arg;
	ItemPointerData tid;
	Buffer		buf;
	HnswElementTuple etup;
	bool		ok = false;

	VsKeyToTid(id, &tid);
	buf = VsReadBuffer(ctx->index, ItemPointerGetBlockNumber(&tid));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	etup = ReadElementTuple(BufferGetPage(buf), &tid);
	if (etup != NULL && etup->vec.dim == ctx->dim)
	{
		*dist = HnswDistance(&ctx->metric, ctx->query, &etup->vec);
		if (etup->deleted && ctx->deleted)
			VsTidSetAdd(ctx->deleted, id);
		ok = true;
	}
	UnlockReleaseBuffer(buf);
	return ok;
}

#define DISTANCE_CHUNK 16
#define DISTANCE_AHEAD 2

/*
 * PrefetchRest asks for the lines of an element tuple past its first three
 * (the vector, read by the kernel next), stopping at the page's end.  The
 * tuple's address was read without a lock: it only chooses what to
 * prefetch.  DiskDistances calls it DISTANCE_AHEAD elements before their
 * distance, so the kernel finds the vector loaded instead of streaming it
 * from memory: unfiltered ef_search 40, queries/s medians of 8-10 passes
 * alternating libraries, 200,000 x 768 1,299 -> 1,341 and fashion-mnist
 * 1,674 -> 1,724 (1 ahead gave the same; 4 or all 16 at once were slower).
 */
static inline void
PrefetchRest(const char *tup, Size len, const char *page)
{
	const char *end = Min(tup + len, page + BLCKSZ);

	for (const char *l = tup + 192; l < end; l += 64)
		__builtin_prefetch(l);
}

/*
 * DiskDistances computes the query's distance to n elements, in chunks of
 * DISTANCE_CHUNK pages pinned at once (few enough for the smallest
 * shared_buffers): prefetch what pinning each page will touch (its buffer
 * descriptor and first lines, when this backend has read the page before),
 * pin each page and prefetch its line pointer, prefetch each tuple's first
 * cache lines, then lock each page in turn and compute.  Without the first
 * pass every pin waited for its descriptor's cache line in turn (pgbench,
 * one client, 1,000,000 x 128, ef_search 30: 1,572 -> 1,789 and 1,544 ->
 * 1,822 TPS, medians of two series alternating the builds).  The middle
 * passes read the pages without a lock, only to choose prefetch addresses
 * (a prefetch never faults); every value used is read under the share
 * lock.  While computing one distance, the rest of the element tuple
 * DISTANCE_AHEAD places on is prefetched (PrefetchRest).  Overlapping the
 * cache misses of a neighbour list is what makes a search fast once pages
 * are in memory.
 */
static void
DiskDistances(void *arg, const uint64 *ids, int n, float *dists, bool *ok)
{
	HnswDiskCtx *ctx = (HnswDiskCtx *) arg;
	Size		tuplen = HNSW_ELEMENT_TUPLE_SIZE(ctx->dim);

	for (int base = 0; base < n; base += DISTANCE_CHUNK)
	{
		int			k = Min(DISTANCE_CHUNK, n - base);
		Buffer		bufs[DISTANCE_CHUNK];
		ItemPointerData tids[DISTANCE_CHUNK];
		char	   *tups[DISTANCE_CHUNK];	/* for prefetching only */

		for (int i = 0; i < k; i++)
		{
			VsKeyToTid(ids[base + i], &tids[i]);
			VsPrefetchBuffer(ctx->index, ItemPointerGetBlockNumber(&tids[i]),
							 ItemPointerGetOffsetNumber(&tids[i]));
		}
		for (int i = 0; i < k; i++)
		{
			Page		page;

			bufs[i] = VsReadBuffer(ctx->index, ItemPointerGetBlockNumber(&tids[i]));
			page = BufferGetPage(bufs[i]);
			__builtin_prefetch(PageGetItemId(page, ItemPointerGetOffsetNumber(&tids[i])));
		}
		for (int i = 0; i < k; i++)
		{
			Page		page = BufferGetPage(bufs[i]);
			ItemId		iid = PageGetItemId(page, ItemPointerGetOffsetNumber(&tids[i]));
			char	   *tup = (char *) page + (ItemIdGetOffset(iid) & (BLCKSZ - 1));

			tups[i] = tup;
			__builtin_prefetch(tup);
			__builtin_prefetch(tup + 64);
			__builtin_prefetch(tup + 128);
			if (i < DISTANCE_AHEAD)
				PrefetchRest(tup, tuplen, (char *) page);
		}
		for (int i = 0; i < k; i++)
		{
			HnswElementTuple etup;

			if (i + DISTANCE_AHEAD < k)
				PrefetchRest(tups[i + DISTANCE_AHEAD], tuplen,
							 (char *) BufferGetPage(bufs[i + DISTANCE_AHEAD]));
			ok[base + i] = false;
			LockBuffer(bufs[i], BUFFER_LOCK_SHARE);
			etup = ReadElementTuple(BufferGetPage(bufs[i]), &tids[i]);
			if (etup != NULL && etup->vec.dim == ctx->dim)
			{
				dists[base + i] = HnswDistance(&ctx->metric, ctx->query, &etup->vec);
				if (etup->deleted && ctx->deleted)
					VsTidSetAdd(ctx->deleted, ids[base + i]);
				ok[base + i] = true;
			}
			UnlockReleaseBuffer(bufs[i]);
		}
	}
}

static int
DiskNeighbors(void *arg, uint64 id, int lc, uint64 *out, int max)
{
	HnswDiskCtx *ctx = (HnswDiskCtx *) arg;
	ItemPointerData tid;
	ItemPointerData tids[2 * HNSW_MAX_M];
	int			n;

	VsKeyToTid(id, &tid);
	n = HnswLoadNeighbors(ctx->index, &tid, lc, ctx->m, tids, NULL);
	n = Min(n, max);
	for (int i = 0; i < n; i++)
		out[i] = VsTidToKey(&tids[i]);
	return n;
}

static float
DiskPairDistance(void *arg, uint64 a, uint64 b)
{
	HnswDiskCtx *ctx = (HnswDiskCtx *) arg;
	ItemPointerData ta,
				tb;
	Vector	   *va,
			   *vb;
	float		d;

	VsKeyToTid(a, &ta);
	VsKeyToTid(b, &tb);
	va = HnswLoadVector(ctx->index, &ta, NULL);
	vb = HnswLoadVector(ctx->index, &tb, NULL);
	if (va == NULL || vb == NULL)
		return get_float4_infinity();
	d = HnswDistance(&ctx->metric, va, vb);
	pfree(va);
	pfree(vb);
	return d;
}

const HnswGraphOps HnswDiskOps = {
	DiskVisit, DiskDistance, DiskNeighbors, DiskPairDistance, DiskDistances
};

/*
 * HnswDiskCtxInit prepares a page-level search for query (already prepared
 * with HnswPrepareVector); allocations go to CurrentMemoryContext.
 */
void
HnswDiskCtxInit(HnswDiskCtx *ctx, Relation index, Vector *query)
{
	HnswMetaPageData meta;

	/* m from the metapage: ALTER INDEX ... SET (m) must not change the layout */
	HnswReadMeta(index, &meta);
	ctx->index = index;
	HnswInitMetric(index, &ctx->metric);
	ctx->m = meta.m;
	ctx->dim = query ? query->dim : 0;
	ctx->query = query;
	ctx->visited = VsTidSetCreate(CurrentMemoryContext, 256);
	ctx->deleted = NULL;
}

/*
 * HnswLoadEntry reads the entry point from meta and computes the query's
 * distance to it (marking it visited); *found is false for an empty index.
 */
void
HnswLoadEntry(HnswDiskCtx *ctx, HnswMetaPageData *meta, VsHeapEntry *entry, bool *found)
{
	uint64		key;

	*found = false;
	if (!ItemPointerIsValid(&meta->entry) || meta->entry_level < 0)
		return;
	key = VsTidToKey(&meta->entry);
	VsTidSetAdd(ctx->visited, key);
	if (!DiskDistance(ctx, key, &entry->dist))
		return;
	entry->id = key;
	*found = true;
}

/*
 * HnswDescend walks greedily (ef = 1) from *ep on layer top down to layer
 * bottom + 1, leaving in *ep the closest element found; each layer is
 * searched afresh from the element found above, so ctx->visited ends
 * holding only *ep.  Scans, inserts and vacuum's reconnect pass share it.
 */
void
HnswDescend(HnswDiskCtx *ctx, VsHeapEntry *ep, int top, int bottom)
{
	for (int lc = top; lc > bottom; lc--)
	{
		VsHeap		w;

		VsHeapInit(&w, 2, true);
		HnswSearchLayer(&HnswDiskOps, ctx, ep, 1, 1, lc, ctx->m, &w);
		*ep = *VsHeapTop(&w);
		pfree(w.items);
		VsTidSetReset(ctx->visited);
		VsTidSetAdd(ctx->visited, ep->id);
	}
}

/*
 * HnswDescendSeeds descends from *ep greedily to layer 1, searches layer
 * 1 with a window of ef and returns its elements, closest first, as the
 * seeds of a layer-0 search (palloc'd; *nseeds of them).  ctx->visited
 * ends holding exactly the seeds.  With no layer above 0, or ef <= 1, the
 * seed is *ep after the greedy walk.  Scans use it; the in-memory build
 * starts its elements the same way over its own graph (hnswbuild.c).
 */
VsHeapEntry *
HnswDescendSeeds(HnswDiskCtx *ctx, VsHeapEntry *ep, int top, int ef, int *nseeds)
{
	VsHeap		w;
	VsHeapEntry *seeds;

	if (top < 1 || ef <= 1)
	{
		HnswDescend(ctx, ep, top, 0);
		seeds = palloc(sizeof(VsHeapEntry));
		seeds[0] = *ep;
		*nseeds = 1;
		return seeds;
	}
	HnswDescend(ctx, ep, top, 1);
	VsHeapInit(&w, ef + 1, true);
	HnswSearchLayer(&HnswDiskOps, ctx, ep, 1, ef, 1, ctx->m, &w);
	seeds = HnswHeapToSorted(&w, nseeds);
	pfree(w.items);
	VsTidSetReset(ctx->visited);
	for (int i = 0; i < *nseeds; i++)
		VsTidSetAdd(ctx->visited, seeds[i].id);
	return seeds;
}

/* ---------- neighbour selection over loaded vectors ---------- */

typedef struct LocalVectors
{
	const HnswMetric *metric;
	Vector	  **vecs;
} LocalVectors;

static float
LocalPairDistance(void *arg, uint64 a, uint64 b)
{
	LocalVectors *lv = (LocalVectors *) arg;

	return HnswDistance(lv->metric, lv->vecs[a], lv->vecs[b]);
}

static const HnswGraphOps LocalOps = {NULL, NULL, NULL, LocalPairDistance, NULL};

/*
 * HnswSelectLocal runs the neighbour heuristic over candidates whose
 * vectors are already in memory: sorted[i].id is an index into vecs (no
 * NULL entries), so each pairwise distance is one kernel call.  Returns
 * the chosen entries, ids still indexes into vecs.
 */
int
HnswSelectLocal(const HnswMetric *metric, const VsHeapEntry *sorted, int ncands,
				Vector **vecs, int max, VsHeapEntry *out)
{
	LocalVectors lv;

	lv.metric = metric;
	lv.vecs = vecs;
	return HnswSelectNeighbors(&LocalOps, &lv, sorted, ncands, max, out, NULL);
}

/*
 * HnswRankRedundant ranks n vectors (the members of a full neighbour list
 * of center and a newcomer) from the most to the least redundant, writing
 * their indexes to rank, and for each the index of its nearest kept
 * sibling to sibling (-1 when it has none).  Dropping the farthest member
 * the selection heuristic passes over cuts the long links between clusters
 * first (they are far, and some member is always a little closer to them
 * than center), and once a cluster's last such link is gone every later
 * element of it is unreachable too.  A member is redundant when its
 * nearest kept sibling is close relative to its distance from center: a
 * search through that sibling is likely to find it.  A link into an
 * otherwise empty direction scores near 1.
 *
 * Redundancy is a question about positions, so it is measured in squared
 * Euclidean distance whatever the opclass (the vectors are normalised
 * already under cosine): ratios of inner products mean nothing.  The kept
 * set is the heuristic's (a vector is kept unless a kept one is at most as
 * far from it as center is); siblings are sought among the kept ones only,
 * which costs n times the kept count, not n squared.  Ties: the farther
 * from center ranks first.  Allocates in CurrentMemoryContext.
 */
void
HnswRankRedundant(const Vector *center, Vector **vecs, int n, int *rank, int *sibling)
{
	float	   *fromc = palloc(sizeof(float) * n);
	float	   *nearest = palloc(sizeof(float) * n);
	VsHeapEntry *order = palloc(sizeof(VsHeapEntry) * n);
	int		   *kept = palloc(sizeof(int) * n);
	int			nkept = 0;

	for (int i = 0; i < n; i++)
	{
		fromc[i] = VsL2Squared(center->x, vecs[i]->x, center->dim);
		nearest[i] = get_float4_infinity();
		sibling[i] = -1;
		order[i].id = i;
		order[i].dist = fromc[i];
	}
	HnswSortEntries(order, n);
	for (int o = 0; o < n; o++)
	{
		int			i = (int) order[o].id;
		bool		dominated = false;

		for (int k = 0; k < nkept; k++)
		{
			float		d = VsL2Squared(vecs[i]->x, vecs[kept[k]]->x, center->dim);

			if (d < nearest[i] || sibling[i] < 0)
			{
				nearest[i] = d;
				sibling[i] = kept[k];
			}
			if (d < nearest[kept[k]] || sibling[kept[k]] < 0)
			{
				nearest[kept[k]] = d;
				sibling[kept[k]] = i;
			}
			if (HnswPrunes(d, fromc[i]))
				dominated = true;
		}
		if (!dominated)
			kept[nkept++] = i;
	}

	/* order by score = nearest / fromc, ascending; ties farther first */
	for (int i = 0; i < n; i++)
	{
		double		score;

		/*
		 * A member infinitely far from center and from every kept vector
		 * (huge elements) is the only way to its region: it stays.  The
		 * NaN score inf / inf would fail every comparison below, and as
		 * the first member it would go whatever the others score.
		 */
		if (isinf(fromc[i]) && isinf(nearest[i]))
			score = get_float8_infinity();
		else if (fromc[i] > 0)
			score = (double) nearest[i] / fromc[i];
		else
			score = nearest[i] > 0 ? get_float8_infinity() : 0;
		order[i].id = i;
		order[i].dist = (float) score;
	}
	for (int a = 1; a < n; a++)
	{
		VsHeapEntry x = order[a];
		int			b = a - 1;

		while (b >= 0 && (order[b].dist > x.dist ||
						  (order[b].dist == x.dist && fromc[order[b].id] < fromc[x.id])))
		{
			order[b + 1] = order[b];
			b--;
		}
		order[b + 1] = x;
	}
	for (int i = 0; i < n; i++)
		rank[i] = (int) order[i].id;
	pfree(fromc);
	pfree(nearest);
	pfree(order);
	pfree(kept);
}

/* EntryDistCmp orders entries by distance, closest first (qsort). */
static int
EntryDistCmp(const void *a, const void *b)
{
	float		x = ((const VsHeapEntry *) a)->dist;
	float		y = ((const VsHeapEntry *) b)->dist;

	return (x > y) - (x < y);
}

/* HnswSortEntries sorts by ascending distance: insertion sort up to 32 entries, else qsort. */
void
HnswSortEntries(VsHeapEntry *entries, int n)
{
	/* scan batches and flat passes can hold thousands of entries */
	if (n > 32)
	{
		qsort(entries, n, sizeof(VsHeapEntry), EntryDistCmp);
		return;
	}
	for (int i = 1; i < n; i++)
	{
		VsHeapEntry x = entries[i];
		int			j = i - 1;

		while (j >= 0 && entries[j].dist > x.dist)
		{
			entries[j + 1] = entries[j];
			j--;
		}
		entries[j + 1] = x;
	}
}
