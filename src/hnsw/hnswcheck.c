/*-------------------------------------------------------------------------
 *
 * hnswcheck.c
 *	  vsearch_hnsw_check(regclass): a structure checker for tests and for
 *	  users who suspect a damaged index.
 *
 * Design: reads every page under share locks and checks what the search
 * relies on: page and tuple kinds, element/neighbour tuple pairing,
 * neighbour slots pointing at live elements of a high enough level, no
 * self or duplicate links, no live element linking to a deleted one, a
 * valid entry point at the top level, and every heap row visible to the
 * current snapshot (with a value the index holds and, for a partial index,
 * satisfying its predicate) present in some element.
 * The first problem raises ERRCODE_INDEX_CORRUPTED; otherwise it returns
 * counts, among them the live elements no search can reach: a search
 * starts at the entry point on its top layer, follows links within a
 * layer and descends on the element it stands on, so an element counts
 * as reached when some such path ends on it on layer 0.  Layer 0 alone
 * need not be strongly connected (after the entry point moved to a new
 * top element, some clusters may be entered only from the layers above).
 * Scans still return unreachable elements, through their final pass over
 * the pages, but a search finds them only there.
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswcheck.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "common/vsfmgr.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

typedef struct CheckElement
{
	ItemPointerData tid;
	ItemPointerData nbrtid;
	int			level;
	bool		deleted;
	int			ntids;
	ItemPointerData heaptids[HNSW_HEAPTIDS];
} CheckElement;

static void
pg_attribute_noreturn()
Corrupt(Relation index, const char *fmt,...)
pg_attribute_printf(2, 3);

static void
Corrupt(Relation index, const char *fmt,...)
{
	va_list		ap;
	char		buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("vsearch_hnsw index \"%s\" is corrupted", RelationGetRelationName(index)),
			 errdetail_internal("%s", buf)));
}

/* Finds the element at tid in the sorted array, or NULL. */
static CheckElement *
FindElement(CheckElement *elems, int n, ItemPointer tid)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = ItemPointerCompare(&elems[mid].tid, tid);

		if (c == 0)
			return &elems[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Reads the neighbour tuple of e (copied), checking it. */
static HnswNeighborTuple
ReadNeighborTuple(Relation index, CheckElement *e, int m)
{
	Buffer		buf;
	Page		page;
	OffsetNumber off = ItemPointerGetOffsetNumber(&e->nbrtid);
	ItemId		iid;
	HnswNeighborTuple ntup,
				copy = NULL;

	if (ItemPointerGetBlockNumber(&e->nbrtid) == HNSW_METAPAGE_BLKNO ||
		ItemPointerGetBlockNumber(&e->nbrtid) >= RelationGetNumberOfBlocks(index))
		Corrupt(index, "element (%u,%u) names neighbour tuple (%u,%u) outside the index",
				ItemPointerGetBlockNumber(&e->tid), ItemPointerGetOffsetNumber(&e->tid),
				ItemPointerGetBlockNumber(&e->nbrtid), off);
	buf = ReadBuffer(index, ItemPointerGetBlockNumber(&e->nbrtid));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page))
	{
		iid = PageGetItemId(page, off);
		if (ItemIdIsNormal(iid))
		{
			ntup = (HnswNeighborTuple) PageGetItem(page, iid);
			if (ntup->type == HNSW_NEIGHBOR_TUPLE &&
				ntup->count == HNSW_NEIGHBOR_SLOTS(e->level, m) &&
				ItemIdGetLength(iid) >= HNSW_NEIGHBOR_TUPLE_SIZE(e->level, m) - 8)
			{
				copy = palloc(ItemIdGetLength(iid));
				memcpy(copy, ntup, ItemIdGetLength(iid));
			}
		}
	}
	UnlockReleaseBuffer(buf);
	if (copy == NULL)
		Corrupt(index, "element (%u,%u) names (%u,%u), which is not its neighbour tuple",
				ItemPointerGetBlockNumber(&e->tid), ItemPointerGetOffsetNumber(&e->tid),
				ItemPointerGetBlockNumber(&e->nbrtid), off);
	return copy;
}

static int
CompareElements(const void *a, const void *b)
{
	return ItemPointerCompare(&((CheckElement *) a)->tid, &((CheckElement *) b)->tid);
}

