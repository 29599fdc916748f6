/*-------------------------------------------------------------------------
 *
 * hnswvacuum.c
 *	  ambulkdelete and amvacuumcleanup for vsearch_hnsw.
 *
 * Design: four passes.  (1) Remove dead heap TIDs from every element; an
 * element left without any is marked deleted (scans skip it but may still
 * walk through it).  (2) Holding HNSW_UPDATE_LOCK exclusively, so no
 * insert links to a deleted element meanwhile, move the entry point off a
 * deleted element and refill, in every neighbour list that points at one,
 * the deleted members' slots from their own neighbours (the heuristic
 * picks among them; links to live elements are never dropped).  (3) Mark the deleted elements' tuples
 * free and report their pages to the free space map, so inserts reuse
 * the space.  (4) Reconnect: walk each layer from the entry point and
 * bridge every part it does not reach, with several links from the
 * closest elements outside the part (pass 2 looks only one hop through a
 * deleted neighbour, so removing a whole region can cut the graph in
 * two); amvacuumcleanup runs this pass alone when nothing was deleted.  A crash between passes leaves elements
 * marked deleted; the next vacuum finishes them.
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswvacuum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/vacuum.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

typedef struct VacuumState
{
	Relation	index;
	IndexVacuumInfo *info;
	bool		wal;
	int			m;
	VsTidSet   *deleted;		/* packed TIDs of deleted elements */
	ItemPointerData best;		/* new entry point, chosen in pass 2 */
	int			bestlevel;
	HnswDiskCtx disk;			/* metric and index for distance work */
	VsTidSet   *bridged;		/* pass 4: targets of the links it wrote on
								 * the layer it works on; never replaced */
	MemoryContext tmpCtx;
} VacuumState;

/*
 * RemoveDeadTids is pass 1 over one page: drop heap TIDs the callback
 * reports dead, mark elements left empty as deleted.
 */
static void
RemoveDeadTids(VacuumState *vs, BlockNumber blkno, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Buffer		buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, blkno, RBM_NORMAL,
										 vs->info->strategy);
	HnswEdit	edit;
	Page		page;
	bool		changed = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswEditBegin(&edit, vs->index, vs->wal);
	page = HnswEditPage(&edit, buf, false);
	if (!PageIsNew(page) && (HnswPageGetOpaque(page)->flags & HNSW_PAGE_ELEMENTS))
	{
		OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
		{
			ItemId		iid = PageGetItemId(page, off);
			HnswElementTuple etup;
			ItemPointerData tid;
			int			kept = 0;

			if (!ItemIdIsNormal(iid))
				continue;
			etup = (HnswElementTuple) PageGetItem(page, iid);
			if (etup->type != HNSW_ELEMENT_TUPLE)
				continue;
			ItemPointerSet(&tid, blkno, off);
			if (etup->deleted)
			{
				VsTidSetAdd(vs->deleted, VsTidToKey(&tid));
				continue;
			}
			for (int t = 0; t < HNSW_HEAPTIDS; t++)
			{
				if (!ItemPointerIsValid(&etup->heaptids[t]))
					continue;
				if (callback(&etup->heaptids[t], callback_state))
				{
					ItemPointerSetInvalid(&etup->heaptids[t]);
					stats->tuples_removed++;
					changed = true;
				}
				else
					kept++;
			}
			stats->num_index_tuples += kept;
			if (kept == 0)
			{
				etup->deleted = 1;
				changed = true;
				VsTidSetAdd(vs->deleted, VsTidToKey(&tid));
			}
		}
	}
	if (changed)
		HnswEditFinish(&edit);
	else
		HnswEditAbort(&edit);
	UnlockReleaseBuffer(buf);
}

/*
 * RepairLayer rebuilds layer lc of element elem (vector evec) whose list
 * cur names deleted elements; returns the new list in out.  Every link to
 * a live element stays where it is: re-selecting the whole list would drop
 * its farthest members, which are the links between clusters, and can
 * leave a cluster with no way in.  Only the slots of deleted neighbours are
 * refilled, from those neighbours' own neighbours, by the selection
 * heuristic with the surviving members counted as already chosen (a
 * candidate is taken unless a member is at most as far from it as elem
 * is), then with the closest candidates left.
 */
