/*-------------------------------------------------------------------------
 *
 * ivfutils.c
 *	  Helpers shared by the vsearch_ivf callbacks: metric lookup, list and
 *	  probe defaults, page initialisation and the per-backend centroid
 *	  cache.
 *
 * Design: the distance of an operator class is identified once, from the
 * C symbol of its support function 1, and from then on computed by calling
 * the distance kernels directly: no fmgr call per vector.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfutils.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "common/vsbuffer.h"
#include "common/vsproc.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "types/vector.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"

/*
 * IvfGetMetric maps support function 1 of the index's operator class to an
 * IVF_METRIC_* value, or raises an error for a function vsearch_ivf cannot
 * compute itself.  Reads the catalogs; takes no buffer lock.
 */
int
IvfGetMetric(Relation index)
{
	Oid			procid = index_getprocid(index, 1, IVF_DISTANCE_PROC);
	char	   *symbol;
	int			metric = 0;

	if (!OidIsValid(procid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("operator class of index \"%s\" has no support function 1",
						RelationGetRelationName(index))));

	symbol = VsProcSymbol(procid);
	if (symbol != NULL)
	{
		if (strcmp(symbol, "vs_l2_squared_distance") == 0)
			metric = IVF_METRIC_L2;
		else if (strcmp(symbol, "vs_negative_inner_product") == 0)
			metric = IVF_METRIC_IP;
		else if (strcmp(symbol, "vs_cosine_distance") == 0)
			metric = IVF_METRIC_COSINE;
		pfree(symbol);
	}

	if (metric == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vsearch_ivf cannot compute support function %s of index \"%s\"",
						format_procedure(procid), RelationGetRelationName(index)),
				 errdetail("Support function 1 must be vector_l2_squared_distance, vector_negative_inner_product or cosine_distance.")));
	return metric;
}

/*
 * IvfDefaultLists is the number of lists chosen when the reloption is 0 or
 * absent: rows / 1000 up to a million rows, sqrt(rows) above, clamped to
 * 1..IVF_MAX_LISTS.
 */
int
IvfDefaultLists(double rows)
{
	double		lists;

	if (rows <= 1000000.0)
		lists = rows / 1000.0;
	else
		lists = sqrt(rows);
	if (lists < 1.0)
		return 1;
	if (lists > IVF_MAX_LISTS)
		return IVF_MAX_LISTS;
	return (int) lists;
}

/*
 * IvfEffectiveProbes is the number of lists a scan reads before it returns
 * its first row: vsearch.probes, or ceil(sqrt(nlists)) when that is 0,
 * clamped to 1..nlists.  nlists must be positive.
 */
int
IvfEffectiveProbes(int nlists)
{
	int			probes = ivf_probes;

	if (probes <= 0)
		probes = (int) ceil(sqrt((double) nlists));
	return Max(1, Min(probes, nlists));
}

/*
 * IvfColumnDims returns the dimensions fixed by the indexed column's type
 * modifier (vector(n)), or 0 when the column has none.
 */
int
IvfColumnDims(Relation index)
{
	int32		typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	return typmod > 0 ? typmod : 0;
}

/* IvfCheckIndexDims raises the limit error for vectors the index cannot hold. */
void
IvfCheckIndexDims(int dims)
{
	if (dims > IVF_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vsearch_ivf indexes support at most %d dimensions, not %d",
						IVF_MAX_DIM, dims)));
}

/*
 * IvfPrepareVector copies dims floats from in to out (which may be in),
 * normalised to unit length under cosine.  Returns false, leaving out
 * undefined, for a zero vector under cosine: it has no direction and is
 * not indexed.
 */
bool
IvfPrepareVector(int metric, const float *in, int dims, float *out)
{
	if (metric == IVF_METRIC_COSINE)
		return VsNormalize(in, out, dims);
	if (out != in)
		memcpy(out, in, sizeof(float) * (Size) dims);
	return true;
}

/*
 * IvfReadListPage returns block blkno of a list chain read with strategy
 * (NULL: through VsReadBuffer, the hot path of scans) and locked in mode,
 * raising the corruption error if it is not a list page.  The caller
 * unlocks and releases it.
 */
Buffer
IvfReadListPage(Relation index, BlockNumber blkno, int mode, BufferAccessStrategy strategy)
{
	Buffer		buf = strategy ? ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy) :
		VsReadBuffer(index, blkno);
	Page		page;

	LockBuffer(buf, mode);
	page = BufferGetPage(buf);
	if (PageIsNew(page) || (IvfPageGetOpaque(page)->flags & IVF_PAGE_LIST) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a broken list chain",
						RelationGetRelationName(index)),
				 errdetail("Block %u is not a list page.", blkno)));
	return buf;
}

/*
 * IvfListTupleSize returns the size of the list tuple of a vector of dims
 * dimensions with key tuple keys (NULL when the index has no key
 * columns), or raises an error when it cannot fit an empty list page.
 */
