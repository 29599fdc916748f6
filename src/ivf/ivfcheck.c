/*-------------------------------------------------------------------------
 *
 * ivfcheck.c
 *	  vsearch_ivf_check(regclass): a structure checker for vsearch_ivf
 *	  indexes.
 *
 * Design: the checker walks the index the way scans do (metapage, the
 * centroid chain, then every list chain from its first page) and marks
 * each block it reaches; a block reached twice is a loop or two chains
 * sharing a page.  Blocks reached by no chain must be new (all zero): only
 * a crash between extending the file and logging the page that links the
 * new block leaves one behind.  The first problem raises
 * ERRCODE_INDEX_CORRUPTED with a detail naming the block.  It holds a
 * ShareLock on the table, so no row is inserted or removed meanwhile and
 * the unreachable-block test is exact; readers are not blocked.  On a
 * standby, where only AccessShareLock may be taken, run it when replay is
 * quiet: a page linked by replay during the walk could be reported.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfcheck.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "common/vsfmgr.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

typedef struct CheckState
{
	Relation	index;
	BlockNumber nblocks;
	bool	   *seen;			/* nblocks entries */
	int			dims;
	int			metric;
} CheckState;

/* Corrupt raises the checker's error with a formatted detail. */
static void
pg_attribute_noreturn()
pg_attribute_printf(2, 3)
Corrupt(CheckState *cs, const char *fmt,...)
{
	char		buf[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" is corrupted", RelationGetRelationName(cs->index)),
			 errdetail_internal("%s", buf)));
}

/*
 * Visit marks blkno as reached, growing the block count when concurrent
 * inserts extended the index; raises an error for a block beyond the end
 * or reached twice.
 */
static void
Visit(CheckState *cs, BlockNumber blkno, const char *what)
{
	if (blkno >= cs->nblocks)
	{
		BlockNumber n = RelationGetNumberOfBlocks(cs->index);

		if (blkno >= n)
			Corrupt(cs, "The %s links to block %u, beyond the last block %u.", what, blkno, n - 1);
		cs->seen = repalloc(cs->seen, sizeof(bool) * n);
		memset(cs->seen + cs->nblocks, 0, sizeof(bool) * (n - cs->nblocks));
		cs->nblocks = n;
	}
	if (cs->seen[blkno])
		Corrupt(cs, "Block %u is reached twice (a loop, or a page shared by two chains) in the %s.", blkno, what);
	cs->seen[blkno] = true;
}

/* CheckPageKind raises an error unless page is an initialised page of kind. */
static void
CheckPageKind(CheckState *cs, Page page, BlockNumber blkno, uint16 kind, const char *what)
{
	if (PageIsNew(page))
		Corrupt(cs, "Block %u of the %s is an uninitialised page.", blkno, what);
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfPageOpaqueData)) ||
		IvfPageGetOpaque(page)->page_id != IVF_PAGE_ID)
		Corrupt(cs, "Block %u of the %s has no vsearch_ivf special space.", blkno, what);
	if ((IvfPageGetOpaque(page)->flags & IVF_PAGE_KIND_MASK) != kind)
		Corrupt(cs, "Block %u of the %s has page flags 0x%04x, expected 0x%04x.",
				blkno, what, IvfPageGetOpaque(page)->flags, kind);
}

/*
 * CheckList walks the chain of list `list` from start, checking every
 * row; insertPage must be one of its pages.  Returns the number of rows.
 */