static int
RepairLayer(VacuumState *vs, ItemPointer elem, Vector *evec, int lc,
			ItemPointerData *cur, int ncur, ItemPointerData *out)
{
	int			cap = HNSW_LAYER_SLOTS(lc, vs->m);
	VsTidSet   *seen = VsTidSetCreate(CurrentMemoryContext, 64);
	int			maxc = ncur * (2 * vs->m + 1) + 1;
	VsHeapEntry *cands = palloc(sizeof(VsHeapEntry) * maxc);
	Vector	  **vecs = palloc(sizeof(Vector *) * maxc);
	uint64	   *keys = palloc(sizeof(uint64) * maxc);
	Vector	  **members = palloc(sizeof(Vector *) * (cap + maxc));
	bool	   *taken;
	int			nmembers = 0;
	int			ncands = 0;
	int			nout = 0;

	VsTidSetAdd(seen, VsTidToKey(elem));

	/* the survivors, kept in place */
	for (int i = 0; i < ncur; i++)
	{
		uint64		key = VsTidToKey(&cur[i]);
		Vector	   *v;

		if (VsTidSetContains(vs->deleted, key) || !VsTidSetAdd(seen, key))
			continue;
		v = HnswLoadVector(vs->index, &cur[i], NULL);
		if (v == NULL)
			continue;			/* a link to nothing */
		members[nmembers++] = v;
		out[nout++] = cur[i];
	}

	/* the candidates: neighbours of the deleted neighbours */
	for (int i = 0; i < ncur; i++)
	{
		ItemPointerData hop[2 * HNSW_MAX_M];
		int			nhop;

		if (!VsTidSetContains(vs->deleted, VsTidToKey(&cur[i])))
			continue;
		nhop = HnswLoadNeighbors(vs->index, &cur[i], lc, vs->m, hop, NULL);
		for (int j = 0; j < nhop; j++)
		{
			uint64		k = VsTidToKey(&hop[j]);
			Vector	   *v;

			if (VsTidSetContains(vs->deleted, k) || !VsTidSetAdd(seen, k))
				continue;
			v = HnswLoadVector(vs->index, &hop[j], NULL);
			if (v == NULL)
				continue;
			vecs[ncands] = v;
			keys[ncands] = k;
			cands[ncands].id = ncands;
			cands[ncands].dist = HnswDistance(&vs->disk.metric, evec, v);
			ncands++;
		}
	}
	HnswSortEntries(cands, ncands);
	taken = palloc0(sizeof(bool) * Max(ncands, 1));

	/* the heuristic, survivors counting as chosen */
	for (int i = 0; i < ncands && nout < cap; i++)
	{
		Vector	   *v = vecs[cands[i].id];
		bool		keep = true;

		for (int j = 0; j < nmembers && keep; j++)
			if (HnswPrunes(HnswDistance(&vs->disk.metric, v, members[j]), cands[i].dist))
				keep = false;
		if (keep)
		{
			members[nmembers++] = v;
			VsKeyToTid(keys[cands[i].id], &out[nout++]);
			taken[i] = true;
		}
	}
	/* then the closest left over */
	for (int i = 0; i < ncands && nout < cap; i++)
		if (!taken[i])
			VsKeyToTid(keys[cands[i].id], &out[nout++]);
	return nout;
}

/*
 * EditNeighborTuple exclusively locks the page of the neighbour tuple at
 * nbrtid, starts a Generic WAL edit of it and returns the tuple in the
 * edit's page image; the caller finishes or aborts the edit and releases
 * *buf.  NULL (nothing held) when the tuple is no longer the neighbour
 * tuple of an element of that level.
 */
static HnswNeighborTuple
EditNeighborTuple(VacuumState *vs, ItemPointer nbrtid, int level, HnswEdit *edit, Buffer *buf)
{
	Page		page;
	HnswNeighborTuple ntup;

	*buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, ItemPointerGetBlockNumber(nbrtid),
							  RBM_NORMAL, vs->info->strategy);
	LockBuffer(*buf, BUFFER_LOCK_EXCLUSIVE);
	HnswEditBegin(edit, vs->index, vs->wal);
	page = HnswEditPage(edit, *buf, false);
	ntup = (HnswNeighborTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(nbrtid)));
	if (ntup->type != HNSW_NEIGHBOR_TUPLE || ntup->count != HNSW_NEIGHBOR_SLOTS(level, vs->m))
	{
		HnswEditAbort(edit);
		UnlockReleaseBuffer(*buf);
		return NULL;
	}
	return ntup;
}

/*
 * RepairElement is pass 2 for the element at tid: every layer whose list
 * names a deleted element is rebuilt and written back (one record), if the
 * list did not change since it was read.
 */
static void
RepairElement(VacuumState *vs, ItemPointer tid, int level)
{
	ItemPointerData nbrtid;
	ItemPointerData newlists[HNSW_MAX_LEVEL + 1][2 * HNSW_MAX_M];
	int			newcount[HNSW_MAX_LEVEL + 1];
	bool		repair[HNSW_MAX_LEVEL + 1];
	bool		any = false;
	Vector	   *evec = NULL;
	Buffer		buf;
	HnswEdit	edit;
	HnswNeighborTuple ntup;

	for (int lc = 0; lc <= level; lc++)
	{
		ItemPointerData cur[2 * HNSW_MAX_M];
		int			ncur;

		repair[lc] = false;
		ItemPointerSetInvalid(&nbrtid);
		ncur = HnswLoadNeighbors(vs->index, tid, lc, vs->m, cur, &nbrtid);
		for (int i = 0; i < ncur; i++)
			if (VsTidSetContains(vs->deleted, VsTidToKey(&cur[i])))
				repair[lc] = true;
		if (!repair[lc])
			continue;
		if (evec == NULL)
			evec = HnswLoadVector(vs->index, tid, NULL);
		if (evec == NULL)
			return;
		newcount[lc] = RepairLayer(vs, tid, evec, lc, cur, ncur, newlists[lc]);
		any = true;
	}
	if (!any || !ItemPointerIsValid(&nbrtid))
		return;

	ntup = EditNeighborTuple(vs, &nbrtid, level, &edit, &buf);
	if (ntup == NULL)
		return;
	for (int lc = 0; lc <= level; lc++)
	{
		int			start = HNSW_LAYER_START(lc, vs->m);

		if (!repair[lc])
			continue;
		for (int i = 0; i < HNSW_LAYER_SLOTS(lc, vs->m); i++)
		{
			if (i < newcount[lc])
				ntup->tids[start + i] = newlists[lc][i];
			else
				ItemPointerSetInvalid(&ntup->tids[start + i]);
		}
	}
	HnswEditFinish(&edit);
	UnlockReleaseBuffer(buf);
}

/* Keeps, in FindEntry, the live element of the highest level. */
typedef struct BestEntry
{
	ItemPointerData tid;
	int			level;
} BestEntry;

static void
ConsiderEntry(HnswElementTuple etup, ItemPointer tid, void *arg)
{
	BestEntry  *best = (BestEntry *) arg;

	if (!etup->deleted && etup->level > best->level)
	{
		best->level = etup->level;
		best->tid = *tid;
	}
}

