/*-------------------------------------------------------------------------
 *
 * hnsw_page.h
 *	  On-disk layout of vsearch_hnsw indexes.  Structs only.
 *
 * Design: block 0 is the metapage; every other page holds element tuples
 * (the vector and up to HNSW_HEAPTIDS heap TIDs) and neighbour tuples (a
 * fixed-size array of index TIDs per layer).  An element names its
 * neighbour tuple by TID, so neighbour lists are rewritten in place without
 * moving the larger element tuple, and big vectors may leave the
 * neighbour tuple on another page.  TIDs of tuples never change: vacuum
 * marks freed tuples reusable instead of removing line pointers.
 *
 * IDENTIFICATION
 *	  src/hnsw/hnsw_page.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_HNSW_PAGE_H
#define VSEARCH_HNSW_PAGE_H

#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "types/vector.h"

#define HNSW_MAGIC			0x56534857	/* "VSHW" */
#define HNSW_VERSION		1
#define HNSW_METAPAGE_BLKNO	0
#define HNSW_HEAPTIDS		10	/* heap TIDs one element can hold */
#define HNSW_MAX_LEVEL		15

/* Page special space: identifies the page kind. */
typedef struct HnswPageOpaqueData
{
	uint16		flags;
	uint16		page_id;		/* HNSW_PAGE_ID, for pg_filedump */
} HnswPageOpaqueData;

typedef HnswPageOpaqueData *HnswPageOpaque;

#define HNSW_PAGE_ID		0xFF91
#define HNSW_PAGE_META		0x0001
#define HNSW_PAGE_ELEMENTS	0x0002

#define HnswPageGetOpaque(page) ((HnswPageOpaque) PageGetSpecialPointer(page))

/* Metapage contents, after the page header. */
typedef struct HnswMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dimensions;
	uint16		m;
	uint16		ef_construction;
	ItemPointerData entry;		/* entry element, invalid when empty */
	int16		entry_level;	/* -1 when empty */
	uint16		unused;
	BlockNumber insert_page;	/* last page with room seen by inserts */
	uint64		elements;		/* elements the build wrote; inserts do not
								 * maintain it (statistics only) */
} HnswMetaPageData;

typedef HnswMetaPageData *HnswMetaPage;

#define HnswPageGetMeta(page) ((HnswMetaPage) PageGetContents(page))

/* Tuple kinds. */
#define HNSW_ELEMENT_TUPLE	1
#define HNSW_NEIGHBOR_TUPLE	2
#define HNSW_FREE_TUPLE		3	/* freed by vacuum; may be overwritten */

/*
 * Element tuple: the indexed vector (normalised for cosine) and the heap
 * rows holding it.  Identical vectors (with identical key values) share
 * one element until it holds HNSW_HEAPTIDS rows.  deleted = 1 once vacuum
 * removed every heap TID; the element is then skipped by scans and
 * unlinked before being freed.
 *
 * An index with key columns after the vector column (common/vskeys.h)
 * appends the key tuple, an IndexTuple, at HNSW_ELEMENT_TUPLE_SIZE(dim)
 * from the start of the element; the item's length covers it.
 */
typedef struct HnswElementTupleData
{
	uint8		type;
	uint8		level;
	uint8		deleted;
	uint8		unused;
	ItemPointerData heaptids[HNSW_HEAPTIDS];	/* invalid = empty slot */
	ItemPointerData neighbortid;
	uint16		unused2;
	Vector		vec;			/* varlena; dim elements follow */
} HnswElementTupleData;

typedef HnswElementTupleData *HnswElementTuple;

#define HNSW_ELEMENT_TUPLE_SIZE(dim) \
	MAXALIGN(offsetof(HnswElementTupleData, vec) + VECTOR_SIZE(dim))

/* The largest element tuple (vector and keys) a page can hold alone. */
#define HNSW_MAX_ELEMENT_SIZE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData)) - \
	 sizeof(ItemIdData))

/*
 * Neighbour tuple: layer 0 holds 2m slots, every other layer m slots;
 * layer 0 first.  Unused slots are invalid TIDs.
 */
typedef struct HnswNeighborTupleData
{
	uint8		type;
	uint8		unused;
	uint16		count;			/* total slots */
	ItemPointerData tids[FLEXIBLE_ARRAY_MEMBER];
} HnswNeighborTupleData;

typedef HnswNeighborTupleData *HnswNeighborTuple;

#define HNSW_NEIGHBOR_SLOTS(level, m)	((level) * (m) + 2 * (m))
#define HNSW_NEIGHBOR_TUPLE_SIZE(level, m) \
	MAXALIGN(offsetof(HnswNeighborTupleData, tids) + \
			 sizeof(ItemPointerData) * HNSW_NEIGHBOR_SLOTS(level, m))

/* First slot of layer lc in a neighbour tuple, and its slot count. */
#define HNSW_LAYER_START(lc, m)	((lc) == 0 ? 0 : 2 * (m) + ((lc) - 1) * (m))
#define HNSW_LAYER_SLOTS(lc, m)	((lc) == 0 ? 2 * (m) : (m))

#endif							/* VSEARCH_HNSW_PAGE_H */
