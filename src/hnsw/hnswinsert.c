/*-------------------------------------------------------------------------
 *
 * hnswinsert.c
 *	  aminsert for vsearch_hnsw: add one vector to the graph on disk.
 *
 * Design: an insert searches the graph without locks held across pages,
 * writes the new element and its neighbour tuple in one WAL record, then
 * adds each back-link in a record of its own, and last moves the entry
 * point if the element is the new top.  Every state between records is a
 * valid graph: an element not yet linked from others is merely harder to
 * reach until its back-links land.  Inserts hold HNSW_UPDATE_LOCK in share
 * mode; vacuum takes it exclusively while it unlinks and frees elements,
 * so an insert never links to an element being freed.
 *
 * Lock order: metapage before a data page (first element only); otherwise
 * one data page at a time, except a page just added to the relation,
 * which no other backend can reach yet.
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswinsert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* ---------- writing the element ---------- */

/*
 * FormTuples builds the element tuple (vector, heap TID, key tuple keys or
 * NULL) and an empty neighbour tuple for a new element of the given level
 * (palloc'd).  Raises an error when the element cannot fit on a page.
 */
static void
FormTuples(Relation index, Vector *vec, IndexTuple keys, int level, int m,
		   ItemPointer heaptid, HnswElementTuple *etup, Size *esize,
		   HnswNeighborTuple *ntup, Size *nsize)
{
	int			slots = HNSW_NEIGHBOR_SLOTS(level, m);

	*esize = HnswElementSize(index, vec->dim, keys);
	*etup = palloc0(*esize);
	HnswFillElement(*etup, level, vec, heaptid, keys);

	*nsize = HNSW_NEIGHBOR_TUPLE_SIZE(level, m);
	*ntup = palloc0(*nsize);
	(*ntup)->type = HNSW_NEIGHBOR_TUPLE;
	(*ntup)->count = slots;
	for (int s = 0; s < slots; s++)
		ItemPointerSetInvalid(&(*ntup)->tids[s]);
}

/*
 * TryPlaceOnPage adds the neighbour tuple and then the element tuple
 * (which names it) to an exclusively locked page inside edit.  Returns
 * false, leaving the page untouched, when they do not both fit.
 */
static bool
TryPlaceOnPage(Page page, BlockNumber blkno, HnswElementTuple etup, Size esize,
			   HnswNeighborTuple ntup, Size nsize, ItemPointer elemtid)
{
	OffsetNumber noff,
				eoff;

	if (PageGetFreeSpace(page) < MAXALIGN(esize) + MAXALIGN(nsize) + sizeof(ItemIdData))
	{
		/* perhaps freed tuples can take them; check on a scratch copy */
		PGAlignedBlock scratch;

		memcpy(scratch.data, page, BLCKSZ);
		if (!HnswPageAddTuple((Page) scratch.data, (Item) ntup, nsize, &noff))
			return false;
		ItemPointerSet(&etup->neighbortid, blkno, noff);
		if (!HnswPageAddTuple((Page) scratch.data, (Item) etup, esize, &eoff))
			return false;
	}
	if (!HnswPageAddTuple(page, (Item) ntup, nsize, &noff))
		elog(ERROR, "could not add neighbour tuple to index page %u", blkno);
	ItemPointerSet(&etup->neighbortid, blkno, noff);
	if (!HnswPageAddTuple(page, (Item) etup, esize, &eoff))
		elog(ERROR, "could not add element tuple to index page %u", blkno);
	ItemPointerSet(elemtid, blkno, eoff);
	return true;
}

/*
 * WriteElement stores a new element and its neighbour tuple and returns
 * the element's TID.  It tries, in order, a page the free space map
 * offers, insert_page (the metapage's hint), and new pages; the two tuples
 * always land in one WAL record.  Returns the block of a page it added to
 * the index, or InvalidBlockNumber; the caller records it in the metapage.
 * Takes no metapage lock, so the caller may hold one.
 */