static int64
CheckList(CheckState *cs, int list, BlockNumber start, BlockNumber insertPage)
{
	BlockNumber blkno = start;
	Size		itemsz = IVF_LIST_TUPLE_SIZE(cs->dims);
	bool		sawHint = false;
	int64		rows = 0;
	char		what[64];

	snprintf(what, sizeof(what), "chain of list %d", list);
	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off,
					maxoff;

		CHECK_FOR_INTERRUPTS();
		Visit(cs, blkno, what);
		buf = ReadBuffer(cs->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		CheckPageKind(cs, page, blkno, IVF_PAGE_LIST, what);
		if (blkno == insertPage)
			sawHint = true;
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
		{
			ItemId		iid = PageGetItemId(page, off);
			IvfListTuple lt;

			if (!ItemIdIsNormal(iid))
				Corrupt(cs, "Item %u on block %u of list %d is not a normal item.", off, blkno, list);
			if (VsIndexHasKeys(cs->index) ?
				ItemIdGetLength(iid) < MAXALIGN(itemsz) + sizeof(IndexTupleData) :
				ItemIdGetLength(iid) != itemsz)
				Corrupt(cs, "Item %u on block %u of list %d has %u bytes, expected %zu for %d dimensions.",
						off, blkno, list, ItemIdGetLength(iid), itemsz, cs->dims);
			lt = (IvfListTuple) PageGetItem(page, iid);
			if (VsIndexHasKeys(cs->index) &&
				IndexTupleSize(IVF_LIST_TUPLE_KEYS(lt, cs->dims)) !=
				ItemIdGetLength(iid) - MAXALIGN(itemsz))
				Corrupt(cs, "Item %u on block %u of list %d has a key tuple of %zu bytes in %zu bytes.",
						off, blkno, list, IndexTupleSize(IVF_LIST_TUPLE_KEYS(lt, cs->dims)),
						(Size) (ItemIdGetLength(iid) - MAXALIGN(itemsz)));
			if (!ItemPointerIsValid(&lt->heaptid) ||
				ItemPointerGetOffsetNumberNoCheck(&lt->heaptid) == InvalidOffsetNumber)
				Corrupt(cs, "Item %u on block %u of list %d has an invalid heap TID.", off, blkno, list);
			if (cs->metric == IVF_METRIC_COSINE)
			{
				double		norm = 0.0;
				int			d;

				for (d = 0; d < cs->dims; d++)
					norm += (double) lt->x[d] * lt->x[d];
				if (fabs(sqrt(norm) - 1.0) > 1e-3)
					Corrupt(cs, "Item %u on block %u of list %d is not unit length under cosine (norm %g).",
							off, blkno, list, sqrt(norm));
			}
			rows++;
		}
		blkno = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	if (!sawHint)
		Corrupt(cs, "The insert hint of list %d, block %u, is not a page of the list.", list, insertPage);
	return rows;
}

/*
 * vsearch_ivf_check(regclass) checks the structure of a vsearch_ivf index
 * and returns normally, or raises ERRCODE_INDEX_CORRUPTED at the first
 * problem.  Takes ShareLock on the table (blocking writers while it runs;
 * AccessShareLock during recovery), then AccessShareLock on the index.
 */
VS_FUNCTION(vsearch_ivf_check);
Datum
vsearch_ivf_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	index;
	CheckState	cs;
	Buffer		buf;
	Page		page;
	IvfMetaPage meta;
	int			nlists;
	BlockNumber blkno;
	BlockNumber *startPages;
	BlockNumber *insertPages;
	int			n = 0;
	int			i;
	Size		citemsz;

	Oid			heapoid;
	Relation	heap;
	LOCKMODE	heapLock;

	heapoid = IndexGetRelation(indexoid, true);
	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vsearch_ivf index", get_rel_name(indexoid) ? get_rel_name(indexoid) : "?")));
	heapLock = RecoveryInProgress() ? AccessShareLock : ShareLock;
	heap = table_open(heapoid, heapLock);
	index = relation_open(indexoid, AccessShareLock);
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_indam == NULL || index->rd_indam->ambuild != ivfbuild)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vsearch_ivf index", RelationGetRelationName(index))));

	memset(&cs, 0, sizeof(cs));
	cs.index = index;
	cs.nblocks = RelationGetNumberOfBlocks(index);
	if (cs.nblocks == 0)
		Corrupt(&cs, "The index has no metapage.");
	cs.seen = palloc0(sizeof(bool) * cs.nblocks);

	/* metapage */
	Visit(&cs, IVF_METAPAGE_BLKNO, "metapage");
	buf = ReadBuffer(index, IVF_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	CheckPageKind(&cs, page, IVF_METAPAGE_BLKNO, IVF_PAGE_META, "metapage");
	meta = IvfPageGetMeta(page);
	if (meta->magic != IVF_MAGIC)
		Corrupt(&cs, "The metapage has magic 0x%08x, expected 0x%08x.", meta->magic, IVF_MAGIC);
	if (meta->version != IVF_FORMAT_VERSION)
		Corrupt(&cs, "The metapage has format version %u, expected %d.", meta->version, IVF_FORMAT_VERSION);
	if (meta->dims > IVF_MAX_DIM)
		Corrupt(&cs, "The metapage records %u dimensions, more than %d.", meta->dims, IVF_MAX_DIM);
	if (meta->metric < IVF_METRIC_L2 || meta->metric > IVF_METRIC_COSINE)
		Corrupt(&cs, "The metapage records unknown metric %u.", meta->metric);
	if (meta->nlists > IVF_MAX_LISTS)
		Corrupt(&cs, "The metapage records %u lists, more than %d.", meta->nlists, IVF_MAX_LISTS);
	if (meta->nlists > 0 && (meta->dims == 0 || !BlockNumberIsValid(meta->centroidStart)))
		Corrupt(&cs, "The metapage records %u lists but %u dimensions and centroid block %u.",
				meta->nlists, meta->dims, meta->centroidStart);
	if (((PageHeader) page)->pd_lower < (char *) meta + sizeof(IvfMetaPageData) - (char *) page)
		Corrupt(&cs, "The metapage's pd_lower %u does not cover the metadata.", ((PageHeader) page)->pd_lower);
	nlists = meta->nlists;
	cs.dims = meta->dims;
	cs.metric = meta->metric;
	blkno = nlists > 0 ? meta->centroidStart : InvalidBlockNumber;
	UnlockReleaseBuffer(buf);

	/* centroid chain */
	startPages = palloc(sizeof(BlockNumber) * Max(nlists, 1));
	insertPages = palloc(sizeof(BlockNumber) * Max(nlists, 1));
	citemsz = IVF_CENTROID_TUPLE_SIZE(cs.dims);
	while (BlockNumberIsValid(blkno))
	{
		OffsetNumber off,
					maxoff;

		CHECK_FOR_INTERRUPTS();
		Visit(&cs, blkno, "centroid chain");
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		CheckPageKind(&cs, page, blkno, IVF_PAGE_CENTROID, "centroid chain");
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
		{
			ItemId		iid = PageGetItemId(page, off);
			IvfCentroidTuple ct;

			if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) != citemsz)
				Corrupt(&cs, "Centroid item %u on block %u has %u bytes, expected %zu.",
						off, blkno, ItemIdGetLength(iid), citemsz);
			if (n >= nlists)
				Corrupt(&cs, "The centroid chain holds more than the %d centroids the metapage counts.", nlists);
			ct = (IvfCentroidTuple) PageGetItem(page, iid);
			startPages[n] = ct->startPage;
			insertPages[n] = ct->insertPage;
			n++;
		}
		blkno = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	if (n != nlists)
		Corrupt(&cs, "The centroid chain holds %d centroids, the metapage counts %d.", n, nlists);

	/* list chains */
	for (i = 0; i < nlists; i++)
		CheckList(&cs, i, startPages[i], insertPages[i]);

	/* every other block must be an unused new page */
	for (blkno = 0; blkno < cs.nblocks; blkno++)
	{
		if (cs.seen[blkno])
			continue;
		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		if (!PageIsNew(BufferGetPage(buf)))
			Corrupt(&cs, "Block %u is initialised but not reachable from the metapage.", blkno);
		UnlockReleaseBuffer(buf);
	}

	relation_close(index, AccessShareLock);
	table_close(heap, heapLock);
	PG_RETURN_VOID();
}
