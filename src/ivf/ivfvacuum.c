/*-------------------------------------------------------------------------
 *
 * ivfvacuum.c
 *	  VACUUM support for vsearch_ivf: removing dead rows from the lists.
 *
 * Design: vacuum walks every list chain from its first page and deletes
 * the rows the callback names, compacting each page in place with one
 * generic WAL record per changed page.  Pages are never unlinked or freed,
 * so concurrent scans and inserts that follow a chain stay on it; the
 * space freed is reused by moving each list's insert hint back to the
 * first page that has room, and inserts fill pages from the hint forward.
 * Every row of every list is shown to the callback, which CREATE INDEX
 * CONCURRENTLY relies on to learn which TIDs the index holds.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfvacuum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

/* One list as vacuum sees it: where it starts and where its hint lives. */
typedef struct VacList
{
	BlockNumber startPage;
	BlockNumber insertPage;
	ItemPointerData ctid;
} VacList;

/*
 * ReadLists returns the lists of the index (*nlists entries) from the
 * centroid pages, read under share locks one page at a time, or NULL when
 * the index has no lists.  The array is palloc'd in CurrentMemoryContext.
 */
static VacList *
ReadLists(Relation index, int *nlists)
{
	Buffer		buf = ReadBuffer(index, IVF_METAPAGE_BLKNO);
	IvfMetaPage meta;
	BlockNumber blkno;
	VacList    *lists;
	int			n = 0;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	IvfCheckMetaPage(index, BufferGetPage(buf));
	meta = IvfPageGetMeta(BufferGetPage(buf));
	*nlists = meta->nlists;
	blkno = meta->centroidStart;
	UnlockReleaseBuffer(buf);
	if (*nlists <= 0)
		return NULL;

	lists = palloc(sizeof(VacList) * *nlists);
	while (BlockNumberIsValid(blkno) && n < *nlists)
	{
		Page		page;
		OffsetNumber off,
					maxoff;

		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff && n < *nlists; off = OffsetNumberNext(off))
		{
			IvfCentroidTuple ct = (IvfCentroidTuple) PageGetItem(page, PageGetItemId(page, off));

			lists[n].startPage = ct->startPage;
			lists[n].insertPage = ct->insertPage;
			ItemPointerSet(&lists[n].ctid, blkno, off);
			n++;
		}
		blkno = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	if (n != *nlists)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a broken centroid chain",
						RelationGetRelationName(index)),
				 errdetail("The metapage counts %d lists, the chain holds %d centroids.",
						   *nlists, n)));
	return lists;
}

/*
 * MoveHintBack sets the insert hint of the list to blkno, a page before the
 * current hint, unless an insert changed the hint meanwhile.  Locks the
 * centroid page alone.
 */
static void
MoveHintBack(Relation index, const VacList *list, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, ItemPointerGetBlockNumber(&list->ctid));
	Page		page;
	IvfCentroidTuple ct;
	OffsetNumber off = ItemPointerGetOffsetNumber(&list->ctid);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	ct = (IvfCentroidTuple) PageGetItem(page, PageGetItemId(page, off));
	if (ct->insertPage == list->insertPage)
	{
		GenericXLogState *state = GenericXLogStart(index);

		page = GenericXLogRegisterBuffer(state, buf, 0);
		ct = (IvfCentroidTuple) PageGetItem(page, PageGetItemId(page, off));
		ct->insertPage = blkno;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}

/*
 * ivfbulkdelete deletes every row whose TID callback reports dead and
 * counts the rest.  Takes an exclusive lock on one list page at a time.
 */
IndexBulkDeleteResult *
ivfbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	VacList    *lists;
	int			nlists;
	int			i;
	Size		itemsz = 0;

	if (stats == NULL)
		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));

	lists = ReadLists(index, &nlists);
	if (nlists > 0)
	{
		Buffer		mbuf = ReadBuffer(index, IVF_METAPAGE_BLKNO);

		LockBuffer(mbuf, BUFFER_LOCK_SHARE);
		itemsz = IVF_LIST_TUPLE_SIZE(IvfPageGetMeta(BufferGetPage(mbuf))->dims);
		UnlockReleaseBuffer(mbuf);
	}

	for (i = 0; i < nlists; i++)
	{
		BlockNumber blkno = lists[i].startPage;
		BlockNumber roomPage = InvalidBlockNumber;
		bool		beforeHint = true;

		while (BlockNumberIsValid(blkno))
		{
			Buffer		buf;
			Page		page;
			OffsetNumber off,
						maxoff;
			OffsetNumber dead[MaxOffsetNumber];
			int			ndead = 0;

			vacuum_delay_point();
			buf = IvfReadListPage(index, blkno, BUFFER_LOCK_EXCLUSIVE, info->strategy);
			page = BufferGetPage(buf);
			maxoff = PageGetMaxOffsetNumber(page);
			for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
			{
				IvfListTuple lt = (IvfListTuple) PageGetItem(page, PageGetItemId(page, off));

				if (callback(&lt->heaptid, callback_state))
					dead[ndead++] = off;
				else
					stats->num_index_tuples += 1;
			}
			if (ndead > 0)
			{
				GenericXLogState *state = GenericXLogStart(index);

				page = GenericXLogRegisterBuffer(state, buf, 0);
				PageIndexMultiDelete(page, dead, ndead);
				GenericXLogFinish(state);
				stats->tuples_removed += ndead;
			}
			if (blkno == lists[i].insertPage)
				beforeHint = false;
			if (beforeHint && !BlockNumberIsValid(roomPage) &&
				PageGetFreeSpace(page) >= MAXALIGN(itemsz))
				roomPage = blkno;
			blkno = IvfPageGetOpaque(page)->nextblkno;
			UnlockReleaseBuffer(buf);
		}
		if (BlockNumberIsValid(roomPage))
			MoveHintBack(index, &lists[i], roomPage);
	}

	stats->num_pages = RelationGetNumberOfBlocks(index);
	return stats;
}

/*
 * ivfvacuumcleanup reports the index size after a vacuum; when no bulk
 * delete ran (nothing to remove), the row count is the heap's estimate.
 */
IndexBulkDeleteResult *
ivfvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));
		stats->num_index_tuples = info->num_heap_tuples;
		stats->estimated_count = info->estimated_count;
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
