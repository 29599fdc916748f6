/*-------------------------------------------------------------------------
 *
 * hybridexec.c
 *	  Executor side of the hybrid scan: answer WHERE ... ORDER BY distance
 *	  LIMIT k with the strategy that is cheapest for this execution.
 *
 * Design: the strategy is chosen when the first row is asked for, from
 * what is known then, and corrected from what the scan observes.
 *
 *	 - With a bitmap child (ordinary indexes serve some quals) and an
 *	   estimate of few matches, the bitmap is built first and its matches
 *	   counted: few are ranked exactly; otherwise the vector index is
 *	   traversed and candidates not in the bitmap are rejected without a
 *	   heap visit.  Whether to count first, and whether to look around the
 *	   query before ranking, depend on how often this filter's matches sat
 *	   around the query before (hybridlearn.c).
 *	 - Otherwise the vector index is traversed and each candidate's heap
 *	   row tested.
 *	 - While the first k rows are collected, the observed pass rate gives
 *	   the remaining cost of traversal: above the bitmap's cost the bitmap
 *	   is built (if there is one); above the exact strategy's cost (the
 *	   filter is more selective than estimated, or anti-correlated with the
 *	   query), the scan switches to exact.  No row has been returned yet,
 *	   so the switch is free of duplicates.
 *	 - An index read to its end before k rows passed (few matches, or rows
 *	   the index does not hold: NULL vectors, zero vectors under cosine, a
 *	   zero query) also hands over to exact.
 *
 * Every strategy streams: rows keep coming in distance order (exact) or
 * near distance order (index) until the caller stops or no matching row
 * is left, so the result has min(k, matching rows) rows, except that a
 * distance threshold stops traversal once it is past the threshold and
 * rows past k come from the index only.  Rows with a NULL vector are
 * ranked after all others (NaN distances too, or first under the
 * similarity form, as a sort would put them).

 * Memory: the exact strategy keeps 16 bytes per matching row; the bitmap
 * about 6 bytes per entry (an array), 30 once traversal tests rows
 * against it (array and hash); the index strategy what its scan keeps
 * (see the index READMEs) plus the collected rows, 16 bytes each.
 *
 * IDENTIFICATION
 *	  src/planner/hybridexec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "commands/explain.h"
#include "common/vsbuffer.h"
#include "common/vshint.h"
#include "common/vstidset.h"
#include "executor/executor.h"
#include "executor/nodeIndexscan.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/makefuncs.h"
#include "nodes/tidbitmap.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "planner/hybrid.h"
#include "portability/instr_time.h"
#include "rewrite/rewriteManip.h"
#include "types/vector.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include <math.h>

/*
 * Costs in microseconds, fitted to measurements on fashion-mnist (784-d,
 * TOASTed) and a 32-d table (see the planner README): ranking a row
 * exactly (heap fetch, quals, detoast, distance), one candidate returned by
 * the vector index (graph expansion), a candidate's heap check (fetch and
 * quals), a tuple of a sequential pass and an entry of the bitmap.
 * Ranking a row whose vector is stored inline uncompressed (the column's
 * average stored width is its full size) costs far less, as no
 * decompression runs, and RunExact reads those heap pages itself
 * (FetchMatch): 0.5-0.6 µs a row for 2,000 rows of 200,000 x 768, twice
 * that for 100,000 (INLINE_MANY_FACTOR: rows past the CPU caches).
 */
#define COST_EXACT_BASE		0.15
#define COST_EXACT_DIM		0.0085
#define COST_INLINE_BASE	0.2
#define COST_INLINE_DIM		0.0006
#define INLINE_MANY_FACTOR	2.0 /* inline, not counted or over 5% of the rows */
#define INLINE_WIDTH_SHARE	0.9	/* stored width / full size above this: inline */
#define COST_GRAPH_BASE		2.2
#define COST_GRAPH_DIM		0.0086
#define COST_LIST_BASE		0.1 /* an IVF candidate: its share of a batch */
#define COST_LIST_DIM		0.0008
#define COST_HEAP_CHECK		0.3
#define COST_SEQ_TUPLE		0.1
#define COST_BITMAP_ENTRY	0.1
#define BITMAP_FIRST_SEL	0.05	/* below this estimate, count the bitmap first */
#define SWITCH_MARGIN		1.5 /* traversal must look this much dearer */
#define MIN_SAMPLE			64	/* candidates seen before the rate is trusted */
#define FIRST_SAMPLE		32	/* the first check: inside HNSW's first round */
#define PROBE_SAMPLE		16	/* the first check of a probe (vshint.h) */
#define PRIOR_WEIGHT		8	/* candidates the counted rate weighs as */
#define COST_PROBE_BASE		350 /* starting a search: descent and first round */
#define COUNT_FIRST_FACTOR	8	/* count the bitmap first below this many */
#define UNCOUNTED_SPEND		0.5 /* uncounted: traverse this share of exact first */
#define EXACT_PREFETCH		8	/* rows ahead whose heap page is prefetched */

typedef enum HybridRun
{
	RUN_IDLE,					/* not started */
	RUN_COLLECT,				/* index: collecting the first k rows and more */
	RUN_RANKED,					/* returning ranked rows (exact, or collected) */
	RUN_STREAM,					/* index: returning rows as they pass */
	RUN_DONE
} HybridRun;

/*
 * An exactly ranked row: class 0 normal, 1 NaN distance (-1 under the
 * similarity form, where c - NaN sorts first descending), 2 NULL distance.
 */
typedef struct HybridRanked
{
	double		dist;
	ItemPointerData tid;
	int16		class;
} HybridRanked;

typedef struct HybridScanState
{
	CustomScanState css;

	/* from the plan */
	Oid			indexoid;
	int			flags;
	double		plantuples;
	double		planrows;
	double		runrows;		/* planrows with the parameters' values, or < 0 */
	bool		reestimated;	/* runrows came from the parameters' values */
	ExprState  *dist;
	ExprState  *query;
	ExprState  *limit;
	ExprState  *offset;
	ExprState  *qual;
	ExprState  *threshold;		/* dist < c, or NULL */
	List	   *qualexprs;		/* quals and threshold, for EXPLAIN */
	List	   *keyexprs;		/* quals on key columns, for EXPLAIN */
	PlanState  *bitmap;
	ScanKey		keys;			/* scan keys for the key-column quals */
	int			nkeys;
	IndexRuntimeKeyInfo *runtimekeys;	/* those computed at each run */
	int			nruntimekeys;
	ExprContext *keycontext;	/* where runtime keys are computed */


	/* for the whole execution */
	Relation	index;
	IndexFetchTableData *fetch;
	MemoryContext runcxt;		/* reset at every rescan */

	/* per (re)scan */
	HybridRun	run;
	const char *strategy;		/* for EXPLAIN ANALYZE */
	int64		k;				/* LIMIT + OFFSET, 0 when unknown */
	Datum		queryval;
	bool		querynull;
	IndexScanDesc iscan;
	VsTidSet   *allow;			/* bitmap entries (exact TIDs) */
	VsTidSet   *lossy;			/* bitmap pages without exact TIDs */
	ItemPointerData *bitmaptids;
	int64		nbitmaptids;
	BlockNumber *lossyblocks;
	int64		nlossy;
	bool		bitmaploaded;	/* the bitmap child ran for this run */
	double		matches;		/* rows the bitmap names (estimated for lossy pages) */
	double		planp;			/* planner's estimate of the fraction that matches */
	int			dim;			/* of the query vector */
	int32		storedwidth;	/* the column's average stored width (0: unknown) */
	int			extradiv;		/* collection reads seen / extradiv more candidates */
	HybridRanked *ranked;		/* exact: matching rows; index: rows collected */
	int64		nranked;
	int64		rankcap;
	int64		rankpos;
	int64		sortedupto;		/* ranked[0 .. sortedupto) are in order */
	bool		heapam;			/* the table is a heap: RunExact reads it itself */
	Buffer		exactbuf;		/* RunExact: the heap page pinned, or invalid */
	int64		collectuntil;	/* index: candidates to read before ranking */
	int64		laterneed;		/* IVF: candidates to read from a later batch */
	int64		laterbatch;		/* VsScanBatches when k rows had passed */
	int64		laterfrom;		/* seen when a later batch began, or -1 */
	int64		batchbase;		/* VsScanBatches when the index scan began */
	bool		laterskip;		/* the rest of the k-th row's batch is farther */
	double		laterdist;		/* the k-th row's distance */
	double		laterindex;		/* and the index's distance of it */
	double		candindex;		/* the index's distance of the candidate (IVF) */
	ItemPointerData *skipped;	/* rows passed over by laterskip, for RUN_STREAM */
	int64		nskipped;
	int64		skipcap;
	int64		skippos;
	bool		collectall;		/* index: collect until the threshold stops it */
	int64		beyond;			/* consecutive candidates past the threshold */
	int64		passed;
	int64		seen;			/* index candidates in this scan */
	int64		callbase;		/* VsScanKeyRejected when the current fetch began */
	int64		nextcheck;		/* seen at the next MaybeSwitch */
	bool		timed;			/* counted before traversal: candidates timed */
	instr_time	indexstart;		/* when the index scan was opened */
	double		candcost;		/* µs a candidate took so far, 0 before a check */
	List	   *shapequals;		/* the quals whose shape is learned */
	uint64		shape;			/* their shape (hybridlearn.c), once computed */
	bool		shapeknown;		/* shape is computed */
	bool		probing;		/* a probe, or a traversal standing for one,
								 * whose outcome is not recorded yet */

	/* EXPLAIN ANALYZE counters, summed over rescans */
	int64		visited;
	int64		rejected;
	int64		keyrejected;
	int64		reranked;
	int64		passedover;		/* rows SkipRow kept unread */
	int64		bitmapmatches;
	int			firstwindow;	/* widest first round of the index scans */
	double		nearrate;		/* q the last probe decision used */
	bool		nearknown;		/* nearrate was looked up for this run */
	double		nearprobes;		/* probes it was learned from (0: none) */
	int64		switches;
	int64		thresholdstops;
	int64		loops;
} HybridScanState;

