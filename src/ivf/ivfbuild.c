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
 * Parallel build: only the second pass, which costs a distance to every
 * centroid for every row, runs in parallel.  The leader samples and trains
 * alone (so a parallel build has the serial build's centroids, and every
 * row goes to the same list), puts the centroids in a DSM segment and
 * launches workers (plan_create_index_workers; PostgreSQL 15 has no
 * amcanbuildparallel, so ambuild runs its own parallel context, as
 * nbtsort.c does).  Leader and workers scan the heap in parallel, each
 * feeding its own share of a parallel tuplesort; the leader merges the
 * sorted runs and writes the lists exactly as the serial build does.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfbuild.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "common/vskeys.h"
#include "common/vspagewriter.h"
#include "common/vsparallel.h"
#include "executor/instrument.h"
#include "executor/tuptable.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/smgr.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "types/vector.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplesort.h"

/* Fixed seed: the same table gives the same index. */
#define IVF_BUILD_SEED			UINT64CONST(0x5eed1f5eed1f)

/* shm_toc keys of a parallel build */
#define IVF_PARALLEL_KEY_SHARED			UINT64CONST(0xA7F0000000000001)
#define IVF_PARALLEL_KEY_CENTROIDS		UINT64CONST(0xA7F0000000000002)
#define IVF_PARALLEL_KEY_TUPLESORT		UINT64CONST(0xA7F0000000000003)

/*
 * IvfShared is the state of a parallel build in its DSM segment.  The
 * first fields are set by the leader before launching and never change;
 * the counters below mutex are summed by each participant when its share
 * of the scan is done.  A ParallelTableScanDescData follows the struct
 * (at a BUFFERALIGN boundary).
 */
typedef struct IvfShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			scantuplesortstates;	/* participants, leader included */
	int			dims;
	int			nlists;
	int			metric;

	slock_t		mutex;
	int			nparticipantsdone;
	double		reltuples;		/* heap tuples scanned, all participants */
	double		assigned;		/* rows assigned, all participants */
	double		workerAssigned; /* of which by the workers (not the leader) */
} IvfShared;

#define ParallelTableScanFromIvfShared(shared) \
	((ParallelTableScanDesc) ((char *) (shared) + BUFFERALIGN(sizeof(IvfShared))))

/*
 * IvfLeader is what the leader keeps of a parallel build while it runs:
 * the context (in parallel mode until EndParallel) and the shared state.
 */
typedef struct IvfLeader
{
	VsParallelBuild par;
	int			nparticipanttuplesorts; /* workers launched + the leader */
	IvfShared  *shared;
	Sharedsort *sharedsort;
} IvfLeader;

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

	IvfLeader  *leader;			/* a parallel build's leader state, or NULL */
} IvfBuildState;

extern PGDLLEXPORT void IvfParallelBuildMain(dsm_segment *seg, shm_toc *toc);
static void EndParallel(IvfLeader *leader);

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
			bytea	   *b;

			/* too big for a page: the error now, not after the sort */
			(void) IvfListTupleSize(index, bs->dims, keys);
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
 * MakeSortDesc returns the descriptor of the tuples the second pass sorts:
 * (list int4, heap TID, vector of the index column's type, key tuple as a
 * bytea or NULL).  Allocated in CurrentMemoryContext.
 */
static TupleDesc
MakeSortDesc(Relation index)
{
	TupleDesc	desc = CreateTemplateTupleDesc(4);

	TupleDescInitEntry(desc, 1, "list", INT4OID, -1, 0);
	TupleDescInitEntry(desc, 2, "tid", TIDOID, -1, 0);
	TupleDescInitEntry(desc, 3, "vector", TupleDescAttr(RelationGetDescr(index), 0)->atttypid, -1, 0);
	TupleDescInitEntry(desc, 4, "keys", BYTEAOID, -1, 0);
	return desc;
}