static BlockNumber
WriteElement(Relation index, bool wal, BlockNumber insert_page,
			 HnswElementTuple etup, Size esize,
			 HnswNeighborTuple ntup, Size nsize, ItemPointer elemtid)
{
	Size		need = MAXALIGN(esize) + MAXALIGN(nsize) + 2 * sizeof(ItemIdData);
	Size		empty = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData));
	BlockNumber tries[2];
	BlockNumber newblk;
	HnswEdit	edit;
	Buffer		buf,
				nbuf;
	Page		page,
				npage;
	OffsetNumber off;

	if (need <= empty)
	{
		tries[0] = GetPageWithFreeSpace(index, need);
		tries[1] = insert_page;
		for (int i = 0; i < 2; i++)
		{
			if (tries[i] == InvalidBlockNumber || tries[i] == HNSW_METAPAGE_BLKNO ||
				(i == 1 && tries[1] == tries[0]))
				continue;
			buf = ReadBuffer(index, tries[i]);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			HnswEditBegin(&edit, index, wal);
			page = HnswEditPage(&edit, buf, false);
			if (!PageIsNew(page) &&
				(HnswPageGetOpaque(page)->flags & HNSW_PAGE_ELEMENTS) &&
				TryPlaceOnPage(page, tries[i], etup, esize, ntup, nsize, elemtid))
			{
				HnswEditFinish(&edit);
				if (i == 0)
					RecordPageWithFreeSpace(index, tries[i], HnswPageReusableSpace(BufferGetPage(buf)));
				UnlockReleaseBuffer(buf);
				return InvalidBlockNumber;
			}
			HnswEditAbort(&edit);
			if (i == 0)
				RecordPageWithFreeSpace(index, tries[i], HnswPageReusableSpace(BufferGetPage(buf)));
			UnlockReleaseBuffer(buf);
		}

		/* a new page for both */
		buf = HnswNewBuffer(index);
		HnswEditBegin(&edit, index, wal);
		page = HnswEditPage(&edit, buf, true);
		HnswInitPage(page, HNSW_PAGE_ELEMENTS);
		if (!TryPlaceOnPage(page, BufferGetBlockNumber(buf), etup, esize, ntup, nsize, elemtid))
			elog(ERROR, "could not place a new element on an empty index page");
		HnswEditFinish(&edit);
	}
	else
	{
		/*
		 * Too big to share a page: the element gets a page of its own, and
		 * its neighbour tuple goes to the insert page when that has room
		 * (else to a second new page), in one record.  The new element page
		 * is not reachable by anyone yet, so holding it while locking the
		 * insert page cannot deadlock.
		 */
		bool		nbufnew = false;

		buf = HnswNewBuffer(index);
		nbuf = InvalidBuffer;
		if (insert_page != InvalidBlockNumber && insert_page != HNSW_METAPAGE_BLKNO &&
			insert_page != BufferGetBlockNumber(buf))
		{
			nbuf = ReadBuffer(index, insert_page);
			LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
			if (PageIsNew(BufferGetPage(nbuf)) ||
				!(HnswPageGetOpaque(BufferGetPage(nbuf))->flags & HNSW_PAGE_ELEMENTS) ||
				!HnswPageFits(BufferGetPage(nbuf), nsize + sizeof(ItemIdData)))
			{
				UnlockReleaseBuffer(nbuf);
				nbuf = InvalidBuffer;
			}
		}
		if (!BufferIsValid(nbuf))
		{
			nbuf = HnswNewBuffer(index);
			nbufnew = true;
		}
		HnswEditBegin(&edit, index, wal);
		page = HnswEditPage(&edit, buf, true);
		npage = HnswEditPage(&edit, nbuf, nbufnew);
		HnswInitPage(page, HNSW_PAGE_ELEMENTS);
		if (nbufnew)
			HnswInitPage(npage, HNSW_PAGE_ELEMENTS);
		if (!HnswPageAddTuple(npage, (Item) ntup, nsize, &off))
			elog(ERROR, "could not add neighbour tuple to index page %u",
				 BufferGetBlockNumber(nbuf));
		ItemPointerSet(&etup->neighbortid, BufferGetBlockNumber(nbuf), off);
		off = PageAddItem(page, (Item) etup, esize, InvalidOffsetNumber, false, false);
		if (off == InvalidOffsetNumber)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("vector is too large for a vsearch_hnsw index page")));
		ItemPointerSet(elemtid, BufferGetBlockNumber(buf), off);
		HnswEditFinish(&edit);
		UnlockReleaseBuffer(buf);
		newblk = BufferGetBlockNumber(nbuf);
		UnlockReleaseBuffer(nbuf);
		/* the page with room for small tuples stays the insert page */
		return nbufnew ? newblk : InvalidBlockNumber;
	}

	newblk = BufferGetBlockNumber(buf);
	UnlockReleaseBuffer(buf);
	return newblk;
}