/*
 * FindEntry returns the live element of the highest level (pass 2, under
 * HNSW_UPDATE_LOCK, so the answer holds until the lock is released), or
 * an invalid TID when none is left.
 */
static void
FindEntry(VacuumState *vs, BlockNumber nblocks, ItemPointer best, int *bestlevel)
{
	BestEntry	b;

	ItemPointerSetInvalid(&b.tid);
	b.level = -1;
	for (BlockNumber blkno = 1; blkno < nblocks; blkno++)
	{
		CHECK_FOR_INTERRUPTS();
		HnswForEachElement(vs->index, blkno, vs->info->strategy, ConsiderEntry, &b);
	}
	*best = b.tid;
	*bestlevel = b.level;
}

/* Element TIDs of one page, collected under its lock, used after it. */
typedef struct PageElements
{
	bool		deleted;		/* collect deleted (true) or live (false) */
	int			n;
	ItemPointerData tids[MaxOffsetNumber];
	int			levels[MaxOffsetNumber];
} PageElements;

static void
CollectElement(HnswElementTuple etup, ItemPointer tid, void *arg)
{
	PageElements *pe = (PageElements *) arg;

	if ((etup->deleted != 0) != pe->deleted)
		return;
	pe->tids[pe->n] = *tid;
	pe->levels[pe->n] = etup->level;
	pe->n++;
}

/* RepairPage runs pass 2 for every live element of one page. */
static void
RepairPage(VacuumState *vs, BlockNumber blkno)
{
	PageElements pe;			/* on the stack: tmpCtx is reset below */

	pe.deleted = false;
	pe.n = 0;
	HnswForEachElement(vs->index, blkno, vs->info->strategy, CollectElement, &pe);
	for (int i = 0; i < pe.n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		RepairElement(vs, &pe.tids[i], pe.levels[i]);
		MemoryContextReset(vs->tmpCtx);
	}
}

/*
 * FreeElement is pass 3 for one deleted element: its element and
 * neighbour tuples become free space for inserts.
 */
static void
FreeElement(VacuumState *vs, ItemPointer tid)
{
	Buffer		buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, ItemPointerGetBlockNumber(tid),
										 RBM_NORMAL, vs->info->strategy);
	HnswEdit	edit;
	Page		page;
	HnswElementTuple etup;
	ItemPointerData nbrtid;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswEditBegin(&edit, vs->index, vs->wal);
	page = HnswEditPage(&edit, buf, false);
	etup = (HnswElementTuple) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(tid)));
	if (etup->type != HNSW_ELEMENT_TUPLE || !etup->deleted)
	{
		HnswEditAbort(&edit);
		UnlockReleaseBuffer(buf);
		return;
	}
	nbrtid = etup->neighbortid;
	etup->type = HNSW_FREE_TUPLE;
	if (ItemPointerGetBlockNumber(&nbrtid) == ItemPointerGetBlockNumber(tid))
	{
		*((uint8 *) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&nbrtid)))) =
			HNSW_FREE_TUPLE;
		ItemPointerSetInvalid(&nbrtid);
	}
	HnswEditFinish(&edit);
	RecordPageWithFreeSpace(vs->index, ItemPointerGetBlockNumber(tid),
							HnswPageReusableSpace(BufferGetPage(buf)));
	UnlockReleaseBuffer(buf);

	if (ItemPointerIsValid(&nbrtid))
	{
		buf = ReadBufferExtended(vs->index, MAIN_FORKNUM, ItemPointerGetBlockNumber(&nbrtid),
								 RBM_NORMAL, vs->info->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		HnswEditBegin(&edit, vs->index, vs->wal);
		page = HnswEditPage(&edit, buf, false);
		*((uint8 *) PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&nbrtid)))) =
			HNSW_FREE_TUPLE;
		HnswEditFinish(&edit);
		RecordPageWithFreeSpace(vs->index, ItemPointerGetBlockNumber(&nbrtid),
								HnswPageReusableSpace(BufferGetPage(buf)));
		UnlockReleaseBuffer(buf);
	}
}

/* FreeDeleted walks the pages again and frees every deleted element. */
static void
FreeDeleted(VacuumState *vs, BlockNumber nblocks)
{
	PageElements pe;

	for (BlockNumber blkno = 1; blkno < nblocks; blkno++)
	{
		vacuum_delay_point();
		pe.deleted = true;
		pe.n = 0;
		HnswForEachElement(vs->index, blkno, vs->info->strategy, CollectElement, &pe);
		for (int i = 0; i < pe.n; i++)
			FreeElement(vs, &pe.tids[i]);
	}
}

/* ---------- pass 4: reconnect what the graph no longer reaches ---------- */

/* The live elements of the index and their levels, for Reconnect. */
typedef struct LiveElements
{
	uint64	   *keys;
	uint8	   *levels;
	int64		n;
	int64		cap;
	int64		atlevel[HNSW_MAX_LEVEL + 2];	/* elements of level >= l, once
												 * collected */
	VsTidSet   *deleted;		/* elements marked deleted are added here */
} LiveElements;

static void
CollectLive(HnswElementTuple etup, ItemPointer tid, void *arg)
{
	LiveElements *le = (LiveElements *) arg;

	if (etup->deleted)
	{
		/* left by an interrupted vacuum: never a link target */
		VsTidSetAdd(le->deleted, VsTidToKey(tid));
		return;
	}
	if (le->n == le->cap)
	{
		le->cap *= 2;
		le->keys = repalloc_huge(le->keys, sizeof(uint64) * le->cap);
		le->levels = repalloc_huge(le->levels, sizeof(uint8) * le->cap);
	}
	le->levels[le->n] = etup->level;
	le->keys[le->n++] = VsTidToKey(tid);
}

