/*-------------------------------------------------------------------------
 *
 * hnswbuild.c
 *	  CREATE INDEX for vsearch_hnsw: the graph is built in memory within
 *	  maintenance_work_mem, then written out page by page.
 *
 * Design: building in memory costs one distance per comparison and no
 * buffer traffic; pages are written once, without WAL, and logged as full
 * images at the end (log_newpage_range).  When the next element would push
 * the graph past maintenance_work_mem, the graph built so far is written
 * out and the remaining rows are inserted page by page (NOTICE), so the
 * build never exceeds its budget and still finishes.
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswbuild.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "common/hashfn.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* How a neighbour got into a list (see AddBackLink). */
#define NBR_FILLER	0			/* added to fill the list after the heuristic */
#define NBR_KEPT	1			/* chosen by the heuristic */
#define NBR_UNKNOWN	2			/* appended to a list that had room */

/* One element of the in-memory graph. */
typedef struct BuildElement
{
	Vector	   *vec;
	IndexTuple	keys;			/* key column values, NULL without keys */
	int			level;
	int			ntids;
	ItemPointerData tids[HNSW_HEAPTIDS];
	int16	   *counts;			/* neighbours per layer, level + 1 entries */
	int32	   *nbr;			/* slots as in the neighbour tuple */
	float	   *nbrdist;		/* distance to each neighbour */
	uint8	   *nbrkept;		/* NBR_KEPT, NBR_FILLER or NBR_UNKNOWN */
	ItemPointerData tid;		/* where the element tuple is written */
	ItemPointerData nbrtid;		/* where the neighbour tuple is written */
} BuildElement;

typedef struct HnswBuildState
{
	Relation	heap;
	Relation	index;
	HnswMetric	metric;
	int			m;
	int			efc;
	int			dim;

	MemoryContext graphCtx;		/* elements and their vectors */
	MemoryContext tmpCtx;		/* reset after every row */

	BuildElement *elements;
	int			nelements;
	int			capacity;
	int			entry;			/* element index, -1 when empty */
	int			maxlevel;

	Size		memUsed;
	Size		memLimit;
	bool		spilled;		/* graph written; insert page by page */

	HTAB	   *dups;			/* vector hash -> newest element holding it */
	uint32	   *visited;		/* per element: epoch of last visit */
	uint32		epoch;
	Vector	   *query;			/* vector being inserted */

	double		indtuples;
} HnswBuildState;

/* ---------- graph access for the algorithm ---------- */

static bool
MemVisit(void *arg, uint64 id)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	if (bs->visited[id] == bs->epoch)
		return false;
	bs->visited[id] = bs->epoch;
	return true;
}

static bool
MemDistance(void *arg, uint64 id, float *dist)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	*dist = HnswDistance(&bs->metric, bs->query, bs->elements[id].vec);
	return true;
}

static int
MemNeighbors(void *arg, uint64 id, int lc, uint64 *out, int max)
{
	HnswBuildState *bs = (HnswBuildState *) arg;
	BuildElement *e = &bs->elements[id];
	int			start = HNSW_LAYER_START(lc, bs->m);
	int			n;

	if (lc > e->level)
		return 0;
	n = Min(e->counts[lc], max);
	for (int i = 0; i < n; i++)
		out[i] = (uint64) e->nbr[start + i];
	return n;
}

static float
MemPairDistance(void *arg, uint64 a, uint64 b)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	return HnswDistance(&bs->metric, bs->elements[a].vec, bs->elements[b].vec);
}

/* MemDistances prefetches every vector before computing the distances. */
static void
MemDistances(void *arg, const uint64 *ids, int n, float *dists, bool *ok)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	for (int i = 0; i < n; i++)
	{
		const char *v = (const char *) bs->elements[ids[i]].vec;

		__builtin_prefetch(v);
		__builtin_prefetch(v + 64);
	}
	for (int i = 0; i < n; i++)
	{
		dists[i] = HnswDistance(&bs->metric, bs->query, bs->elements[ids[i]].vec);
		ok[i] = true;
	}
}

static const HnswGraphOps MemOps = {
	MemVisit, MemDistance, MemNeighbors, MemPairDistance, MemDistances
};

