/*-------------------------------------------------------------------------
 *
 * ivfbuild.c
 *	  Building a vsearch_ivf index: sample, train, assign, load.
 *
 * Design: the build writes pages without WAL and logs them all at the end
 * with log_newpage_range, so a build costs one full-page image per page
 * instead of a record per row.  It makes two passes over the heap: the
 * first draws a uniform reservoir sample (bounded by maintenance_work_mem,
 * checked before anything is allocated) and counts the rows, which fixes
 * the number of lists; k-means trains the centroids; the second pass
 * assigns every row to its nearest centroid and feeds a tuplesort keyed by
 * list number, so each list is then written as a run of consecutive pages.
 * Layout: block 0 metapage, then the lists in list order, then the
 * centroid pages.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfbuild.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "common/vskeys.h"
#include "executor/tuptable.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/smgr.h"
#include "types/vector.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplesort.h"

/* Fixed seed: the same table gives the same index. */
#define IVF_BUILD_SEED			UINT64CONST(0x5eed1f5eed1f)

typedef struct IvfBuildState
{
	Relation	heap;
	Relation	index;
	int			metric;
	int			dims;			/* 0 until known */
	MemoryContext buildCtx;		/* lives as long as the build */
	MemoryContext tmpCtx;		/* reset after each row */

	/* first pass: reservoir sample */
	int			sampleTarget;	/* rows wanted */
	int			sampleCap;		/* rows that fit the budget (after dims known) */
	int			nsamples;
	float	   *samples;
	double		rowsSeen;		/* indexable rows (not NULL, not zero under cosine) */
	Size		budget;			/* maintenance_work_mem in bytes */
	int			plannedLists;	/* lists the sample budget was planned for */
	pg_prng_state rng;

	/* second pass: assignment */
	int			nlists;
	float	   *centroids;
	Tuplesortstate *sort;
	TupleTableSlot *slot;		/* virtual, for putting rows */
	TupleTableSlot *readSlot;	/* minimal tuples, for reading them back */
	Vector	   *vec;			/* scratch vector of dims elements */
	double		assigned;
} IvfBuildState;

/*
 * CheckRowDims raises the standard error when a row's vector does not have
 * the index's dimensions (possible for a column without a type modifier).
 */
static void
CheckRowDims(IvfBuildState *bs, int dim)
{
	if (dim != bs->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", bs->dims, dim)));
}

/*
 * PlanSample fixes the sample capacity once dims is known: the wanted rows,
 * bounded so that the samples, the centroids and k-means' working memory
 * fit maintenance_work_mem.  Allocates the sample array and the scratch
 * vector in the build's context.  Raises an error if not even one sample
 * per planned list fits.
 */
static void
PlanSample(IvfBuildState *bs)
{
	int			k = bs->plannedLists;
	Size		fixed;
	Size		perSample;
	Size		cap;
	MemoryContext old;

	IvfCheckIndexDims(bs->dims);
	fixed = add_size(mul_size(mul_size(k, bs->dims), sizeof(float)),
					 IvfKmeansMemory(0, bs->dims, k));
	perSample = add_size(mul_size(bs->dims, sizeof(float)), IvfKmeansMemory(1, 0, 0));
	if (fixed >= bs->budget || (bs->budget - fixed) / perSample < (Size) k)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("maintenance_work_mem is too small to train %d lists of %d dimensions", k, bs->dims),
				 errdetail("Training needs at least %zu kB, maintenance_work_mem is %d kB.",
						   add_size(fixed, mul_size(perSample, k)) / 1024 + 1,
						   maintenance_work_mem),
				 errhint("Increase maintenance_work_mem or set fewer lists.")));
	cap = (bs->budget - fixed) / perSample;
	bs->sampleCap = (int) Min(cap, (Size) bs->sampleTarget);
	old = MemoryContextSwitchTo(bs->buildCtx);
	bs->samples = palloc_extended(mul_size(bs->sampleCap, mul_size(bs->dims, sizeof(float))),
								  MCXT_ALLOC_HUGE);
	bs->vec = VsVectorAlloc(bs->dims);
	MemoryContextSwitchTo(old);
}

/*
 * SampleCallback is the first pass's IndexBuildCallback: Algorithm R
 * reservoir sampling over the indexable rows.
 */