Size
IvfListTupleSize(Relation index, int dims, IndexTuple keys)
{
	Size		base = IVF_LIST_TUPLE_SIZE(dims);
	Size		size = keys ? MAXALIGN(base) + IndexTupleSize(keys) : base;

	if (MAXALIGN(size) > IVF_PAGE_ITEM_SPACE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("index row size %zu exceeds vsearch_ivf maximum %zu for index \"%s\"",
						MAXALIGN(size), (Size) IVF_PAGE_ITEM_SPACE,
						RelationGetRelationName(index)),
				 errdetail("The vector takes %zu bytes and the key columns %zu.",
						   MAXALIGN(base), VsKeysSize(keys)),
				 errhint("Index fewer or smaller key columns.")));
	return size;
}

/*
 * IvfFormListTuple returns a palloc'd list tuple for heaptid holding the
 * prepared vector x (dims floats) and the key tuple keys (NULL when the
 * index has no key columns), with its size in *size.  Raises an error when
 * it cannot fit an empty list page.
 */
IvfListTuple
IvfFormListTuple(Relation index, int dims, ItemPointer heaptid, const float *x,
				 IndexTuple keys, Size *size)
{
	IvfListTuple lt;

	*size = IvfListTupleSize(index, dims, keys);
	lt = palloc0(*size);
	lt->heaptid = *heaptid;
	memcpy(lt->x, x, sizeof(float) * (Size) dims);
	if (keys)
		memcpy(IVF_LIST_TUPLE_KEYS(lt, dims), keys, IndexTupleSize(keys));
	return lt;
}

/* IvfInitPage formats page as an empty page of the given kind. */
void
IvfInitPage(Page page, uint16 flags)
{
	IvfPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(IvfPageOpaqueData));
	opaque = IvfPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->flags = flags;
	opaque->page_id = IVF_PAGE_ID;
}

/*
 * IvfInitMetaPage formats page as a metapage of an index without lists and
 * sets pd_lower past the metadata, so WAL images keep it.
 */
void
IvfInitMetaPage(Page page, int dims, int metric, int requestedLists)
{
	IvfMetaPage meta;

	IvfInitPage(page, IVF_PAGE_META);
	meta = IvfPageGetMeta(page);
	memset(meta, 0, sizeof(IvfMetaPageData));
	meta->magic = IVF_MAGIC;
	meta->version = IVF_FORMAT_VERSION;
	meta->dims = dims;
	meta->nlists = 0;
	meta->metric = metric;
	meta->centroidStart = InvalidBlockNumber;
	meta->requestedLists = requestedLists;
	meta->trainedRows = 0;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(IvfMetaPageData)) - (char *) page;
}

/*
 * IvfCheckMetaPage raises an error unless page is a metapage of the format
 * this library reads.  The caller holds at least a share lock on it.
 */
void
IvfCheckMetaPage(Relation index, Page page)
{
	IvfMetaPage meta = IvfPageGetMeta(page);

	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfPageOpaqueData)) ||
		IvfPageGetOpaque(page)->page_id != IVF_PAGE_ID ||
		(IvfPageGetOpaque(page)->flags & IVF_PAGE_META) == 0 ||
		meta->magic != IVF_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a vsearch_ivf index",
						RelationGetRelationName(index)),
				 errdetail("Block 0 does not hold a valid metapage.")));
	if (meta->version != IVF_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index \"%s\" has on-disk format version %u, this library reads version %d",
						RelationGetRelationName(index), meta->version, IVF_FORMAT_VERSION),
				 errhint("REINDEX the index.")));
}

/*
 * IvfNewBuffer appends a page to the index and returns it pinned and
 * exclusively locked, not yet initialised.  It takes the relation
 * extension lock, as every core AM does, possibly while the caller holds
 * a lock on the last page of a list; that is the only lock taken while a
 * page lock is held, and its holder never waits for a page lock.
 */
Buffer
IvfNewBuffer(Relation index)
{
	bool		needLock = !RELATION_IS_LOCAL(index);
	Buffer		buf;

	if (needLock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (needLock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * ReadCentroids fills cache's arrays from the centroid chain that starts at
 * start, taking a share lock on one page at a time.  Raises
 * ERRCODE_INDEX_CORRUPTED if the chain does not hold exactly nlists
 * centroids of the right size.
 */
static void
ReadCentroids(Relation index, IvfCache *cache, BlockNumber start)
{
	BlockNumber blkno = start;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	Size		itemsz = IVF_CENTROID_TUPLE_SIZE(cache->dims);
	int			n = 0;
	BlockNumber pagesSeen = 0;

	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;

		CHECK_FOR_INTERRUPTS();
		if (blkno >= nblocks || ++pagesSeen > nblocks)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a broken centroid chain",
							RelationGetRelationName(index)),
					 errdetail("Block %u is beyond the end or the chain loops.", blkno)));
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) || IvfPageGetOpaque(page)->page_id != IVF_PAGE_ID ||
			(IvfPageGetOpaque(page)->flags & IVF_PAGE_CENTROID) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has a broken centroid chain",
							RelationGetRelationName(index)),
					 errdetail("Block %u is not a centroid page.", blkno)));
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
		{
			ItemId		iid = PageGetItemId(page, off);
			IvfCentroidTuple ct;

			if (n >= cache->nlists || ItemIdGetLength(iid) != itemsz)
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("index \"%s\" has a broken centroid chain",
								RelationGetRelationName(index)),
						 errdetail("Centroid page %u holds an unexpected item at offset %u.",
								   blkno, off)));
			ct = (IvfCentroidTuple) PageGetItem(page, iid);
			memcpy(cache->centroids + (Size) n * cache->dims, ct->x,
				   sizeof(float) * (Size) cache->dims);
			cache->startPages[n] = ct->startPage;
			ItemPointerSet(&cache->centroidTids[n], blkno, off);
			n++;
		}
		blkno = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	if (n != cache->nlists)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a broken centroid chain",
						RelationGetRelationName(index)),
				 errdetail("The metapage counts %d lists, the chain holds %d centroids.",
						   cache->nlists, n)));
}