/* ---------- in-memory insertion ---------- */

/*
 * An entry of the duplicate map: the newest element with this hash of
 * vector and key values.
 */
typedef struct DupEntry
{
	uint32		hash;
	int			element;
} DupEntry;

static uint32
VectorHash(Vector *vec, IndexTuple keys)
{
	return hash_combine(hash_bytes((const unsigned char *) vec->x, sizeof(float) * vec->dim),
						VsKeysHash(keys));
}

/*
 * AddToDuplicate gives heaptid to an existing element holding exactly vec
 * and keys when the newest such element has room; returns false otherwise.  Exact
 * duplicates thus fill elements HNSW_HEAPTIDS rows at a time instead of
 * becoming many identical elements, which would all pick the same
 * neighbours and leave one another unreachable.
 */
static bool
AddToDuplicate(HnswBuildState *bs, Vector *vec, IndexTuple keys, ItemPointer heaptid)
{
	uint32		hash = VectorHash(vec, keys);
	DupEntry   *entry = hash_search(bs->dups, &hash, HASH_FIND, NULL);
	BuildElement *e;

	if (entry == NULL)
		return false;
	e = &bs->elements[entry->element];
	if (e->ntids >= HNSW_HEAPTIDS || e->vec->dim != vec->dim ||
		memcmp(e->vec->x, vec->x, sizeof(float) * vec->dim) != 0 ||
		!VsKeysEqual(e->keys, keys))
		return false;
	e->tids[e->ntids++] = *heaptid;
	return true;
}

/* RememberElement makes element id the newest holder of its vector. */
static void
RememberElement(HnswBuildState *bs, int id)
{
	uint32		hash = VectorHash(bs->elements[id].vec, bs->elements[id].keys);
	DupEntry   *entry = hash_search(bs->dups, &hash, HASH_ENTER, NULL);

	entry->element = id;
}

/* Bytes an element of the given level and key tuple takes in the graph. */
static Size
ElementBytes(HnswBuildState *bs, int level, IndexTuple keys)
{
	int			slots = HNSW_NEIGHBOR_SLOTS(level, bs->m);

	return sizeof(BuildElement) + sizeof(uint32) + VECTOR_SIZE(bs->dim) + VsKeysSize(keys) +
		sizeof(int16) * (level + 1) + (sizeof(int32) + sizeof(float) + 1) * slots + 64;
}

/* AddElement appends an element (vector and keys copied into graphCtx). */
static int
AddElement(HnswBuildState *bs, Vector *vec, IndexTuple keys, int level, ItemPointer heaptid)
{
	MemoryContext old = MemoryContextSwitchTo(bs->graphCtx);
	int			slots = HNSW_NEIGHBOR_SLOTS(level, bs->m);
	BuildElement *e;

	if (bs->nelements == bs->capacity)
	{
		bs->capacity *= 2;
		bs->elements = repalloc_huge(bs->elements, sizeof(BuildElement) * bs->capacity);
		bs->visited = repalloc_huge(bs->visited, sizeof(uint32) * bs->capacity);
	}
	e = &bs->elements[bs->nelements];
	memset(e, 0, sizeof(BuildElement));
	e->vec = palloc(VARSIZE(vec));
	memcpy(e->vec, vec, VARSIZE(vec));
	if (keys != NULL)
	{
		e->keys = palloc(IndexTupleSize(keys));
		memcpy(e->keys, keys, IndexTupleSize(keys));
	}
	e->level = level;
	e->ntids = 1;
	e->tids[0] = *heaptid;
	e->counts = palloc0(sizeof(int16) * (level + 1));
	e->nbr = palloc(sizeof(int32) * slots);
	e->nbrdist = palloc(sizeof(float) * slots);
	e->nbrkept = palloc(sizeof(uint8) * slots);
	bs->visited[bs->nelements] = 0;
	bs->memUsed += ElementBytes(bs, level, keys);
	MemoryContextSwitchTo(old);
	return bs->nelements++;
}

