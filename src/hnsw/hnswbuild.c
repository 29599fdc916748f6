/*-------------------------------------------------------------------------
 *
 * hnswbuild.c
 *	  CREATE INDEX for vsearch_hnsw: the graph is built in memory within
 *	  maintenance_work_mem, by the backend alone or together with parallel
 *	  workers, then written out page by page.
 *
 * Design: building in memory costs one distance per comparison and no
 * buffer traffic; pages are written once, without WAL, and logged as full
 * images at the end (log_newpage_range).  An element of the graph is one
 * block (header, vector, neighbour lists) named by an integer id, found
 * through a table of offsets, so the same code runs on backend-local
 * memory (serial build) and on one graph in dynamic shared memory that the
 * leader and its workers insert into concurrently (parallel build, with a
 * lock per element for its neighbour lists).  When the next element would
 * push the graph past maintenance_work_mem, the graph built so far is
 * written out and the remaining rows are inserted page by page (NOTICE),
 * so the build never exceeds its budget and still finishes.
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswbuild.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "common/hashfn.h"
#include "common/vspagewriter.h"
#include "common/vsparallel.h"
#include "executor/instrument.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/bufmgr.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* How a neighbour got into a list (see AddBackLink). */
#define NBR_FILLER	0			/* added to fill the list after the heuristic */
#define NBR_KEPT	1			/* chosen by the heuristic */
#define NBR_UNKNOWN	2			/* appended to a list that had room */

/*
 * One element of the in-memory graph: this header, the vector right after
 * it (at a fixed offset, so it can be prefetched without reading the
 * header), the key tuple if the index has key columns, then the neighbour
 * slots (as in the neighbour tuple), their distances and how each was
 * chosen.  No pointers inside, so an element
 * means the same in every process that maps the shared graph.
 */
typedef struct BuildElement
{
	int16		level;
	int16		ntids;
	uint32		keysoff;		/* byte offsets from the element's start */
	uint32		nbroff;
	uint32		distoff;
	uint32		keptoff;
	ItemPointerData tids[HNSW_HEAPTIDS];
	ItemPointerData tid;		/* where the element tuple is written */
	ItemPointerData nbrtid;		/* where the neighbour tuple is written */
	int16		counts[HNSW_MAX_LEVEL + 1]; /* neighbours per layer */
} BuildElement;

#define ELEM_VECOFF		MAXALIGN(sizeof(BuildElement))
#define ELEM_VEC(e)		((Vector *) ElemPart(e, ELEM_VECOFF))
#define ELEM_KEYS(e)	((e)->keysoff == 0 ? (IndexTuple) NULL : \
						 (IndexTuple) ElemPart(e, (e)->keysoff))
#define ELEM_NBR(e)		((int32 *) ElemPart(e, (e)->nbroff))
#define ELEM_DIST(e)	((float *) ElemPart(e, (e)->distoff))
#define ELEM_KEPT(e)	((uint8 *) ElemPart(e, (e)->keptoff))

/* ElemPart is the address off bytes into element e (untyped). */
static inline void *
ElemPart(BuildElement *e, Size off)
{
	return (char *) e + off;
}

/* Keys of the parallel build's shared memory table of contents. */
#define HNSW_KEY_SHARED			UINT64CONST(0x7653480000000001)
#define HNSW_KEY_SCAN			UINT64CONST(0x7653480000000002)
#define HNSW_KEY_GRAPH			UINT64CONST(0x7653480000000003)

/* Partitions of the lock serialising rows with equal vector hashes. */
#define HNSW_DUP_LOCKS			64

/*
 * State of a parallel build shared by the leader and its workers.  The
 * graph chunk (HNSW_KEY_GRAPH) holds the offset table, one LWLock per
 * element, the duplicate table and the arena the elements are carved from.
 */
typedef struct HnswShared
{
	/* set by the leader before the launch, read-only afterwards */
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			tranche;
	int			m;
	int			efc;
	int			dim;
	int			maxelements;
	Size		dupslots;
	Size		arenasize;
	Size		locksoff;		/* offsets into the graph chunk */
	Size		dupoff;
	Size		arenaoff;

	/* protected by mutex */
	slock_t		mutex;
	int			nelements;
	Size		arenaused;
	int			entry;			/* -1 while the graph is empty */
	int			maxlevel;
	int			inflight;		/* in-memory inserts under way */
	bool		flushing;		/* the graph is full: no new in-memory inserts */
	bool		flushed;		/* the graph is on pages: insert there */
	int			nparticipantsdone;
	double		reltuples;

	pg_atomic_uint64 indtuples; /* rows indexed by all participants */
	ConditionVariable flushcv;	/* inflight reached 0, or flushed was set */
	ConditionVariable donecv;	/* a participant finished its scan */
	LWLock		duplocks[HNSW_DUP_LOCKS];
} HnswShared;

typedef struct HnswBuildState
{
	Relation	heap;
	Relation	index;
	HnswMetric	metric;
	int			m;
	int			efc;
	int			dim;
	bool		isleader;		/* reports progress */

	MemoryContext graphCtx;		/* serial: elements */
	MemoryContext tmpCtx;		/* reset after every row */

	/* the graph: element id -> (BuildElement *) (base + offsets[id]) */
	uintptr_t	base;			/* 0 in a serial build: offsets are addresses */
	Size	   *offsets;
	int			nelements;		/* serial, or a copy of the shared count */
	int			capacity;		/* serial: entries of offsets */
	int			entry;			/* element id, -1 when empty */
	int			maxlevel;

	Size		memUsed;		/* serial */
	Size		memLimit;
	bool		spilled;		/* graph written; insert page by page */

	HTAB	   *dups;			/* serial: vector hash -> newest element */
	uint32	   *visited;		/* per element: epoch of last visit */
	int			visitedCap;
	uint32		epoch;
	Vector	   *query;			/* vector being inserted */

	double		indtuples;		/* rows this process indexed */
	TimestampTz writeStart;		/* WriteGraph's start and end (DEBUG1) */
	TimestampTz writeEnd;

	/* parallel build; shared is NULL in a serial build */
	HnswShared *shared;
	LWLock	   *locks;			/* one per element */
	pg_atomic_uint64 *duptab;	/* (hash << 32) | (id + 1); 0 = empty */
	VsParallelBuild par;		/* leader only */
	ParallelTableScanDesc pscan;
} HnswBuildState;

PGDLLEXPORT void HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc);

static int	BuildTranche = 0;