/*
 * vsearch_hnsw_check(index regclass) returns (elements, heap_tids,
 * deleted, unreachable, live_rows) or raises an error describing the first problem.
 */
VS_FUNCTION(vsearch_hnsw_check);
Datum
vsearch_hnsw_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	index;
	Relation	heap;
	HnswMetaPageData meta;
	BlockNumber nblocks;
	CheckElement *elems;
	int			nelems = 0;
	int			capacity = 1024;
	int64		heaptids = 0;
	int64		ndeleted = 0;
	int64		live = 0;
	VsTidSet   *reached;		/* elements a search reaches on layer 0 */
	VsTidSet   *visited;		/* search states seen: an element on a layer
								 * (HnswLayerKey); a search moves along the
								 * layer's links or down on the element */
	VsTidSet   *indexed_rows;
	int64		unreachable = 0;
	uint64	   *queue;
	int64		nstates = 0;
	int64		qhead = 0,
				qtail = 0;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	Oid			heapoid;
	LOCKMODE	lockmode;

	if (get_rel_name(indexoid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", indexoid)));
	if (get_rel_relkind(indexoid) == RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a partitioned index", get_rel_name(indexoid)),
				 errhint("Check the index of each partition.")));
	if (get_rel_relkind(indexoid) != RELKIND_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexoid))));
	/* writers wait while the check runs, so it sees no insert half done */
	lockmode = RecoveryInProgress() ? AccessShareLock : ShareLock;
	heapoid = IndexGetRelation(indexoid, false);
	heap = table_open(heapoid, lockmode);
	index = index_open(indexoid, lockmode);
	if (index->rd_rel->relam != get_index_am_oid("vsearch_hnsw", false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a vsearch_hnsw index", RelationGetRelationName(index))));

	HnswReadMeta(index, &meta);
	nblocks = RelationGetNumberOfBlocks(index);
	elems = palloc(sizeof(CheckElement) * capacity);

	/* pages and element tuples */
	for (BlockNumber blkno = 1; blkno < nblocks; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page))
		{
			UnlockReleaseBuffer(buf);
			continue;
		}
		if (PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
			HnswPageGetOpaque(page)->page_id != HNSW_PAGE_ID ||
			!(HnswPageGetOpaque(page)->flags & HNSW_PAGE_ELEMENTS))
			Corrupt(index, "block %u is not an element page", blkno);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page);
			 off = OffsetNumberNext(off))
		{
			ItemId		iid = PageGetItemId(page, off);
			HnswElementTuple etup;
			uint8		type;

			if (!ItemIdIsNormal(iid))
				continue;
			type = *((uint8 *) PageGetItem(page, iid));
			if (type == HNSW_NEIGHBOR_TUPLE || type == HNSW_FREE_TUPLE)
				continue;
			if (type != HNSW_ELEMENT_TUPLE)
				Corrupt(index, "tuple (%u,%u) has unknown kind %u", blkno, off, type);
			etup = (HnswElementTuple) PageGetItem(page, iid);
			if (ItemIdGetLength(iid) < HNSW_ELEMENT_TUPLE_SIZE(meta.dimensions) ||
				etup->vec.dim != (int) meta.dimensions)
				Corrupt(index, "element (%u,%u) has %d dimensions, the index %u",
						blkno, off, etup->vec.dim, meta.dimensions);
			if (VsIndexHasKeys(index))
			{
				IndexTuple	keys = HnswElementKeys(index, etup);
				Size		room = ItemIdGetLength(iid) - HNSW_ELEMENT_TUPLE_SIZE(meta.dimensions);

				if (room < sizeof(IndexTupleData) || IndexTupleSize(keys) > room ||
					IndexTupleSize(keys) < sizeof(IndexTupleData))
					Corrupt(index, "element (%u,%u) has a key tuple of %zu bytes in %zu bytes of room",
							blkno, off, room < sizeof(IndexTupleData) ? (Size) 0 : IndexTupleSize(keys),
							room);
			}
			/*
			 * A deleted element may sit above the entry level: vacuum moves
			 * the entry point off deleted elements in pass 2 and frees them
			 * in pass 3, and an interrupted vacuum leaves them until the
			 * next one.
			 */
			if (etup->level > HNSW_MAX_LEVEL ||
				(etup->level > meta.entry_level && !etup->deleted))
				Corrupt(index, "element (%u,%u) has level %d above the entry level %d",
						blkno, off, etup->level, meta.entry_level);
			if (nelems == capacity)
			{
				capacity *= 2;
				elems = repalloc_huge(elems, sizeof(CheckElement) * capacity);
			}
			ItemPointerSet(&elems[nelems].tid, blkno, off);
			elems[nelems].nbrtid = etup->neighbortid;
			elems[nelems].level = etup->level;
			elems[nelems].deleted = etup->deleted != 0;
			elems[nelems].ntids = 0;
			for (int t = 0; t < HNSW_HEAPTIDS; t++)
				if (ItemPointerIsValid(&etup->heaptids[t]))
					elems[nelems].heaptids[elems[nelems].ntids++] = etup->heaptids[t];
			heaptids += elems[nelems].ntids;
			ndeleted += elems[nelems].deleted;
			nelems++;
		}
		UnlockReleaseBuffer(buf);
	}
	qsort(elems, nelems, sizeof(CheckElement), CompareElements);

	/* entry point */
	if (nelems - ndeleted > 0 || ItemPointerIsValid(&meta.entry))
	{
		CheckElement *entry = FindElement(elems, nelems, &meta.entry);

		if (entry == NULL)
			Corrupt(index, "entry point (%u,%u) is not an element",
					ItemPointerGetBlockNumber(&meta.entry), ItemPointerGetOffsetNumber(&meta.entry));
		if (entry->level != meta.entry_level)
			Corrupt(index, "entry point has level %d, the metapage says %d",
					entry->level, meta.entry_level);
	}

	/* neighbour lists, and the elements a search can reach */
	for (int i = 0; i < nelems; i++)
		nstates += elems[i].level + 1;
	reached = VsTidSetCreate(CurrentMemoryContext, nelems + 1);
	visited = VsTidSetCreate(CurrentMemoryContext, nstates + 1);
	indexed_rows = VsTidSetCreate(CurrentMemoryContext, heaptids + 1);
	queue = palloc(sizeof(uint64) * (nstates + 1));
	if (ItemPointerIsValid(&meta.entry))
	{
		queue[qtail++] = HnswLayerKey(VsTidToKey(&meta.entry), meta.entry_level);
		VsTidSetAdd(visited, queue[0]);
	}
	for (int i = 0; i < nelems; i++)
	{
		CheckElement *e = &elems[i];
		HnswNeighborTuple ntup = ReadNeighborTuple(index, e, meta.m);

		for (int lc = 0; lc <= e->level; lc++)
		{
			int			start = HNSW_LAYER_START(lc, meta.m);
			int			slots = HNSW_LAYER_SLOTS(lc, meta.m);

			for (int s = 0; s < slots; s++)
			{
				ItemPointer n = &ntup->tids[start + s];
				CheckElement *ne;

				if (!ItemPointerIsValid(n))
					continue;
				ne = FindElement(elems, nelems, n);

				/*
				 * A deleted element's links may name elements pass 3 has
				 * already freed when an interrupted vacuum left it: no live
				 * element links to it any more (pass 2 finished before pass
				 * 3 began), so nothing follows them before the next vacuum
				 * frees it too.
				 */
				if (ne == NULL && e->deleted)
					continue;
				if (ne == NULL)
					Corrupt(index, "element (%u,%u) links on layer %d to (%u,%u), which is not an element",
							ItemPointerGetBlockNumber(&e->tid), ItemPointerGetOffsetNumber(&e->tid), lc,
							ItemPointerGetBlockNumber(n), ItemPointerGetOffsetNumber(n));
				if (ne == e)
					Corrupt(index, "element (%u,%u) links to itself on layer %d",
							ItemPointerGetBlockNumber(&e->tid), ItemPointerGetOffsetNumber(&e->tid), lc);
				if (ne->level < lc)
					Corrupt(index, "element (%u,%u) links on layer %d to an element of level %d",
							ItemPointerGetBlockNumber(&e->tid), ItemPointerGetOffsetNumber(&e->tid),
							lc, ne->level);
				for (int s2 = 0; s2 < s; s2++)
					if (ItemPointerEquals(&ntup->tids[start + s2], n))
						Corrupt(index, "element (%u,%u) links twice to (%u,%u) on layer %d",
								ItemPointerGetBlockNumber(&e->tid), ItemPointerGetOffsetNumber(&e->tid),
								ItemPointerGetBlockNumber(n), ItemPointerGetOffsetNumber(n), lc);
				/*
				 * Links to elements marked deleted are vacuum's pending work
				 * (pass 2 repairs them), also after an interrupted vacuum:
				 * they show in the deleted count, not as corruption.
				 */
			}
		}
		pfree(ntup);
	}
	while (qhead < qtail)
	{
		uint64		state = queue[qhead++];
		int			lc = HnswLayerKeyLayer(state);
		ItemPointerData tid;
		CheckElement *e;
		HnswNeighborTuple ntup;

		CHECK_FOR_INTERRUPTS();
		VsKeyToTid(HnswLayerKeyElement(state), &tid);
		e = FindElement(elems, nelems, &tid);
		if (lc == 0)
			VsTidSetAdd(reached, HnswLayerKeyElement(state));
		else if (VsTidSetAdd(visited, state - 1))
			queue[qtail++] = state - 1; /* the search descends here */
		ntup = ReadNeighborTuple(index, e, meta.m);
		for (int s = 0; s < HNSW_LAYER_SLOTS(lc, meta.m); s++)
		{
			ItemPointer n = &ntup->tids[HNSW_LAYER_START(lc, meta.m) + s];
			uint64		next;

			/*
			 * Only states of elements are queued (a deleted element may
			 * link to one already freed), so the queue holds at most
			 * nstates.
			 */
			if (!ItemPointerIsValid(n) || FindElement(elems, nelems, n) == NULL)
				continue;
			next = HnswLayerKey(VsTidToKey(n), lc);
			if (VsTidSetAdd(visited, next))
				queue[qtail++] = next;
		}
		pfree(ntup);
	}
	for (int i = 0; i < nelems; i++)
	{
		if (!elems[i].deleted && !VsTidSetContains(reached, VsTidToKey(&elems[i].tid)))
			unreachable++;
		for (int t = 0; t < elems[i].ntids; t++)
			VsTidSetAdd(indexed_rows, VsTidToKey(&elems[i].heaptids[t]));
	}

	/* every visible heap row with an indexable value is reachable */
	if (index->rd_index->indkey.values[0] != 0)
	{
		AttrNumber	attno = index->rd_index->indkey.values[0];
		HnswMetric	metric;
		TableScanDesc scan;
		TupleTableSlot *slot = table_slot_create(heap, NULL);
		Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
		EState	   *estate = CreateExecutorState();
		ExprContext *econtext = GetPerTupleExprContext(estate);
		/* NULL unless a partial index: its rows outside the predicate are not indexed */
		ExprState  *predicate = ExecPrepareQual(RelationGetIndexPredicate(index), estate);

		econtext->ecxt_scantuple = slot;
		HnswInitMetric(index, &metric);
		scan = table_beginscan(heap, snapshot, 0, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			bool		isnull;
			Datum		value;
			HeapTuple	htup;

			CHECK_FOR_INTERRUPTS();
			/* a heap-only tuple is reached through the root of its HOT chain */
			htup = ExecFetchSlotHeapTuple(slot, false, NULL);
			if (HeapTupleIsHeapOnly(htup))
				continue;
			value = slot_getattr(slot, attno, &isnull);
			if (isnull)
				continue;
			if (predicate != NULL)
			{
				ResetExprContext(econtext);
				if (!ExecQual(predicate, econtext))
					continue;
			}
			if (metric.normproc != NULL &&
				HnswPrepareVector(&metric, value, 0) == NULL)
				continue;
			live++;
			if (!VsTidSetContains(indexed_rows, VsTidToKey(&slot->tts_tid)))
				Corrupt(index, "heap row (%u,%u) is missing from the index",
						ItemPointerGetBlockNumber(&slot->tts_tid),
						ItemPointerGetOffsetNumber(&slot->tts_tid));
		}
		table_endscan(scan);
		UnregisterSnapshot(snapshot);
		ExecDropSingleTupleTableSlot(slot);
		FreeExecutorState(estate);
	}
	else
		live = -1;				/* expression index: not checked */

	index_close(index, lockmode);
	table_close(heap, lockmode);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(nelems - ndeleted);
	values[1] = Int64GetDatum(heaptids);
	values[2] = Int64GetDatum(ndeleted);
	values[3] = Int64GetDatum(unreachable);
	values[4] = Int64GetDatum(live);
	if (live < 0)
		nulls[4] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