/*
 * MarkReached walks layer lc from start, adding every live element it
 * reaches to reached; it does not enter elements in stop (NULL: none).
 * The targets of the links it reads go to linked (a second in-link puts
 * them in multi) unless linked is NULL.  Returns the elements walked, in
 * order, in a palloc'd array of *nwalked keys (CurrentMemoryContext).
 */
static uint64 *
MarkReached(VacuumState *vs, uint64 start, int lc, VsTidSet *reached, VsTidSet *stop,
			VsTidSet *linked, VsTidSet *multi, int64 *nwalked)
{
	int64		cap = 1024,
				head = 0,
				tail = 0;
	uint64	   *queue = palloc(sizeof(uint64) * cap);

	*nwalked = 0;
	if (!VsTidSetAdd(reached, start))
		return queue;
	queue[tail++] = start;
	while (head < tail)
	{
		ItemPointerData tid;
		ItemPointerData nbrs[2 * HNSW_MAX_M];
		int			n;

		if ((head & 255) == 0)
			vacuum_delay_point();
		VsKeyToTid(queue[head++], &tid);
		n = HnswLoadNeighbors(vs->index, &tid, lc, vs->m, nbrs, NULL);
		for (int i = 0; i < n; i++)
		{
			uint64		k = VsTidToKey(&nbrs[i]);

			/* in-links from reached elements: once in linked, twice in multi */
			if (linked && !VsTidSetAdd(linked, k))
				VsTidSetAdd(multi, k);
			if (VsTidSetContains(vs->deleted, k) ||
				(stop && VsTidSetContains(stop, k)) ||
				!VsTidSetAdd(reached, k))
				continue;
			if (tail == cap)
			{
				cap *= 2;
				queue = repalloc_huge(queue, sizeof(uint64) * cap);
			}
			queue[tail++] = k;
		}
	}
	*nwalked = tail;
	return queue;
}

/*
 * LinkFrom adds a link on layer lc from element from to element to: into a
 * free slot, else (replace >= 1) in place of from's farthest neighbour
 * that had another in-link when the round started (in multi) and that
 * another neighbour dominates, so an element is rarely orphaned (a later
 * round catches it) and long links between regions are kept; with
 * replace 2, the last resort, in place of the farthest neighbour in multi
 * even if nothing dominates it.  One Generic WAL record.  False when
 * nothing was written.
 */
static bool
LinkFrom(VacuumState *vs, ItemPointer from, ItemPointer to, int lc, int replace, VsTidSet *multi)
{
	ItemPointerData nbrtid;
	ItemPointerData cur[2 * HNSW_MAX_M];
	int			ncur = HnswLoadNeighbors(vs->index, from, lc, vs->m, cur, &nbrtid);
	int			cap = HNSW_LAYER_SLOTS(lc, vs->m);
	int			start = HNSW_LAYER_START(lc, vs->m);
	int			slot = -1;
	Buffer		buf;
	HnswEdit	edit;
	HnswNeighborTuple ntup;
	int			level;
	Vector	   *fvec;

	if (!ItemPointerIsValid(&nbrtid))
		return false;
	fvec = HnswLoadVector(vs->index, from, &level);
	if (fvec == NULL || level < lc)
		return false;
	for (int i = 0; i < ncur; i++)
		if (ItemPointerEquals(&cur[i], to))
			return false;		/* linked already */
	if (ncur >= cap)
	{
		float		worst = -1;
		Vector	   *vecs[2 * HNSW_MAX_M];
		float		dist[2 * HNSW_MAX_M];

		if (replace == 0)
			return false;
		for (int i = 0; i < ncur; i++)
		{
			vecs[i] = HnswLoadVector(vs->index, &cur[i], NULL);
			dist[i] = vecs[i] ? HnswDistance(&vs->disk.metric, fvec, vecs[i]) : get_float4_infinity();
		}

		/*
		 * Only a member with another in-link (in multi) that another member
		 * is closer to than from is (the heuristic would have pruned it: it
		 * is reached through that member's neighbourhood) may make room; of
		 * those, the farthest.  Links that bridge to other regions are not
		 * dominated so, and stay.
		 */
		for (int i = 0; i < ncur; i++)
		{
			bool		dominated = false;

			if (vecs[i] == NULL || !VsTidSetContains(multi, VsTidToKey(&cur[i])) ||
				VsTidSetContains(vs->bridged, VsTidToKey(&cur[i])))
				continue;
			dominated = (replace == 2);
			for (int j = 0; j < ncur && !dominated; j++)
			{
				float		dij;

				if (j == i || vecs[j] == NULL)
					continue;
				dij = HnswDistance(&vs->disk.metric, vecs[i], vecs[j]);
				/* an exact duplicate of another member counts as dominated */
				if (dij < dist[i] || dij == 0)
					dominated = true;
			}
			if (dominated && dist[i] > worst)
			{
				worst = dist[i];
				slot = i;
			}
		}
		if (slot < 0)
			return false;
	}

	ntup = EditNeighborTuple(vs, &nbrtid, level, &edit, &buf);
	if (ntup == NULL)
		return false;
	if (slot < 0)
	{
		/* the first free slot of the layer */
		for (int i = 0; i < cap && slot < 0; i++)
			if (!ItemPointerIsValid(&ntup->tids[start + i]))
				slot = i;
	}
	else
	{
		/* the slot holding the farthest neighbour, if the list is unchanged */
		int			found = -1;

		for (int i = 0; i < cap; i++)
			if (ItemPointerEquals(&ntup->tids[start + i], &cur[slot]))
				found = i;
		slot = found;
	}
	if (slot < 0)
	{
		HnswEditAbort(&edit);
		UnlockReleaseBuffer(buf);
		return false;
	}
	ntup->tids[start + slot] = *to;
	HnswEditFinish(&edit);
	UnlockReleaseBuffer(buf);
	VsTidSetAdd(vs->bridged, VsTidToKey(to));
	return true;
}