static Node *HybridCreateState(CustomScan *cscan);
static void HybridBegin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *HybridExec(CustomScanState *node);
static void HybridEnd(CustomScanState *node);
static void HybridRescan(CustomScanState *node);
static void HybridExplain(CustomScanState *node, List *ancestors, ExplainState *es);

CustomScanMethods VsHybridScanMethods = {
	.CustomName = HYBRID_NAME,
	.CreateCustomScanState = HybridCreateState,
};

static const CustomExecMethods HybridExecMethods = {
	.CustomName = HYBRID_NAME,
	.BeginCustomScan = HybridBegin,
	.ExecCustomScan = HybridExec,
	.EndCustomScan = HybridEnd,
	.ReScanCustomScan = HybridRescan,
	.ExplainCustomScan = HybridExplain,
};

/* HybridCreateState allocates the scan state; HybridBegin fills it. */
static Node *
HybridCreateState(CustomScan *cscan)
{
	HybridScanState *hs = palloc0(sizeof(HybridScanState));

	NodeSetTag(hs, T_CustomScanState);
	hs->css.flags = cscan->flags;
	hs->css.methods = &HybridExecMethods;
	return (Node *) hs;
}

/*
 * PlanNumber reads a number the planner stored as a Float node: a plan
 * sent to a parallel worker is read back from text, where a Float without
 * a fraction becomes an Integer node.
 */
static double
PlanNumber(Node *n)
{
	if (IsA(n, Integer))
		return (double) intVal(n);
	if (IsA(n, Float))
		return floatVal(n);
	elog(ERROR, "unexpected node type %d in hybrid scan plan", (int) nodeTag(n));
	return 0;					/* keep the compiler quiet */
}

/*
 * InitKeys turns the plan's quals on key columns of the vector index into
 * scan keys, as an index scan's Index Cond: each qual (column on the left)
 * is copied with its column replaced by the index column, then
 * ExecIndexBuildScanKeys builds the keys and the runtime keys of values
 * only known at run time (parameters).  Called once, in HybridBegin.
 */
static void
InitKeys(HybridScanState *hs, CustomScan *cscan)
{
	List	   *keyquals = list_nth(cscan->custom_exprs, HYBRID_EXPR_KEYS);
	List	   *keycols = list_nth(cscan->custom_private, HYBRID_PRIV_KEYCOLS);
	List	   *indexquals = NIL;
	ListCell   *lq,
			   *lc;

	hs->keyexprs = keyquals;
	if (keyquals == NIL)
		return;
	/*
	 * (cppcheck does not see that forboth's loop condition tests lq and lc
	 * for NULL before the body runs.)
	 */
	forboth(lq, keyquals, lc, keycols)
	{
		/* cppcheck-suppress nullPointerRedundantCheck ; see above */
		Expr	   *q = copyObject(lfirst(lq));
		List	   *args = IsA(q, OpExpr) ? ((OpExpr *) q)->args : ((ScalarArrayOpExpr *) q)->args;
		Expr	   *left = linitial(args);
		Var		   *var;

		while (IsA(left, RelabelType))
			left = ((RelabelType *) left)->arg;
		if (!IsA(left, Var))
			elog(ERROR, "key qual of hybrid scan has no column on the left");
		var = (Var *) left;
		var->varno = INDEX_VAR;
		/* cppcheck-suppress nullPointerRedundantCheck ; see above forboth */
		var->varattno = lfirst_int(lc);
		indexquals = lappend(indexquals, q);
	}
	ExecIndexBuildScanKeys(&hs->css.ss.ps, hs->index, indexquals, false,
						   &hs->keys, &hs->nkeys, &hs->runtimekeys, &hs->nruntimekeys,
						   NULL, NULL);
	if (hs->nruntimekeys > 0)
		hs->keycontext = CreateExprContext(hs->css.ss.ps.state);
}

/*
 * StoredWidth is the average stored width of the indexed vector column in
 * the table's statistics (compressed or TOAST pointer size when the
 * values are stored so), or 0 when there are none or the index is on an
 * expression.
 */
static int32
StoredWidth(Relation heap, Relation index)
{
	AttrNumber	attnum = index->rd_index->indkey.values[0];

	if (attnum <= 0)
		return 0;
	return get_attavgwidth(RelationGetRelid(heap), attnum);
}

/*
 * HybridBegin is BeginCustomScan.  The scan slot becomes a slot of the
 * table's own kind (the core made a virtual one), and the projection is
 * rebuilt for it, so rows fetched from the heap are returned without a
 * copy.  Nothing is searched here: plain EXPLAIN stops after this.
 */
