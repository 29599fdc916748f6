/*-------------------------------------------------------------------------
 *
 * vsbuffer.c
 *	  Pinning index pages without the shared buffer mapping lookup.
 *
 * Design: see VsReadBuffer below; both index AMs read their pages through
 * it on their search paths.
 *
 * IDENTIFICATION
 *	  src/common/vsbuffer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/vsbuffer.h"
#include "pgstat.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/*
 * Searches read the same index pages over and over, and every ReadBuffer
 * looks the block up in the shared buffer mapping table under a partition
 * lock (perf, fashion-mnist: 23% of an HNSW top-10 search, 23% of an IVF
 * scan; 20% of ranking 2,000 rows of 200,000 x 768 exactly, whose heap
 * pages the hybrid scan reads the same way).  Each backend remembers, per
 * block of the last few relations it read, which buffer last held the
 * block; ReadRecentBuffer pins that buffer if it still holds the block (it
 * checks the buffer's tag under the header spinlock, so a stale entry
 * only costs a miss), and ReadBuffer runs otherwise.  Four bytes per block, up to VS_RECENT_MAX_BLOCKS blocks per
 * relation (4 MB); blocks past that always take ReadBuffer.
 */
#define VS_RECENT_RELS 8
#define VS_RECENT_MAX_BLOCKS (1024 * 1024)

typedef struct RecentMap
{
	RelFileNode node;
	BlockNumber size;			/* entries in bufs; 0: slot unused */
	Buffer	   *bufs;			/* by block number; InvalidBuffer unknown */
} RecentMap;

static RecentMap recent_maps[VS_RECENT_RELS];
static int	recent_next = 0;	/* the map to reuse next */

/* FindRecentMap returns the map of relation node, or NULL if it has none. */
static RecentMap *
FindRecentMap(RelFileNode node)
{
	for (int i = 0; i < VS_RECENT_RELS; i++)
		if (recent_maps[i].size > 0 && RelFileNodeEquals(recent_maps[i].node, node))
			return &recent_maps[i];
	return NULL;
}

/* RecentMapFor returns the map of node, making room for blkno, or NULL. */
static RecentMap *
RecentMapFor(RelFileNode node, BlockNumber blkno)
{
	RecentMap  *map;

	if (blkno >= VS_RECENT_MAX_BLOCKS)
		return NULL;
	map = FindRecentMap(node);
	if (map == NULL)
	{
		map = &recent_maps[recent_next];
		recent_next = (recent_next + 1) % VS_RECENT_RELS;
		if (map->bufs)
			pfree(map->bufs);
		map->node = node;
		map->size = 1024;
		map->bufs = MemoryContextAllocZero(TopMemoryContext, sizeof(Buffer) * map->size);
	}
	if (blkno >= map->size)
	{
		BlockNumber newsize = Min(Max(blkno + 1, map->size * 2), VS_RECENT_MAX_BLOCKS);

		map->bufs = repalloc(map->bufs, sizeof(Buffer) * newsize);
		memset(map->bufs + map->size, 0, sizeof(Buffer) * (newsize - map->size));
		map->size = newsize;
	}
	return map;
}

/*
 * VsReadBuffer pins block blkno of the main fork of rel, like
 * ReadBuffer, counting the same statistics, for a read that needs no
 * access strategy.  Temporary relations (local buffers) always go through
 * ReadBuffer.
 */
Buffer
VsReadBuffer(Relation rel, BlockNumber blkno)
{
	RecentMap  *map;
	Buffer		buf;

	if (RelationUsesLocalBuffers(rel) ||
		(map = RecentMapFor(rel->rd_node, blkno)) == NULL)
		return ReadBuffer(rel, blkno);
	buf = map->bufs[blkno];
	if (buf != InvalidBuffer &&
		ReadRecentBuffer(rel->rd_node, MAIN_FORKNUM, blkno, buf))
	{
		pgstat_count_buffer_read(rel);
		pgstat_count_buffer_hit(rel);
		return buf;
	}
	buf = ReadBuffer(rel, blkno);
	map->bufs[blkno] = buf;
	return buf;
}

/*
 * RecentBuffer is the buffer this backend last saw holding block blkno of
 * rel (a guess, never pinned), or InvalidBuffer when it knows none.
 */
static Buffer
RecentBuffer(Relation rel, BlockNumber blkno)
{
	RecentMap  *map;
	Buffer		buf;

	if (RelationUsesLocalBuffers(rel) ||
		(map = FindRecentMap(rel->rd_node)) == NULL || blkno >= map->size)
		return InvalidBuffer;
	buf = map->bufs[blkno];
	return (buf > NBuffers) ? InvalidBuffer : buf;
}

/* RecentPage is the address of buffer buf's page (1-based, shared). */
static inline char *
RecentPage(Buffer buf)
{
	return BufferBlocks + (Size) (buf - 1) * BLCKSZ;
}

/*
 * VsPrefetchBuffer starts loading into the CPU cache what pinning block
 * blkno and reading its line pointer `off` will touch, when this backend
 * knows which buffer last held the block: the buffer's descriptor (the pin
 * is an atomic operation on it, which waits for the line) and the page's
 * first line and the line of line pointer `off`.  Nothing is pinned or
 * read: a prefetch never faults, and a stale guess only costs the
 * prefetch.  Callers that read many pages in a burst (a neighbour list)
 * call it for all of them before pinning any, so the cache misses
 * overlap instead of coming one after the other.
 */
void
VsPrefetchBuffer(Relation rel, BlockNumber blkno, OffsetNumber off)
{
	Buffer		buf = RecentBuffer(rel, blkno);
	char	   *page;

	if (buf == InvalidBuffer)
		return;
	__builtin_prefetch(GetBufferDescriptor(buf - 1), 1);
	page = RecentPage(buf);
	__builtin_prefetch(page);
	if (off > 0)
		__builtin_prefetch(page + SizeOfPageHeaderData + (off - 1) * sizeof(ItemIdData));
}

/*
 * VsPrefetchTuple starts loading into the CPU cache the first lines of the
 * tuple at line pointer off of block blkno, when this backend knows which
 * buffer last held the block.  The line pointer is read without a pin or
 * lock, only to choose the address (call VsPrefetchBuffer for it a few
 * rows earlier, so that this read hits the cache): a stale or torn value
 * costs a useless prefetch, never a fault, as the address is kept inside
 * the buffer's page.
 */
void
VsPrefetchTuple(Relation rel, BlockNumber blkno, OffsetNumber off)
{
	Buffer		buf = RecentBuffer(rel, blkno);
	char	   *page;
	unsigned	lpoff;

	if (buf == InvalidBuffer || off == InvalidOffsetNumber ||
		SizeOfPageHeaderData + off * sizeof(ItemIdData) > BLCKSZ)
		return;
	page = RecentPage(buf);
	lpoff = ((ItemId) (page + SizeOfPageHeaderData + (off - 1) * sizeof(ItemIdData)))->lp_off;
	if (lpoff < SizeOfPageHeaderData || lpoff > BLCKSZ - 192)
		return;
	__builtin_prefetch(page + lpoff);
	__builtin_prefetch(page + lpoff + 64);
	__builtin_prefetch(page + lpoff + 128);
}