/*
 * AddBackLink makes newid a neighbour of n on layer lc.  A list with room
 * simply takes it.  A full list whose members' selection is known drops
 * one member in O(m): the newcomer counts as chosen by the heuristic if no
 * chosen member closer to n is closer to it than n is; the farthest filler
 * goes (or the farthest member when all were chosen).  A full list with
 * members of unknown standing is re-selected from scratch (O(m^2)
 * distances), which records every member's standing.
 */
static void
AddBackLink(HnswBuildState *bs, int n, int newid, int lc, float dist)
{
	BuildElement *e = &bs->elements[n];
	int			start = HNSW_LAYER_START(lc, bs->m);
	int			cap = HNSW_LAYER_SLOTS(lc, bs->m);
	int			count = e->counts[lc];
	int32	   *nbr = e->nbr + start;
	float	   *nd = e->nbrdist + start;
	uint8	   *nk = e->nbrkept + start;
	bool		known = true;

	if (count < cap)
	{
		nbr[count] = newid;
		nd[count] = dist;
		nk[count] = NBR_UNKNOWN;
		e->counts[lc]++;
		return;
	}
	for (int i = 0; i < count; i++)
		if (nk[i] == NBR_UNKNOWN)
			known = false;

	if (known)
	{
		bool		newkept = true;
		int			drop = -1;	/* slot to replace; count = the newcomer itself */

		for (int i = 0; i < count && newkept; i++)
			if (nk[i] == NBR_KEPT && nd[i] < dist &&
				HnswDistance(&bs->metric, bs->elements[nbr[i]].vec, bs->elements[newid].vec) <= dist)
				newkept = false;
		/* the farthest filler, the newcomer included */
		for (int i = 0; i < count; i++)
			if (nk[i] == NBR_FILLER && (drop < 0 || nd[i] > nd[drop]))
				drop = i;
		if (!newkept && (drop < 0 || dist > nd[drop]))
			return;				/* the newcomer is the farthest filler */
		if (drop < 0)
		{
			/* all chosen: the farthest of them and the newcomer goes */
			for (int i = 0; i < count; i++)
				if (drop < 0 || nd[i] > nd[drop])
					drop = i;
			if (dist >= nd[drop])
				return;
		}
		nbr[drop] = newid;
		nd[drop] = dist;
		nk[drop] = newkept ? NBR_KEPT : NBR_FILLER;
		return;
	}

	{
		VsHeapEntry cands[2 * HNSW_MAX_M + 1];
		VsHeapEntry chosen[2 * HNSW_MAX_M];
		bool		kept[2 * HNSW_MAX_M];
		int			nchosen;

		for (int i = 0; i < count; i++)
		{
			cands[i].id = nbr[i];
			cands[i].dist = nd[i];
		}
		cands[count].id = newid;
		cands[count].dist = dist;
		HnswSortEntries(cands, count + 1);
		nchosen = HnswSelectNeighbors(&MemOps, bs, cands, count + 1, cap, chosen, kept);
		for (int i = 0; i < nchosen; i++)
		{
			nbr[i] = (int32) chosen[i].id;
			nd[i] = chosen[i].dist;
			nk[i] = kept[i] ? NBR_KEPT : NBR_FILLER;
		}
		e->counts[lc] = nchosen;
	}
}

/*
 * InsertInMemory adds one prepared vector with its heap TID to the graph:
 * descend greedily to the element's level, search each lower layer with
 * ef_construction, link to the heuristic's choice and back.  An exact
 * duplicate of the closest element joins it while it has room.
 */