static void
HybridBegin(CustomScanState *node, EState *estate, int eflags)
{
	HybridScanState *hs = (HybridScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Relation	heap = node->ss.ss_currentRelation;
	TupleTableSlot *slot;

	hs->indexoid = (Oid) intVal(list_nth(cscan->custom_private, HYBRID_PRIV_INDEX));
	hs->flags = intVal(list_nth(cscan->custom_private, HYBRID_PRIV_FLAGS));
	hs->plantuples = PlanNumber(list_nth(cscan->custom_private, HYBRID_PRIV_TUPLES));
	hs->planrows = PlanNumber(list_nth(cscan->custom_private, HYBRID_PRIV_ROWS));
	hs->runrows = -1;

	slot = ExecAllocTableSlot(&estate->es_tupleTable, RelationGetDescr(heap),
							  table_slot_callbacks(heap));
	node->ss.ss_ScanTupleSlot = slot;
	node->ss.ps.scanops = slot->tts_ops;
	node->ss.ps.scanopsfixed = true;
	node->ss.ps.scanopsset = true;
	ExecAssignScanProjectionInfoWithVarno(&node->ss, cscan->scan.scanrelid);

	hs->dist = ExecInitExpr(list_nth(cscan->custom_exprs, HYBRID_EXPR_DIST), &node->ss.ps);
	hs->query = ExecInitExpr(list_nth(cscan->custom_exprs, HYBRID_EXPR_QUERY), &node->ss.ps);
	hs->limit = ExecInitExpr(list_nth(cscan->custom_exprs, HYBRID_EXPR_LIMIT), &node->ss.ps);
	hs->offset = ExecInitExpr(list_nth(cscan->custom_exprs, HYBRID_EXPR_OFFSET), &node->ss.ps);
	hs->qual = ExecInitQual(list_nth(cscan->custom_exprs, HYBRID_EXPR_QUALS), &node->ss.ps);
	hs->threshold = ExecInitQual(list_nth(cscan->custom_exprs, HYBRID_EXPR_THRESHOLD),
								 &node->ss.ps);
	hs->qualexprs = list_concat_copy(list_nth(cscan->custom_exprs, HYBRID_EXPR_QUALS),
									 list_nth(cscan->custom_exprs, HYBRID_EXPR_THRESHOLD));

	if (cscan->custom_plans != NIL)
	{
		hs->bitmap = ExecInitNode(linitial(cscan->custom_plans), estate, eflags);
		node->custom_ps = list_make1(hs->bitmap);
	}

	hs->index = index_open(hs->indexoid, AccessShareLock);
	/* learned decisions need the quals' shape: Shape computes it lazily */
	hs->shapequals = list_nth(cscan->custom_exprs, HYBRID_EXPR_QUALS);
	hs->shapeknown = false;
	InitKeys(hs, cscan);
	hs->storedwidth = StoredWidth(heap, hs->index);

	/*
	 * How far to read past the k-th passing row: IVF returns rows in exact
	 * order only within a batch of probed lists, so a closer row is often
	 * one batch away and the collection reads as many candidates again;
	 * HNSW rounds overlap (each continues the same search, ordered within a
	 * growing window), so a quarter more is enough (pgTAP set: recall 0.995
	 * instead of 1.0 at 10%, equal elsewhere; traversal 40% cheaper).  An
	 * eighth was tried and undone: half the clusters passing on 200,000 x
	 * 768 ran 1.25x faster, but its recall fell to 0.959-0.967 (0.972-0.976
	 * with a quarter; bench/RESULTS-hybrid.md, fifteenth session).  When
	 * the filter fails around the query, HNSW reads half more instead
	 * (HNSW_EXTRADIV_FAILING, CollectProgress).
	 */
	hs->extradiv = (hs->flags & HYBRID_FLAG_HNSW) ? 4 : 1;
	hs->fetch = table_index_fetch_begin(heap);
	hs->heapam = (heap->rd_tableam == GetHeapamTableAmRoutine());
	hs->exactbuf = InvalidBuffer;
	hs->runcxt = AllocSetContextCreate(estate->es_query_cxt, "vsearch hybrid scan",
									   ALLOCSET_DEFAULT_SIZES);
	hs->run = RUN_IDLE;
}

/*
 * FetchRoot fetches into the scan slot the version of the row whose
 * root TID an index returned that the snapshot sees; false when none.
 */
static bool
FetchRoot(HybridScanState *hs, ItemPointer tid)
{
	bool		call_again = false;
	bool		all_dead = false;
	TupleTableSlot *slot = hs->css.ss.ss_ScanTupleSlot;

	return table_index_fetch_tuple(hs->fetch, tid, hs->css.ss.ps.state->es_snapshot,
								   slot, &call_again, &all_dead);
}

/*
 * FetchVersion fetches into the scan slot the exact row version tid (a
 * TID taken from a slot earlier in the same snapshot).
 */
static bool
FetchVersion(HybridScanState *hs, ItemPointer tid)
{
	return table_tuple_fetch_row_version(hs->css.ss.ss_currentRelation, tid,
										 hs->css.ss.ps.state->es_snapshot,
										 hs->css.ss.ss_ScanTupleSlot);
}

/*
 * FetchMatch fetches into the scan slot the version the snapshot sees of
 * the row whose root TID is the bitmap's i-th entry, as FetchRoot does.
 * On a heap it reads the page itself: through VsReadBuffer (the backend
 * remembers which buffer held each page, so rankings that come back to
 * the same rows skip the shared buffer mapping lookup: 20% of ranking
 * 2,000 rows of 200,000 x 768), keeping the pin while the entries stay on
 * the page, and prefetching the page and tuple of the entries
 * EXACT_PREFETCH and half that ahead, so that their cache misses overlap.
 * The opportunistic pruning an index fetch tries on each page is left to
 * other scans.  The pin is hs->exactbuf, released by ReleaseExact.
 */
static bool
FetchMatch(HybridScanState *hs, int64 i)
{
	Relation	rel = hs->css.ss.ss_currentRelation;
	ItemPointerData tid = hs->bitmaptids[i];
	BlockNumber blkno = ItemPointerGetBlockNumber(&tid);
	HeapTupleData tuple;
	bool		all_dead;
	bool		found;

	if (!hs->heapam)
		return FetchRoot(hs, &tid);
	if (i + EXACT_PREFETCH < hs->nbitmaptids)
	{
		ItemPointer ahead = &hs->bitmaptids[i + EXACT_PREFETCH];

		VsPrefetchBuffer(rel, ItemPointerGetBlockNumber(ahead), ItemPointerGetOffsetNumber(ahead));
	}
	if (i + EXACT_PREFETCH / 2 < hs->nbitmaptids)
	{
		ItemPointer ahead = &hs->bitmaptids[i + EXACT_PREFETCH / 2];

		VsPrefetchTuple(rel, ItemPointerGetBlockNumber(ahead), ItemPointerGetOffsetNumber(ahead));
	}
	if (!BufferIsValid(hs->exactbuf) || BufferGetBlockNumber(hs->exactbuf) != blkno)
	{
		Buffer		old = hs->exactbuf;

		hs->exactbuf = InvalidBuffer;
		if (BufferIsValid(old))
			ReleaseBuffer(old);
		hs->exactbuf = VsReadBuffer(rel, blkno);
	}
	LockBuffer(hs->exactbuf, BUFFER_LOCK_SHARE);
	found = heap_hot_search_buffer(&tid, rel, hs->exactbuf, hs->css.ss.ps.state->es_snapshot,
								   &tuple, &all_dead, true);
	LockBuffer(hs->exactbuf, BUFFER_LOCK_UNLOCK);
	if (found)
		ExecStoreBufferHeapTuple(&tuple, hs->css.ss.ss_ScanTupleSlot, hs->exactbuf);
	return found;
}

/* ReleaseExact drops FetchMatch's pin (the scan slot keeps its own). */
static void
ReleaseExact(HybridScanState *hs)
{
	Buffer		old = hs->exactbuf;

	hs->exactbuf = InvalidBuffer;
	if (BufferIsValid(old))
		ReleaseBuffer(old);
}

/*
 * PassesQuals evaluates the quals on the row in the scan slot, and the
 * distance threshold (kept apart from them) unless the caller already did.
 */
static bool
PassesQuals(HybridScanState *hs, bool thresholdtested)
{
	ExprContext *econtext = hs->css.ss.ps.ps_ExprContext;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = hs->css.ss.ss_ScanTupleSlot;
	return (hs->qual == NULL || ExecQual(hs->qual, econtext)) &&
		(thresholdtested || hs->threshold == NULL || ExecQual(hs->threshold, econtext));
}

/* RankRow records the distance of the (passing) row in the scan slot. */
static void
RankRow(HybridScanState *hs)
{
	ExprContext *econtext = hs->css.ss.ps.ps_ExprContext;
	TupleTableSlot *slot = hs->css.ss.ss_ScanTupleSlot;
	HybridRanked *r;
	bool		isnull;
	Datum		d;

	if (hs->ranked == NULL)
	{
		hs->rankcap = 1024;
		hs->ranked = palloc(sizeof(HybridRanked) * hs->rankcap);
	}
	else if (hs->nranked == hs->rankcap)
	{
		hs->rankcap *= 2;
		hs->ranked = repalloc_huge(hs->ranked, sizeof(HybridRanked) * hs->rankcap);
	}
	econtext->ecxt_scantuple = slot;
	d = ExecEvalExprSwitchContext(hs->dist, econtext, &isnull);
	r = &hs->ranked[hs->nranked++];
	r->tid = slot->tts_tid;
	r->dist = isnull ? 0 : DatumGetFloat8(d);
	r->class = isnull ? 2 : !isnan(r->dist) ? 0 :
		(hs->flags & HYBRID_FLAG_SIMILARITY) ? -1 : 1;
	hs->reranked++;
}

static int
RankedCmp(const void *a, const void *b)
{
	const HybridRanked *x = a;
	const HybridRanked *y = b;

	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	if (x->class == 0 && x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);
}

/*
 * SelectSmallest reorders a[0 .. n) so that its k smallest (RankedCmp)
 * come first, in no particular order (quickselect; 0 < k < n).
 */
static void
SelectSmallest(HybridRanked *a, int64 n, int64 k)
{
	int64		lo = 0;
	int64		hi = n - 1;

	while (lo < hi)
	{
		HybridRanked pivot = a[lo + (hi - lo) / 2];
		int64		i = lo;
		int64		j = hi;

		while (i <= j)
		{
			while (RankedCmp(&a[i], &pivot) < 0)
				i++;
			while (RankedCmp(&a[j], &pivot) > 0)
				j--;
			if (i <= j)
			{
				HybridRanked t = a[i];

				a[i++] = a[j];
				a[j--] = t;
			}
		}
		if (k - 1 <= j)
			hi = j;
		else if (k - 1 >= i)
			lo = i;
		else
			break;
	}
}

/*
 * SortRanked starts returning the ranked rows in order.  With k known and
 * many more rows ranked, only the k closest are sorted now (a select,
 * then a sort of k); NextRanked sorts the others if the caller reads past
 * them.  Sorting all of 2,000 rows for 10 was 6% of an exact ranking.
 */
static void
SortRanked(HybridScanState *hs)
{
	if (hs->k > 0 && hs->nranked > 2 * hs->k)
	{
		SelectSmallest(hs->ranked, hs->nranked, hs->k);
		qsort(hs->ranked, hs->k, sizeof(HybridRanked), RankedCmp);
		hs->sortedupto = hs->k;
	}
	else
	{
		if (hs->nranked > 1)
			qsort(hs->ranked, hs->nranked, sizeof(HybridRanked), RankedCmp);
		hs->sortedupto = hs->nranked;
	}
	hs->rankpos = 0;
	hs->run = RUN_RANKED;
}

/*
 * NextRanked returns the next ranked row's entry, sorting the rows past
 * the first k when the caller reads that far.
 */
static HybridRanked *
NextRanked(HybridScanState *hs)
{
	if (hs->rankpos == hs->sortedupto && hs->sortedupto < hs->nranked)
	{
		qsort(hs->ranked + hs->sortedupto, hs->nranked - hs->sortedupto,
			  sizeof(HybridRanked), RankedCmp);
		hs->sortedupto = hs->nranked;
	}
	return &hs->ranked[hs->rankpos++];
}

/*
 * RunExact ranks every matching row exactly: the rows the bitmap names
 * when there is one, else every row of the table.  Rows are then
 * returned in distance order by HybridNext.
 */
static void
RunExact(HybridScanState *hs)
{
	TupleTableSlot *slot = hs->css.ss.ss_ScanTupleSlot;

	hs->nranked = 0;
	if (hs->bitmaploaded)
	{
		hs->strategy = "exact over bitmap matches";
		for (int64 i = 0; i < hs->nbitmaptids; i++)
		{
			CHECK_FOR_INTERRUPTS();
			hs->visited++;
			if (!FetchMatch(hs, i))
				continue;
			if (PassesQuals(hs, false))
				RankRow(hs);
			else
				hs->rejected++;
		}
		ReleaseExact(hs);
		for (int64 i = 0; i < hs->nlossy; i++)
		{
			for (OffsetNumber off = FirstOffsetNumber; off <= MaxHeapTuplesPerPage; off++)
			{
				ItemPointerData tid;

				CHECK_FOR_INTERRUPTS();
				ItemPointerSet(&tid, hs->lossyblocks[i], off);
				if (!FetchRoot(hs, &tid))
					continue;
				hs->visited++;
				if (PassesQuals(hs, false))
					RankRow(hs);
				else
					hs->rejected++;
			}
		}
	}
	else
	{
		TableScanDesc scan;

		hs->strategy = "exact over all rows";
		scan = table_beginscan(hs->css.ss.ss_currentRelation,
							   hs->css.ss.ps.state->es_snapshot, 0, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			CHECK_FOR_INTERRUPTS();
			hs->visited++;
			if (PassesQuals(hs, false))
				RankRow(hs);
			else
				hs->rejected++;
		}
		table_endscan(scan);
	}
	SortRanked(hs);
}

/*
 * LoadBitmap runs the bitmap child and copies its entries into arrays:
 * exact TIDs and lossy pages (BuildAllowSets hashes them when traversal
 * needs them).
 */
static void
LoadBitmap(HybridScanState *hs)
{
	TIDBitmap  *tbm = (TIDBitmap *) MultiExecProcNode(hs->bitmap);
	TBMIterator *it;
	TBMIterateResult *res;
	int64		cap = 1024;
	int64		lcap = 16;
	double		density;

	if (tbm == NULL || !IsA(tbm, TIDBitmap))
		elog(ERROR, "unrecognized result from bitmap subplan");
	hs->allow = hs->lossy = NULL;	/* built when traversal first asks */
	hs->bitmaptids = palloc(sizeof(ItemPointerData) * cap);
	hs->lossyblocks = palloc(sizeof(BlockNumber) * lcap);
	hs->nbitmaptids = hs->nlossy = 0;
	it = tbm_begin_iterate(tbm);
	while ((res = tbm_iterate(it)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (res->ntuples < 0)
		{
			if (hs->nlossy == lcap)
			{
				lcap *= 2;
				hs->lossyblocks = repalloc_huge(hs->lossyblocks, sizeof(BlockNumber) * lcap);
			}
			hs->lossyblocks[hs->nlossy++] = res->blockno;
			continue;
		}
		for (int i = 0; i < res->ntuples; i++)
		{
			ItemPointerData tid;

			ItemPointerSet(&tid, res->blockno, res->offsets[i]);
			if (hs->nbitmaptids == cap)
			{
				cap *= 2;
				hs->bitmaptids = repalloc_huge(hs->bitmaptids, sizeof(ItemPointerData) * cap);
			}
			hs->bitmaptids[hs->nbitmaptids++] = tid;
		}
	}
	tbm_end_iterate(it);
	tbm_free(tbm);

	density = (hs->plantuples > 0 && RelationGetNumberOfBlocks(hs->css.ss.ss_currentRelation) > 0) ?
		hs->plantuples / RelationGetNumberOfBlocks(hs->css.ss.ss_currentRelation) : 50;
	hs->matches = hs->nbitmaptids + hs->nlossy * density;
	hs->bitmaploaded = true;
	hs->bitmapmatches += (int64) hs->matches;
}

/*
 * BuildAllowSets puts the loaded bitmap's TIDs and lossy pages into hash
 * sets, in the memory context of the bitmap's array.  Only traversal
 * tests rows against the bitmap: when the run ranks the matches exactly,
 * the arrays are all it reads and the sets are never built.
 */
static void
BuildAllowSets(HybridScanState *hs)
{
	MemoryContext cxt = GetMemoryChunkContext(hs->bitmaptids);

	hs->allow = VsTidSetCreate(cxt, (uint32) Min(Max(hs->nbitmaptids, 16), PG_INT32_MAX / 2));
	hs->lossy = VsTidSetCreate(cxt, (uint32) Max(hs->nlossy, 16));
	for (int64 i = 0; i < hs->nbitmaptids; i++)
		VsTidSetAdd(hs->allow, VsTidToKey(&hs->bitmaptids[i]));
	for (int64 i = 0; i < hs->nlossy; i++)
		VsTidSetAdd(hs->lossy, hs->lossyblocks[i]);
}

/* AllowedByBitmap says whether the bitmap names the row with root TID tid. */
static bool
AllowedByBitmap(HybridScanState *hs, ItemPointer tid)
{
	if (!hs->bitmaploaded)
		return true;
	if (hs->allow == NULL)
		BuildAllowSets(hs);
	return VsTidSetContains(hs->allow, VsTidToKey(tid)) ||
		(hs->nlossy > 0 && VsTidSetContains(hs->lossy, ItemPointerGetBlockNumber(tid)));
}

/* TableTuples is the number of rows the exact strategy would read. */
static double
TableTuples(HybridScanState *hs)
{
	double		n = hs->css.ss.ss_currentRelation->rd_rel->reltuples;

	if (n <= 0)
		n = hs->plantuples;
	return Max(n, 1);
}

/*
 * RunTimeRows is the planner's estimate of the rows passing the quals,
 * made again with the values of the statement's parameters when the plan
 * is generic (HYBRID_FLAG_EXTPARAMS): there each clause comparing a column
 * with $n got a default selectivity (a third for a range, whatever $n is).
 * PostgreSQL's own estimators run on the quals with the parameters
 * replaced by their values (estimate_expression_value), against a planner
 * context holding only this relation: its column statistics count, its
 * extended statistics and indexes do not.  Once per execution (a rescan
 * keeps the statement's parameters); parameters set by the executor
 * (LATERAL, sub-selects) stay unknown, as at plan time.
 */
static double
RunTimeRows(HybridScanState *hs)
{
	EState	   *estate = hs->css.ss.ps.state;
	CustomScan *cscan = (CustomScan *) hs->css.ss.ps.plan;
	Index		scanrelid = cscan->scan.scanrelid;
	MemoryContext cxt;
	MemoryContext old;
	PlannerInfo *root;
	RangeTblEntry *rte;
	RelOptInfo *rel;
	List	   *quals;
	Selectivity sel;

	if (hs->runrows >= 0)
		return hs->runrows;
	hs->runrows = hs->planrows;
	if (!(hs->flags & HYBRID_FLAG_EXTPARAMS) || estate->es_param_list_info == NULL)
		return hs->runrows;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "vsearch hybrid estimate",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	root = makeNode(PlannerInfo);
	root->glob = makeNode(PlannerGlobal);
	root->glob->boundParams = estate->es_param_list_info;
	root->parse = makeNode(Query);
	root->parse->commandType = CMD_SELECT;
	rte = copyObject(exec_rt_fetch(scanrelid, estate));
	rte->inh = false;			/* the statistics of this relation's own rows */
	root->parse->rtable = list_make1(rte);
	root->query_level = 1;
	root->planner_cxt = cxt;
	setup_simple_rel_arrays(root);
	rel = makeNode(RelOptInfo);
	rel->reloptkind = RELOPT_BASEREL;
	rel->relid = 1;
	rel->relids = bms_make_singleton(1);
	rel->rtekind = RTE_RELATION;
	rel->tuples = TableTuples(hs);
	root->simple_rel_array[1] = rel;

	quals = copyObject(list_nth(cscan->custom_exprs, HYBRID_EXPR_QUALS));
	if (scanrelid != 1)
		ChangeVarNodes((Node *) quals, (int) scanrelid, 1, 0);
	quals = (List *) estimate_expression_value(root, (Node *) quals);
	sel = clauselist_selectivity(root, quals, 0, JOIN_INNER, NULL);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);

	hs->runrows = Max(sel, 0.0) * Max(hs->plantuples, 1.0);
	hs->reestimated = true;
	return hs->runrows;
}

/*
 * ExactRowCostFor is ExactRowCost for `rows` counted rows (< 0: not
 * counted).
 */
static double
ExactRowCostFor(HybridScanState *hs, double rows)
{
	double		full = (double) VECTOR_SIZE(hs->dim);
	double		cost;

	if (hs->storedwidth <= 0 || hs->storedwidth < INLINE_WIDTH_SHARE * full)
		return COST_EXACT_BASE + COST_EXACT_DIM * hs->dim;
	cost = COST_INLINE_BASE + COST_INLINE_DIM * hs->dim;
	if (rows < 0 || rows >= BITMAP_FIRST_SEL * TableTuples(hs))
		cost *= INLINE_MANY_FACTOR;
	return cost;
}

/*
 * ExactRowCost is the cost of ranking one row exactly.  It is the inline
 * cost when the table's statistics say its vectors are stored inline
 * uncompressed (real embeddings under the type's STORAGE main), doubled
 * unless the rows to rank are few and counted (a loaded bitmap naming
 * under BITMAP_FIRST_SEL of the table): many rows mean many heap pages
 * past the CPU caches, or outside shared buffers when the table does not
 * fit.  Otherwise (compressed vectors, or no statistics) it is the cost
 * measured with pglz-compressed vectors.
 */
static double
ExactRowCost(HybridScanState *hs)
{
	return ExactRowCostFor(hs, hs->bitmaploaded ? hs->matches : -1);
}

/*
 * ExactCost is the cost of ranking exactly: the bitmap's matches when it
 * was loaded, else a pass over the table with the planner's estimate of
 * the matching rows.  (The pass rate traversal observes is local to the
 * query's neighbourhood and says nothing about how many rows match
 * globally: a filter keeping half the table but none of the rows near the
 * query passes nothing there.)
 */
static double
ExactCost(HybridScanState *hs)
{
	if (hs->bitmaploaded)
		return hs->matches * ExactRowCost(hs);
	return TableTuples(hs) * (COST_SEQ_TUPLE + hs->planp * ExactRowCost(hs));
}

/* GraphCost is the model's cost of one HNSW graph expansion. */
static double
GraphCost(HybridScanState *hs)
{
	return COST_GRAPH_BASE + COST_GRAPH_DIM * hs->dim;
}

/*
 * ProbeCost is the cost of traversal's first look at the pass rate:
 * starting a search (the descent and HNSW's first round, which is searched
 * in full before its first row comes back: about 0.4 ms on 1,000,000 x
 * 128) and the FIRST_SAMPLE candidates read before the look.
 */
static double
ProbeCost(HybridScanState *hs)
{
	return COST_PROBE_BASE + FIRST_SAMPLE * GraphCost(hs);
}

/*
 * CandidateCost is the model's cost of one candidate from the vector
 * index, before any heap check: under HNSW a graph expansion (the
 * neighbours' vectors read and compared).  Under IVF, once traversal has
 * read a batch, a further candidate costs its share of a batch (every row
 * of the probed lists is compared once, in order: an unfiltered top 10 of
 * fashion-mnist through 8 of 60 lists reads 8,000 rows in 6.1 ms, 0.76 µs
 * a row); charged the graph's cost there, a filter keeping one class of
 * ten switched to ranking its 6,000 rows (36 ms) where going on through
 * the lists took 28 ms even with a heap check per candidate
 * (fashion-mnist, 8 probes: auto 41 queries/s, forced index 73).  Before
 * traversal starts, the first batch is read whole before any row comes
 * back, which the graph's cost stands for: at the batch's share, a 1%
 * filter (600 rows, ranked in 3.6 ms) was traversed instead, 9 ms.
 */
static double
CandidateCost(HybridScanState *hs)
{
	if ((hs->flags & HYBRID_FLAG_HNSW) == 0 && hs->iscan != NULL && hs->seen > 0)
		return COST_LIST_BASE + COST_LIST_DIM * hs->dim;
	return GraphCost(hs);
}

/* BitmapCost is the estimated cost of running and loading the bitmap. */
static double
BitmapCost(HybridScanState *hs)
{
	return hs->planp * TableTuples(hs) * COST_BITMAP_ENTRY;
}

/*
 * TraversalCost is the cost of finding `need` more passing rows in the
 * vector index when a fraction p of its candidates pass: the candidates
 * that takes plus what CollectProgress reads past them, at most
 * the rows that do not match plus that, each
 * expanded in the graph, checked against the bitmap or the heap, and
 * ranked when it passes.  When traversal started with the bitmap
 * counted (hs->timed), a candidate costs at least what each has taken so
 * far (hs->candcost): the model was fitted where the graph's vectors sit
 * in cache, and a graph of 200,000 x 768 (600 MB of vectors) takes 14-27
 * µs a candidate deep into a filtered search, not the model's 8.8.  The
 * exact cost it is weighed against is a count then, and the local rate
 * leans on it.  Otherwise the exact side is an estimate, the early pass
 * rate a guess from a few candidates, and a round's search is charged to
 * its first candidates: timing there made filters keeping half and a
 * tenth of 1,000,000 x 128 (none of it near the query) load a bitmap of
 * 500,000 entries (50 ms) or switch to an exact ranking of 100,000 rows
 * (90 ms) where traversal took 12 and 27 ms.
 */
static double
TraversalCost(HybridScanState *hs, double need, double p)
{
	double		n = TableTuples(hs);
	double		matches = hs->bitmaploaded ? hs->matches : hs->planp * n;
	double		factor = 1.0 + 1.0 / hs->extradiv;
	double		candidates = factor * need / Max(p, 1e-9);
	double		check = hs->bitmaploaded ? 0 : COST_HEAP_CHECK;

	/*
	 * At worst every row that does not match comes first: the local pass
	 * rate near the query can be zero while half the table matches
	 * further away (a filter anti-correlated with the query).
	 */
	candidates = Min(candidates, Max(n - matches, 0) + factor * need);
	candidates = Min(candidates, n);

	return candidates * Max(CandidateCost(hs) + check +
							p * ExactRowCost(hs), hs->candcost);
}

/*
 * CountedRate is the fraction of the table the loaded bitmap names,
 * kept above zero for the cost formulas.
 */
static double
CountedRate(HybridScanState *hs)
{
	return Min(Max(hs->matches / TableTuples(hs), 1e-9), 1.0);
}

/*
 * PassEstimate is the fraction of the table expected to match: counted
 * when the bitmap is loaded, else the planner's estimate (made again with
 * the parameters' values under a generic plan).  1 without quals.
 */
static double
PassEstimate(HybridScanState *hs)
{
	return hs->bitmaploaded ? CountedRate(hs) : hs->planp;
}

/*
 * LocalRate estimates the fraction of traversal's candidates that pass,
 * from the hs->passed of `seen` so far.  With the bitmap counted, the
 * global rate weighs as PRIOR_WEIGHT candidates more: a filter
 * independent of the vectors passes its global rate near the query too,
 * and one row passing among the first 16 of a 1% filter (one query in
 * seven) must not look like a local rate of 9%; a filter correlated with
 * the query passes most of them, and its rate stays high.  Without a
 * count, the global rate is a guess, and the estimate is optimistic for
 * traversal instead: half a pass more than observed.
 */
static double
LocalRate(HybridScanState *hs, int64 seen)
{
	if (hs->bitmaploaded)
		return (hs->passed + PRIOR_WEIGHT * CountedRate(hs)) /
			(double) (seen + PRIOR_WEIGHT);
	return (hs->passed + 0.5) / (double) Max(seen, 1);
}

/*
 * MeasureCandidates sets hs->candcost, when the traversal is timed, to the
 * time each of the `seen` candidates took since the index scan was opened
 * (the search's descent and rounds, the checks, the ranking of those that
 * passed).
 */
static void
MeasureCandidates(HybridScanState *hs, int64 seen)
{
	instr_time	now;

	if (!hs->timed)
		return;
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, hs->indexstart);
	hs->candcost = INSTR_TIME_GET_MICROSEC(now) / (double) Max(seen, 1);
}