/*
 * BeginAssignSort starts the second pass's tuplesort on desc, ordered by
 * list number, with workMem kB; coordinate is NULL for a serial build.
 */
static Tuplesortstate *
BeginAssignSort(TupleDesc desc, int workMem, SortCoordinate coordinate)
{
	AttrNumber	sortCol = 1;
	Oid			sortOp = Int4LessOperator;
	Oid			sortColl = InvalidOid;
	bool		nullsFirst = false;

	return tuplesort_begin_heap(desc, 1, &sortCol, &sortOp, &sortColl, &nullsFirst,
								workMem, coordinate, TUPLESORT_NONE);
}

/*
 * ParallelScanAndSort is one participant's share of a parallel second
 * pass, in a worker or in the leader: it joins the parallel heap scan,
 * assigns its rows into a worker tuplesort of sortmem kB, sorts them
 * (the runs stay in sharedsort's file set for the leader to merge), and
 * adds its counts to shared.  bs must hold dims, metric, nlists,
 * centroids, the scratch vector, the row context and the put slot.
 * Reports heap blocks to pg_stat_progress_create_index if progress.
 */
static void
ParallelScanAndSort(IvfBuildState *bs, IvfShared *shared, Sharedsort *sharedsort,
					int sortmem, bool progress)
{
	SortCoordinate coordinate;
	IndexInfo  *indexInfo;
	TableScanDesc scan;
	double		reltuples;

	coordinate = palloc0(sizeof(SortCoordinateData));
	coordinate->isWorker = true;
	coordinate->nParticipants = -1;
	coordinate->sharedsort = sharedsort;
	bs->sort = BeginAssignSort(bs->slot->tts_tupleDescriptor, sortmem, coordinate);
	bs->assigned = 0;

	indexInfo = BuildIndexInfo(bs->index);
	indexInfo->ii_Concurrent = shared->isconcurrent;
	scan = table_beginscan_parallel(bs->heap, ParallelTableScanFromIvfShared(shared));
	/* table_index_build_scan ends the scan */
	reltuples = table_index_build_scan(bs->heap, bs->index, indexInfo, true, progress,
									   AssignCallback, bs, scan);
	tuplesort_performsort(bs->sort);

	SpinLockAcquire(&shared->mutex);
	shared->nparticipantsdone++;
	shared->reltuples += reltuples;
	shared->assigned += bs->assigned;
	if (IsParallelWorker())
		shared->workerAssigned += bs->assigned;
	SpinLockRelease(&shared->mutex);

	tuplesort_end(bs->sort);
	bs->sort = NULL;
}

/*
 * BeginParallel tries to start a parallel second pass with up to request
 * workers, once the centroids are trained.  On success bs->leader is set,
 * the workers are running, the calling backend is in parallel mode until
 * EndParallel, and the leader has done its own share of the scan
 * (ParallelScanAndSort).  If no DSM segment or no worker could be had,
 * bs->leader stays NULL, parallel mode is left and the caller builds
 * serially.  A concurrent build scans with a registered MVCC snapshot
 * (what the serial scan would take), any other with SnapshotAny.
 */