static void
InsertInMemory(HnswBuildState *bs, Vector *vec, IndexTuple keys, ItemPointer heaptid)
{
	int			level = HnswRandomLevel(bs->m);
	VsHeapEntry *layers[HNSW_MAX_LEVEL + 1];
	int			nlayer[HNSW_MAX_LEVEL + 1];
	VsHeapEntry ep;
	VsHeapEntry *eps;
	int			neps;
	int			top;
	int			id;

	if (AddToDuplicate(bs, vec, keys, heaptid))
		return;
	if (bs->entry < 0)
	{
		bs->entry = AddElement(bs, vec, keys, level, heaptid);
		bs->maxlevel = level;
		RememberElement(bs, bs->entry);
		return;
	}

	bs->query = vec;
	ep.id = bs->entry;
	ep.dist = HnswDistance(&bs->metric, vec, bs->elements[bs->entry].vec);
	eps = &ep;
	neps = 1;
	for (int lc = bs->maxlevel; lc > level; lc--)
	{
		VsHeap		w;

		VsHeapInit(&w, 2, true);
		bs->epoch++;
		bs->visited[ep.id] = bs->epoch;
		HnswSearchLayer(&MemOps, bs, eps, neps, 1, lc, bs->m, &w);
		ep = *VsHeapTop(&w);
		pfree(w.items);
	}
	top = Min(level, bs->maxlevel);
	for (int lc = top; lc >= 0; lc--)
	{
		VsHeap		w;

		VsHeapInit(&w, bs->efc + 1, true);
		bs->epoch++;
		for (int i = 0; i < neps; i++)
			bs->visited[eps[i].id] = bs->epoch;
		HnswSearchLayer(&MemOps, bs, eps, neps, bs->efc, lc, bs->m, &w);
		layers[lc] = HnswHeapToSorted(&w, &nlayer[lc]);
		pfree(w.items);
		eps = layers[lc];
		neps = nlayer[lc];
	}

	id = AddElement(bs, vec, keys, level, heaptid);
	RememberElement(bs, id);
	for (int lc = top; lc >= 0; lc--)
	{
		int			cap = HNSW_LAYER_SLOTS(lc, bs->m);
		int			start = HNSW_LAYER_START(lc, bs->m);
		VsHeapEntry chosen[2 * HNSW_MAX_M];
		bool		kept[2 * HNSW_MAX_M];
		int			nchosen;
		BuildElement *e;

		nchosen = HnswSelectNeighbors(&MemOps, bs, layers[lc], nlayer[lc], cap, chosen, kept);
		e = &bs->elements[id];
		for (int i = 0; i < nchosen; i++)
		{
			e->nbr[start + i] = (int32) chosen[i].id;
			e->nbrdist[start + i] = chosen[i].dist;
			e->nbrkept[start + i] = kept[i] ? NBR_KEPT : NBR_FILLER;
		}
		e->counts[lc] = nchosen;
		for (int i = 0; i < nchosen; i++)
			AddBackLink(bs, (int) chosen[i].id, id, lc, chosen[i].dist);
	}
	if (level > bs->maxlevel)
	{
		bs->entry = id;
		bs->maxlevel = level;
	}
}

/* ---------- connectivity ---------- */

/*
 * ConnectGraph makes every element reachable from the entry point on
 * layer 0.  Neighbour selection can leave an element with no in-links
 * (ties between many identical vectors make it likely); such an element is
 * linked from its closest reachable neighbour, taking a free slot or
 * replacing the link whose target has the most other in-links, so the
 * replaced element stays reachable.  Repeats until nothing is unreached or
 * a few passes are done.
 *
 * Under inner product (not a metric) only free slots are used: there the
 * unreached elements are small vectors that no query ranks first, while
 * the links replacement would take point at the large vectors every search
 * needs (measured: recall@10 fell from 0.986 to 0.512).  Scans still
 * return unreached elements through their final pass over the pages.
 */
/*
 * CanTakeLink says whether element t can link to one more element on layer
 * 0 without cutting the only in-link of another: a free slot, or a link to
 * an element with another in-link.
 */
static bool
CanTakeLink(HnswBuildState *bs, int t, const int *indegree, bool may_replace)
{
	BuildElement *e = &bs->elements[t];

	if (e->counts[0] < HNSW_LAYER_SLOTS(0, bs->m))
		return true;
	if (!may_replace)
		return false;
	for (int k = 0; k < e->counts[0]; k++)
		if (indegree[e->nbr[k]] >= 2)
			return true;
	return false;
}