/*
 * Seeds are where Bridge starts its searches on layer lc: every live
 * element of the lowest layer at or above lc that holds at most
 * HNSW_VACUUM_SEEDS elements, with its vector.  Compared one by one with
 * the element to bridge, they put the search next to each region the walk
 * reached, not only the entry point's: a region cut off between two others
 * is then bridged from both sides.
 */
#define HNSW_VACUUM_SEEDS	256
#define HNSW_VACUUM_STARTS	3

typedef struct Seeds
{
	int			level;			/* the layer the seeds were taken from */
	int64		total;			/* elements on that layer */
	int			n;
	uint64	   *keys;
	uint8	   *levels;
	Vector	  **vecs;
} Seeds;

/* SeedsLoad fills s for layer lc (palloc'd in CurrentMemoryContext). */
static void
SeedsLoad(VacuumState *vs, LiveElements *le, int toplevel, int lc, Seeds *s)
{
	int			level = lc;
	int64		size;

	while (level < toplevel && le->atlevel[level] > HNSW_VACUUM_SEEDS)
		level++;
	size = Max(Min(le->atlevel[level], HNSW_VACUUM_SEEDS), 1);
	s->level = level;
	s->total = le->atlevel[level];
	s->n = 0;
	s->keys = palloc(sizeof(uint64) * size);
	s->levels = palloc(sizeof(uint8) * size);
	s->vecs = palloc(sizeof(Vector *) * size);
	for (int64 i = 0; i < le->n && s->n < HNSW_VACUUM_SEEDS; i++)
	{
		ItemPointerData tid;

		if (le->levels[i] < level)
			continue;
		VsKeyToTid(le->keys[i], &tid);
		s->vecs[s->n] = HnswLoadVector(vs->index, &tid, NULL);
		if (s->vecs[s->n] != NULL)
		{
			s->levels[s->n] = le->levels[i];
			s->keys[s->n++] = le->keys[i];
		}
	}
}

/* SeedsFree releases what SeedsLoad allocated. */
static void
SeedsFree(Seeds *s)
{
	for (int i = 0; i < s->n; i++)
		pfree(s->vecs[i]);
	pfree(s->keys);
	pfree(s->levels);
	pfree(s->vecs);
}

/*
 * RelinkSmallLayers is the first step of pass 4 after a bulk delete: every
 * list of the layers above 0 that hold at most HNSW_VACUUM_SEEDS live
 * elements is selected again from all of the layer's elements, by the
 * heuristic over exact candidates, as a build of those elements would
 * select it (a list that comes out the same is not written).  Pass 2
 * refills lists from one hop, so once whole regions are gone the top
 * layers, which every search descends through, can keep no link between
 * the regions left, and a search ends its descent in the wrong one.
 * Allocates in vs->tmpCtx and resets it.
 */
static void
RelinkSmallLayers(VacuumState *vs, HnswMetaPageData *meta, LiveElements *le)
{
	MemoryContext old = MemoryContextSwitchTo(vs->tmpCtx);

	for (int lc = meta->entry_level; lc >= 1; lc--)
	{
		Seeds		s;
		int			cap = HNSW_LAYER_SLOTS(lc, vs->m);
		int			start = HNSW_LAYER_START(lc, vs->m);

		SeedsLoad(vs, le, lc, lc, &s);
		if (s.total > HNSW_VACUUM_SEEDS)
			break;				/* the layers below are larger still */
		for (int i = 0; i < s.n; i++)
		{
			VsHeapEntry *cands = palloc(sizeof(VsHeapEntry) * Max(s.n, 1));
			VsHeapEntry chosen[2 * HNSW_MAX_M];
			ItemPointerData cur[2 * HNSW_MAX_M];
			ItemPointerData tid;
			ItemPointerData nbrtid;
			int			ncands = 0;
			int			nchosen;
			int			ncur;
			bool		same;
			Buffer		buf;
			HnswEdit	edit;
			HnswNeighborTuple ntup;

			vacuum_delay_point();
			for (int j = 0; j < s.n; j++)
			{
				if (j == i)
					continue;
				cands[ncands].id = j;
				cands[ncands].dist = HnswDistance(&vs->disk.metric, s.vecs[i], s.vecs[j]);
				ncands++;
			}
			HnswSortEntries(cands, ncands);
			nchosen = HnswSelectLocal(&vs->disk.metric, cands, ncands, s.vecs, cap, chosen);

			VsKeyToTid(s.keys[i], &tid);
			ItemPointerSetInvalid(&nbrtid);
			ncur = HnswLoadNeighbors(vs->index, &tid, lc, vs->m, cur, &nbrtid);
			same = (ncur == nchosen);
			for (int c = 0; c < nchosen && same; c++)
			{
				ItemPointerData t;

				VsKeyToTid(s.keys[chosen[c].id], &t);
				same = false;
				for (int k = 0; k < ncur && !same; k++)
					same = ItemPointerEquals(&cur[k], &t);
			}
			if (same || !ItemPointerIsValid(&nbrtid))
				continue;
			ntup = EditNeighborTuple(vs, &nbrtid, s.levels[i], &edit, &buf);
			if (ntup == NULL)
				continue;
			for (int c = 0; c < cap; c++)
			{
				if (c < nchosen)
					VsKeyToTid(s.keys[chosen[c].id], &ntup->tids[start + c]);
				else
					ItemPointerSetInvalid(&ntup->tids[start + c]);
			}
			HnswEditFinish(&edit);
			UnlockReleaseBuffer(buf);
		}
		MemoryContextReset(vs->tmpCtx);
	}
	MemoryContextSwitchTo(old);
}