static void
BeginParallel(IvfBuildState *bs, bool isconcurrent, int request)
{
	VsParallelBuild par;
	ParallelContext *pcxt;
	IvfLeader  *leader;
	IvfShared  *shared;
	Sharedsort *sharedsort;
	float	   *centroids;
	Size		estshared;
	Size		estcentroids;
	Size		estsort;
	int			scantuplesortstates = request + 1;	/* the leader participates */

	Assert(request > 0);
	VsParallelCreate(&par, "IvfParallelBuildMain", request, isconcurrent);
	pcxt = par.pcxt;
	estshared = add_size(BUFFERALIGN(sizeof(IvfShared)),
						 table_parallelscan_estimate(bs->heap, par.snapshot));
	estcentroids = mul_size(mul_size(bs->nlists, bs->dims), sizeof(float));
	estsort = tuplesort_estimate_shared(scantuplesortstates);
	shm_toc_estimate_chunk(&pcxt->estimator, estshared);
	shm_toc_estimate_chunk(&pcxt->estimator, estcentroids);
	shm_toc_estimate_chunk(&pcxt->estimator, estsort);
	shm_toc_estimate_keys(&pcxt->estimator, 3);
	if (!VsParallelInitialize(&par))
		return;					/* no DSM segment: build serially */

	shared = (IvfShared *) shm_toc_allocate(pcxt->toc, estshared);
	shared->heaprelid = RelationGetRelid(bs->heap);
	shared->indexrelid = RelationGetRelid(bs->index);
	shared->isconcurrent = isconcurrent;
	shared->scantuplesortstates = scantuplesortstates;
	shared->dims = bs->dims;
	shared->nlists = bs->nlists;
	shared->metric = bs->metric;
	SpinLockInit(&shared->mutex);
	shared->nparticipantsdone = 0;
	shared->reltuples = 0;
	shared->assigned = 0;
	shared->workerAssigned = 0;
	table_parallelscan_initialize(bs->heap, ParallelTableScanFromIvfShared(shared), par.snapshot);

	centroids = (float *) shm_toc_allocate(pcxt->toc, estcentroids);
	memcpy(centroids, bs->centroids, estcentroids);

	sharedsort = (Sharedsort *) shm_toc_allocate(pcxt->toc, estsort);
	tuplesort_initialize_shared(sharedsort, scantuplesortstates, pcxt->seg);

	shm_toc_insert(pcxt->toc, IVF_PARALLEL_KEY_SHARED, shared);
	shm_toc_insert(pcxt->toc, IVF_PARALLEL_KEY_CENTROIDS, centroids);
	shm_toc_insert(pcxt->toc, IVF_PARALLEL_KEY_TUPLESORT, sharedsort);

	LaunchParallelWorkers(pcxt);
	leader = palloc0(sizeof(IvfLeader));
	leader->par = par;
	leader->nparticipanttuplesorts = pcxt->nworkers_launched + 1;
	leader->shared = shared;
	leader->sharedsort = sharedsort;

	elog(DEBUG1, "vsearch_ivf build of \"%s\": %d parallel workers launched (%d requested)",
		 RelationGetRelationName(bs->index), pcxt->nworkers_launched, request);

	if (pcxt->nworkers_launched == 0)
	{
		/* no worker: build serially */
		EndParallel(leader);
		pfree(leader);
		return;
	}
	bs->leader = leader;

	/*
	 * Let the workers start before the leader takes blocks, so a small table
	 * is not scanned by the leader alone while they start up.  Fails if a
	 * worker could not be started.
	 */
	WaitForParallelWorkersToAttach(pcxt);

	/* the leader's own share, with its part of maintenance_work_mem */
	ParallelScanAndSort(bs, shared, sharedsort,
						maintenance_work_mem / scantuplesortstates, true);
}

/*
 * EndParallel waits for the workers of a parallel build to exit (raising
 * any error of theirs), adds their WAL and buffer usage to the leader's,
 * and leaves parallel mode.  The sorted runs in the DSM segment's file set
 * are gone afterwards: call it after the leader's merge has been read.
 */
static void
EndParallel(IvfLeader *leader)
{
	VsParallelWaitWorkers(&leader->par);
	VsParallelEnd(&leader->par);
}

/*
 * IvfParallelBuildMain is a parallel build worker's entry point, found by
 * name by the parallel machinery (so exported).  It opens the relations
 * with the locks the leader holds (group locking lets them through), does
 * its share of the second pass with the leader's centroids, and reports
 * its WAL and buffer usage.  Memory: the worker's transaction context.
 */
