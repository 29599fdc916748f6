/*-------------------------------------------------------------------------
 *
 * ivfinsert.c
 *	  Inserting one row into a vsearch_ivf index.
 *
 * Design: a row goes to the list of its nearest centroid (from the
 * backend's centroid cache), onto the first page with room at or after the
 * list's insert hint.  Every change is one generic WAL record covering at
 * most three pages, and each record leaves a valid index.  Lock order: at
 * most two list pages at once (a full last page, then the new page linked
 * after it); the metapage and centroid pages are only ever locked alone,
 * except when the first row of an index without lists creates list 0
 * (metapage, then two new pages nobody else can see yet).
 *
 * IDENTIFICATION
 *	  src/ivf/ivfinsert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "types/vector.h"
#include "utils/rel.h"

/*
 * CreateFirstList gives an index without lists its list 0, with lt's
 * vector (dims floats, prepared) as centroid and the row lt (lsz bytes) as
 * its only member.  Returns
 * false, changing nothing, if another backend created the list first.
 * Sets the metapage's dims if it was unknown.  Locks the metapage
 * exclusively, then two new pages; one WAL record.
 */
static bool
CreateFirstList(Relation index, int dims, IvfListTuple lt, Size lsz)
{
	Buffer		metabuf = ReadBuffer(index, IVF_METAPAGE_BLKNO);
	Buffer		cbuf,
				lbuf;
	GenericXLogState *state;
	Page		metapage,
				cpage,
				lpage;
	IvfMetaPage meta;
	IvfCentroidTuple ct;
	Size		csz = IVF_CENTROID_TUPLE_SIZE(dims);

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	IvfCheckMetaPage(index, BufferGetPage(metabuf));
	meta = IvfPageGetMeta(BufferGetPage(metabuf));
	if (meta->nlists != 0)
	{
		UnlockReleaseBuffer(metabuf);
		return false;
	}
	if (meta->dims != 0 && meta->dims != (uint32) dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %u dimensions, not %d", meta->dims, dims)));

	lbuf = IvfNewBuffer(index);
	cbuf = IvfNewBuffer(index);

	ct = palloc0(csz);
	ct->startPage = ct->insertPage = BufferGetBlockNumber(lbuf);
	memcpy(ct->x, lt->x, sizeof(float) * (Size) dims);

	state = GenericXLogStart(index);
	metapage = GenericXLogRegisterBuffer(state, metabuf, 0);
	lpage = GenericXLogRegisterBuffer(state, lbuf, GENERIC_XLOG_FULL_IMAGE);
	cpage = GenericXLogRegisterBuffer(state, cbuf, GENERIC_XLOG_FULL_IMAGE);
	IvfInitPage(lpage, IVF_PAGE_LIST);
	IvfInitPage(cpage, IVF_PAGE_CENTROID);
	if (PageAddItem(lpage, (Item) lt, lsz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber ||
		PageAddItem(cpage, (Item) ct, csz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add an item to a new page of index \"%s\"",
			 RelationGetRelationName(index));
	meta = IvfPageGetMeta(metapage);
	meta->dims = dims;
	meta->nlists = 1;
	meta->centroidStart = BufferGetBlockNumber(cbuf);
	GenericXLogFinish(state);

	UnlockReleaseBuffer(cbuf);
	UnlockReleaseBuffer(lbuf);
	UnlockReleaseBuffer(metabuf);
	pfree(ct);
	return true;
}

/*
 * SetInsertHint points the insert hint of the centroid at ctid to blkno.
 * The hint may be set to any page of the list; a lost update only costs a
 * later insert a longer walk.  Locks the centroid page alone.
 */
static void
SetInsertHint(Relation index, ItemPointer ctid, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, ItemPointerGetBlockNumber(ctid));
	GenericXLogState *state;
	Page		page;
	IvfCentroidTuple ct;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	ct = (IvfCentroidTuple) PageGetItem(BufferGetPage(buf),
										PageGetItemId(BufferGetPage(buf),
													  ItemPointerGetOffsetNumber(ctid)));
	if (ct->insertPage != blkno)
	{
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		ct = (IvfCentroidTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(ctid)));
		ct->insertPage = blkno;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}

/*
 * GetInsertHint returns the insert hint of the centroid at ctid, reading it
 * under a share lock on the centroid page.
 */
static BlockNumber
GetInsertHint(Relation index, ItemPointer ctid)
{
	Buffer		buf = ReadBuffer(index, ItemPointerGetBlockNumber(ctid));
	Page		page;
	BlockNumber blkno;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	blkno = ((IvfCentroidTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(ctid))))->insertPage;
	UnlockReleaseBuffer(buf);
	return blkno;
}

/*
 * AppendToList adds item (itemsz bytes) to the list whose centroid tuple is
 * at ctid: on the first page with room at or after the insert hint, or on
 * a new page linked after the last one.  Moves the hint to the page used
 * when that differs.  Locks as described in the file header.
 */
static void
AppendToList(Relation index, ItemPointer ctid, Item item, Size itemsz)
{
	BlockNumber hint = GetInsertHint(index, ctid);
	BlockNumber blkno = hint;
	Buffer		buf;
	Page		page;
	GenericXLogState *state;

	for (;;)
	{
		BlockNumber next;

		CHECK_FOR_INTERRUPTS();
		buf = IvfReadListPage(index, blkno, BUFFER_LOCK_EXCLUSIVE, NULL);
		page = BufferGetPage(buf);

		if (PageGetFreeSpace(page) >= MAXALIGN(itemsz))
		{
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			if (PageAddItem(page, item, itemsz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
				elog(ERROR, "failed to add a row to index \"%s\"", RelationGetRelationName(index));
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			break;
		}

		next = IvfPageGetOpaque(page)->nextblkno;
		if (BlockNumberIsValid(next))
		{
			UnlockReleaseBuffer(buf);
			blkno = next;
			continue;
		}

		/* the last page is full: link a new one after it */
		{
			Buffer		newbuf = IvfNewBuffer(index);
			Page		newpage;

			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			newpage = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
			IvfInitPage(newpage, IVF_PAGE_LIST);
			if (PageAddItem(newpage, item, itemsz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
				elog(ERROR, "failed to add a row to a new page of index \"%s\"",
					 RelationGetRelationName(index));
			IvfPageGetOpaque(page)->nextblkno = BufferGetBlockNumber(newbuf);
			GenericXLogFinish(state);
			blkno = BufferGetBlockNumber(newbuf);
			UnlockReleaseBuffer(newbuf);
			UnlockReleaseBuffer(buf);
			break;
		}
	}

	if (blkno != hint)
		SetInsertHint(index, ctid, blkno);
}

/*
 * ivfinsert adds the row (heap_tid, values[0]) to the index.  NULLs, and
 * zero vectors under cosine, are not indexed.  Allocates in the caller's
 * context (the executor's per-tuple memory).
 */
bool
ivfinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		  Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
		  IndexInfo *indexInfo)
{
	Vector	   *v;
	const IvfCache *cache;
	int			metric;
	int			dims;
	int			list;
	ItemPointerData ctid;
	Size		itemsz;
	IvfListTuple item;
	IndexTuple	keys;
	float	   *x;

	if (isnull[0])
		return false;
	v = DatumGetVector(values[0]);
	IvfCheckIndexDims(v->dim);
	keys = VsKeysForm(index, values, isnull);
	x = palloc(sizeof(float) * (Size) v->dim);

	for (;;)
	{
		cache = IvfGetCache(index);
		metric = cache->metric;
		dims = cache->dims;
		if (dims != 0 && dims != v->dim)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("expected %d dimensions, not %d", dims, v->dim)));
		dims = v->dim;
		if (!IvfPrepareVector(metric, v->x, dims, x))
			return false;
		item = IvfFormListTuple(index, dims, heap_tid, x, keys, &itemsz);
		if (cache->nlists > 0)
			break;
		if (CreateFirstList(index, dims, item, itemsz))
			return false;
		/* someone else created list 0: reload and insert normally */
		pfree(item);
	}

	list = IvfNearestList(cache->centroids, cache->nlists, dims, metric, item->x);
	ctid = cache->centroidTids[list];
	AppendToList(index, &ctid, (Item) item, itemsz);
	pfree(item);
	pfree(x);
	return false;
}