/*
 * WorthSwitch says whether to switch from traversal to exact, given the
 * remaining traversal's estimated cost after `seen` candidates.  It must
 * exceed SWITCH_MARGIN times the exact cost; and when the matches are not
 * counted (no bitmap loaded), the candidates seen must also have cost
 * UNCOUNTED_SPEND of the exact cost already, by the model (a measured
 * time would make the choice vary from run to run).  Without a count, a stretch of candidates that all fail
 * reads as a pass rate near zero, and the remaining traversal as most of
 * the table; but a filter keeping half the table that the query's own
 * neighbourhood does not pass looks the same, and is through that
 * neighbourhood a few hundred candidates later.  Once exact ranking got
 * cheaper (2,000 rows of 200,000 x 768 in 1 ms), such a filter
 * (attr_c < 500, no bitmap at 50%) switched to ranking 100,000 rows (208
 * ms) after 1,056 candidates, in one query of 25: 0.26x the forced index
 * strategy.  Spending first, as renting before buying, bounds that
 * mistake.  A quarter of the exact cost (11f6035) was too little where the
 * query's own cluster is large: 300,000 x 384 in 40 clusters of 7,500 rows
 * (bench/RESULTS-hybrid.md, seventeenth session), the same filter switched
 * in 10 of the 50 queries whose cluster fails, each to a pass over the
 * table (204-381 ms) where the other 40 were through their cluster in 58
 * ms on average: 29 queries/s against 45 for the forced index strategy.
 * With half, 49, and nothing measurable moved on the benchmark's three
 * data sets; a filter that truly passes almost nothing still switches
 * (unindexed 0.1% and 1% filters on that table: the same time either way).
 */