void
IvfParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	IvfShared  *shared;
	Sharedsort *sharedsort;
	IvfBuildState bs;
	LOCKMODE	heapLockmode;
	LOCKMODE	indexLockmode;

	shared = shm_toc_lookup(toc, IVF_PARALLEL_KEY_SHARED, false);
	VsParallelWorkerBegin(toc, shared->isconcurrent, &heapLockmode, &indexLockmode);

	memset(&bs, 0, sizeof(bs));
	bs.heap = table_open(shared->heaprelid, heapLockmode);
	bs.index = index_open(shared->indexrelid, indexLockmode);
	bs.dims = shared->dims;
	bs.nlists = shared->nlists;
	bs.metric = shared->metric;
	bs.centroids = shm_toc_lookup(toc, IVF_PARALLEL_KEY_CENTROIDS, false);
	bs.buildCtx = CurrentMemoryContext;
	bs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "vsearch_ivf build row",
									  ALLOCSET_DEFAULT_SIZES);
	bs.vec = VsVectorAlloc(bs.dims);
	bs.slot = MakeSingleTupleTableSlot(MakeSortDesc(bs.index), &TTSOpsVirtual);

	sharedsort = shm_toc_lookup(toc, IVF_PARALLEL_KEY_TUPLESORT, false);
	tuplesort_attach_shared(sharedsort, seg);

	ParallelScanAndSort(&bs, shared, sharedsort,
						maintenance_work_mem / shared->scantuplesortstates, false);
	VsParallelWorkerEnd(toc);

	ExecDropSingleTupleTableSlot(bs.slot);
	MemoryContextDelete(bs.tmpCtx);
	index_close(bs.index, indexLockmode);
	table_close(bs.heap, heapLockmode);
}

/*
 * WriterNewPage opens a new page of kind flags right after the open one
 * and returns it.  Pages go out through common/vspagewriter.h, a batch at
 * a time, without WAL (see the file header).
 */
static Page
WriterNewPage(VsPageWriter *w, uint16 flags)
{
	Page		page = VsPageWriterNewPage(w);

	IvfInitPage(page, flags);
	return page;
}

/*
 * ChainAppend adds item to the open page of a chain of pages of kind
 * flags; when it does not fit, the open page is linked to a new one after
 * it, which receives the item.  Returns true if it moved to a new page.
 */