static void
ConnectGraph(HnswBuildState *bs)
{
	Size		n = (Size) bs->nelements;
	bool	   *reached;
	int		   *queue;
	int		   *indegree;
	int			cap0 = HNSW_LAYER_SLOTS(0, bs->m);
	bool		may_replace = !(bs->metric.kind == HNSW_METRIC_NEG_DOT &&
								bs->metric.normproc == NULL);

	if (n == 0)
		return;
	reached = palloc(sizeof(bool) * n);
	queue = palloc(sizeof(int) * n);
	indegree = palloc(sizeof(int) * n);
	for (int pass = 0; pass < 8; pass++)
	{
		int			head = 0,
					tail = 0;
		bool		linked = false;

		for (int i = 0; i < (int) n; i++)
		{
			indegree[i] = 0;
			reached[i] = false;
		}
		for (int i = 0; i < (int) n; i++)
			for (int k = 0; k < bs->elements[i].counts[0]; k++)
				indegree[bs->elements[i].nbr[k]]++;
		reached[bs->entry] = true;
		queue[tail++] = bs->entry;
		for (int i = -1; i < (int) n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (i >= 0 && !reached[i])
			{
				BuildElement *e = &bs->elements[i];
				int			target = -1;
				BuildElement *t;
				float		d;

				/* a reached neighbour that can take a link without losing one */
				for (int k = 0; k < e->counts[0] && target < 0; k++)
					if (reached[e->nbr[k]] && CanTakeLink(bs, e->nbr[k], indegree, may_replace))
						target = e->nbr[k];
				/* else the element reached last, else the entry point */
				if (target < 0 && CanTakeLink(bs, queue[tail - 1], indegree, may_replace))
					target = queue[tail - 1];
				if (target < 0 && may_replace)
					target = bs->entry;
				if (target < 0)
					continue;	/* inner product: leave it to the final pass */
				t = &bs->elements[target];
				d = HnswDistance(&bs->metric, e->vec, t->vec);
				if (t->counts[0] < cap0)
				{
					t->nbr[t->counts[0]] = i;
					t->nbrkept[t->counts[0]] = NBR_UNKNOWN;
					t->nbrdist[t->counts[0]++] = d;
				}
				else
				{
					int			best = 0;

					for (int k = 1; k < t->counts[0]; k++)
						if (indegree[t->nbr[k]] > indegree[t->nbr[best]] ||
							(indegree[t->nbr[k]] == indegree[t->nbr[best]] &&
							 t->nbrdist[k] > t->nbrdist[best]))
							best = k;
					indegree[t->nbr[best]]--;
					t->nbr[best] = i;
					t->nbrkept[best] = NBR_UNKNOWN;
					t->nbrdist[best] = d;
				}
				indegree[i]++;
				reached[i] = true;
				queue[tail++] = i;
				linked = true;
			}
			while (head < tail)
			{
				BuildElement *e = &bs->elements[queue[head++]];

				for (int k = 0; k < e->counts[0]; k++)
				{
					if (!reached[e->nbr[k]])
					{
						reached[e->nbr[k]] = true;
						queue[tail++] = e->nbr[k];
					}
				}
			}
		}
		if (!linked)
			break;
	}
	pfree(reached);
	pfree(queue);
	pfree(indegree);
}

/* ---------- writing the graph ---------- */

/*
 * Layout tracks free space on the page being filled exactly as
 * PageAddItem consumes it, so TIDs can be assigned before any page exists.
 */
typedef struct Layout
{
	BlockNumber blkno;
	OffsetNumber nextoff;
	Size		free;
} Layout;

static void
LayoutNewPage(Layout *l)
{
	/* cppcheck-suppress ctuuninitvar ; callers set blkno; the rest is written here */
	l->blkno++;
	l->nextoff = FirstOffsetNumber;
	l->free = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData));
}

static void
LayoutPlace(Layout *l, Size size, ItemPointer tid)
{
	Size		need = MAXALIGN(size) + sizeof(ItemIdData);

	if (l->free < need)
		LayoutNewPage(l);
	ItemPointerSet(tid, l->blkno, l->nextoff);
	l->nextoff++;
	l->free -= need;
}

/*
 * WriteGraph assigns every element and neighbour tuple a TID, then writes
 * the pages in order (extending the index after the metapage) and points
 * the metapage at the entry element.  No WAL here: hnswbuild logs every
 * page at the end.
 */