/* SetInsertPage records a page WriteElement added as the metapage's hint. */
static void
SetInsertPage(Relation index, bool wal, BlockNumber newblk)
{
	Buffer		mbuf;
	HnswEdit	edit;
	Page		page;

	if (newblk == InvalidBlockNumber)
		return;
	mbuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(mbuf, BUFFER_LOCK_EXCLUSIVE);
	HnswEditBegin(&edit, index, wal);
	page = HnswEditPage(&edit, mbuf, false);
	HnswPageGetMeta(page)->insert_page = newblk;
	HnswEditFinish(&edit);
	UnlockReleaseBuffer(mbuf);
}

/* ---------- vectors read during one insert ---------- */

/*
 * One insert reads the same vectors many times: the candidates of its
 * neighbour selection, then, for every back-link, the neighbour and all its
 * members, and neighbours' lists overlap heavily.  VectorCache keeps each
 * copy (or "no element there") for the rest of the insert.  Elements never
 * change their vector, and no TID is reused while the insert holds
 * HNSW_UPDATE_LOCK, so a copy stays right.
 */
typedef struct CachedVector
{
	uint64		key;			/* VsTidToKey of the element's TID */
	Vector	   *vec;			/* NULL: no element there */
} CachedVector;

typedef struct VectorCache
{
	HTAB	   *map;
	MemoryContext cxt;			/* the map and the copies */
} VectorCache;

