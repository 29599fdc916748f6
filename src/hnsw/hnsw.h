/*-------------------------------------------------------------------------
 *
 * hnsw.h
 *	  Private API of the vsearch_hnsw access method.
 *
 * Design: the graph algorithm (hnswgraph.c) is written once against
 * HnswGraphOps callbacks, and runs both on the in-memory graph of a build
 * and on index pages (inserts, scans), so build and insert give the same
 * graph shape.
 *
 * IDENTIFICATION
 *	  src/hnsw/hnsw.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_HNSW_H
#define VSEARCH_HNSW_H

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "common/vsheap.h"
#include "common/vskeys.h"
#include "common/vstidset.h"
#include "hnsw/hnsw_page.h"
#include "nodes/pathnodes.h"
#include "utils/float.h"
#include "utils/relcache.h"

/* Reloptions and settings. */
#define HNSW_DEFAULT_M				16
#define HNSW_MIN_M					2
#define HNSW_MAX_M					100
#define HNSW_DEFAULT_EF_CONSTRUCTION	64
#define HNSW_MIN_EF_CONSTRUCTION	4
#define HNSW_MAX_EF_CONSTRUCTION	1000
#define HNSW_DEFAULT_EF_SEARCH		40
#define HNSW_MIN_EF_SEARCH			1
#define HNSW_MAX_EF_SEARCH			1000
#define HNSW_MAX_DIM				2000
/* Largest first-round window a caller's row hint (common/vshint.h) asks for. */
#define HNSW_MAX_FIRST_WINDOW		10000
#define HNSW_WIDEN_MIN_PASS			0.25	/* below, no wider first round */
/*
 * Seeds of a layer search with a window of the given size: the layer
 * above is searched with a window of a fifth of it, 4 to 16 elements, and
 * all it finds start the search (a scan's layer 0: hnswscan.c StartSearch;
 * a new element's first layer in the in-memory build: InsertInMemory).
 */
#define HNSW_SEEDS(window)			Min(Max((window) / 5, 4), 16)

/* Support function numbers of the opclasses. */
#define HNSW_DISTANCE_PROC		1	/* (vector, vector) -> float8, orders like the operator */
#define HNSW_NORM_PROC			2	/* optional (vector) -> float8: normalise before use */

/* Build sub-phases reported in pg_stat_progress_create_index. */
#define HNSW_PHASE_LOAD			2
#define HNSW_PHASE_WRITE		3

/* Heavyweight lock serialising vacuum's graph repair against inserts. */
#define HNSW_UPDATE_LOCK		0

typedef struct HnswOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int			m;
	int			ef_construction;
} HnswOptions;

extern int	hnsw_ef_search;

/*
 * How distances are computed for one index: a kernel when the opclass's
 * support function is one of vsearch's own, otherwise through fmgr.
 */
typedef enum HnswMetricKind
{
	HNSW_METRIC_L2SQ,
	HNSW_METRIC_NEG_DOT,
	HNSW_METRIC_L1,
	HNSW_METRIC_FMGR
} HnswMetricKind;

typedef struct HnswMetric
{
	HnswMetricKind kind;
	FmgrInfo   *distproc;
	FmgrInfo   *normproc;		/* NULL unless the opclass normalises */
	Oid			collation;
} HnswMetric;

/* Everything a page-level search needs. */
typedef struct HnswDiskCtx
{
	Relation	index;
	HnswMetric	metric;
	int			m;
	int			dim;
	Vector	   *query;
	VsTidSet   *visited;
	VsTidSet   *deleted;		/* elements seen with deleted = 1, or NULL */
} HnswDiskCtx;

/*
 * Graph access for the search and selection algorithms.  Ids are element
 * indexes (build) or packed TIDs (pages).
 */
typedef struct HnswGraphOps
{
	/* marks id visited; false if it already was */
	bool		(*visit) (void *ctx, uint64 id);
	/* distance from the query to id; false if id is not a usable element */
	bool		(*distance) (void *ctx, uint64 id, float *dist);
	/* neighbours of id on layer lc into out (capacity max); returns count */
	int			(*neighbors) (void *ctx, uint64 id, int lc, uint64 *out, int max);
	/* distance between two elements, for neighbour selection */
	float		(*pair_distance) (void *ctx, uint64 a, uint64 b);
	/* distances from the query to n elements; ok[i] false if unusable */
	void		(*distances) (void *ctx, const uint64 *ids, int n, float *dists, bool *ok);
} HnswGraphOps;

extern int	HnswSelectLocal(const HnswMetric *metric, const VsHeapEntry *sorted, int ncands,
							Vector **vecs, int max, VsHeapEntry *out);
extern void HnswRankRedundant(const Vector *center, Vector **vecs, int n, int *rank,
							  int *sibling);
extern void HnswSortEntries(VsHeapEntry *entries, int n);

/* hnswhandler.c */
extern void VsHnswInit(void);

/* hnswgraph.c: the algorithm */
extern int	HnswRandomLevel(int m);
extern int	HnswExpand(const HnswGraphOps *ops, void *ctx, uint64 id, int lc,
					   uint64 *nbrs, int maxn, float *dists, bool *ok);
extern void HnswSearchLayer(const HnswGraphOps *ops, void *ctx,
							const VsHeapEntry *entries, int nentries,
							int ef, int lc, int m, VsHeap *result);