/* A part of layer lc that the walk from the entry point did not reach. */
typedef struct Part
{
	uint64	   *keys;			/* in walk order */
	int64		n;
	VsTidSet   *set;			/* the same keys */
} Part;

static inline bool
SourceOk(uint64 key, VsTidSet *allow, VsTidSet *deny)
{
	return (allow == NULL || VsTidSetContains(allow, key)) &&
		(deny == NULL || !VsTidSetContains(deny, key));
}

/*
 * Bridge links the element key of part, which the walk of layer lc from
 * the entry point did not reach, from an element outside the part (and in
 * allow unless NULL).  The search, as an insert's on layer lc, starts from
 * the HNSW_VACUUM_STARTS seeds closest to it that may be sources, else
 * from the entry point; the part counts as visited.  The closest source
 * found links to it through a free slot or in place of a dominated link
 * (the replacement only where the build would replace: not under inner
 * product); failing that, any source found, in place of a link with
 * another in-link; last, the entry point.  Links pass 4 wrote on this
 * layer are never replaced.  Allocates in vs->tmpCtx and resets it.  True
 * when a link was written.
 */
static bool
Bridge(VacuumState *vs, HnswMetaPageData *meta, Seeds *seeds, uint64 key, int lc,
	   VsTidSet *allow, Part *part, VsTidSet *multi)
{
	VsTidSet   *deny = part->set;
	HnswDiskCtx *ctx = &vs->disk;
	bool		may_replace = !(ctx->metric.kind == HNSW_METRIC_NEG_DOT &&
								ctx->metric.normproc == NULL);
	ItemPointerData tid;
	ItemPointerData from;
	Vector	   *vec;
	bool		done = false;
	MemoryContext old;

	vacuum_delay_point();
	VsKeyToTid(key, &tid);
	old = MemoryContextSwitchTo(vs->tmpCtx);
	vec = HnswLoadVector(vs->index, &tid, NULL);
	if (vec != NULL)
	{
		VsHeapEntry starts[HNSW_VACUUM_STARTS];
		int			nstarts = 0;
		VsHeap		w;
		int			nres;
		VsHeapEntry *res;

		/* vs->disk (metric, m, dimensions) searches for this vector */
		ctx->query = vec;

		/* the closest reached seeds, kept sorted */
		for (int i = 0; i < seeds->n; i++)
		{
			VsHeapEntry e;
			int			j;

			if (seeds->keys[i] == key || !SourceOk(seeds->keys[i], allow, deny))
				continue;
			e.id = seeds->keys[i];
			e.dist = HnswDistance(&ctx->metric, vec, seeds->vecs[i]);
			if (nstarts == HNSW_VACUUM_STARTS && e.dist >= starts[nstarts - 1].dist)
				continue;
			if (nstarts < HNSW_VACUUM_STARTS)
				nstarts++;
			for (j = nstarts - 1; j > 0 && starts[j - 1].dist > e.dist; j--)
				starts[j] = starts[j - 1];
			starts[j] = e;
		}
		if (nstarts == 0)
		{
			bool		found;

			VsTidSetReset(ctx->visited);
			HnswLoadEntry(ctx, meta, &starts[0], &found);
			if (found)
			{
				HnswDescend(ctx, &starts[0], meta->entry_level, lc);
				nstarts = SourceOk(starts[0].id, allow, deny) ? 1 : 0;
			}
		}

		/*
		 * The seeds are on layer lc already.  The part counts as visited, so
		 * the search finds the closest elements outside it, never walking in
		 * through a bridge written before.
		 */
		VsTidSetReset(ctx->visited);
		for (int64 i = 0; i < part->n; i++)
			VsTidSetAdd(ctx->visited, part->keys[i]);
		for (int i = 0; i < nstarts; i++)
			VsTidSetAdd(ctx->visited, starts[i].id);
		if (nstarts > 0)
		{
			VsHeapInit(&w, meta->ef_construction + 1, true);
			HnswSearchLayer(&HnswDiskOps, ctx, starts, nstarts, meta->ef_construction, lc, ctx->m, &w);
			res = HnswHeapToSorted(&w, &nres);
			for (int last = 0; last < (may_replace ? 2 : 1) && !done; last++)
				for (int r = 0; r < nres && !done; r++)
				{
					/* the part was visited: only allow is left to check */
					if (res[r].id == key || !SourceOk(res[r].id, allow, NULL) ||
						VsTidSetContains(vs->deleted, res[r].id))
						continue;
					VsKeyToTid(res[r].id, &from);
					if (last)
						done = LinkFrom(vs, &from, &tid, lc, 2, multi);
					else
					{
						done = LinkFrom(vs, &from, &tid, lc, 0, multi);
						if (!done && may_replace)
							done = LinkFrom(vs, &from, &tid, lc, 1, multi);
					}
				}
		}
	}
	if (!done)
	{
		ItemPointerCopy(&meta->entry, &from);
		done = LinkFrom(vs, &from, &tid, lc, may_replace ? 2 : 0, multi);
	}
	MemoryContextSwitchTo(old);
	ctx->query = NULL;			/* vec lived in tmpCtx */
	MemoryContextReset(vs->tmpCtx);
	return done;
}

/*
 * ReconnectLayer makes every live element of level >= lc reachable on
 * layer lc from the entry point; returns the links added.  A walk marks
 * what is reached; what is not falls into parts (each walked from its
 * first element, not entering what is reached or an earlier part).  Each
 * part's first element is bridged from the reached elements (Bridge), and
 * up to HNSW_VACUUM_BRIDGES - 1 more of its elements, spread over its
 * walk, from any element outside the part: one link into a whole region
 * is a path a search rarely takes, and a region cut off between two
 * others needs links from both.  Up to four rounds, since a replaced link
 * can orphan its target.
 */