static bool
WorthSwitch(HybridScanState *hs, double traversal, int64 seen)
{
	double		exact = ExactCost(hs);

	if (traversal <= SWITCH_MARGIN * exact)
		return false;
	if (hs->bitmaploaded)
		return true;
	return seen * (CandidateCost(hs) + COST_HEAP_CHECK) >=
		UNCOUNTED_SPEND * exact;
}

/*
 * StartIndex opens the vector index scan for the query, telling it how
 * many rows to expect and, for a probe, that the pass rate is looked at
 * after PROBE_SAMPLE candidates.
 */
static void
StartIndex(HybridScanState *hs, bool probe)
{
	ScanKeyData key;

	hs->strategy = hs->bitmaploaded ? "index traversal, bitmap filter" : "index traversal";
	if (hs->nruntimekeys > 0)
	{
		ResetExprContext(hs->keycontext);
		ExecIndexEvalRuntimeKeys(hs->keycontext, hs->runtimekeys, hs->nruntimekeys);
	}
	hs->iscan = index_beginscan(hs->css.ss.ss_currentRelation, hs->index,
								hs->css.ss.ps.state->es_snapshot, hs->nkeys, 1);
	ScanKeyEntryInitialize(&key, 0, 1, InvalidStrategy, InvalidOid,
						   hs->index->rd_indcollation[0], InvalidOid, hs->queryval);
	PG_TRY();
	{
		VsScanRowsHint = (int) Min(hs->k, PG_INT32_MAX);
		VsScanPassHint = PassEstimate(hs);
		VsScanProbeHint = probe ? PROBE_SAMPLE : 0;
		VsScanFirstWindow = 0;
		index_rescan(hs->iscan, hs->keys, hs->nkeys, &key, 1);
		hs->firstwindow = Max(hs->firstwindow, VsScanFirstWindow);
	}
	PG_FINALLY();
	{
		VsScanRowsHint = 0;
		VsScanPassHint = 0;
		VsScanProbeHint = 0;
	}
	PG_END_TRY();
	hs->nranked = hs->rankpos = 0;
	hs->collectuntil = 0;
	hs->batchbase = VsScanBatches;	/* laterneed and skipped: ResetRun */
	hs->passed = hs->seen = hs->beyond = 0;
	hs->collectall = (hs->k == 0);
	/*
	 * The first check comes before HNSW's first round (at least
	 * ef_search, 40 by default) is used up: a filter that passes nearly
	 * nothing is then found out without paying for a second, wider round.
	 * A probe looks sooner, after a first round of PROBE_SAMPLE.
	 */
	hs->nextcheck = probe ? PROBE_SAMPLE : FIRST_SAMPLE;
	hs->probing = probe;
	hs->candcost = 0;
	hs->timed = hs->bitmaploaded;
	INSTR_TIME_SET_CURRENT(hs->indexstart);
	hs->run = RUN_COLLECT;
}

/*
 * Shape is the filter shape of the scan's quals (hybridlearn.c), computed
 * at its first use in this execution: it prints the quals' tree, 4% of
 * the backend's profile for a query that ranks the 6 rows a 0.01% filter
 * keeps on fashion-mnist (pgbench, perf), and such a query never needs it.
 */