extern VsHeapEntry *HnswHeapToSorted(VsHeap *heap, int *count);
extern int	HnswSelectNeighbors(const HnswGraphOps *ops, void *ctx,
								const VsHeapEntry *sorted, int ncands, int max,
								VsHeapEntry *out, bool *kept);

/* hnswutils.c: options, metric, pages, tuples */
extern HnswOptions *HnswGetOptions(Relation index);
extern void HnswInitMetric(Relation index, HnswMetric *metric);
extern float HnswDistance(const HnswMetric *metric, const Vector *a, const Vector *b);

/*
 * HnswPrunes says whether a member at distance pair from a candidate makes
 * the candidate redundant when the candidate is at distance dist from the
 * element whose list is chosen: the member is at most as far from it.
 * Distances between vectors with huge elements overflow float4 to +inf,
 * and a tie of two infinities says nothing about positions: it never
 * prunes, or an element infinitely far from the others would be left out
 * of every list and could not be reached.
 */
static inline bool
HnswPrunes(float pair, float dist)
{
	return pair < dist || (pair == dist && dist != get_float4_infinity());
}

/*
 * An element on one layer, as one 64-bit key (element key from VsTidToKey,
 * layer 0..HNSW_MAX_LEVEL): the insert's list cache and the checker's
 * search states use it.
 */
static inline uint64
HnswLayerKey(uint64 key, int lc)
{
	return key * (HNSW_MAX_LEVEL + 1) + lc;
}

static inline uint64
HnswLayerKeyElement(uint64 layerkey)
{
	return layerkey / (HNSW_MAX_LEVEL + 1);
}

static inline int
HnswLayerKeyLayer(uint64 layerkey)
{
	return (int) (layerkey % (HNSW_MAX_LEVEL + 1));
}

extern Vector *HnswPrepareVector(const HnswMetric *metric, Datum value, int expect_dim);
extern Size HnswElementSize(Relation index, int dim, IndexTuple keys);
extern void HnswFillElement(HnswElementTuple etup, int level, Vector *vec,
							ItemPointer heaptid, IndexTuple keys);
extern IndexTuple HnswElementKeys(Relation index, HnswElementTuple etup);
extern void HnswInitPage(Page page, uint16 flags);
extern void HnswReadMeta(Relation index, HnswMetaPageData *meta);
extern Buffer HnswNewBuffer(Relation index);
extern void HnswWriteEmptyMetapage(Relation index, ForkNumber fork, int dim, int m, int efc, bool wal);
extern bool HnswPageAddTuple(Page page, Item item, Size size, OffsetNumber *offno);
extern bool HnswPageFits(Page page, Size size);
typedef void (*HnswElementFn) (HnswElementTuple etup, ItemPointer tid, void *arg);
extern void HnswForEachElement(Relation index, BlockNumber blkno,
							   BufferAccessStrategy strategy, HnswElementFn fn, void *arg);
extern Size HnswPageReusableSpace(Page page);
extern const HnswGraphOps HnswDiskOps;
extern void HnswDiskCtxInit(HnswDiskCtx *ctx, Relation index, Vector *query);
extern Vector *HnswLoadVector(Relation index, ItemPointer tid, int *level);
extern int	HnswLoadNeighbors(Relation index, ItemPointer elemtid, int lc, int m,
							  ItemPointerData *out, ItemPointerData *nbrtid);
extern void HnswLoadEntry(HnswDiskCtx *ctx, HnswMetaPageData *meta,
						  VsHeapEntry *entry, bool *found);
extern void HnswDescend(HnswDiskCtx *ctx, VsHeapEntry *ep, int top, int bottom);
extern VsHeapEntry *HnswDescendSeeds(HnswDiskCtx *ctx, VsHeapEntry *ep, int top,
									 int ef, int *nseeds);

/* hnswinsert.c */
extern void HnswInsertVector(Relation index, Vector *vec, IndexTuple keys,
							 ItemPointer heaptid, bool building);

/* hnswbuild.c, hnswinsert.c, hnswscan.c, hnswvacuum.c, hnswvalidate.c, hnswcost.c */
extern IndexBuildResult *hnswbuild(Relation heap, Relation index, struct IndexInfo *indexInfo);
extern void hnswbuildempty(Relation index);
extern bool hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
					   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
					   struct IndexInfo *indexInfo);
extern IndexScanDesc hnswbeginscan(Relation index, int nkeys, int norderbys);
extern void hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
extern bool hnswgettuple(IndexScanDesc scan, ScanDirection dir);
extern void hnswendscan(IndexScanDesc scan);
extern IndexBulkDeleteResult *hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
											 IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);
extern bool hnswvalidate(Oid opclassoid);
extern void hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
							 Cost *indexStartupCost, Cost *indexTotalCost,
							 Selectivity *indexSelectivity, double *indexCorrelation,
							 double *indexPages);

/* One page change, WAL-logged through Generic WAL unless wal is false. */
typedef struct HnswEdit
{
	GenericXLogState *state;
	bool		wal;
	int			nbuf;
	Buffer		bufs[MAX_GENERIC_XLOG_PAGES];
} HnswEdit;

extern void HnswEditBegin(HnswEdit *edit, Relation index, bool wal);
extern Page HnswEditPage(HnswEdit *edit, Buffer buf, bool fullimage);
extern void HnswEditFinish(HnswEdit *edit);
extern void HnswEditAbort(HnswEdit *edit);

#endif							/* VSEARCH_HNSW_H */