#define HNSW_VACUUM_BRIDGES 8

static int64
ReconnectLayer(VacuumState *vs, HnswMetaPageData *meta, LiveElements *le, int lc,
			   VsTidSet *reached, VsTidSet *linked, VsTidSet *multi,
			   VsTidSet *inparts, VsTidSet *part)
{
	int64		added = 0;
	Seeds		seeds;
	bool		loaded = false;

	VsTidSetReset(vs->bridged);
	for (int round = 0; round < 4; round++)
	{
		int64		nlinked = 0;
		int64		nwalked;
		Part	   *parts = NULL;
		int			nparts = 0;
		int			maxparts = 0;

		VsTidSetReset(reached);
		VsTidSetReset(linked);
		VsTidSetReset(multi);
		VsTidSetReset(inparts);
		pfree(MarkReached(vs, VsTidToKey(&meta->entry), lc, reached, NULL, linked, multi, &nwalked));
		for (int64 i = 0; i < le->n; i++)
		{
			if (le->levels[i] < lc || VsTidSetContains(reached, le->keys[i]) ||
				VsTidSetContains(inparts, le->keys[i]))
				continue;
			if (nparts == maxparts)
			{
				maxparts = Max(16, maxparts * 2);
				parts = parts ? repalloc(parts, sizeof(Part) * maxparts) :
					palloc(sizeof(Part) * maxparts);
			}
			parts[nparts].keys = MarkReached(vs, le->keys[i], lc, inparts, reached, linked, multi,
											 &parts[nparts].n);
			nparts++;
		}
		if (nparts == 0)
			break;
		if (!loaded)
		{
			SeedsLoad(vs, le, meta->entry_level, lc, &seeds);
			loaded = true;
		}
		for (int p = 0; p < nparts; p++)
		{
			int64		n = parts[p].n;
			int64		nbridges = Min(HNSW_VACUUM_BRIDGES, n);

			VsTidSetReset(part);
			for (int64 j = 0; j < n; j++)
				VsTidSetAdd(part, parts[p].keys[j]);
			parts[p].set = part;
			if (Bridge(vs, meta, &seeds, parts[p].keys[0], lc, reached, &parts[p], multi))
				nlinked++;
			for (int b = 1; b < nbridges; b++)
				if (Bridge(vs, meta, &seeds, parts[p].keys[b * n / nbridges], lc, NULL, &parts[p], multi))
					nlinked++;
			pfree(parts[p].keys);
		}
		pfree(parts);
		added += nlinked;
		if (nlinked == 0)
			break;
	}
	if (loaded)
		SeedsFree(&seeds);
	return added;
}

/*
 * Unreached counts the live elements of level >= lc that a walk of layer
 * lc from the entry point does not reach.
 */
static int64
Unreached(VacuumState *vs, HnswMetaPageData *meta, LiveElements *le, int lc, VsTidSet *reached)
{
	int64		nwalked;
	int64		missing = 0;

	VsTidSetReset(reached);
	pfree(MarkReached(vs, VsTidToKey(&meta->entry), lc, reached, NULL, NULL, NULL, &nwalked));
	for (int64 i = 0; i < le->n; i++)
		if (le->levels[i] >= lc && !VsTidSetContains(reached, le->keys[i]))
			missing++;
	return missing;
}

/*
 * Reconnect (pass 4) makes every live element reachable from the entry
 * point on each of its layers.  Pass 2 repairs lists one hop at a time, so
 * when vacuum removes whole regions the regions left on either side of
 * them can lose every link between them, on every layer (and back-link
 * replacement on insert can orphan single elements).  After a bulk
 * delete the small top layers are first selected again
 * (RelinkSmallLayers); then layers are reconnected top down
 * (ReconnectLayer), so a search descending towards a region left alone
 * finds a way into it on each layer.  The linking runs
 * under HNSW_UPDATE_LOCK held exclusively (locked: the caller holds it);
 * without it, the walks run first under the share lock, with inserts going
 * on, and the exclusive lock is taken only when something is unreached.
 * Returns the links added.
 */