static void
WriteGraph(HnswBuildState *bs)
{
	Layout		layout;
	HnswElementTuple etup = palloc(BLCKSZ);
	Buffer		buf = InvalidBuffer;
	Page		page = NULL;
	BlockNumber lastblk = InvalidBlockNumber;
	HnswEdit	edit;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	if (bs->nelements == 0)
		return;
	ConnectGraph(bs);

	layout.blkno = HNSW_METAPAGE_BLKNO;
	LayoutNewPage(&layout);
	for (int i = 0; i < bs->nelements; i++)
	{
		BuildElement *e = &bs->elements[i];

		LayoutPlace(&layout, HnswElementSize(bs->index, bs->dim, e->keys), &e->tid);
		LayoutPlace(&layout, HNSW_NEIGHBOR_TUPLE_SIZE(e->level, bs->m), &e->nbrtid);
	}

	for (int i = 0; i < bs->nelements; i++)
	{
		BuildElement *e = &bs->elements[i];
		int			slots = HNSW_NEIGHBOR_SLOTS(e->level, bs->m);
		Size		esize = HnswElementSize(bs->index, bs->dim, e->keys);
		Size		nsize = HNSW_NEIGHBOR_TUPLE_SIZE(e->level, bs->m);
		HnswNeighborTuple ntup = palloc0(nsize);
		OffsetNumber off;

		CHECK_FOR_INTERRUPTS();

		/* element tuple */
		HnswFillElement(etup, e->level, e->vec, NULL, e->keys);
		for (int t = 0; t < e->ntids; t++)
			etup->heaptids[t] = e->tids[t];
		etup->neighbortid = e->nbrtid;

		/* neighbour tuple */
		ntup->type = HNSW_NEIGHBOR_TUPLE;
		ntup->count = slots;
		for (int s = 0; s < slots; s++)
			ItemPointerSetInvalid(&ntup->tids[s]);
		for (int lc = 0; lc <= e->level; lc++)
		{
			int			start = HNSW_LAYER_START(lc, bs->m);

			for (int k = 0; k < e->counts[lc]; k++)
				ntup->tids[start + k] = bs->elements[e->nbr[start + k]].tid;
		}

		for (int part = 0; part < 2; part++)
		{
			ItemPointer want = part == 0 ? &e->tid : &e->nbrtid;
			Item		item = part == 0 ? (Item) etup : (Item) ntup;
			Size		size = part == 0 ? esize : nsize;

			if (ItemPointerGetBlockNumber(want) != lastblk)
			{
				if (BufferIsValid(buf))
				{
					HnswEditFinish(&edit);
					UnlockReleaseBuffer(buf);
				}
				buf = HnswNewBuffer(bs->index);
				if (BufferGetBlockNumber(buf) != ItemPointerGetBlockNumber(want))
					elog(ERROR, "unexpected block %u while writing index \"%s\", wanted %u",
						 BufferGetBlockNumber(buf), RelationGetRelationName(bs->index),
						 ItemPointerGetBlockNumber(want));
				HnswEditBegin(&edit, bs->index, false);
				page = HnswEditPage(&edit, buf, true);
				HnswInitPage(page, HNSW_PAGE_ELEMENTS);
				lastblk = BufferGetBlockNumber(buf);
			}
			off = PageAddItem(page, item, size, InvalidOffsetNumber, false, false);
			if (off != ItemPointerGetOffsetNumber(want))
				elog(ERROR, "unexpected offset %u while writing index \"%s\", wanted %u",
					 off, RelationGetRelationName(bs->index), ItemPointerGetOffsetNumber(want));
		}
		pfree(ntup);
	}
	if (BufferIsValid(buf))
	{
		HnswEditFinish(&edit);
		UnlockReleaseBuffer(buf);
	}

	/* metapage: entry point, insert page, count */
	buf = ReadBuffer(bs->index, HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswEditBegin(&edit, bs->index, false);
	page = HnswEditPage(&edit, buf, false);
	HnswPageGetMeta(page)->entry = bs->elements[bs->entry].tid;
	HnswPageGetMeta(page)->entry_level = bs->maxlevel;
	HnswPageGetMeta(page)->insert_page = lastblk;
	HnswPageGetMeta(page)->elements = bs->nelements;
	HnswEditFinish(&edit);
	UnlockReleaseBuffer(buf);
	pfree(etup);
}

/* ---------- the build ---------- */

/*
 * BuildCallback receives each live heap row.  It works in tmpCtx, which is
 * reset after every row; the graph lives in graphCtx.
 */
static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *arg)
{
	HnswBuildState *bs = (HnswBuildState *) arg;
	MemoryContext old;
	Vector	   *vec;
	IndexTuple	keys;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	vec = HnswPrepareVector(&bs->metric, values[0], bs->dim);
	if (vec != NULL)
	{
		keys = VsKeysForm(index, values, isnull);
		(void) HnswElementSize(index, bs->dim, keys);	/* too big: error now */
		if (!bs->spilled &&
			bs->memUsed + ElementBytes(bs, HNSW_MAX_LEVEL, keys) > bs->memLimit)
		{
			ereport(NOTICE,
					(errmsg("hnsw graph no longer fits into maintenance_work_mem after %.0f tuples",
							bs->indtuples),
					 errdetail("Building will take significantly more time."),
					 errhint("Increase maintenance_work_mem to speed up builds.")));
			WriteGraph(bs);
			MemoryContextReset(bs->graphCtx);
			bs->spilled = true;
			pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
		}
		if (bs->spilled)
			HnswInsertVector(index, vec, keys, tid, true);
		else
			InsertInMemory(bs, vec, keys, tid);
		bs->indtuples++;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
}

/* Dimensions of the indexed column, with the errors for unusable ones. */
static int
IndexDimensions(Relation index)
{
	int			dim = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (dim < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_DEFINITION),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column with a dimension count, for example vector(768).")));
	if (dim > HNSW_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for vsearch_hnsw index",
						HNSW_MAX_DIM),
				 errhint("Index a lower-dimensional expression such as subvector(), or search exactly without an index.")));
	return dim;
}