static uint64
Shape(HybridScanState *hs)
{
	if (!hs->shapeknown)
	{
		MemoryContext old = MemoryContextSwitchTo(hs->css.ss.ps.state->es_query_cxt);

		hs->shape = VsHybridShape(RelationGetRelid(hs->css.ss.ss_currentRelation),
								  hs->shapequals);
		MemoryContextSwitchTo(old);
		hs->shapeknown = true;
	}
	return hs->shape;
}

/*
 * NearRate is the learned q of the scan's filter (hybridlearn.c), looked
 * up once per run and left in hs->nearrate (and the probes it was learned
 * from in hs->nearprobes) for EXPLAIN.
 */
static double
NearRate(HybridScanState *hs)
{
	if (!hs->nearknown)
	{
		hs->nearrate = VsHybridNearRate(Shape(hs), &hs->nearprobes);
		hs->nearknown = true;
	}
	return hs->nearrate;
}

/*
 * CountFirst says whether to load the bitmap before anything else, when
 * the planner expects a fraction planp (< BITMAP_FIRST_SEL) to match.  Not
 * if ranking that many rows costs more than COUNT_FIRST_FACTOR probes: the
 * count would only serve a probe, and traversal's own first look is
 * cheaper.  Otherwise it depends on q, the chance that the filter's
 * matches sit around the query (hybridlearn.c): near, traversal alone
 * finds them at about a probe's cost and the count B is wasted; far, the
 * count lets exact start at once, where traversal would have paid its
 * first look P before loading the bitmap anyway.  So count when q B <=
 * (1 - q) P: with q at 1/2, when the bitmap costs less than a probe.  The
 * query's own category on 1,000,000 x 128 (1%, 10,000 entries, 2.2 ms to
 * load) fell from 1,823 to 369 queries/s when counted first (the
 * traversal takes 0.5 ms); on 200,000 x 768 its 2,000 entries cost less
 * than a probe.
 */
static bool
CountFirst(HybridScanState *hs, double planp)
{
	double		rows = planp * TableTuples(hs);
	double		q;

	if (rows * ExactRowCostFor(hs, rows) > COUNT_FIRST_FACTOR * ProbeCost(hs))
		return false;
	if (vs_hybrid_strategy != HYBRID_AUTO)
		return true;			/* forced traversal: the bitmap as its filter */
	/* q is at most (cap + 1) / (cap + 2): then no q could say no */
	if (BitmapCost(hs) * (HYBRID_LEARN_CAP + 2) <= ProbeCost(hs))
		return true;
	q = NearRate(hs);
	return q * BitmapCost(hs) <= (1 - q) * ProbeCost(hs);
}

/*
 * StartRun evaluates LIMIT, OFFSET and the query vector, then picks the
 * first strategy (see the file header).
 */
static void
StartRun(HybridScanState *hs)
{
	ExprContext *econtext = hs->css.ss.ps.ps_ExprContext;
	bool		isnull;
	Datum		d;
	double		p;
	double		planp;
	bool		probe = false;
	bool		maycount;		/* few matches expected, a bitmap, a LIMIT */

	hs->k = 0;
	hs->nearknown = false;
	hs->candcost = 0;			/* the model until this run's scan is timed */
	if (hs->limit)
	{
		d = ExecEvalExprSwitchContext(hs->limit, econtext, &isnull);
		if (!isnull)
			hs->k = Max(DatumGetInt64(d), 0);
		if (!isnull && hs->offset)
		{
			d = ExecEvalExprSwitchContext(hs->offset, econtext, &isnull);
			if (!isnull && DatumGetInt64(d) > 0)
				hs->k = (hs->k > PG_INT64_MAX - DatumGetInt64(d)) ?
					PG_INT64_MAX : hs->k + DatumGetInt64(d);
		}
	}
	d = ExecEvalExprSwitchContext(hs->query, econtext, &isnull);
	hs->querynull = isnull;
	/* keep the query vector past the per-tuple resets */
	hs->queryval = isnull ? (Datum) 0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
	hs->dim = isnull ? 0 : DatumGetVector(hs->queryval)->dim;
	hs->loops++;
	planp = (hs->plantuples > 0) ? Min(1.0, RunTimeRows(hs) / hs->plantuples) : 1.0;
	hs->planp = planp;

	/*
	 * A NULL query, or no LIMIT and no threshold: every matching row is
	 * ranked.  A threshold without LIMIT is traversal until the threshold.
	 */
	if (hs->querynull || (hs->k == 0 && hs->threshold == NULL) ||
		vs_hybrid_strategy == HYBRID_EXACT)
	{
		if (hs->bitmap)
			LoadBitmap(hs);
		RunExact(hs);
		return;
	}

	/*
	 * When the planner expects few matches and a bitmap is at hand, count
	 * them first and rank them if that is cheaper than traversal, else use
	 * the bitmap as the traversal's filter.  Otherwise traversal starts,
	 * checking candidates in the heap, and MaybeSwitch corrects it from the
	 * pass rate it observes: the planner's estimate may be wrong either way
	 * (expressions, generic plans, correlation with the query).
	 */
	maycount = (hs->bitmap && planp < BITMAP_FIRST_SEL && hs->k > 0);
	if (maycount && CountFirst(hs, planp))
	{
		LoadBitmap(hs);
		p = CountedRate(hs);

		/*
		 * Exact at once unless a probe is worth it: with q the chance that
		 * the matches sit around the query (traversal then costs about the
		 * probe), probing costs P + (1 - q) E on average against E, so it
		 * pays when q E > P.  q is learned per filter shape (hybridlearn.c;
		 * 1/2 before the first probe): a filter independent of the vectors
		 * stops probing after one or two probes that failed, and the
		 * query's own category keeps probing.  With q fixed at 1/2, a
		 * filter independent of the vectors cost up to 1.5 times exact
		 * (200,000 x 768, 1,931 matches: exact 1.0 ms, a probe 0.6 ms),
		 * and with the old factor of 1.5 (q = 2/3) 1.6 times.
		 */
		if (vs_hybrid_strategy == HYBRID_AUTO &&
			ExactCost(hs) < TraversalCost(hs, hs->k, p))
		{
			double		e = ExactCost(hs);
			double		pc = ProbeCost(hs);
			/* at e <= pc no q probes: leave the shape unread */
			double		q = (e <= pc) ? 0 : NearRate(hs);

			if (q * e <= pc &&
				!(0.5 * e > pc && VsHybridExplore(Shape(hs))))
			{
				RunExact(hs);
				return;
			}

			/*
			 * Exact looks cheaper at the global rate, but not by much
			 * against traversal's first round: the matches may sit right
			 * around the query (a filter correlated with it, such as the
			 * query's own category), where traversal finds k of them at
			 * once.  Traversal starts with the bitmap as its filter and
			 * looks at the local pass rate after a first round of only
			 * PROBE_SAMPLE candidates, so that finding out costs a
			 * fraction of that round (200,000 x 768: about half).
			 */
			probe = true;
		}
	}
	StartIndex(hs, probe);

	/*
	 * Traversal without the count is, for learning, a probe too: whether
	 * it gives the k rows without switching says whether the filter's
	 * matches sit around the query.
	 */
	if (maycount && !hs->bitmaploaded && vs_hybrid_strategy == HYBRID_AUTO)
		hs->probing = true;
}

/*
 * ProbeDone records, once per probe, whether it found the matches around
 * the query (traversal gave the k rows) or not (the scan switched to
 * exact, or the index ran out first).
 */
static void
ProbeDone(HybridScanState *hs, bool near)
{
	if (!hs->probing)
		return;
	hs->probing = false;
	VsHybridProbeOutcome(Shape(hs), near);
}

/*
 * WorthBitmap is true when traversal's remaining cost (at pass rate p)
 * justifies loading the bitmap: it must exceed the bitmap's cost by the
 * switch margin, and exact ranking must look cheaper than it by some
 * estimate of the matching rows (the planner's, made again with the
 * parameters under a generic plan, or the observed pass rate over the
 * table), since the bitmap mostly serves to find out whether to switch.
 * At 10% it is not loaded: that cost a millisecond per query for 6,000
 * entries and saved nothing.
 */
static bool
WorthBitmap(HybridScanState *hs, double cost, double p)
{
	double		rows = Min(hs->planp, p) * TableTuples(hs);

	return cost > SWITCH_MARGIN * BitmapCost(hs) && cost > rows * ExactRowCost(hs);
}

/*
 * MaybeSwitch, every 64 candidates while the first k rows are collected,
 * estimates the remaining traversal cost from the observed pass rate.
 * When it exceeds the cost of loading the bitmap (if there is one not yet
 * loaded), the bitmap is loaded: candidates it does not name are then
 * rejected without a heap visit, and its count gives the exact cost.  When
 * it exceeds 1.5 times the exact cost, the scan switches to exact; nothing
 * has been returned yet.  True when it switched.
 */
static bool
MaybeSwitch(HybridScanState *hs)
{
	double		p;

	if (vs_hybrid_strategy != HYBRID_AUTO || hs->collectall || hs->seen < hs->nextcheck)
		return false;
	hs->nextcheck = hs->seen + MIN_SAMPLE;
	p = LocalRate(hs, hs->seen);
	MeasureCandidates(hs, hs->seen);
	if (hs->bitmap && !hs->bitmaploaded &&
		WorthBitmap(hs, TraversalCost(hs, hs->k - hs->passed, p), p))
	{
		LoadBitmap(hs);
		hs->strategy = "index traversal, bitmap filter";
	}
	if (!WorthSwitch(hs, TraversalCost(hs, hs->k - hs->passed, p), hs->seen))
		return false;
	index_endscan(hs->iscan);
	hs->iscan = NULL;
	hs->switches++;
	ProbeDone(hs, false);
	RunExact(hs);
	return true;
}

