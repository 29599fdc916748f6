/*-------------------------------------------------------------------------
 *
 * ivf.h
 *	  Private API of the ivf room: the vsearch_ivf index access method.
 *
 * Design: the index is an inverted file.  k-means centroids partition the
 * vectors into lists; a search ranks the lists by centroid distance, reads
 * the nearest `probes` lists and, when the executor asks for more rows,
 * goes on with the next lists in the same order until every list was read.
 * Only vsearch.c includes this header from outside the room (for VsIvfInit).
 *
 * IDENTIFICATION
 *	  src/ivf/ivf.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_IVF_H
#define VSEARCH_IVF_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "common/pg_prng.h"
#include "common/vskeys.h"
#include "distance/distance.h"
#include "ivf/ivf_page.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "utils/relcache.h"

/* Reloption "lists": 0 (the default) chooses from the row count at build. */
#define IVF_MIN_LISTS			0
#define IVF_MAX_LISTS			32768
#define IVF_DEFAULT_LISTS		0

/*
 * GUC vsearch.probes: lists read before the first row is returned.  0 (the
 * default) means ceil(sqrt(lists)).
 */
#define IVF_MIN_PROBES			0
#define IVF_MAX_PROBES			IVF_MAX_LISTS
#define IVF_DEFAULT_PROBES		0

/* Training sample: this many rows per list, bounded by maintenance_work_mem. */
#define IVF_SAMPLE_ROWS_PER_LIST	50

/* Subphases of CREATE INDEX reported in pg_stat_progress_create_index. */
#define IVF_PHASE_SAMPLE		2
#define IVF_PHASE_KMEANS		3
#define IVF_PHASE_ASSIGN		4
#define IVF_PHASE_LOAD			5

/* Support function 1: the opclass's distance in an order-preserving form. */
#define IVF_DISTANCE_PROC		1
#define IVF_NPROC				1

/* Parsed reloptions (a varlena, as build_reloptions makes it). */
typedef struct IvfOptions
{
	int32		vl_len_;
	int			lists;
} IvfOptions;

/*
 * Per-backend copy of an index's centroids, kept in rd_amcache (so in the
 * index's rd_indexcxt, freed by relcache invalidation, which REINDEX and
 * TRUNCATE send).  It is valid while relNode matches and nlists > 0: the
 * centroids of a trained index never change.  An index with no list yet is
 * re-read on every use.
 */
typedef struct IvfCache
{
	Oid			relNode;		/* relfilenode the cache was read from */
	int			dims;
	int			nlists;
	int			metric;
	float	   *centroids;		/* nlists * dims */
	BlockNumber *startPages;	/* first page of each list */
	ItemPointerData *centroidTids;	/* where each centroid tuple lives */
} IvfCache;

/* vsearch.probes */
extern int	ivf_probes;

/* ivfhandler.c */
extern void VsIvfInit(void);
extern bytea *ivfoptions(Datum reloptions, bool validate);

/* ivfbuild.c */
extern IndexBuildResult *ivfbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void ivfbuildempty(Relation index);
extern char *ivfbuildphasename(int64 phasenum);

/* ivfinsert.c */
extern bool ivfinsert(Relation index, Datum *values, bool *isnull,
					  ItemPointer heap_tid, Relation heap,
					  IndexUniqueCheck checkUnique, bool indexUnchanged,
					  IndexInfo *indexInfo);

/* ivfscan.c */
extern IndexScanDesc ivfbeginscan(Relation index, int nkeys, int norderbys);
extern void ivfrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
					  ScanKey orderbys, int norderbys);
extern bool ivfgettuple(IndexScanDesc scan, ScanDirection dir);
extern void ivfendscan(IndexScanDesc scan);

/* ivfvacuum.c */
extern IndexBulkDeleteResult *ivfbulkdelete(IndexVacuumInfo *info,
											IndexBulkDeleteResult *stats,
											IndexBulkDeleteCallback callback,
											void *callback_state);
extern IndexBulkDeleteResult *ivfvacuumcleanup(IndexVacuumInfo *info,
											   IndexBulkDeleteResult *stats);

/* ivfvalidate.c */
extern bool ivfvalidate(Oid opclassoid);

/* ivfcost.c */
extern void ivfcostestimate(PlannerInfo *root, IndexPath *path,
							double loop_count, Cost *indexStartupCost,
							Cost *indexTotalCost, Selectivity *indexSelectivity,
							double *indexCorrelation, double *indexPages);

/* ivfutils.c */
extern int	IvfGetMetric(Relation index);
extern int	IvfDefaultLists(double rows);
extern int	IvfEffectiveProbes(int nlists);
extern int	IvfColumnDims(Relation index);
extern void IvfCheckIndexDims(int dims);
extern bool IvfPrepareVector(int metric, const float *in, int dims, float *out);
extern Size IvfListTupleSize(Relation index, int dims, IndexTuple keys);
extern IvfListTuple IvfFormListTuple(Relation index, int dims, ItemPointer heaptid,
									 const float *x, IndexTuple keys, Size *size);
extern void IvfInitPage(Page page, uint16 flags);
extern void IvfInitMetaPage(Page page, int dims, int metric, int requestedLists);
extern void IvfCheckMetaPage(Relation index, Page page);
extern Buffer IvfNewBuffer(Relation index);
extern Buffer IvfReadListPage(Relation index, BlockNumber blkno, int mode,
							  BufferAccessStrategy strategy);
extern const IvfCache *IvfGetCache(Relation index);
extern int	IvfNearestList(const float *centroids, int nlists, int dims,
						   int metric, const float *x);

/* ivfkmeans.c */
extern Size IvfKmeansMemory(int n, int dims, int k);
extern void IvfKmeans(const float *samples, int n, int dims, int k,
					  int metric, float *centroids, pg_prng_state *rng);

/*
 * IvfDistance returns the order-preserving distance between two prepared
 * vectors of dims floats: squared L2, or the negative dot product (inner
 * product and cosine; cosine vectors are unit length).  Never errors.
 */
static inline float
IvfDistance(int metric, const float *a, const float *b, int dims)
{
	if (metric == IVF_METRIC_L2)
		return VsL2Squared(a, b, dims);
	return -VsDot(a, b, dims);
}

/* How many distances the callers of IvfDistanceMany compute per call. */
#define IVF_DISTANCE_CHUNK 256

/*
 * IvfDistanceMany sets out[j] = IvfDistance(metric, a, ys + j * dims, dims)
 * for j < count (the vectors of ys one after another), with the batched
 * kernels, which give the same results bit for bit.  Never errors.
 */
static inline void
IvfDistanceMany(int metric, const float *a, const float *ys, int dims, int count,
				float *out)
{
	if (metric == IVF_METRIC_L2)
		VsL2SquaredMany(a, ys, dims, count, out);
	else
	{
		VsDotMany(a, ys, dims, count, out);
		for (int j = 0; j < count; j++)
			out[j] = -out[j];
	}
}

#endif							/* VSEARCH_IVF_H */