static int64
Reconnect(VacuumState *vs, BlockNumber nblocks, bool locked)
{
	HnswMetaPageData meta;
	LiveElements le;
	int64		added = 0;
	uint32		size;
	VsTidSet   *reached;
	VsTidSet   *linked;
	VsTidSet   *multi;
	VsTidSet   *part;
	VsTidSet   *inparts;

	/*
	 * Without the exclusive lock, look first under a share lock (inserts
	 * go on): only a graph with unreached elements needs the exclusive one.
	 */
	if (!locked)
		LockPage(vs->index, HNSW_UPDATE_LOCK, ShareLock);
	HnswReadMeta(vs->index, &meta);
	if (!ItemPointerIsValid(&meta.entry) || meta.entry_level < 0)
	{
		if (!locked)
			UnlockPage(vs->index, HNSW_UPDATE_LOCK, ShareLock);
		return 0;
	}
	le.cap = 1024;
	le.n = 0;
	le.keys = palloc(sizeof(uint64) * le.cap);
	le.levels = palloc(sizeof(uint8) * le.cap);
	le.deleted = vs->deleted;
	for (BlockNumber blkno = 1; blkno < nblocks; blkno++)
	{
		vacuum_delay_point();
		HnswForEachElement(vs->index, blkno, vs->info->strategy, CollectLive, &le);
	}
	memset(le.atlevel, 0, sizeof(le.atlevel));
	for (int64 i = 0; i < le.n; i++)
		le.atlevel[Min(le.levels[i], HNSW_MAX_LEVEL)]++;
	for (int l = HNSW_MAX_LEVEL - 1; l >= 0; l--)
		le.atlevel[l] += le.atlevel[l + 1];
	size = (uint32) Min(Max(le.n, 64), PG_INT32_MAX / 2);
	reached = VsTidSetCreate(CurrentMemoryContext, size);
	if (!locked)
	{
		bool		all = true;

		for (int lc = meta.entry_level; lc >= 0 && all; lc--)
			all = (Unreached(vs, &meta, &le, lc, reached) == 0);
		UnlockPage(vs->index, HNSW_UPDATE_LOCK, ShareLock);
		if (all)
		{
			pfree(le.keys);
			pfree(le.levels);
			return 0;
		}
		LockPage(vs->index, HNSW_UPDATE_LOCK, ExclusiveLock);
		HnswReadMeta(vs->index, &meta);
	}

	if (locked)
		RelinkSmallLayers(vs, &meta, &le);
	linked = VsTidSetCreate(CurrentMemoryContext, size);
	multi = VsTidSetCreate(CurrentMemoryContext, size);
	part = VsTidSetCreate(CurrentMemoryContext, 64);
	inparts = VsTidSetCreate(CurrentMemoryContext, 64);
	for (int lc = meta.entry_level; lc >= 0; lc--)
		added += ReconnectLayer(vs, &meta, &le, lc, reached, linked, multi, inparts, part);
	if (!locked)
		UnlockPage(vs->index, HNSW_UPDATE_LOCK, ExclusiveLock);
	pfree(le.keys);
	pfree(le.levels);
	return added;
}

/* VacuumStateInit prepares vs for one vacuum of info->index. */
static void
VacuumStateInit(VacuumState *vs, IndexVacuumInfo *info)
{
	HnswMetaPageData meta;

	memset(vs, 0, sizeof(*vs));
	vs->index = info->index;
	vs->info = info;
	vs->wal = RelationNeedsWAL(info->index);
	vs->tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "vsearch_hnsw vacuum",
									   ALLOCSET_DEFAULT_SIZES);
	HnswReadMeta(info->index, &meta);
	vs->m = meta.m;
	vs->deleted = VsTidSetCreate(CurrentMemoryContext, 256);
	vs->bridged = VsTidSetCreate(CurrentMemoryContext, 64);
	vs->bestlevel = -1;
	ItemPointerSetInvalid(&vs->best);
	HnswDiskCtxInit(&vs->disk, info->index, NULL);
	vs->disk.m = meta.m;
	vs->disk.dim = meta.dimensions;
}

/*
 * hnswbulkdelete is ambulkdelete: reports every heap TID to the callback
 * (CREATE INDEX CONCURRENTLY relies on seeing them all), then unlinks and
 * frees elements left without rows.
 */
IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	VacuumState vs;
	BlockNumber nblocks;
	HnswMetaPageData meta;
	MemoryContext old;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	VacuumStateInit(&vs, info);

	nblocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber blkno = 1; blkno < nblocks; blkno++)
	{
		vacuum_delay_point();
		RemoveDeadTids(&vs, blkno, stats, callback, callback_state);
	}
	stats->num_pages = nblocks;

	if (VsTidSetCount(vs.deleted) > 0)
	{
		Buffer		mbuf;
		HnswEdit	edit;
		Page		page;
		HnswMetaPage mp;

		LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);

		/*
		 * The entry point must be a live element.  It is chosen now, under
		 * the lock: inserts made since pass 1 may have added elements.
		 */
		nblocks = RelationGetNumberOfBlocks(index);
		HnswReadMeta(index, &meta);
		if (!ItemPointerIsValid(&meta.entry) ||
			VsTidSetContains(vs.deleted, VsTidToKey(&meta.entry)))
		{
			FindEntry(&vs, nblocks, &vs.best, &vs.bestlevel);
			mbuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
			LockBuffer(mbuf, BUFFER_LOCK_EXCLUSIVE);
			HnswEditBegin(&edit, index, vs.wal);
			page = HnswEditPage(&edit, mbuf, false);
			mp = HnswPageGetMeta(page);
			mp->entry = vs.best;
			mp->entry_level = vs.bestlevel;
			HnswEditFinish(&edit);
			UnlockReleaseBuffer(mbuf);
		}

		for (BlockNumber blkno = 1; blkno < nblocks; blkno++)
		{
			vacuum_delay_point();
			old = MemoryContextSwitchTo(vs.tmpCtx);
			RepairPage(&vs, blkno);
			MemoryContextSwitchTo(old);
		}
		FreeDeleted(&vs, nblocks);
		Reconnect(&vs, nblocks, true);
		UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
		IndexFreeSpaceMapVacuum(index);
	}
	else
		Reconnect(&vs, nblocks, false);	/* nothing deleted: inserts may still orphan */
	MemoryContextDelete(vs.tmpCtx);
	return stats;
}

/*
 * hnswvacuumcleanup is amvacuumcleanup: when no bulk delete ran, the
 * reconnect pass (which takes the exclusive lock only if some element is
 * unreached); then statistics.
 */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		VacuumState vs;

		/*
		 * No bulk delete ran (nothing was deleted): still reconnect elements
		 * that inserts left without in-links.
		 */
		VacuumStateInit(&vs, info);
		Reconnect(&vs, RelationGetNumberOfBlocks(info->index), false);
		MemoryContextDelete(vs.tmpCtx);

		stats = palloc0(sizeof(IndexBulkDeleteResult));
		stats->num_pages = RelationGetNumberOfBlocks(info->index);
		stats->num_index_tuples = info->num_heap_tuples;
		stats->estimated_count = true;
	}
	return stats;
}