/*
 * RejectCheck is the scan's give-up check (common/vshint.h) while the
 * index rejects candidates by key values inside one fetch: the same test
 * as MaybeSwitch, on the candidates seen so far including those rejected
 * in this fetch.  True when traversal looks dearer than loading the
 * bitmap or ranking exactly.
 */
static bool
RejectCheck(void *arg)
{
	HybridScanState *hs = (HybridScanState *) arg;
	int64		seen = hs->seen + (VsScanKeyRejected - hs->callbase);
	double		p;
	double		cost;

	if (seen < hs->nextcheck)
		return false;
	hs->nextcheck = seen + MIN_SAMPLE;
	p = LocalRate(hs, seen);
	MeasureCandidates(hs, seen);
	cost = TraversalCost(hs, hs->k - hs->passed, p);
	if (hs->bitmap && !hs->bitmaploaded)
		return WorthBitmap(hs, cost, p);
	return WorthSwitch(hs, cost, seen);
}

/*
 * NextCandidate returns the index scan's next TID (NULL at its end or
 * when it gave up, then VsScanAbandoned is set).  While the first k rows
 * are collected under the automatic strategy and the index tests key
 * columns, RejectCheck may make it give up.
 */
static ItemPointer
NextCandidate(HybridScanState *hs)
{
	ItemPointer tid = NULL;

	hs->callbase = VsScanKeyRejected;
	VsScanAbandoned = false;
	if (hs->nkeys > 0 && hs->run == RUN_COLLECT && hs->collectuntil == 0 &&
		!hs->collectall && vs_hybrid_strategy == HYBRID_AUTO)
	{
		VsScanRejectCheck = RejectCheck;
		VsScanRejectArg = hs;
	}
	PG_TRY();
	{
		tid = index_getnext_tid(hs->iscan, ForwardScanDirection);
		hs->candindex = VsScanLastDistance;
	}
	PG_FINALLY();
	{
		VsScanRejectCheck = NULL;
		VsScanRejectArg = NULL;
	}
	PG_END_TRY();
	return tid;
}

/*
 * Abandoned runs when the index scan gave up at RejectCheck's request:
 * with a bitmap not loaded yet, it is loaded and either ranked exactly or
 * used as the filter of a new traversal, whichever looks cheaper from the
 * matches it counts; else the rows are ranked exactly.
 */
static void
Abandoned(HybridScanState *hs)
{
	hs->switches++;
	ProbeDone(hs, false);
	if (hs->bitmap && !hs->bitmaploaded)
	{
		double		p;

		LoadBitmap(hs);
		p = CountedRate(hs);
		if (ExactCost(hs) >= TraversalCost(hs, hs->k, p))
		{
			StartIndex(hs, false);
			return;
		}
	}
	RunExact(hs);
}

/*
 * SkipRow keeps a row that the collection passes over unread (the rest of
 * an IVF batch farther than every row collected), for RUN_STREAM to
 * return if the caller reads past the collected rows: no row is lost.
 */
static void
SkipRow(HybridScanState *hs, ItemPointer tid)
{
	if (hs->nskipped == hs->skipcap)
	{
		hs->skipcap = Max(hs->skipcap * 2, 1024);
		hs->skipped = hs->skipped ?
			repalloc_huge(hs->skipped, sizeof(ItemPointerData) * hs->skipcap) :
			palloc(sizeof(ItemPointerData) * hs->skipcap);
	}
	hs->skipped[hs->nskipped++] = *tid;
	hs->passedover++;
}

/*
 * HNSW's extra read after the k-th passing row, as a divisor of the
 * candidates seen, when fewer of them passed than half the share of the
 * table that matches: the filter fails around the query (its own cluster
 * excluded).  The rows it should return then come from several
 * neighbouring clusters at nearly equal distances, and a quarter more
 * left some unreached: on those queries, recall 0.945 (200,000 x 768, 42
 * of 100 queries of the bench's c50) and 0.941 (1,000,000 x 128, 56 of
 * 100); a half gives 0.967 and 0.959, their time 1.4x.  Whole filters:
 * c50 0.974 -> 0.983 at 225 -> 174 queries/s and 0.964 -> 0.974 at 57 ->
 * 48; c10 on 1,000,000 x 128 0.959 -> 0.977 at 25.0 -> 23.8.  A third
 * gave 0.955, as many again 0.979 at 2.1x (bench/RESULTS-hybrid.md,
 * sixteenth session).  (1 - p) / 2 of them (a quarter at half the rows
 * matching) was tried and undone: it gave c50 on 200,000 x 768 back its
 * speed (165 -> 228 queries/s, 0.983 -> 0.976), but on 300,000 x 384 in
 * 40 clusters, data no setting had been tuned on, c50 fell from 0.963 to
 * 0.942 at the same speed (seventeenth session).
 */
#define HNSW_EXTRADIV_FAILING 2

/*
 * CollectProgress runs after each candidate while collecting.  Once k rows
 * passed after c candidates, the scan reads c more candidates (c/4 for
 * HNSW, c/2 when the filter fails around the query; at least k) and then
 * returns every collected row in exact distance order:
 * index scans return rows in near order across their rounds or batches,
 * and under a filter the k-th passing row can come from a round where a
 * closer passing row is still one round away.  Under IVF, when fewer of
 * those c candidates passed than half the share of the table that matches
 * (the filter fails around the query: the query's own cluster excluded,
 * or matches in a far one), the c more must come from a batch after the
 * one that gave the k-th row: the lists nearest the query are ranked by
 * their centres, and with the query's own region failing, the nearest
 * passing rows often sit in lists of the next batch (pgTAP set, 20 lists
 * and 5 probes, the query's cluster excluded: recall 0.76 reading only
 * the batch that gave the k rows, 0.94 with 8 probes, 0.995 with 10).
 * Not for a filter that passes around the query what it passes
 * elsewhere: that one's first batch is as good as an unfiltered query's
 * (fashion-mnist, 60 lists, 8 probes, a filter keeping 10% independently
 * of the vectors: 158 -> 35 queries/s when every filter rejecting most
 * candidates read on into the next batch).  A batch comes
 * in exact order: when every collected row came from the first one, the
 * rest of it is farther than all of them and HybridNext passes it over
 * unread (SkipRow), except rows at the k-th row's distance by the index
 * (VsScanLastDistance): a `FETCH FIRST k ROWS WITH TIES` wants every
 * tie next to the k-th row (50 copies of the 10th row's vector: 14 rows
 * came back for 60 when they were passed over).  In the next batch a row
 * passing farther than the k-th row (`passed`: the candidate just read
 * passed and was ranked) means the rest of that batch is farther too.
 * Before k rows passed, the scan may switch to exact.
 */
static void
CollectProgress(HybridScanState *hs, bool passed)
{
	bool		failsnear;
	int64		extra;

	if (hs->collectall)
		return;
	if (hs->collectuntil == 0)
	{
		if (hs->passed < hs->k)
		{
			MaybeSwitch(hs);
			return;
		}
		failsnear = 2 * hs->passed < PassEstimate(hs) * hs->seen;
		extra = hs->seen / hs->extradiv;
		if ((hs->flags & HYBRID_FLAG_HNSW) && failsnear)
			extra = hs->seen / HNSW_EXTRADIV_FAILING;
		hs->collectuntil = hs->seen + Max(extra, hs->k);
		if ((hs->flags & HYBRID_FLAG_HNSW) == 0 && failsnear)
		{
			hs->laterneed = Max(hs->seen, hs->k);
			hs->laterbatch = VsScanBatches;
			hs->laterfrom = -1;
			/* every row collected came from the first batch, in order */
			hs->laterskip = (VsScanBatches - hs->batchbase == 1);
			hs->laterdist = hs->ranked[hs->nranked - 1].class == 0 ?
				hs->ranked[hs->nranked - 1].dist : get_float8_infinity();
			hs->laterindex = hs->candindex;
		}
		ProbeDone(hs, true);
	}
	if (hs->laterneed > 0)
	{
		/* the candidate just read is the first of a later batch */
		if (hs->laterfrom < 0 && VsScanBatches > hs->laterbatch)
			hs->laterfrom = hs->seen - 1;
		if (hs->laterfrom < 0)
			return;
		/*
		 * A later batch comes in exact order too: once a row passes
		 * farther than the k-th row, the rest of it is farther still.
		 */
		if (hs->seen - hs->laterfrom < hs->laterneed &&
			!(passed && hs->ranked[hs->nranked - 1].class == 0 &&
			  hs->ranked[hs->nranked - 1].dist > hs->laterdist))
			return;
		SortRanked(hs);
		return;
	}
	if (hs->seen >= hs->collectuntil)
		SortRanked(hs);
}

/*
 * PastThreshold tests the fetched candidate in the scan slot against the
 * distance threshold and says whether the scan should stop: after a run
 * of consecutive candidates past the threshold as long as everything read
 * before it (at least 64).  Index scans return candidates in near order,
 * so a closer one can still follow a few farther ones; a run that long
 * means the search has moved past the threshold, and costs at most as much
 * again as the useful part of the scan.
 */
static bool
PastThreshold(HybridScanState *hs)
{
	ExprContext *econtext = hs->css.ss.ps.ps_ExprContext;

	econtext->ecxt_scantuple = hs->css.ss.ss_ScanTupleSlot;
	if (ExecQual(hs->threshold, econtext))
	{
		hs->beyond = 0;
		return false;
	}
	hs->beyond++;
	return hs->beyond >= Max(MIN_SAMPLE, hs->seen - hs->beyond);
}

/*
 * HybridNext is the ExecScan access method: the next row in the scan
 * slot, or NULL when no matching row is left.
 */