/* Elem returns element id of the graph. */
static inline BuildElement *
Elem(HnswBuildState *bs, int id)
{
	return (BuildElement *) (bs->base + bs->offsets[id]);
}

/*
 * ElementSize is the size of an element of the given level with a key
 * tuple of keysize bytes (0: none), and sets its offsets when e is given.
 */
static Size
ElementSize(int dim, int m, int level, Size keysize, BuildElement *e)
{
	int			slots = HNSW_NEIGHBOR_SLOTS(level, m);
	Size		keysoff = MAXALIGN(ELEM_VECOFF + VECTOR_SIZE(dim));
	Size		nbroff = MAXALIGN(keysoff + keysize);
	Size		distoff = nbroff + sizeof(int32) * slots;
	Size		keptoff = distoff + sizeof(float) * slots;

	if (e)
	{
		e->keysoff = keysize > 0 ? (uint32) keysoff : 0;
		e->nbroff = (uint32) nbroff;
		e->distoff = (uint32) distoff;
		e->keptoff = (uint32) keptoff;
	}
	return MAXALIGN(keptoff + slots);
}

/*
 * EnsureVisited grows this process's visited array to cover element id;
 * new entries are zero (never visited).
 */
static inline void
EnsureVisited(HnswBuildState *bs, uint64 id)
{
	if (id >= (uint64) bs->visitedCap)
	{
		int			cap = Max(bs->visitedCap * 2, (int) id + 1);

		if (bs->shared)
			cap = Min(cap, bs->shared->maxelements);
		bs->visited = repalloc_huge(bs->visited, sizeof(uint32) * cap);
		memset(bs->visited + bs->visitedCap, 0, sizeof(uint32) * (cap - bs->visitedCap));
		bs->visitedCap = cap;
	}
}

/* ---------- graph access for the algorithm ---------- */

static bool
MemVisit(void *arg, uint64 id)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	EnsureVisited(bs, id);
	if (bs->visited[id] == bs->epoch)
		return false;
	bs->visited[id] = bs->epoch;
	return true;
}

static bool
MemDistance(void *arg, uint64 id, float *dist)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	*dist = HnswDistance(&bs->metric, bs->query, ELEM_VEC(Elem(bs, (int) id)));
	return true;
}

/*
 * MemNeighbors copies the neighbours of id on layer lc; in a parallel
 * build under the element's lock in share mode, since other processes
 * may be rewriting the list.
 */
static int
MemNeighbors(void *arg, uint64 id, int lc, uint64 *out, int max)
{
	HnswBuildState *bs = (HnswBuildState *) arg;
	BuildElement *e = Elem(bs, (int) id);
	int			start = HNSW_LAYER_START(lc, bs->m);
	int32	   *nbr = ELEM_NBR(e) + start;
	int			n;

	if (lc > e->level)
		return 0;
	if (bs->shared)
		LWLockAcquire(&bs->locks[id], LW_SHARED);
	n = Min(e->counts[lc], max);
	for (int i = 0; i < n; i++)
		out[i] = (uint64) nbr[i];
	if (bs->shared)
		LWLockRelease(&bs->locks[id]);
	return n;
}

static float
MemPairDistance(void *arg, uint64 a, uint64 b)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	return HnswDistance(&bs->metric, ELEM_VEC(Elem(bs, (int) a)), ELEM_VEC(Elem(bs, (int) b)));
}

/* MemDistances prefetches every vector before computing the distances. */
static void
MemDistances(void *arg, const uint64 *ids, int n, float *dists, bool *ok)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	for (int i = 0; i < n; i++)
	{
		const char *v = (const char *) ELEM_VEC(Elem(bs, (int) ids[i]));

		__builtin_prefetch(v);
		__builtin_prefetch(v + 64);
	}
	for (int i = 0; i < n; i++)
	{
		dists[i] = HnswDistance(&bs->metric, bs->query, ELEM_VEC(Elem(bs, (int) ids[i])));
		ok[i] = true;
	}
}

static const HnswGraphOps MemOps = {
	MemVisit, MemDistance, MemNeighbors, MemPairDistance, MemDistances
};

/* ---------- in-memory insertion ---------- */

/*
 * An entry of the serial build's duplicate map: the newest element with
 * this hash of vector and key values.
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
 * FindDuplicate returns the newest element whose vector had this hash, or
 * -1.  In a parallel build the caller holds the hash's duplicate lock.
 */
static int
FindDuplicate(HnswBuildState *bs, uint32 hash)
{
	if (bs->shared)
	{
		Size		i = hash % bs->shared->dupslots;

		for (;;)
		{
			uint64		v = pg_atomic_read_u64(&bs->duptab[i]);

			if (v == 0)
				return -1;
			if ((uint32) (v >> 32) == hash)
				return (int) (uint32) v - 1;
			i = (i + 1) % bs->shared->dupslots;
		}
	}
	else
	{
		DupEntry   *entry = hash_search(bs->dups, &hash, HASH_FIND, NULL);

		return entry ? entry->element : -1;
	}
}

/*
 * RememberElement makes element id the newest holder of its hash.
 * The shared table is open addressing: a hash owns one slot for good, and
 * only the holder of its duplicate lock writes it; an empty slot is claimed
 * with compare-and-swap, since other hashes probe the same slots under
 * other locks.  The table has twice as many slots as elements can exist.
 */
static void
RememberElement(HnswBuildState *bs, uint32 hash, int id)
{
	if (bs->shared)
	{
		uint64		val = ((uint64) hash << 32) | (uint64) (uint32) (id + 1);
		Size		i = hash % bs->shared->dupslots;

		for (;;)
		{
			uint64		v = pg_atomic_read_u64(&bs->duptab[i]);

			if (v == 0)
			{
				if (pg_atomic_compare_exchange_u64(&bs->duptab[i], &v, val))
					return;
				/* v now holds the hash that took the slot */
			}
			if ((uint32) (v >> 32) == hash)
			{
				pg_atomic_write_u64(&bs->duptab[i], val);
				return;
			}
			i = (i + 1) % bs->shared->dupslots;
		}
	}
	else
	{
		DupEntry   *entry = hash_search(bs->dups, &hash, HASH_ENTER, NULL);

		entry->element = id;
	}
}

/*
 * AddToDuplicate gives heaptid to the newest element holding exactly vec
 * and keys when it has room; returns false otherwise.  Exact duplicates thus fill
 * elements HNSW_HEAPTIDS rows at a time instead of becoming many identical
 * elements, which would all pick the same neighbours and leave one another
 * unreachable.  In a parallel build the caller holds the hash's duplicate
 * lock, which is also what guards the element's TIDs (read only when the
 * graph is written).
 */
