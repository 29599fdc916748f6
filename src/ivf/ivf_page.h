/*-------------------------------------------------------------------------
 *
 * ivf_page.h
 *	  On-disk structures of the vsearch_ivf index: metapage, centroid
 *	  pages and list pages.  Nothing in this file lives only in memory.
 *
 * Design: every page is a standard slotted page (pd_lower/pd_upper valid,
 * so generic WAL and log_newpage_range can compress the hole) with the
 * same special space, which names the page kind and links pages of one
 * chain.  Lists are chains of pages that are only ever appended to or
 * compacted in place; no page is ever unlinked, so a scan that follows a
 * next pointer after dropping its lock always lands on a page of the same
 * list.
 *
 * IDENTIFICATION
 *	  src/ivf/ivf_page.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_IVF_PAGE_H
#define VSEARCH_IVF_PAGE_H

#include "access/itup.h"
#include "storage/block.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"

/* Block 0 is always the metapage. */
#define IVF_METAPAGE_BLKNO		0

#define IVF_MAGIC				0x49564631	/* "IVF1" */
/* Bump on any incompatible change of this file; old indexes must be rebuilt. */
#define IVF_FORMAT_VERSION		1

/* Page kinds, in IvfPageOpaqueData.flags. */
#define IVF_PAGE_META			0x0001
#define IVF_PAGE_CENTROID		0x0002
#define IVF_PAGE_LIST			0x0004
#define IVF_PAGE_KIND_MASK		0x0007

/* Marks a page as ours in IvfPageOpaqueData.page_id (as btree's BTP_ID). */
#define IVF_PAGE_ID				0xFF91

/*
 * Special space of every page.  nextblkno links the centroid pages into
 * one chain and the pages of each list into one chain per list;
 * InvalidBlockNumber ends a chain.
 */
typedef struct IvfPageOpaqueData
{
	BlockNumber nextblkno;
	uint16		flags;
	uint16		page_id;
} IvfPageOpaqueData;

typedef IvfPageOpaqueData *IvfPageOpaque;

#define IvfPageGetOpaque(page) ((IvfPageOpaque) PageGetSpecialPointer(page))

/*
 * Metric of the operator class, recorded at build so the checker and a
 * later version can tell what the stored vectors mean.
 */
#define IVF_METRIC_L2			1	/* squared Euclidean distance */
#define IVF_METRIC_IP			2	/* negative inner product */
#define IVF_METRIC_COSINE		3	/* vectors stored unit-length; negative dot */

/*
 * The metapage contents, right after the page header; pd_lower points past
 * it so WAL keeps it.
 *
 * dims is 0 while unknown (an index built on an empty table over a column
 * without a typmod).  nlists is 0 until the first row exists; the first
 * insert into such an index creates list 0 (see ivfinsert.c).  Once nlists
 * is non-zero, the centroids never change until the index is rebuilt, which
 * is what lets every backend cache them.
 */
typedef struct IvfMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dims;
	uint32		nlists;
	uint32		metric;
	BlockNumber centroidStart;	/* first centroid page, or Invalid */
	uint32		requestedLists; /* lists asked for (0 = automatic) */
	uint32		reserved;
	uint64		trainedRows;	/* rows the centroids were trained on */
} IvfMetaPageData;

typedef IvfMetaPageData *IvfMetaPage;

#define IvfPageGetMeta(page) ((IvfMetaPage) PageGetContents(page))

/*
 * One centroid, an item on a centroid page.  Centroids are stored in list
 * number order along the centroid chain.  startPage is the first page of
 * the list and never changes.  insertPage is a hint: a page of the list
 * (not necessarily the last) from which inserts look forward for room;
 * inserts move it forward, vacuum moves it back to the first page that got
 * room.  x holds dims floats (unit length under cosine).
 */
typedef struct IvfCentroidTupleData
{
	BlockNumber startPage;
	BlockNumber insertPage;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} IvfCentroidTupleData;

typedef IvfCentroidTupleData *IvfCentroidTuple;

#define IVF_CENTROID_TUPLE_SIZE(dims) \
	(offsetof(IvfCentroidTupleData, x) + sizeof(float) * (Size) (dims))

/*
 * One indexed row, an item on a list page: the heap TID and the vector
 * (normalised under cosine).  An index with key columns after its vector
 * column (common/vskeys.h) appends the key tuple, an IndexTuple, at
 * MAXALIGN(IVF_LIST_TUPLE_SIZE(dims)); the item's length covers it.
 */
typedef struct IvfListTupleData
{
	ItemPointerData heaptid;
	uint16		unused;			/* zero; keeps x 4-byte aligned */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} IvfListTupleData;

typedef IvfListTupleData *IvfListTuple;

#define IVF_LIST_TUPLE_SIZE(dims) \
	(offsetof(IvfListTupleData, x) + sizeof(float) * (Size) (dims))

/* The key tuple of a list tuple of an index with key columns. */
#define IVF_LIST_TUPLE_KEYS(lt, dims) \
	((IndexTuple) ((char *) (lt) + MAXALIGN(IVF_LIST_TUPLE_SIZE(dims))))

/*
 * Most dimensions an index supports: one list tuple and one centroid tuple
 * must each fit an empty page.  2,000 is pgvector's limit too, so a schema
 * moves between the two extensions.
 */
#define IVF_MAX_DIM				2000

/* Room for items on an empty page of ours. */
#define IVF_PAGE_ITEM_SPACE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfPageOpaqueData)) - sizeof(ItemIdData))

StaticAssertDecl(MAXALIGN(IVF_LIST_TUPLE_SIZE(IVF_MAX_DIM)) <= IVF_PAGE_ITEM_SPACE,
				 "a list tuple of IVF_MAX_DIM dimensions must fit a page");
StaticAssertDecl(MAXALIGN(IVF_CENTROID_TUPLE_SIZE(IVF_MAX_DIM)) <= IVF_PAGE_ITEM_SPACE,
				 "a centroid tuple of IVF_MAX_DIM dimensions must fit a page");

#endif							/* VSEARCH_IVF_PAGE_H */