/* VectorCacheInit creates an empty cache in a child of CurrentMemoryContext. */
static void
VectorCacheInit(VectorCache *vc)
{
	HASHCTL		ctl;

	vc->cxt = AllocSetContextCreate(CurrentMemoryContext, "vsearch_hnsw insert vectors",
									ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(CachedVector);
	ctl.hcxt = vc->cxt;
	vc->map = hash_create("vsearch_hnsw insert vectors", 256, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * CachedVectorAt returns the vector of the element at tid (NULL if there is
 * none), read once per insert; the caller must not free it.
 */
static Vector *
CachedVectorAt(VectorCache *vc, Relation index, ItemPointer tid)
{
	uint64		key = VsTidToKey(tid);
	bool		found;
	CachedVector *e = hash_search(vc->map, &key, HASH_ENTER, &found);

	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(vc->cxt);

		e->vec = HnswLoadVector(index, tid, NULL);
		MemoryContextSwitchTo(old);
	}
	return e->vec;
}

/*
 * ListCache keeps, for the rest of one insert, the neighbour lists read to
 * tell whether a member of a full list is linked from a sibling too.  The
 * lists this insert writes are updated in it; other backends' changes
 * meanwhile are missed, which at worst makes one eviction less safe.
 */
typedef struct CachedList
{
	uint64		key;			/* HnswLayerKey of the element and layer */
	int			count;			/* -1: no element there */
	ItemPointerData tids[2 * HNSW_MAX_M];
} CachedList;

/* ListCacheInit creates an empty list cache in the vector cache's context. */
static HTAB *
ListCacheInit(VectorCache *vc)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(CachedList);
	ctl.hcxt = vc->cxt;
	return hash_create("vsearch_hnsw insert lists", 256, &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* CachedListAt returns layer lc's list of the element at tid, read once. */
static CachedList *
CachedListAt(HTAB *lists, Relation index, ItemPointer tid, int lc, int m)
{
	uint64		key = HnswLayerKey(VsTidToKey(tid), lc);
	bool		found;
	CachedList *e = hash_search(lists, &key, HASH_ENTER, &found);

	if (!found)
	{
		ItemPointerData nbrtid;

		ItemPointerSetInvalid(&nbrtid);
		e->count = HnswLoadNeighbors(index, tid, lc, m, e->tids, &nbrtid);
		if (e->count == 0 && !ItemPointerIsValid(&nbrtid))
			e->count = -1;
	}
	return e;
}

/* ListCacheSet records the list this insert just wrote for tid's layer lc. */
static void
ListCacheSet(HTAB *lists, ItemPointer tid, int lc, const ItemPointerData *tids, int count)
{
	uint64		key = HnswLayerKey(VsTidToKey(tid), lc);
	bool		found;
	CachedList *e = hash_search(lists, &key, HASH_ENTER, &found);

	e->count = count;
	for (int i = 0; i < count; i++)
		e->tids[i] = tids[i];
}

/* ListHas is true when tid is among the n TIDs of list. */
static bool
ListHas(const ItemPointerData *list, int n, ItemPointer tid)
{
	for (int i = 0; i < n; i++)
		if (ItemPointerEquals((ItemPointer) &list[i], tid))
			return true;
	return false;
}

/*
 * AddBackLink makes newtid (vector newvec, layer-lc list newlist) a
 * neighbour of element n on layer lc, and returns true if it did.  With a
 * free slot it is simply added.  In a full list the newcomer takes the
 * place of a member that the member's nearest sibling in the list (the
 * newcomer included) links to, so everything reachable through n stays
 * reachable (n -> sibling -> member); members are tried from the most
 * redundant by position (HnswRankRedundant).  Choosing by position alone,
 * or dropping the farthest, cut the last links into whole clusters.  The
 * newcomer is left out when it ranks first and already has an in-link on
 * this layer (newcomer_linked), and when no member qualifies, unless force
 * is set (no neighbour took it otherwise): then the most redundant member
 * goes.  Vectors and lists are read with no lock held; the list is written
 * only if it did not change meanwhile.
 */
static bool
AddBackLink(HnswDiskCtx *ctx, VectorCache *vc, HTAB *lists, bool wal, uint64 n,
			ItemPointer newtid, Vector *newvec, ItemPointerData *newlist, int nnewlist,
			int lc, bool newcomer_linked, bool force)
{
	int			m = ctx->m;
	int			cap = HNSW_LAYER_SLOTS(lc, m);
	int			start = HNSW_LAYER_START(lc, m);

	for (int attempt = 0; attempt < 3; attempt++)
	{
		ItemPointerData ntid,
					nbrtid;
		ItemPointerData current[2 * HNSW_MAX_M];
		int			ncur;
		ItemPointerData replacement[2 * HNSW_MAX_M];
		int			nrepl = 0;
		bool		full;
		Buffer		buf;
		HnswEdit	edit;
		Page		page;
		HnswNeighborTuple ntup;
		OffsetNumber off;
		bool		done = false;

		VsKeyToTid(n, &ntid);
		ItemPointerSetInvalid(&nbrtid);
		ncur = HnswLoadNeighbors(ctx->index, &ntid, lc, m, current, &nbrtid);
		if (ncur == 0 && !ItemPointerIsValid(&nbrtid))
			return false;		/* element gone */
		for (int i = 0; i < ncur; i++)
			if (ItemPointerEquals(&current[i], newtid))
				return true;
		full = (ncur >= cap);

		if (full)
		{
			Vector	   *nvec;
			Vector	   *vecs[2 * HNSW_MAX_M + 1];
			int			slot[2 * HNSW_MAX_M + 1];
			int			nvecs = 0;
			int			victim = -1;

			nvec = CachedVectorAt(vc, ctx->index, &ntid);
			if (nvec == NULL)
				return false;
			for (int i = 0; i < ncur && victim < 0; i++)
			{
				Vector	   *v = CachedVectorAt(vc, ctx->index, &current[i]);

				if (v == NULL)
					victim = i; /* a link to nothing: the newcomer takes it */
				else
				{
					vecs[nvecs] = v;
					slot[nvecs++] = i;
				}
			}
			if (victim < 0)
			{
				int			rank[2 * HNSW_MAX_M + 1];
				int			sibling[2 * HNSW_MAX_M + 1];
				int			newcomer = nvecs;

				vecs[nvecs] = newvec;
				slot[nvecs++] = -1;
				HnswRankRedundant(nvec, vecs, nvecs, rank, sibling);
				for (int k = 0; k < nvecs && victim < 0; k++)
				{
					int			c = rank[k];
					int			sib = sibling[c];

					if (c == newcomer)
					{
						if (newcomer_linked)
							return false;	/* the newcomer is left out */
						continue;
					}
					if (sib < 0)
						continue;
					if (sib == newcomer)
					{
						/* n -> newcomer -> c, if the newcomer links to c */
						if (ListHas(newlist, nnewlist, &current[slot[c]]))
							victim = slot[c];
					}
					else
					{
						CachedList *l = CachedListAt(lists, ctx->index, &current[slot[sib]], lc, m);

						if (ListHas(l->tids, l->count, &current[slot[c]]))
							victim = slot[c];
					}
				}
				if (victim < 0)
				{
					if (!force)
						return false;	/* every member may be a last link */
					for (int k = 0; k < nvecs && victim < 0; k++)
						if (rank[k] != newcomer)
							victim = slot[rank[k]];
				}
			}
			for (int i = 0; i < ncur; i++)
				replacement[nrepl++] = i == victim ? *newtid : current[i];
		}

		buf = ReadBuffer(ctx->index, ItemPointerGetBlockNumber(&nbrtid));
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		HnswEditBegin(&edit, ctx->index, wal);
		page = HnswEditPage(&edit, buf, false);
		off = ItemPointerGetOffsetNumber(&nbrtid);
		ntup = (off <= PageGetMaxOffsetNumber(page) && ItemIdIsNormal(PageGetItemId(page, off))) ?
			(HnswNeighborTuple) PageGetItem(page, PageGetItemId(page, off)) : NULL;
		if (ntup != NULL && ntup->type == HNSW_NEIGHBOR_TUPLE &&
			start + cap <= ntup->count)
		{
			/* the list as it is now, valid slots in order */
			ItemPointerData now[2 * HNSW_MAX_M];
			int			nnow = 0;
			int			freeslot = -1;

			for (int i = 0; i < cap; i++)
			{
				if (ItemPointerIsValid(&ntup->tids[start + i]))
					now[nnow++] = ntup->tids[start + i];
				else if (freeslot < 0)
					freeslot = i;
			}
			if (freeslot >= 0)
			{
				ntup->tids[start + freeslot] = *newtid;
				done = true;
			}
			/*
			 * (cppcheck takes now[] for uninitialized: with nnow == ncur the
			 * loop above has filled the ncur slots memcmp reads.)
			 */
			else if (full && nnow == ncur &&
					 memcmp(now, current, sizeof(ItemPointerData) * ncur) == 0) /* cppcheck-suppress uninitvar */
			{
				for (int i = 0; i < cap; i++)
				{
					if (i < nrepl)
						ntup->tids[start + i] = replacement[i];
					else
						ItemPointerSetInvalid(&ntup->tids[start + i]);
				}
				done = true;
			}
		}
		if (done)
		{
			/* the list as written, for later evictions of this insert */
			ItemPointerData written[2 * HNSW_MAX_M];
			int			nwritten = 0;

			for (int i = 0; i < cap; i++)
				if (ItemPointerIsValid(&ntup->tids[start + i]))
					written[nwritten++] = ntup->tids[start + i];
			HnswEditFinish(&edit);
			ListCacheSet(lists, &ntid, lc, written, nwritten);
		}
		else
			HnswEditAbort(&edit);
		UnlockReleaseBuffer(buf);
		if (done || ntup == NULL)
			return done;
	}
	return false;
}

/*
 * TryAddHeapTid adds heaptid to the element at tid if it still holds
 * exactly vec and the key tuple keys and has a free slot; returns true if
 * it did.
 */
static bool
TryAddHeapTid(Relation index, bool wal, ItemPointer tid, Vector *vec, IndexTuple keys,
			  ItemPointer heaptid)
{
	Buffer		buf = ReadBuffer(index, ItemPointerGetBlockNumber(tid));
	HnswEdit	edit;
	Page		page;
	ItemId		iid;
	HnswElementTuple etup;
	bool		done = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswEditBegin(&edit, index, wal);
	page = HnswEditPage(&edit, buf, false);
	iid = PageGetItemId(page, ItemPointerGetOffsetNumber(tid));
	etup = (HnswElementTuple) PageGetItem(page, iid);
	if (etup->type == HNSW_ELEMENT_TUPLE && !etup->deleted &&
		etup->vec.dim == vec->dim &&
		memcmp(etup->vec.x, vec->x, sizeof(float) * vec->dim) == 0 &&
		VsKeysEqual(HnswElementKeys(index, etup), keys))
	{
		for (int t = 0; t < HNSW_HEAPTIDS; t++)
		{
			if (!ItemPointerIsValid(&etup->heaptids[t]))
			{
				etup->heaptids[t] = *heaptid;
				done = true;
				break;
			}
		}
	}
	if (done)
		HnswEditFinish(&edit);
	else
		HnswEditAbort(&edit);
	UnlockReleaseBuffer(buf);
	return done;
}

/*
 * InsertFirst writes the first element of an empty index while holding
 * the metapage lock, so two first inserts cannot both become the entry.
 * Returns false (nothing written) if the index is no longer empty.
 */
static bool
InsertFirst(Relation index, bool wal, Vector *vec, IndexTuple keys, ItemPointer heaptid,
			int level, int m)
{
	Buffer		mbuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPage meta;
	HnswElementTuple etup;
	HnswNeighborTuple ntup;
	Size		esize,
				nsize;
	ItemPointerData tid;
	HnswEdit	edit;
	Page		page;
	BlockNumber newblk;

	LockBuffer(mbuf, BUFFER_LOCK_EXCLUSIVE);
	meta = HnswPageGetMeta(BufferGetPage(mbuf));
	if (ItemPointerIsValid(&meta->entry))
	{
		UnlockReleaseBuffer(mbuf);
		return false;
	}
	FormTuples(index, vec, keys, level, m, heaptid, &etup, &esize, &ntup, &nsize);
	newblk = WriteElement(index, wal, meta->insert_page, etup, esize, ntup, nsize, &tid);
	HnswEditBegin(&edit, index, wal);
	page = HnswEditPage(&edit, mbuf, false);
	if (newblk != InvalidBlockNumber)
		HnswPageGetMeta(page)->insert_page = newblk;
	HnswPageGetMeta(page)->entry = tid;
	HnswPageGetMeta(page)->entry_level = level;
	HnswEditFinish(&edit);
	UnlockReleaseBuffer(mbuf);
	return true;
}

/*
 * HnswInsertVector adds a prepared vector (dimensions checked, normalised)
 * with its key tuple (NULL without key columns) for heaptid.  building:
 * called from a build that ran out of memory; no WAL (the build logs every
 * page at the end) and no HNSW_UPDATE_LOCK (vacuum cannot run during a
 * build).  Buffer locks are taken as for any insert: the participants of a
 * parallel build call this concurrently.
 * Allocates in CurrentMemoryContext; the caller resets it.
 */
void
HnswInsertVector(Relation index, Vector *vec, IndexTuple keys, ItemPointer heaptid,
				 bool building)
{
	bool		wal = RelationNeedsWAL(index) && !building;
	HnswMetaPageData meta;
	HnswDiskCtx ctx;
	VsHeapEntry ep;
	VsHeapEntry *eps;
	int			neps;
	bool		found;
	int			level;
	int			top;
	VsHeapEntry *layers[HNSW_MAX_LEVEL + 1];
	int			nlayer[HNSW_MAX_LEVEL + 1];
	HnswElementTuple etup;
	HnswNeighborTuple ntup;
	Size		esize,
				nsize;
	ItemPointerData newtid;
	VsHeapEntry *chosen[HNSW_MAX_LEVEL + 1];
	int			nchosen[HNSW_MAX_LEVEL + 1];
	MemoryContext linkCtx;
	VectorCache vcache;
	HTAB	   *lists;

	nlayer[0] = 0;				/* stays 0 if no layer is searched */
	HnswReadMeta(index, &meta);
	HnswDiskCtxInit(&ctx, index, vec);
	level = HnswRandomLevel(ctx.m);

	HnswLoadEntry(&ctx, &meta, &ep, &found);
	if (!found)
	{
		if (InsertFirst(index, wal, vec, keys, heaptid, level, ctx.m))
			return;
		HnswReadMeta(index, &meta);
		VsTidSetReset(ctx.visited);
		HnswLoadEntry(&ctx, &meta, &ep, &found);
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("vsearch_hnsw index \"%s\" has an unreadable entry point",
							RelationGetRelationName(index)),
					 errhint("REINDEX the index.")));
	}

	eps = &ep;
	neps = 1;
	HnswDescend(&ctx, &ep, meta.entry_level, level);
	top = Min(level, meta.entry_level);
	for (int lc = top; lc >= 0; lc--)
	{
		VsHeap		w;

		VsHeapInit(&w, meta.ef_construction + 1, true);
		HnswSearchLayer(&HnswDiskOps, &ctx, eps, neps, meta.ef_construction, lc, ctx.m, &w);
		layers[lc] = HnswHeapToSorted(&w, &nlayer[lc]);
		eps = layers[lc];
		neps = nlayer[lc];
		VsTidSetReset(ctx.visited);
		for (int i = 0; i < neps; i++)
			VsTidSetAdd(ctx.visited, eps[i].id);
	}

	/* an exact duplicate joins an equal element that has room */
	/* cppcheck-suppress uninitvar ; layers[0] is set whenever nlayer[0] > 0 */
	for (int i = 0; i < nlayer[0] && layers[0][i].dist == layers[0][0].dist; i++)
	{
		ItemPointerData ctid;

		VsKeyToTid(layers[0][i].id, &ctid);
		if (TryAddHeapTid(index, wal, &ctid, vec, keys, heaptid))
			return;
	}

	/* choose the neighbours of every layer, then write the element with them */
	FormTuples(index, vec, keys, level, ctx.m, heaptid, &etup, &esize, &ntup, &nsize);
	VectorCacheInit(&vcache);
	for (int lc = top; lc >= 0; lc--)
	{
		int			start = HNSW_LAYER_START(lc, ctx.m);

		CHECK_FOR_INTERRUPTS();
		chosen[lc] = palloc(sizeof(VsHeapEntry) * HNSW_LAYER_SLOTS(lc, ctx.m));
		{
			Vector	  **vecs = palloc(sizeof(Vector *) * Max(nlayer[lc], 1));
			VsHeapEntry *local = palloc(sizeof(VsHeapEntry) * Max(nlayer[lc], 1));
			uint64	   *keys = palloc(sizeof(uint64) * Max(nlayer[lc], 1));
			int			nlocal = 0;

			for (int i = 0; i < nlayer[lc]; i++)
			{
				ItemPointerData t;

				VsKeyToTid(layers[lc][i].id, &t);
				vecs[nlocal] = CachedVectorAt(&vcache, index, &t);
				if (vecs[nlocal] == NULL)
					continue;
				keys[nlocal] = layers[lc][i].id;
				local[nlocal].id = nlocal;
				local[nlocal].dist = layers[lc][i].dist;
				nlocal++;
			}
			nchosen[lc] = HnswSelectLocal(&ctx.metric, local, nlocal, vecs,
										  HNSW_LAYER_SLOTS(lc, ctx.m), chosen[lc]);
			for (int i = 0; i < nchosen[lc]; i++)
				chosen[lc][i].id = keys[chosen[lc][i].id];
			pfree(vecs);
			pfree(local);
			pfree(keys);
		}
		for (int i = 0; i < nchosen[lc]; i++)
			VsKeyToTid(chosen[lc][i].id, &ntup->tids[start + i]);
	}
	SetInsertPage(index, wal,
				  WriteElement(index, wal, meta.insert_page, etup, esize, ntup, nsize, &newtid));

	/*
	 * Link back from each neighbour, one record each.  A back-link loads up
	 * to 2m + 1 vectors; a context reset after each keeps that memory in
	 * the same few blocks instead of touching fresh pages every time.
	 */
	linkCtx = AllocSetContextCreate(CurrentMemoryContext, "vsearch_hnsw back-link",
									ALLOCSET_DEFAULT_SIZES);
	lists = ListCacheInit(&vcache);
	for (int lc = top; lc >= 0; lc--)
	{
		bool		linked = false;

		/*
		 * Pass 0 tries every neighbour; pass 1 (force) runs only if none
		 * took the newcomer without risking a last link, and stops at the
		 * first that does.
		 */
		for (int pass = 0; pass < 2 && !(pass == 1 && linked); pass++)
		{
			for (int i = 0; i < nchosen[lc] && !(pass == 1 && linked); i++)
			{
				MemoryContext old = MemoryContextSwitchTo(linkCtx);

				CHECK_FOR_INTERRUPTS();
				if (AddBackLink(&ctx, &vcache, lists, wal, chosen[lc][i].id, &newtid, vec,
								&ntup->tids[HNSW_LAYER_START(lc, ctx.m)], nchosen[lc], lc,
								linked, pass == 1))
					linked = true;
				MemoryContextSwitchTo(old);
				MemoryContextReset(linkCtx);
			}
		}
	}
	MemoryContextDelete(linkCtx);
	MemoryContextDelete(vcache.cxt);

	/* a new top element becomes the entry point */
	if (level > meta.entry_level)
	{
		Buffer		mbuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
		HnswEdit	edit;
		Page		page;

		LockBuffer(mbuf, BUFFER_LOCK_EXCLUSIVE);
		HnswEditBegin(&edit, index, wal);
		page = HnswEditPage(&edit, mbuf, false);
		if (HnswPageGetMeta(page)->entry_level < level)
		{
			HnswPageGetMeta(page)->entry = newtid;
			HnswPageGetMeta(page)->entry_level = level;
		}
		HnswEditFinish(&edit);
		UnlockReleaseBuffer(mbuf);
	}
}

/*
 * hnswinsert is aminsert.  NULLs and vectors a normalising opclass cannot
 * use (zero vectors under cosine) are not indexed.
 */
bool
hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
		   struct IndexInfo *indexInfo)
{
	MemoryContext ctx;
	MemoryContext old;
	HnswMetric	metric;
	Vector	   *vec;

	if (isnull[0])
		return false;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "vsearch_hnsw insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);
	HnswInitMetric(index, &metric);
	vec = HnswPrepareVector(&metric, values[0],
							TupleDescAttr(RelationGetDescr(index), 0)->atttypmod);
	if (vec != NULL)
	{
		LockPage(index, HNSW_UPDATE_LOCK, ShareLock);
		HnswInsertVector(index, vec, VsKeysForm(index, values, isnull), heap_tid, false);
		UnlockPage(index, HNSW_UPDATE_LOCK, ShareLock);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