static void
SampleCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	IvfBuildState *bs = (IvfBuildState *) state;
	MemoryContext old;
	Vector	   *v;
	int			slot;

	if (isnull[0])
		return;

	/*
	 * Once the reservoir is full, draw the row's slot before detoasting it.
	 * Under L2 and inner product every non-NULL row is indexable, so a row
	 * the reservoir skips is only counted, never detoasted (decompression is
	 * most of this pass); the second pass checks its dimensions.
	 */
	slot = -2;					/* not drawn yet */
	if (bs->dims != 0 && bs->nsamples >= bs->sampleCap)
	{
		uint64		r = pg_prng_uint64_range(&bs->rng, 0, (uint64) bs->rowsSeen);

		slot = r < (uint64) bs->sampleCap ? (int) r : -1;
		if (slot < 0 && bs->metric != IVF_METRIC_COSINE)
		{
			bs->rowsSeen += 1;
			return;
		}
	}

	old = MemoryContextSwitchTo(bs->tmpCtx);
	v = DatumGetVector(values[0]);
	if (bs->dims == 0)
	{
		bs->dims = v->dim;
		PlanSample(bs);
	}
	CheckRowDims(bs, v->dim);

	if (slot == -2)
		slot = bs->nsamples;	/* the reservoir is not full yet */
	if (IvfPrepareVector(bs->metric, v->x, bs->dims,
						 slot >= 0 ? bs->samples + (Size) slot * bs->dims : bs->vec->x))
	{
		bs->rowsSeen += 1;
		if (slot >= 0 && slot == bs->nsamples)
			bs->nsamples++;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
}

/*
 * AssignCallback is the second pass's IndexBuildCallback: the row goes to
 * the tuplesort with the number of its nearest list (and, when the index
 * has key columns, its key tuple as a bytea).
 */
static void
AssignCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	IvfBuildState *bs = (IvfBuildState *) state;
	MemoryContext old;
	Vector	   *v;
	int			list;
	TupleTableSlot *slot = bs->slot;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	v = DatumGetVector(values[0]);
	CheckRowDims(bs, v->dim);
	if (IvfPrepareVector(bs->metric, v->x, bs->dims, bs->vec->x))
	{
		list = IvfNearestList(bs->centroids, bs->nlists, bs->dims, bs->metric, bs->vec->x);
		ExecClearTuple(slot);
		slot->tts_values[0] = Int32GetDatum(list);
		slot->tts_isnull[0] = false;
		slot->tts_values[1] = PointerGetDatum(tid);
		slot->tts_isnull[1] = false;
		slot->tts_values[2] = PointerGetDatum(bs->vec);
		slot->tts_isnull[2] = false;
		slot->tts_isnull[3] = true;
		if (VsIndexHasKeys(index))
		{
			IndexTuple	keys = VsKeysForm(index, values, isnull);
			Size		ksize;
			bytea	   *b;

			/* too big for a page: the error now, not after the sort */
			pfree(IvfFormListTuple(index, bs->dims, tid, bs->vec->x, keys, &ksize));
			b = palloc(VARHDRSZ + IndexTupleSize(keys));
			SET_VARSIZE(b, VARHDRSZ + IndexTupleSize(keys));
			memcpy(VARDATA(b), keys, IndexTupleSize(keys));
			slot->tts_values[3] = PointerGetDatum(b);
			slot->tts_isnull[3] = false;
		}
		ExecStoreVirtualTuple(slot);
		tuplesort_puttupleslot(bs->sort, slot);
		bs->assigned += 1;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
}

/*
 * ChainAppend adds item to the exclusively locked page *buf of a chain of
 * pages of kind flags; when it does not fit, a new page is linked after it
 * and *buf moves there (the old one is written and released).  Returns
 * true if it moved.  No WAL: see the file header.
 */