/*
 * ReadCentroidsOrFree is ReadCentroids that frees cache before re-throwing
 * an error, so a corrupt chain leaves no chunk behind in rd_indexcxt.
 */
static void
ReadCentroidsOrFree(Relation index, IvfCache *cache, BlockNumber start)
{
	PG_TRY();
	{
		ReadCentroids(index, cache, start);
	}
	PG_CATCH();
	{
		pfree(cache);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * IvfGetCache returns this backend's centroid cache of index, reading the
 * metapage and the centroid pages when the cache is missing, stale or
 * describes an index without lists.  The result lives in rd_indexcxt and
 * stays valid until the next relcache invalidation, so callers copy what
 * they need before anything that may accept invalidation messages (taking
 * a heavyweight lock on a relation).  Takes and releases share locks.
 */
const IvfCache *
IvfGetCache(Relation index)
{
	IvfCache   *cache = (IvfCache *) index->rd_amcache;
	Buffer		buf;
	Page		page;
	IvfMetaPage meta;
	int			dims,
				nlists,
				metric;
	BlockNumber centroidStart;
	Size		sz;
	char	   *p;

	if (cache != NULL && cache->relNode == index->rd_node.relNode && cache->nlists > 0)
		return cache;

	buf = ReadBuffer(index, IVF_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	IvfCheckMetaPage(index, page);
	meta = IvfPageGetMeta(page);
	dims = meta->dims;
	nlists = meta->nlists;
	metric = meta->metric;
	centroidStart = meta->centroidStart;
	UnlockReleaseBuffer(buf);

	if (dims < 0 || dims > IVF_MAX_DIM || nlists < 0 || nlists > IVF_MAX_LISTS ||
		(nlists > 0 && dims == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has an invalid metapage",
						RelationGetRelationName(index)),
				 errdetail("It records %d dimensions and %d lists.", dims, nlists)));

	if (index->rd_amcache != NULL)
	{
		pfree(index->rd_amcache);
		index->rd_amcache = NULL;
	}

	/* one chunk: header, centroids, start pages, centroid locations */
	sz = MAXALIGN(sizeof(IvfCache));
	sz = add_size(sz, MAXALIGN(mul_size(mul_size(nlists, dims), sizeof(float))));
	sz = add_size(sz, MAXALIGN(mul_size(nlists, sizeof(BlockNumber))));
	sz = add_size(sz, MAXALIGN(mul_size(nlists, sizeof(ItemPointerData))));
	p = MemoryContextAllocHuge(index->rd_indexcxt, sz);
	cache = (IvfCache *) p;
	p += MAXALIGN(sizeof(IvfCache));
	/* cppcheck-suppress invalidPointerCast ; p points into a MAXALIGNed block */
	cache->centroids = (float *) p;
	p += MAXALIGN((Size) nlists * dims * sizeof(float));
	cache->startPages = (BlockNumber *) p;
	p += MAXALIGN((Size) nlists * sizeof(BlockNumber));
	cache->centroidTids = (ItemPointerData *) p;
	cache->relNode = index->rd_node.relNode;
	cache->dims = dims;
	cache->nlists = nlists;
	cache->metric = metric;

	if (nlists > 0)
		ReadCentroidsOrFree(index, cache, centroidStart);
	index->rd_amcache = cache;
	return cache;
}

/*
 * IvfNearestList returns the number of the centroid nearest to x under
 * metric; ties go to the lower number (a NaN first distance keeps list 0).
 * nlists must be positive.  The distances are computed a chunk of
 * centroids at a time with the batched kernels (x loaded once for several
 * centroids): the assignment pass of a build with many lists is mostly
 * this loop.
 */
int
IvfNearestList(const float *centroids, int nlists, int dims, int metric,
			   const float *x)
{
	float		dist[IVF_DISTANCE_CHUNK];
	int			best = 0;
	float		bestDist = 0;

	for (int start = 0; start < nlists; start += IVF_DISTANCE_CHUNK)
	{
		int			count = Min(IVF_DISTANCE_CHUNK, nlists - start);

		IvfDistanceMany(metric, x, centroids + (Size) start * dims, dims, count, dist);
		if (start == 0)
			bestDist = dist[0];
		for (int j = 0; j < count; j++)
		{
			if (dist[j] < bestDist)
			{
				bestDist = dist[j];
				best = start + j;
			}
		}
	}
	return best;
}