static bool
AddToDuplicate(HnswBuildState *bs, uint32 hash, Vector *vec, IndexTuple keys,
			   ItemPointer heaptid)
{
	int			id = FindDuplicate(bs, hash);
	BuildElement *e;
	Vector	   *ev;

	if (id < 0)
		return false;
	e = Elem(bs, id);
	ev = ELEM_VEC(e);
	if (e->ntids >= HNSW_HEAPTIDS || ev->dim != vec->dim ||
		memcmp(ev->x, vec->x, sizeof(float) * vec->dim) != 0 ||
		!VsKeysEqual(ELEM_KEYS(e), keys))
		return false;
	e->tids[e->ntids++] = *heaptid;
	return true;
}

/* Bytes a serial build charges for an element of the given level and keys. */
static Size
SerialElementBytes(HnswBuildState *bs, int level, IndexTuple keys)
{
	/* the element, its offset, its visited entry, allocator overhead */
	return ElementSize(bs->dim, bs->m, level, VsKeysSize(keys), NULL) +
		sizeof(Size) + sizeof(uint32) + 64;
}

/*
 * AddElement creates an element holding copies of vec, keys and heaptid, with
 * empty lists, and returns its id; nobody links to it yet.  Serial: from
 * graphCtx.  Parallel: carved from the shared arena under the mutex;
 * returns -1 when the arena or the offset table is full.
 */
static int
AddElement(HnswBuildState *bs, Vector *vec, IndexTuple keys, int level, ItemPointer heaptid)
{
	Size		size = ElementSize(bs->dim, bs->m, level, VsKeysSize(keys), NULL);
	BuildElement *e;
	int			id;

	if (bs->shared)
	{
		HnswShared *sh = bs->shared;
		Size		off = 0;

		id = -1;
		SpinLockAcquire(&sh->mutex);
		if (sh->nelements < sh->maxelements && sh->arenaused + size <= sh->arenasize)
		{
			id = sh->nelements++;
			off = sh->arenaused;
			sh->arenaused += size;
			bs->offsets[id] = sh->arenaoff + off;
		}
		SpinLockRelease(&sh->mutex);
		if (id < 0)
			return -1;
		LWLockInitialize(&bs->locks[id], sh->tranche);
	}
	else
	{
		if (bs->nelements == bs->capacity)
		{
			bs->capacity *= 2;
			bs->offsets = repalloc_huge(bs->offsets, sizeof(Size) * bs->capacity);
		}
		id = bs->nelements++;
		bs->offsets[id] = (Size) (uintptr_t) MemoryContextAlloc(bs->graphCtx, size);
		bs->memUsed += SerialElementBytes(bs, level, keys);
	}
	e = Elem(bs, id);
	memset(e, 0, sizeof(BuildElement));
	ElementSize(bs->dim, bs->m, level, VsKeysSize(keys), e);
	e->level = level;
	e->ntids = 1;
	e->tids[0] = *heaptid;
	memcpy(ELEM_VEC(e), vec, VARSIZE(vec));
	if (keys != NULL)
		memcpy(ElemPart(e, e->keysoff), keys, IndexTupleSize(keys));
	return id;
}

/*
 * AddBackLink makes newid a neighbour of n on layer lc.  A list with room
 * simply takes it.  A full list whose members' selection is known drops
 * one member in O(m): the newcomer counts as chosen by the heuristic if no
 * chosen member closer to n is closer to it than n is; the farthest filler
 * goes (or the farthest member when all were chosen).  A full list with
 * members of unknown standing is re-selected from scratch (O(m^2)
 * distances), which records every member's standing.  In a parallel build
 * n's lock is held exclusively throughout; vectors never change, so
 * distances need no other lock.  Two elements inserted at the same time
 * can each choose the other, so a list that already names newid is left
 * alone.
 */
static void
AddBackLink(HnswBuildState *bs, int n, int newid, int lc, float dist)
{
	BuildElement *e = Elem(bs, n);
	int			start = HNSW_LAYER_START(lc, bs->m);
	int			cap = HNSW_LAYER_SLOTS(lc, bs->m);
	int			count;
	int32	   *nbr = ELEM_NBR(e) + start;
	float	   *nd = ELEM_DIST(e) + start;
	uint8	   *nk = ELEM_KEPT(e) + start;
	bool		known = true;

	if (bs->shared)
		LWLockAcquire(&bs->locks[n], LW_EXCLUSIVE);
	count = e->counts[lc];
	/* in parallel, n may have chosen newid itself while both were inserted */
	for (int i = 0; i < count; i++)
		if (nbr[i] == newid)
			goto done;
	if (count < cap)
	{
		nbr[count] = newid;
		nd[count] = dist;
		nk[count] = NBR_UNKNOWN;
		e->counts[lc]++;
		goto done;
	}
	for (int i = 0; i < count; i++)
		if (nk[i] == NBR_UNKNOWN)
			known = false;

	if (known)
	{
		bool		newkept = true;
		int			drop = -1;	/* slot to replace; count = the newcomer itself */
		Vector	   *newvec = ELEM_VEC(Elem(bs, newid));

		for (int i = 0; i < count && newkept; i++)
			if (nk[i] == NBR_KEPT && nd[i] < dist &&
				HnswPrunes(HnswDistance(&bs->metric, ELEM_VEC(Elem(bs, nbr[i])), newvec), dist))
				newkept = false;
		/* the farthest filler, the newcomer included */
		for (int i = 0; i < count; i++)
			if (nk[i] == NBR_FILLER && (drop < 0 || nd[i] > nd[drop]))
				drop = i;
		if (!newkept && (drop < 0 || dist > nd[drop]))
			goto done;			/* the newcomer is the farthest filler */
		if (drop < 0)
		{
			/* all chosen: the farthest of them and the newcomer goes */
			for (int i = 0; i < count; i++)
				if (drop < 0 || nd[i] > nd[drop])
					drop = i;
			if (dist >= nd[drop])
				goto done;
		}
		nbr[drop] = newid;
		nd[drop] = dist;
		nk[drop] = newkept ? NBR_KEPT : NBR_FILLER;
	}
	else
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
done:
	if (bs->shared)
		LWLockRelease(&bs->locks[n]);
}