/*
 * hnswbuild is ambuild: metapage first, then the graph in memory from a
 * heap scan, then pages, then full-page WAL images of the whole index.
 */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	HnswBuildState bs;
	HnswOptions *opts = HnswGetOptions(index);
	double		reltuples;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	VsCheckKeyColumns(index, "vsearch_hnsw", HNSW_DISTANCE_PROC);
	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	bs.dim = IndexDimensions(index);
	bs.m = opts->m;
	bs.efc = opts->ef_construction;
	if (bs.efc < 2 * bs.m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m")));
	HnswInitMetric(index, &bs.metric);
	bs.entry = -1;
	bs.maxlevel = -1;
	bs.memLimit = (Size) maintenance_work_mem * 1024;
	bs.graphCtx = GenerationContextCreate(CurrentMemoryContext, "vsearch_hnsw build graph",
										  ALLOCSET_DEFAULT_SIZES);
	bs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "vsearch_hnsw build row",
									  ALLOCSET_DEFAULT_SIZES);
	bs.capacity = 1024;
	bs.elements = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BuildElement) * bs.capacity);
	bs.visited = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * bs.capacity);
	{
		HASHCTL		hctl;

		hctl.keysize = sizeof(uint32);
		hctl.entrysize = sizeof(DupEntry);
		hctl.hcxt = CurrentMemoryContext;
		bs.dups = hash_create("vsearch_hnsw build duplicates", 1024, &hctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	HnswWriteEmptyMetapage(index, MAIN_FORKNUM, bs.dim, bs.m, bs.efc, false);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   BuildCallback, &bs, NULL);
	if (!bs.spilled)
		WriteGraph(&bs);

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	MemoryContextDelete(bs.graphCtx);
	MemoryContextDelete(bs.tmpCtx);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* hnswbuildempty writes the init fork of an unlogged index: a metapage. */
void
hnswbuildempty(Relation index)
{
	HnswOptions *opts = HnswGetOptions(index);

	HnswWriteEmptyMetapage(index, INIT_FORKNUM, IndexDimensions(index),
						   opts->m, opts->ef_construction, true);
}