static bool
ChainAppend(VsPageWriter *w, Item item, Size itemsz, uint16 flags)
{
	Page		page = VsPageWriterPage(w);
	bool		moved = false;

	if (PageGetFreeSpace(page) < MAXALIGN(itemsz))
	{
		IvfPageGetOpaque(page)->nextblkno = VsPageWriterBlock(w) + 1;
		page = WriterNewPage(w, flags);
		moved = true;
	}
	if (PageAddItem(page, item, itemsz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add an item to a new page of index \"%s\"",
			 RelationGetRelationName(w->index));
	return moved;
}

/*
 * LoadLists reads the sorted rows and writes each list as a chain of
 * consecutive pages through w.  startPages and lastPages (nlists entries
 * each) receive each list's first and last page; an empty list gets one
 * empty page.
 */
static void
LoadLists(IvfBuildState *bs, VsPageWriter *w, BlockNumber *startPages, BlockNumber *lastPages)
{
	Size		itemsz;
	IvfListTuple item;
	char	   *keybuf = palloc(BLCKSZ);	/* MAXALIGNed copy of a key tuple */
	int			list = -1;
	double		done = 0;
	bool		more = true;

	while (more || list < bs->nlists - 1)
	{
		int			rowList;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		more = more && tuplesort_gettupleslot(bs->sort, true, false, bs->readSlot, NULL);
		rowList = more ? DatumGetInt32(slot_getattr(bs->readSlot, 1, &isnull)) : bs->nlists;

		/* open the next lists up to rowList, each on a page of its own */
		while (list < rowList && list < bs->nlists - 1)
		{
			list++;
			WriterNewPage(w, IVF_PAGE_LIST);
			startPages[list] = lastPages[list] = VsPageWriterBlock(w);
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
		if (ChainAppend(w, (Item) item, itemsz, IVF_PAGE_LIST))
			lastPages[list] = VsPageWriterBlock(w);
		pfree(item);
		done += 1;
		if (((int64) done & 1023) == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
	}
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
	pfree(keybuf);
}

/*
 * WriteCentroids appends the centroid pages through w and returns the
 * first one's block number.
 */
static BlockNumber
WriteCentroids(IvfBuildState *bs, VsPageWriter *w, const BlockNumber *startPages,
			   const BlockNumber *lastPages)
{
	Size		itemsz = IVF_CENTROID_TUPLE_SIZE(bs->dims);
	IvfCentroidTuple item = palloc0(itemsz);
	BlockNumber first;

	WriterNewPage(w, IVF_PAGE_CENTROID);
	first = VsPageWriterBlock(w);
	for (int i = 0; i < bs->nlists; i++)
	{
		item->startPage = startPages[i];
		item->insertPage = lastPages[i];
		memcpy(item->x, bs->centroids + (Size) i * bs->dims, sizeof(float) * (Size) bs->dims);
		ChainAppend(w, (Item) item, itemsz, IVF_PAGE_CENTROID);
	}
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
		TupleDesc	desc = MakeSortDesc(index);
		BlockNumber *startPages = palloc(sizeof(BlockNumber) * bs.nlists);
		BlockNumber *lastPages = palloc(sizeof(BlockNumber) * bs.nlists);
		BlockNumber centroidStart;
		VsPageWriter writer;
		int			nworkers;

		bs.slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
		bs.readSlot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);

		/* pass 2: assign, in parallel if the planner grants workers */
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_ASSIGN);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) bs.rowsSeen);
		nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
		if (nworkers > 0)
			BeginParallel(&bs, indexInfo->ii_Concurrent, nworkers);
		if (bs.leader != NULL)
		{
			IvfShared  *shared = bs.leader->shared;
			SortCoordinate coordinate = palloc0(sizeof(SortCoordinateData));

			/* the leader's share is done: wait for the workers' */
			WaitForParallelWorkersToFinish(bs.leader->par.pcxt);
			if (shared->nparticipantsdone != bs.leader->nparticipanttuplesorts)
				elog(ERROR, "%d of %d participants of a parallel build finished",
					 shared->nparticipantsdone, bs.leader->nparticipanttuplesorts);
			reltuples = shared->reltuples;
			bs.assigned = shared->assigned;
			elog(DEBUG1, "vsearch_ivf build of \"%s\": %d workers assigned %.0f of %.0f rows",
				 RelationGetRelationName(index), bs.leader->par.pcxt->nworkers_launched,
				 shared->workerAssigned, shared->assigned);

			/* merge the participants' sorted runs */
			coordinate->isWorker = false;
			coordinate->nParticipants = bs.leader->nparticipanttuplesorts;
			coordinate->sharedsort = bs.leader->sharedsort;
			bs.sort = BeginAssignSort(desc, maintenance_work_mem, coordinate);
		}
		else
		{
			bs.sort = BeginAssignSort(desc, maintenance_work_mem, NULL);
			reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
											   AssignCallback, &bs, NULL);
		}
		tuplesort_performsort(bs.sort);
		t3 = GetCurrentTimestamp();

		/* load */
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_LOAD);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) bs.assigned);
		VsPageWriterInit(&writer, index);
		LoadLists(&bs, &writer, startPages, lastPages);
		tuplesort_end(bs.sort);
		if (bs.leader != NULL)
			EndParallel(bs.leader);
		ExecDropSingleTupleTableSlot(bs.slot);
		ExecDropSingleTupleTableSlot(bs.readSlot);
		centroidStart = WriteCentroids(&bs, &writer, startPages, lastPages);
		VsPageWriterEnd(&writer);
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