/*
 * InsertInMemory adds one prepared vector with its key values and heap TID
 * to the graph: an exact duplicate (vector and keys) of a recent element
 * joins it while it has room;
 * otherwise a new element descends greedily to its level, searches each
 * lower layer with ef_construction, gets its lists and is linked back.
 * Returns false, having changed nothing, when a parallel build's arena is
 * full (a serial build checks its budget before calling).
 *
 * Parallel: the element is created and made the newest holder of its
 * hash under the hash's duplicate lock, so an equal vector arriving
 * meanwhile joins it rather than making a twin.  Its own lists are
 * complete before the first back-link makes it reachable.  The entry
 * point and top level are read and moved under the mutex.
 */
static bool
InsertInMemory(HnswBuildState *bs, Vector *vec, IndexTuple keys, ItemPointer heaptid)
{
	HnswShared *sh = bs->shared;
	int			level = HnswRandomLevel(bs->m);
	uint32		hash = VectorHash(vec, keys);
	LWLock	   *duplock = sh ? &sh->duplocks[hash % HNSW_DUP_LOCKS] : NULL;
	VsHeapEntry *layers[HNSW_MAX_LEVEL + 1];
	int			nlayer[HNSW_MAX_LEVEL + 1];
	VsHeapEntry ep;
	VsHeapEntry *eps;
	int			neps;
	int			top;
	int			id;
	int			entry;
	int			maxlevel;
	BuildElement *e;

	if (duplock)
		LWLockAcquire(duplock, LW_EXCLUSIVE);
	if (AddToDuplicate(bs, hash, vec, keys, heaptid))
	{
		if (duplock)
			LWLockRelease(duplock);
		return true;
	}
	id = AddElement(bs, vec, keys, level, heaptid);
	if (id >= 0)
		RememberElement(bs, hash, id);
	if (duplock)
		LWLockRelease(duplock);
	if (id < 0)
		return false;

	if (sh)
	{
		SpinLockAcquire(&sh->mutex);
		entry = sh->entry;
		maxlevel = sh->maxlevel;
		if (entry < 0)
		{
			sh->entry = id;
			sh->maxlevel = level;
		}
		SpinLockRelease(&sh->mutex);
	}
	else
	{
		entry = bs->entry;
		maxlevel = bs->maxlevel;
		if (entry < 0)
		{
			bs->entry = id;
			bs->maxlevel = level;
		}
	}
	if (entry < 0)
		return true;

	bs->query = ELEM_VEC(Elem(bs, id));
	ep.id = entry;
	ep.dist = HnswDistance(&bs->metric, vec, ELEM_VEC(Elem(bs, entry)));
	eps = &ep;
	neps = 1;
	/*
	 * Greedy down to the layer above the element's own, which is searched
	 * with a small window whose elements seed the first own layer (as a
	 * scan's layer 0: hnswscan.c StartSearch).
	 */
	for (int lc = maxlevel; lc > level; lc--)
	{
		int			width = (lc == level + 1) ? HNSW_SEEDS(bs->efc) : 1;
		VsHeap		w;

		VsHeapInit(&w, width + 1, true);
		bs->epoch++;
		EnsureVisited(bs, ep.id);
		bs->visited[ep.id] = bs->epoch;
		HnswSearchLayer(&MemOps, bs, eps, neps, width, lc, bs->m, &w);
		if (width == 1)
			ep = *VsHeapTop(&w);
		else
			eps = HnswHeapToSorted(&w, &neps);
		pfree(w.items);
	}
	top = Min(level, maxlevel);
	for (int lc = top; lc >= 0; lc--)
	{
		VsHeap		w;

		VsHeapInit(&w, bs->efc + 1, true);
		bs->epoch++;
		for (int i = 0; i < neps; i++)
		{
			EnsureVisited(bs, eps[i].id);
			bs->visited[eps[i].id] = bs->epoch;
		}
		HnswSearchLayer(&MemOps, bs, eps, neps, bs->efc, lc, bs->m, &w);
		layers[lc] = HnswHeapToSorted(&w, &nlayer[lc]);
		pfree(w.items);
		eps = layers[lc];
		neps = nlayer[lc];
	}

	/* its own lists, every layer, before anyone can reach it */
	e = Elem(bs, id);
	if (sh)
		LWLockAcquire(&bs->locks[id], LW_EXCLUSIVE);
	for (int lc = top; lc >= 0; lc--)
	{
		int			cap = HNSW_LAYER_SLOTS(lc, bs->m);
		int			start = HNSW_LAYER_START(lc, bs->m);
		VsHeapEntry chosen[2 * HNSW_MAX_M];
		bool		kept[2 * HNSW_MAX_M];
		int			nchosen;

		nchosen = HnswSelectNeighbors(&MemOps, bs, layers[lc], nlayer[lc], cap, chosen, kept);
		for (int i = 0; i < nchosen; i++)
		{
			ELEM_NBR(e)[start + i] = (int32) chosen[i].id;
			ELEM_DIST(e)[start + i] = chosen[i].dist;
			ELEM_KEPT(e)[start + i] = kept[i] ? NBR_KEPT : NBR_FILLER;
		}
		e->counts[lc] = nchosen;
	}
	if (sh)
		LWLockRelease(&bs->locks[id]);

	/* back-links: one neighbour's lock at a time */
	for (int lc = top; lc >= 0; lc--)
	{
		int			start = HNSW_LAYER_START(lc, bs->m);
		int			n;
		int32		nbr[2 * HNSW_MAX_M];
		float		dist[2 * HNSW_MAX_M];

		/* copied: a concurrent insert may replace our own links meanwhile */
		if (sh)
			LWLockAcquire(&bs->locks[id], LW_SHARED);
		n = e->counts[lc];
		memcpy(nbr, ELEM_NBR(e) + start, sizeof(int32) * n);
		memcpy(dist, ELEM_DIST(e) + start, sizeof(float) * n);
		if (sh)
			LWLockRelease(&bs->locks[id]);
		for (int i = 0; i < n; i++)
			AddBackLink(bs, nbr[i], id, lc, dist[i]);
	}

	if (level > maxlevel)
	{
		if (sh)
		{
			SpinLockAcquire(&sh->mutex);
			if (level > sh->maxlevel)
			{
				sh->entry = id;
				sh->maxlevel = level;
			}
			SpinLockRelease(&sh->mutex);
		}
		else
		{
			bs->entry = id;
			bs->maxlevel = level;
		}
	}
	return true;
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
	BuildElement *e = Elem(bs, t);

	if (e->counts[0] < HNSW_LAYER_SLOTS(0, bs->m))
		return true;
	if (!may_replace)
		return false;
	for (int k = 0; k < e->counts[0]; k++)
		if (indegree[ELEM_NBR(e)[k]] >= 2)
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
		{
			BuildElement *e = Elem(bs, i);

			for (int k = 0; k < e->counts[0]; k++)
				indegree[ELEM_NBR(e)[k]]++;
		}
		reached[bs->entry] = true;
		queue[tail++] = bs->entry;
		for (int i = -1; i < (int) n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (i >= 0 && !reached[i])
			{
				BuildElement *e = Elem(bs, i);
				int32	   *enbr = ELEM_NBR(e);
				int			target = -1;
				BuildElement *t;
				int32	   *tnbr;
				float	   *tdist;
				float		d;

				/* a reached neighbour that can take a link without losing one */
				for (int k = 0; k < e->counts[0] && target < 0; k++)
					if (reached[enbr[k]] && CanTakeLink(bs, enbr[k], indegree, may_replace))
						target = enbr[k];
				/* else the element reached last, else the entry point */
				if (target < 0 && CanTakeLink(bs, queue[tail - 1], indegree, may_replace))
					target = queue[tail - 1];
				if (target < 0 && may_replace)
					target = bs->entry;
				if (target < 0)
					continue;	/* inner product: leave it to the final pass */
				t = Elem(bs, target);
				tnbr = ELEM_NBR(t);
				tdist = ELEM_DIST(t);
				d = HnswDistance(&bs->metric, ELEM_VEC(e), ELEM_VEC(t));
				if (t->counts[0] < cap0)
				{
					tnbr[t->counts[0]] = i;
					ELEM_KEPT(t)[t->counts[0]] = NBR_UNKNOWN;
					tdist[t->counts[0]++] = d;
				}
				else
				{
					int			best = 0;

					for (int k = 1; k < t->counts[0]; k++)
						if (indegree[tnbr[k]] > indegree[tnbr[best]] ||
							(indegree[tnbr[k]] == indegree[tnbr[best]] &&
							 tdist[k] > tdist[best]))
							best = k;
					indegree[tnbr[best]]--;
					tnbr[best] = i;
					ELEM_KEPT(t)[best] = NBR_UNKNOWN;
					tdist[best] = d;
				}
				indegree[i]++;
				reached[i] = true;
				queue[tail++] = i;
				linked = true;
			}
			while (head < tail)
			{
				BuildElement *e = Elem(bs, queue[head++]);
				int32	   *enbr = ELEM_NBR(e);

				for (int k = 0; k < e->counts[0]; k++)
				{
					if (!reached[enbr[k]])
					{
						reached[enbr[k]] = true;
						queue[tail++] = enbr[k];
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
 * the pages in order after the metapage through a VsPageWriter (a batch of
 * pages at a time, one relation extension per batch) and points the
 * metapage at the entry element.  No WAL here: hnswbuild logs every page
 * at the end.  In a parallel build the caller makes sure no in-memory
 * insert is under way (all done, or the flush protocol).
 */
static void
WriteGraph(HnswBuildState *bs)
{
	Layout		layout;
	HnswElementTuple etup = palloc(BLCKSZ);
	HnswNeighborTuple ntup = palloc(BLCKSZ);
	ItemPointerData *tids;
	VsPageWriter writer;
	Page		page = NULL;
	Buffer		buf;
	HnswEdit	edit;

	if (bs->shared)
	{
		/* every in-memory insert is over: read the graph's extent */
		SpinLockAcquire(&bs->shared->mutex);
		bs->nelements = bs->shared->nelements;
		bs->entry = bs->shared->entry;
		bs->maxlevel = bs->shared->maxlevel;
		SpinLockRelease(&bs->shared->mutex);
	}
	if (bs->isleader)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	if (bs->nelements == 0)
		return;
	bs->writeStart = GetCurrentTimestamp();
	ConnectGraph(bs);

	/*
	 * Element TIDs also go to a compact array: filling neighbour tuples
	 * reads one per link, and the elements themselves are scattered over
	 * the whole graph (3 kB apiece at 768 dimensions).
	 */
	tids = palloc(sizeof(ItemPointerData) * (Size) bs->nelements);
	VsPageWriterInit(&writer, bs->index);
	layout.blkno = writer.first - 1;
	LayoutNewPage(&layout);
	for (int i = 0; i < bs->nelements; i++)
	{
		BuildElement *e = Elem(bs, i);

		LayoutPlace(&layout, HnswElementSize(bs->index, bs->dim, ELEM_KEYS(e)), &e->tid);
		LayoutPlace(&layout, HNSW_NEIGHBOR_TUPLE_SIZE(e->level, bs->m), &e->nbrtid);
		tids[i] = e->tid;
	}

	for (int i = 0; i < bs->nelements; i++)
	{
		BuildElement *e = Elem(bs, i);
		int			slots = HNSW_NEIGHBOR_SLOTS(e->level, bs->m);
		Size		esize = HnswElementSize(bs->index, bs->dim, ELEM_KEYS(e));
		Size		nsize = HNSW_NEIGHBOR_TUPLE_SIZE(e->level, bs->m);

		CHECK_FOR_INTERRUPTS();

		/* element tuple */
		HnswFillElement(etup, e->level, ELEM_VEC(e), NULL, ELEM_KEYS(e));
		for (int t = 0; t < e->ntids; t++)
			etup->heaptids[t] = e->tids[t];
		etup->neighbortid = e->nbrtid;

		/* neighbour tuple */
		memset(ntup, 0, nsize);
		ntup->type = HNSW_NEIGHBOR_TUPLE;
		ntup->count = slots;
		for (int s = 0; s < slots; s++)
			ItemPointerSetInvalid(&ntup->tids[s]);
		for (int lc = 0; lc <= e->level; lc++)
		{
			int			start = HNSW_LAYER_START(lc, bs->m);

			for (int k = 0; k < e->counts[lc]; k++)
				ntup->tids[start + k] = tids[ELEM_NBR(e)[start + k]];
		}

		for (int part = 0; part < 2; part++)
		{
			ItemPointer want = part == 0 ? &e->tid : &e->nbrtid;
			Item		item = part == 0 ? (Item) etup : (Item) ntup;
			Size		size = part == 0 ? esize : nsize;
			OffsetNumber off;

			if (page == NULL || ItemPointerGetBlockNumber(want) != VsPageWriterBlock(&writer))
			{
				page = VsPageWriterNewPage(&writer);
				HnswInitPage(page, HNSW_PAGE_ELEMENTS);
				if (VsPageWriterBlock(&writer) != ItemPointerGetBlockNumber(want))
					elog(ERROR, "unexpected block %u while writing index \"%s\", wanted %u",
						 VsPageWriterBlock(&writer), RelationGetRelationName(bs->index),
						 ItemPointerGetBlockNumber(want));
			}
			off = PageAddItem(page, item, size, InvalidOffsetNumber, false, false);
			if (off != ItemPointerGetOffsetNumber(want))
				elog(ERROR, "unexpected offset %u while writing index \"%s\", wanted %u",
					 off, RelationGetRelationName(bs->index), ItemPointerGetOffsetNumber(want));
		}
	}
	VsPageWriterEnd(&writer);

	/* metapage: entry point, insert page, count */
	buf = ReadBuffer(bs->index, HNSW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswEditBegin(&edit, bs->index, false);
	page = HnswEditPage(&edit, buf, false);
	HnswPageGetMeta(page)->entry = tids[bs->entry];
	HnswPageGetMeta(page)->entry_level = bs->maxlevel;
	HnswPageGetMeta(page)->insert_page = layout.blkno;
	HnswPageGetMeta(page)->elements = bs->nelements;
	HnswEditFinish(&edit);
	UnlockReleaseBuffer(buf);
	pfree(tids);
	pfree(etup);
	pfree(ntup);
	bs->writeEnd = GetCurrentTimestamp();
}

/* ---------- the build ---------- */

/*
 * NoticeSpill tells the user the graph outgrew maintenance_work_mem after
 * rows rows: the build goes on, page by page, and is much slower.
 */
static void
NoticeSpill(HnswBuildState *bs, double rows)
{
	ereport(NOTICE,
			(errmsg("graph of index \"%s\" outgrew maintenance_work_mem after %.0f rows",
					RelationGetRelationName(bs->index), rows),
			 errdetail("The graph built so far is written to the index and the remaining rows are inserted one at a time, which is much slower than building in memory."),
			 errhint("Raise maintenance_work_mem before CREATE INDEX to build the whole graph in memory.")));
}

/*
 * FlushShared writes a full shared graph to pages once, for everyone.  The
 * first participant to get here sets flushing (no new in-memory insert
 * starts), waits until the inserts under way are done, writes the graph
 * and sets flushed; the others wait for flushed.  The waits are on a
 * condition variable, so cancels are served meanwhile.  Afterwards every
 * participant inserts page by page.
 */
static void
FlushShared(HnswBuildState *bs)
{
	HnswShared *sh = bs->shared;
	bool		flusher = false;

	SpinLockAcquire(&sh->mutex);
	if (!sh->flushing)
	{
		sh->flushing = true;
		flusher = true;
	}
	SpinLockRelease(&sh->mutex);

	ConditionVariablePrepareToSleep(&sh->flushcv);
	for (;;)
	{
		bool		ready;

		SpinLockAcquire(&sh->mutex);
		ready = flusher ? sh->inflight == 0 : sh->flushed;
		SpinLockRelease(&sh->mutex);
		if (ready)
			break;
		ConditionVariableSleep(&sh->flushcv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();

	if (flusher)
	{
		NoticeSpill(bs, (double) pg_atomic_read_u64(&sh->indtuples));
		WriteGraph(bs);
		if (bs->isleader)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
		SpinLockAcquire(&sh->mutex);
		sh->flushed = true;
		SpinLockRelease(&sh->mutex);
		ConditionVariableBroadcast(&sh->flushcv);
	}
	bs->spilled = true;
}

/*
 * ParallelInsert indexes one row in a parallel build: into the shared
 * graph while it has room (counted in inflight, so a flush waits for it),
 * else, once the graph is written, page by page like an insert.
 */
static void
ParallelInsert(HnswBuildState *bs, Vector *vec, IndexTuple keys, ItemPointer tid)
{
	HnswShared *sh = bs->shared;

	if (!bs->spilled)
	{
		bool		inmemory = false;

		SpinLockAcquire(&sh->mutex);
		if (!sh->flushing)
		{
			sh->inflight++;
			inmemory = true;
		}
		SpinLockRelease(&sh->mutex);
		if (inmemory)
		{
			bool		done = InsertInMemory(bs, vec, keys, tid);
			bool		wake;

			SpinLockAcquire(&sh->mutex);
			sh->inflight--;
			wake = sh->flushing && sh->inflight == 0;
			SpinLockRelease(&sh->mutex);
			if (wake)
				ConditionVariableBroadcast(&sh->flushcv);
			if (done)
				return;
		}
		FlushShared(bs);
	}
	HnswInsertVector(bs->index, vec, keys, tid, true);
}

/*
 * BuildCallback receives each live heap row.  It works in tmpCtx, which is
 * reset after every row; a serial graph lives in graphCtx.  The leader
 * reports the rows indexed by every participant.
 */
static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *arg)
{
	HnswBuildState *bs = (HnswBuildState *) arg;
	MemoryContext old;
	Vector	   *vec;
	IndexTuple	keys = NULL;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	vec = HnswPrepareVector(&bs->metric, values[0], bs->dim);
	if (vec != NULL)
	{
		keys = VsKeysForm(index, values, isnull);
		(void) HnswElementSize(index, bs->dim, keys);	/* too big: error now */
	}
	if (vec != NULL && bs->shared)
	{
		uint64		total;

		ParallelInsert(bs, vec, keys, tid);
		bs->indtuples++;
		total = pg_atomic_add_fetch_u64(&bs->shared->indtuples, 1);
		if (bs->isleader)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) total);
	}
	else if (vec != NULL)
	{
		if (!bs->spilled &&
			bs->memUsed + SerialElementBytes(bs, HNSW_MAX_LEVEL, keys) > bs->memLimit)
		{
			NoticeSpill(bs, bs->indtuples);
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
 * InitBuildState fills what every participant needs, in
 * CurrentMemoryContext: relations, metric, parameters, the row context and
 * an empty visited array.  The graph itself is set up by InitSerialGraph
 * or AttachShared.
 */
static void
InitBuildState(HnswBuildState *bs, Relation heap, Relation index, int dim, int m, int efc)
{
	memset(bs, 0, sizeof(HnswBuildState));
	bs->heap = heap;
	bs->index = index;
	bs->dim = dim;
	bs->m = m;
	bs->efc = efc;
	HnswInitMetric(index, &bs->metric);
	bs->entry = -1;
	bs->maxlevel = -1;
	bs->memLimit = (Size) maintenance_work_mem * 1024;
	bs->tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "vsearch_hnsw build row",
									   ALLOCSET_DEFAULT_SIZES);
	bs->visitedCap = 1024;
	bs->visited = palloc0(sizeof(uint32) * bs->visitedCap);
}

/* InitSerialGraph gives a serial build its local graph and duplicate map. */
static void
InitSerialGraph(HnswBuildState *bs)
{
	HASHCTL		hctl;

	bs->graphCtx = GenerationContextCreate(CurrentMemoryContext, "vsearch_hnsw build graph",
										   ALLOCSET_DEFAULT_SIZES);
	bs->capacity = 1024;
	bs->offsets = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Size) * bs->capacity);
	bs->base = 0;
	hctl.keysize = sizeof(uint32);
	hctl.entrysize = sizeof(DupEntry);
	hctl.hcxt = CurrentMemoryContext;
	bs->dups = hash_create("vsearch_hnsw build duplicates", 1024, &hctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* AttachShared points bs at a parallel build's shared state and graph. */
static void
AttachShared(HnswBuildState *bs, HnswShared *sh, char *graph, ParallelTableScanDesc pscan)
{
	bs->shared = sh;
	bs->pscan = pscan;
	bs->base = (uintptr_t) graph;
	bs->offsets = (Size *) graph;
	bs->locks = (LWLock *) (graph + sh->locksoff);
	bs->duptab = (pg_atomic_uint64 *) (graph + sh->dupoff);
	LWLockRegisterTranche(sh->tranche, "vsearch_hnsw_build");
}

/*
 * ParallelScanAndInsert is one participant's share of a parallel build:
 * it joins the parallel heap scan and indexes the rows it gets, then
 * reports its heap tuple count and signals the leader.
 */
static void
ParallelScanAndInsert(HnswBuildState *bs)
{
	HnswShared *sh = bs->shared;
	IndexInfo  *indexInfo = BuildIndexInfo(bs->index);
	TableScanDesc scan;
	double		reltuples;

	indexInfo->ii_Concurrent = sh->isconcurrent;
	scan = table_beginscan_parallel(bs->heap, bs->pscan);
	reltuples = table_index_build_scan(bs->heap, bs->index, indexInfo, true, bs->isleader,
									   BuildCallback, bs, scan);

	SpinLockAcquire(&sh->mutex);
	sh->reltuples += reltuples;
	sh->nparticipantsdone++;
	SpinLockRelease(&sh->mutex);
	ConditionVariableSignal(&sh->donecv);
}

/*
 * HnswParallelBuildMain is a parallel worker's entry point (found by name
 * through CreateParallelContext, hence exported).  It opens the relations
 * with the locks the leader holds (the lock group makes them compatible),
 * inserts its share of the rows into the shared graph and reports its
 * buffer and WAL usage.
 */
void
HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	HnswShared *sh;
	HnswBuildState bs;
	Relation	heap;
	Relation	index;
	LOCKMODE	heapLockmode;
	LOCKMODE	indexLockmode;

	sh = shm_toc_lookup(toc, HNSW_KEY_SHARED, false);
	VsParallelWorkerBegin(toc, sh->isconcurrent, &heapLockmode, &indexLockmode);
	heap = table_open(sh->heaprelid, heapLockmode);
	index = index_open(sh->indexrelid, indexLockmode);

	InitBuildState(&bs, heap, index, sh->dim, sh->m, sh->efc);
	AttachShared(&bs, sh, shm_toc_lookup(toc, HNSW_KEY_GRAPH, false),
				 shm_toc_lookup(toc, HNSW_KEY_SCAN, false));

	ParallelScanAndInsert(&bs);
	VsParallelWorkerEnd(toc);

	index_close(index, indexLockmode);
	table_close(heap, heapLockmode);
}

/*
 * BeginParallel tries to start a parallel build with up to request
 * workers.  maintenance_work_mem is divided up front: every element takes
 * at least a level-0 element's bytes plus its offset, its lock, two
 * duplicate-table slots and one visited entry in each participant's local
 * array; that bounds the element count, the tables are sized for it and
 * the arena gets the rest.  The heap scan uses SnapshotAny, or for CREATE
 * INDEX CONCURRENTLY a registered MVCC snapshot (as nbtree does).  On
 * success bs is attached to the shared graph and the leader takes part as
 * one more participant; when no worker could be launched everything is
 * undone and bs stays serial.
 */
static void
BeginParallel(HnswBuildState *bs, bool isconcurrent, int request)
{
	int			participants = request + 1;
	Size		budget = (Size) maintenance_work_mem * 1024;
	Size		elembytes;
	Size		maxel;
	Size		dupslots;
	Size		locksoff;
	Size		dupoff;
	Size		arenaoff;
	Size		arenasize;
	Size		estshared;
	Size		estscan;
	Size		estgraph;
	VsParallelBuild par;
	ParallelContext *pcxt;
	HnswShared *sh;
	ParallelTableScanDesc pscan;
	char	   *graph;

	elembytes = ElementSize(bs->dim, bs->m, 0, 0, NULL) + sizeof(Size) + sizeof(LWLock) +
		2 * sizeof(pg_atomic_uint64) + participants * sizeof(uint32);
	maxel = Min(budget / elembytes, (Size) (PG_INT32_MAX / 2));
	if (maxel < 2)
		return;
	dupslots = 2 * maxel + 1;
	locksoff = MAXALIGN(mul_size(sizeof(Size), maxel));
	dupoff = add_size(locksoff, MAXALIGN(mul_size(sizeof(LWLock), maxel)));
	arenaoff = add_size(dupoff, MAXALIGN(mul_size(sizeof(pg_atomic_uint64), dupslots)));
	/* what the tables and the local visited arrays leave of the budget */
	if (add_size(arenaoff, mul_size(participants * sizeof(uint32), maxel)) >= budget)
		return;
	arenasize = budget - arenaoff - participants * sizeof(uint32) * maxel;
	estgraph = add_size(arenaoff, arenasize);

	VsParallelCreate(&par, "HnswParallelBuildMain", request, isconcurrent);
	pcxt = par.pcxt;
	estshared = MAXALIGN(sizeof(HnswShared));
	estscan = table_parallelscan_estimate(bs->heap, par.snapshot);
	shm_toc_estimate_chunk(&pcxt->estimator, estshared);
	shm_toc_estimate_chunk(&pcxt->estimator, estscan);
	shm_toc_estimate_chunk(&pcxt->estimator, estgraph);
	shm_toc_estimate_keys(&pcxt->estimator, 3);
	if (!VsParallelInitialize(&par))
		return;					/* no dynamic shared memory segment */

	sh = shm_toc_allocate(pcxt->toc, estshared);
	memset(sh, 0, estshared);
	if (BuildTranche == 0)
		BuildTranche = LWLockNewTrancheId();
	sh->heaprelid = RelationGetRelid(bs->heap);
	sh->indexrelid = RelationGetRelid(bs->index);
	sh->isconcurrent = isconcurrent;
	sh->tranche = BuildTranche;
	sh->m = bs->m;
	sh->efc = bs->efc;
	sh->dim = bs->dim;
	sh->maxelements = (int) maxel;
	sh->dupslots = dupslots;
	sh->arenasize = arenasize;
	sh->locksoff = locksoff;
	sh->dupoff = dupoff;
	sh->arenaoff = arenaoff;
	SpinLockInit(&sh->mutex);
	sh->entry = -1;
	sh->maxlevel = -1;
	pg_atomic_init_u64(&sh->indtuples, 0);
	ConditionVariableInit(&sh->flushcv);
	ConditionVariableInit(&sh->donecv);
	for (int i = 0; i < HNSW_DUP_LOCKS; i++)
		LWLockInitialize(&sh->duplocks[i], BuildTranche);
	shm_toc_insert(pcxt->toc, HNSW_KEY_SHARED, sh);

	pscan = shm_toc_allocate(pcxt->toc, estscan);
	table_parallelscan_initialize(bs->heap, pscan, par.snapshot);
	shm_toc_insert(pcxt->toc, HNSW_KEY_SCAN, pscan);

	graph = shm_toc_allocate(pcxt->toc, estgraph);
	for (Size i = 0; i < dupslots; i++)
		pg_atomic_init_u64((pg_atomic_uint64 *) (graph + dupoff) + i, 0);
	shm_toc_insert(pcxt->toc, HNSW_KEY_GRAPH, graph);

	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg_internal("building index \"%s\" on table \"%s\" with %d parallel workers launched of %d requested",
							 RelationGetRelationName(bs->index), RelationGetRelationName(bs->heap),
							 pcxt->nworkers_launched, request)));
	if (pcxt->nworkers_launched == 0)
	{
		WaitForParallelWorkersToFinish(pcxt);
		VsParallelEnd(&par);
		return;
	}

	AttachShared(bs, sh, graph, pscan);
	bs->par = par;
}

/*
 * ParallelLeaderBuild runs the leader's part of a parallel build: its own
 * share of the scan, then waiting for the workers (reporting the rows
 * indexed meanwhile), then writing the graph if no participant had to.
 * Returns the heap tuples all participants saw.  The parallel context is
 * still open on return (the graph lives in it).
 */
static double
ParallelLeaderBuild(HnswBuildState *bs)
{
	HnswShared *sh = bs->shared;
	int			nlaunched = bs->par.pcxt->nworkers_launched;

	ParallelScanAndInsert(bs);
	WaitForParallelWorkersToAttach(bs->par.pcxt);
	ConditionVariablePrepareToSleep(&sh->donecv);
	for (;;)
	{
		int			done;

		SpinLockAcquire(&sh->mutex);
		done = sh->nparticipantsdone;
		SpinLockRelease(&sh->mutex);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
									 (int64) pg_atomic_read_u64(&sh->indtuples));
		if (done == nlaunched + 1)
			break;
		ConditionVariableTimedSleep(&sh->donecv, 1000L, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
	VsParallelWaitWorkers(&bs->par);

	ereport(DEBUG1,
			(errmsg_internal("building index \"%s\": parallel workers indexed %.0f of %.0f rows",
							 RelationGetRelationName(bs->index),
							 (double) pg_atomic_read_u64(&sh->indtuples) - bs->indtuples,
							 (double) pg_atomic_read_u64(&sh->indtuples))));
	bs->indtuples = (double) pg_atomic_read_u64(&sh->indtuples);
	if (!sh->flushed)
		WriteGraph(bs);
	return sh->reltuples;
}

/*
 * hnswbuild is ambuild: metapage first, then the graph in memory from a
 * heap scan (in parallel when plan_create_index_workers allows workers),
 * then pages, then full-page WAL images of the whole index.
 */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	HnswBuildState bs;
	HnswOptions *opts = HnswGetOptions(index);
	int			dim;
	int			nworkers;
	double		reltuples;
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz walStart;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	VsCheckKeyColumns(index, "vsearch_hnsw", HNSW_DISTANCE_PROC);
	dim = IndexDimensions(index);
	if (opts->ef_construction < 2 * opts->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction %d is less than twice m (%d)",
						opts->ef_construction, opts->m),
				 errhint("Use ef_construction = %d or more, or a smaller m.", 2 * opts->m)));
	InitBuildState(&bs, heap, index, dim, opts->m, opts->ef_construction);
	bs.isleader = true;

	HnswWriteEmptyMetapage(index, MAIN_FORKNUM, bs.dim, bs.m, bs.efc, false);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);

	nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	if (nworkers > 0)
		BeginParallel(&bs, indexInfo->ii_Concurrent, nworkers);
	if (bs.shared)
	{
		reltuples = ParallelLeaderBuild(&bs);
		VsParallelEnd(&bs.par);
	}
	else
	{
		InitSerialGraph(&bs);
		reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
										   BuildCallback, &bs, NULL);
		if (!bs.spilled)
			WriteGraph(&bs);
		MemoryContextDelete(bs.graphCtx);
	}

	walStart = GetCurrentTimestamp();
	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	MemoryContextDelete(bs.tmpCtx);
	if (bs.writeEnd != 0)
		elog(DEBUG1, "vsearch_hnsw build of \"%s\": %d elements; insert %.3f s, write %.3f s%s, WAL %.3f s",
			 RelationGetRelationName(index), bs.nelements,
			 TimestampDifferenceMilliseconds(start, bs.writeStart) / 1000.0,
			 TimestampDifferenceMilliseconds(bs.writeStart, bs.writeEnd) / 1000.0,
			 bs.spilled ? " (then inserted page by page)" : "",
			 TimestampDifferenceMilliseconds(walStart, GetCurrentTimestamp()) / 1000.0);

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