static TupleTableSlot *
HybridNext(ScanState *ss)
{
	HybridScanState *hs = (HybridScanState *) ss;
	MemoryContext old;
	TupleTableSlot *result = NULL;

	old = MemoryContextSwitchTo(hs->runcxt);
	if (hs->run == RUN_IDLE)
		StartRun(hs);

	while (result == NULL && hs->run != RUN_DONE)
	{
		ItemPointer tid;
		bool		fetched;
		int64		keyrejected;

		CHECK_FOR_INTERRUPTS();
		switch (hs->run)
		{
			case RUN_RANKED:
				if (hs->rankpos >= hs->nranked)
				{
					/* collected rows done: stream the rest of the index */
					hs->run = (hs->iscan || hs->skippos < hs->nskipped) ? RUN_STREAM : RUN_DONE;
					break;
				}
				if (FetchVersion(hs, &NextRanked(hs)->tid))
					result = ss->ss_ScanTupleSlot;
				break;

			case RUN_COLLECT:
			case RUN_STREAM:
				if (hs->run == RUN_STREAM && hs->skippos < hs->nskipped)
				{
					/* a row passed over while collecting (CollectProgress) */
					tid = &hs->skipped[hs->skippos++];
					if (!AllowedByBitmap(hs, tid) || !FetchRoot(hs, tid) ||
						!PassesQuals(hs, false))
						break;
					result = ss->ss_ScanTupleSlot;
					break;
				}
				if (hs->iscan == NULL)
				{
					hs->run = RUN_DONE;
					break;
				}
				keyrejected = VsScanKeyRejected;
				tid = NextCandidate(hs);
				{
					/* candidates the index rejected by their key values */
					int64		keyrej = VsScanKeyRejected - keyrejected;

					hs->keyrejected += keyrej;
					hs->visited += keyrej;
					hs->seen += keyrej;
				}
				if (tid == NULL && VsScanAbandoned)
				{
					/* the index gave up: answer another way */
					VsScanAbandoned = false;
					index_endscan(hs->iscan);
					hs->iscan = NULL;
					Abandoned(hs);
					break;
				}
				if (tid == NULL)
				{
					/* every indexed row was seen */
					index_endscan(hs->iscan);
					hs->iscan = NULL;
					if (hs->run == RUN_COLLECT && !hs->collectall && hs->passed < hs->k)
					{
						/* the index may not hold every matching row: rank them all */
						if (hs->bitmap && !hs->bitmaploaded)
							LoadBitmap(hs);
						ProbeDone(hs, false);
						RunExact(hs);
					}
					else if (hs->run == RUN_COLLECT)
						SortRanked(hs);
					else
						hs->run = RUN_DONE;
					break;
				}
				hs->visited++;
				hs->seen++;
				if (hs->run == RUN_COLLECT && hs->laterneed > 0 && hs->laterskip &&
					VsScanBatches == hs->laterbatch && hs->candindex > hs->laterindex)
				{
					/* the rest of the k-th row's batch: farther than every row collected */
					SkipRow(hs, tid);
					break;
				}
				/* under a threshold every candidate's distance is needed */
				fetched = (hs->threshold || AllowedByBitmap(hs, tid)) && FetchRoot(hs, tid);
				if (fetched && hs->threshold)
				{
					ResetExprContext(hs->css.ss.ps.ps_ExprContext);
					if (PastThreshold(hs))
					{
						/* the search is past the threshold: nothing more passes */
						hs->thresholdstops++;
						index_endscan(hs->iscan);
						hs->iscan = NULL;
						if (hs->run == RUN_COLLECT)
							SortRanked(hs);
						else
							hs->run = RUN_DONE;
						break;
					}
				}
				if (!fetched || (hs->threshold && hs->beyond > 0) ||
					!AllowedByBitmap(hs, tid) || !PassesQuals(hs, hs->threshold != NULL))
				{
					hs->rejected++;
					if (hs->run == RUN_COLLECT)
						CollectProgress(hs, false);
					break;
				}
				hs->passed++;
				if (hs->run == RUN_STREAM)
				{
					result = ss->ss_ScanTupleSlot;
					break;
				}
				RankRow(hs);
				CollectProgress(hs, true);
				break;

			case RUN_IDLE:
			case RUN_DONE:
				break;
		}
	}
	MemoryContextSwitchTo(old);
	if (result == NULL)
		ExecClearTuple(ss->ss_ScanTupleSlot);
	return result;
}

/*
 * HybridRecheck is the EvalPlanQual recheck: the quals on the row that
 * replaced the one returned (the ORDER BY is never rechecked).
 */
static bool
HybridRecheck(ScanState *ss, TupleTableSlot *slot)
{
	HybridScanState *hs = (HybridScanState *) ss;
	ExprContext *econtext = ss->ps.ps_ExprContext;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	return (hs->qual == NULL || ExecQual(hs->qual, econtext)) &&
		(hs->threshold == NULL || ExecQual(hs->threshold, econtext));
}

/* HybridExec is ExecCustomScan. */
static TupleTableSlot *
HybridExec(CustomScanState *node)
{
	return ExecScan(&node->ss, HybridNext, HybridRecheck);
}

/* ResetRun ends the current run's scans and frees its memory. */
static void
ResetRun(HybridScanState *hs)
{
	if (hs->iscan)
		index_endscan(hs->iscan);
	hs->iscan = NULL;
	MemoryContextReset(hs->runcxt);
	hs->allow = hs->lossy = NULL;
	hs->bitmaptids = NULL;
	hs->lossyblocks = NULL;
	hs->ranked = NULL;
	hs->skipped = NULL;
	hs->nskipped = hs->skipcap = hs->skippos = 0;
	hs->laterneed = 0;
	hs->nbitmaptids = hs->nlossy = hs->nranked = hs->rankcap = 0;
	hs->bitmaploaded = false;
	hs->run = RUN_IDLE;
}

/*
 * HybridRescan is ReScanCustomScan: the next row starts a new run (new
 * parameters, new LIMIT); the bitmap child is rescanned, or marked for
 * it when its parameters changed.
 */
static void
HybridRescan(CustomScanState *node)
{
	HybridScanState *hs = (HybridScanState *) node;

	ResetRun(hs);
	if (hs->bitmap)
	{
		if (node->ss.ps.chgParam != NULL)
			UpdateChangedParamSet(hs->bitmap, node->ss.ps.chgParam);
		if (hs->bitmap->chgParam == NULL)
			ExecReScan(hs->bitmap);
	}
	ExecScanReScan(&node->ss);
}

/* HybridEnd is EndCustomScan: closes what HybridBegin opened. */
static void
HybridEnd(CustomScanState *node)
{
	HybridScanState *hs = (HybridScanState *) node;

	ResetRun(hs);
	if (hs->fetch)
		table_index_fetch_end(hs->fetch);
	hs->fetch = NULL;
	if (hs->bitmap)
		ExecEndNode(hs->bitmap);
	if (hs->index)
		index_close(hs->index, AccessShareLock);
	hs->index = NULL;
	MemoryContextDelete(hs->runcxt);
}

/* ExplainQuals shows the quals (ANDed) under label, when there are any. */
static void
ExplainQuals(CustomScanState *node, const char *label, List *quals, List *ancestors,
			 ExplainState *es)
{
	List	   *context;

	if (quals == NIL)
		return;
	context = set_deparse_context_plan(es->deparse_cxt, node->ss.ps.plan, ancestors);
	ExplainPropertyText(label,
						deparse_expression((Node *) make_ands_explicit(quals), context,
										   es->verbose || list_length(es->rtable) > 1, false),
						es);
}

/*
 * HybridExplain adds the index, the filter and, under ANALYZE, the
 * strategy that ran and what it did.
 */
static void
HybridExplain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	HybridScanState *hs = (HybridScanState *) node;
	char	   *indexname = get_rel_name(hs->indexoid);

	ExplainPropertyText("Index", indexname ? indexname : "?", es);
	if (hs->flags & HYBRID_FLAG_SIMILARITY)
		ExplainPropertyText("Order", "similarity, descending", es);
	ExplainQuals(node, "Filter", hs->qualexprs, ancestors, es);
	ExplainQuals(node, "Index Keys", hs->keyexprs, ancestors, es);
	if (!es->analyze || hs->loops == 0)
	{
		ExplainPropertyText("Strategy",
							vs_hybrid_strategy == HYBRID_INDEX ? "index (forced)" :
							vs_hybrid_strategy == HYBRID_EXACT ? "exact (forced)" :
							"chosen at run time", es);
		return;
	}
	ExplainPropertyText("Strategy", hs->strategy ? hs->strategy : "none", es);
	if (hs->reestimated)
		ExplainPropertyFloat("Rows Estimated with Parameters", NULL, hs->runrows, 0, es);
	if (hs->switches > 0)
		ExplainPropertyInteger("Switched to Exact", NULL, hs->switches, es);
	if (hs->thresholdstops > 0)
		ExplainPropertyInteger("Stopped at Threshold", NULL, hs->thresholdstops, es);
	if (hs->bitmap)
		ExplainPropertyInteger("Bitmap Matches", NULL, hs->bitmapmatches, es);
	if (hs->firstwindow > 0)
		ExplainPropertyInteger("First Search Window", NULL, hs->firstwindow, es);
	if (hs->nearprobes > 0)
		ExplainPropertyFloat("Learned Near-Query Rate", NULL, hs->nearrate, 2, es);
	ExplainPropertyInteger("Candidates Visited", NULL, hs->visited, es);
	if (hs->keyexprs != NIL)
		ExplainPropertyInteger("Rejected by Index Keys", NULL, hs->keyrejected, es);
	ExplainPropertyInteger("Rejected by Filter", NULL, hs->rejected, es);
	if (hs->passedover > 0)
		ExplainPropertyInteger("Passed Over in Batch", NULL, hs->passedover, es);
	ExplainPropertyInteger("Exact Distances", NULL, hs->reranked, es);
}