static bool
ChainAppend(Relation index, Buffer *buf, Item item, Size itemsz, uint16 flags)
{
	Page		page = BufferGetPage(*buf);
	bool		moved = false;

	if (PageGetFreeSpace(page) < MAXALIGN(itemsz))
	{
		Buffer		next = IvfNewBuffer(index);

		IvfPageGetOpaque(page)->nextblkno = BufferGetBlockNumber(next);
		MarkBufferDirty(*buf);
		UnlockReleaseBuffer(*buf);
		*buf = next;
		page = BufferGetPage(*buf);
		IvfInitPage(page, flags);
		moved = true;
	}
	if (PageAddItem(page, item, itemsz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add an item to a new page of index \"%s\"",
			 RelationGetRelationName(index));
	return moved;
}

/*
 * LoadLists reads the sorted rows and writes each list as a chain of
 * consecutive pages, starting after the metapage.  startPages and
 * lastPages (nlists entries each) receive each list's first and last
 * page; an empty list gets one empty page.  No WAL: see the file header.
 */
static void
LoadLists(IvfBuildState *bs, BlockNumber *startPages, BlockNumber *lastPages)
{
	Size		itemsz;
	IvfListTuple item;
	char	   *keybuf = palloc(BLCKSZ);	/* MAXALIGNed copy of a key tuple */
	int			list = -1;
	Buffer		buf = InvalidBuffer;
	Page		page = NULL;
	double		done = 0;
	bool		more = true;

	while (more || list < bs->nlists - 1)
	{
		int			rowList;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		more = more && tuplesort_gettupleslot(bs->sort, true, false, bs->readSlot, NULL);
		rowList = more ? DatumGetInt32(slot_getattr(bs->readSlot, 1, &isnull)) : bs->nlists;

		/* close the current list and open the next ones up to rowList */
		while (list < rowList && list < bs->nlists - 1)
		{
			if (BufferIsValid(buf))
			{
				MarkBufferDirty(buf);
				UnlockReleaseBuffer(buf);
			}
			list++;
			buf = IvfNewBuffer(bs->index);
			page = BufferGetPage(buf);
			IvfInitPage(page, IVF_PAGE_LIST);
			startPages[list] = lastPages[list] = BufferGetBlockNumber(buf);
		}
		if (!more)
			continue;

		if (rowList != list)
			elog(ERROR, "tuplesort returned list %d after list %d", rowList, list);
		{
			ItemPointer tid = (ItemPointer) DatumGetPointer(slot_getattr(bs->readSlot, 2, &isnull));
			Vector	   *v = DatumGetVector(slot_getattr(bs->readSlot, 3, &isnull));
			Datum		k = slot_getattr(bs->readSlot, 4, &isnull);
			IndexTuple	keys = NULL;

			if (!isnull)
			{
				bytea	   *b = DatumGetByteaPP(k);

				memcpy(keybuf, VARDATA_ANY(b), Min(VARSIZE_ANY_EXHDR(b), BLCKSZ));
				keys = (IndexTuple) keybuf;
			}
			item = IvfFormListTuple(bs->index, bs->dims, tid, v->x, keys, &itemsz);
		}
		if (ChainAppend(bs->index, &buf, (Item) item, itemsz, IVF_PAGE_LIST))
			lastPages[list] = BufferGetBlockNumber(buf);
		pfree(item);
		done += 1;
		if (((int64) done & 1023) == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
	}
	if (BufferIsValid(buf))
	{
		MarkBufferDirty(buf);
		UnlockReleaseBuffer(buf);
	}
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
	pfree(keybuf);
}

/*
 * WriteCentroids appends the centroid pages and returns the first one's
 * block number.  No WAL: see the file header.
 */
static BlockNumber
WriteCentroids(IvfBuildState *bs, const BlockNumber *startPages, const BlockNumber *lastPages)
{
	Size		itemsz = IVF_CENTROID_TUPLE_SIZE(bs->dims);
	IvfCentroidTuple item = palloc0(itemsz);
	Buffer		buf = IvfNewBuffer(bs->index);
	Page		page = BufferGetPage(buf);
	BlockNumber first = BufferGetBlockNumber(buf);
	int			i;

	IvfInitPage(page, IVF_PAGE_CENTROID);
	for (i = 0; i < bs->nlists; i++)
	{
		item->startPage = startPages[i];
		item->insertPage = lastPages[i];
		memcpy(item->x, bs->centroids + (Size) i * bs->dims, sizeof(float) * (Size) bs->dims);
		ChainAppend(bs->index, &buf, (Item) item, itemsz, IVF_PAGE_CENTROID);
	}
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
	pfree(item);
	return first;
}

/*
 * ivfbuild builds the index of a new, empty index relation (CREATE INDEX,
 * REINDEX, and phase 2 of CREATE INDEX CONCURRENTLY).  All memory is
 * allocated in CurrentMemoryContext, which the caller resets.
 */
IndexBuildResult *
ivfbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	IvfBuildState bs;
	IvfOptions *opts = (IvfOptions *) index->rd_options;
	int			requested = opts ? opts->lists : IVF_DEFAULT_LISTS;
	Buffer		metabuf;
	Page		metapage;
	IvfMetaPage meta;
	double		reltuples;
	TimestampTz t0,
				t1 = 0,
				t2 = 0,
				t3 = 0,
				t4 = 0;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	VsCheckKeyColumns(index, "vsearch_ivf", IVF_DISTANCE_PROC);

	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	bs.metric = IvfGetMetric(index);
	bs.dims = IvfColumnDims(index);
	bs.buildCtx = CurrentMemoryContext;
	bs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "vsearch_ivf build row",
									  ALLOCSET_DEFAULT_SIZES);
	bs.budget = mul_size((Size) maintenance_work_mem, 1024);
	pg_prng_seed(&bs.rng, IVF_BUILD_SEED);

	/* how many rows to sample: IVF_SAMPLE_ROWS_PER_LIST per list */
	if (requested > 0)
		bs.plannedLists = requested;
	else
	{
		BlockNumber pages;
		double		tuples;
		double		allvisfrac;

		estimate_rel_size(heap, NULL, &pages, &tuples, &allvisfrac);
		bs.plannedLists = IvfDefaultLists(tuples);
	}
	bs.sampleTarget = (int) Min((double) bs.plannedLists * IVF_SAMPLE_ROWS_PER_LIST,
								(double) (MaxAllocHugeSize / sizeof(float) / IVF_MAX_DIM));

	/* block 0: the metapage, filled in at the end */
	metabuf = IvfNewBuffer(index);
	Assert(BufferGetBlockNumber(metabuf) == IVF_METAPAGE_BLKNO);
	metapage = BufferGetPage(metabuf);
	IvfInitMetaPage(metapage, bs.dims, bs.metric, requested);
	MarkBufferDirty(metabuf);
	LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);

	if (bs.dims > 0)
		PlanSample(&bs);

	t0 = GetCurrentTimestamp();
	/* pass 1: sample */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_SAMPLE);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   SampleCallback, &bs, NULL);

	if (bs.nsamples == 0)
	{
		ereport(NOTICE,
				(errmsg("index \"%s\" was built on a table without indexable rows",
						RelationGetRelationName(index)),
				 errdetail("The first row inserted creates a single list, so searches read every row until the index is rebuilt."),
				 errhint("REINDEX the index after loading data.")));
		bs.nlists = 0;
	}
	else
	{
		bs.nlists = requested > 0 ? requested : IvfDefaultLists(bs.rowsSeen);
		if (bs.rowsSeen < bs.nlists)
		{
			ereport(NOTICE,
					(errmsg("index \"%s\" has %d lists instead of %d",
							RelationGetRelationName(index), bs.nsamples, bs.nlists),
					 errdetail("The table has only %d indexable rows.", bs.nsamples),
					 errhint("REINDEX the index after loading more data.")));
			bs.nlists = bs.nsamples;
		}
		else if (bs.nsamples < bs.nlists)
		{
			/* automatic lists above the planned ones, and no room for more samples */
			ereport(NOTICE,
					(errmsg("index \"%s\" has %d lists instead of %d",
							RelationGetRelationName(index), bs.nsamples, bs.nlists),
					 errdetail("maintenance_work_mem holds only %d training rows.", bs.nsamples),
					 errhint("Increase maintenance_work_mem or set the lists option.")));
			bs.nlists = bs.nsamples;
		}
		/* automatic lists may exceed the planned ones: keep k-means in budget */
		while (bs.nsamples > bs.nlists &&
			   add_size(mul_size(mul_size(bs.nsamples + bs.nlists, bs.dims), sizeof(float)),
						IvfKmeansMemory(bs.nsamples, bs.dims, bs.nlists)) > bs.budget)
			bs.nsamples = Max(bs.nlists, bs.nsamples - bs.nsamples / 8 - 1);

		/* train */
		t1 = GetCurrentTimestamp();
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_KMEANS);
		bs.centroids = palloc_extended(mul_size(mul_size(bs.nlists, bs.dims), sizeof(float)),
									   MCXT_ALLOC_HUGE);
		IvfKmeans(bs.samples, bs.nsamples, bs.dims, bs.nlists, bs.metric,
				  bs.centroids, &bs.rng);
		pfree(bs.samples);
		bs.samples = NULL;
		t2 = GetCurrentTimestamp();
	}

	if (bs.nlists > 0)
	{
		TupleDesc	desc = CreateTemplateTupleDesc(4);
		AttrNumber	sortCol = 1;
		Oid			sortOp = Int4LessOperator;
		Oid			sortColl = InvalidOid;
		bool		nullsFirst = false;
		BlockNumber *startPages = palloc(sizeof(BlockNumber) * bs.nlists);
		BlockNumber *lastPages = palloc(sizeof(BlockNumber) * bs.nlists);
		BlockNumber centroidStart;

		TupleDescInitEntry(desc, 1, "list", INT4OID, -1, 0);
		TupleDescInitEntry(desc, 2, "tid", TIDOID, -1, 0);
		TupleDescInitEntry(desc, 3, "vector", TupleDescAttr(RelationGetDescr(index), 0)->atttypid, -1, 0);
		TupleDescInitEntry(desc, 4, "keys", BYTEAOID, -1, 0);
		bs.slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
		bs.readSlot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);

		/* pass 2: assign */
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_ASSIGN);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) bs.rowsSeen);
		bs.sort = tuplesort_begin_heap(desc, 1, &sortCol, &sortOp, &sortColl, &nullsFirst,
									   maintenance_work_mem, NULL, TUPLESORT_NONE);
		reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
										   AssignCallback, &bs, NULL);
		tuplesort_performsort(bs.sort);
		t3 = GetCurrentTimestamp();

		/* load */
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_LOAD);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) bs.assigned);
		LoadLists(&bs, startPages, lastPages);
		tuplesort_end(bs.sort);
		ExecDropSingleTupleTableSlot(bs.slot);
		ExecDropSingleTupleTableSlot(bs.readSlot);
		centroidStart = WriteCentroids(&bs, startPages, lastPages);
		t4 = GetCurrentTimestamp();

		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		meta = IvfPageGetMeta(metapage);
		meta->dims = bs.dims;
		meta->nlists = bs.nlists;
		meta->centroidStart = centroidStart;
		meta->trainedRows = bs.nsamples;
		MarkBufferDirty(metabuf);
		LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
	}
	else if (bs.dims > 0)
	{
		/* an untyped column fixed dims on its first row */
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		IvfPageGetMeta(metapage)->dims = bs.dims;
		MarkBufferDirty(metabuf);
		LockBuffer(metabuf, BUFFER_LOCK_UNLOCK);
	}
	ReleaseBuffer(metabuf);

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	MemoryContextDelete(bs.tmpCtx);
	if (bs.nlists > 0)
		elog(DEBUG1, "vsearch_ivf build of \"%s\": %d lists, %d samples; sample %.3f s, k-means %.3f s, assign+sort %.3f s, load %.3f s, WAL %.3f s",
			 RelationGetRelationName(index), bs.nlists, bs.nsamples,
			 TimestampDifferenceMilliseconds(t0, t1) / 1000.0,
			 TimestampDifferenceMilliseconds(t1, t2) / 1000.0,
			 TimestampDifferenceMilliseconds(t2, t3) / 1000.0,
			 TimestampDifferenceMilliseconds(t3, t4) / 1000.0,
			 TimestampDifferenceMilliseconds(t4, GetCurrentTimestamp()) / 1000.0);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.assigned;
	return result;
}

/*
 * ivfbuildempty writes the init fork of an unlogged index: a metapage
 * without lists, written directly and WAL-logged, then synced (the write
 * bypasses shared buffers, so a checkpoint may not cover it).
 */
void
ivfbuildempty(Relation index)
{
	Page		page = (Page) palloc(BLCKSZ);
	IvfOptions *opts = (IvfOptions *) index->rd_options;

	IvfInitMetaPage(page, IvfColumnDims(index), IvfGetMetric(index),
					opts ? opts->lists : IVF_DEFAULT_LISTS);
	PageSetChecksumInplace(page, IVF_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, IVF_METAPAGE_BLKNO, (char *) page, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				IVF_METAPAGE_BLKNO, page, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
	pfree(page);
}

/* ivfbuildphasename names the build subphases for pg_stat_progress_create_index. */
char *
ivfbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case IVF_PHASE_SAMPLE:
			return "sampling table";
		case IVF_PHASE_KMEANS:
			return "computing centroids";
		case IVF_PHASE_ASSIGN:
			return "assigning rows to lists";
		case IVF_PHASE_LOAD:
			return "writing lists";
		default:
			return NULL;
	}
}
