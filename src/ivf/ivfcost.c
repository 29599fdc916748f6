/*-------------------------------------------------------------------------
 *
 * ivfcost.c
 *	  Cost estimate for vsearch_ivf scans.
 *
 * Design: rows come out only after the first `probes` lists were read and
 * ranked, so that part is startup cost; reading the rest of the index is
 * run cost, paid only by a caller that keeps asking.  With a LIMIT the
 * planner pays startup plus a sliver of the run and picks the index; with
 * no LIMIT it sees the whole index read plus a random heap fetch per row
 * and prefers an exact sequential scan and sort.  Without an ORDER BY
 * operator the index cannot be used at all.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfcost.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "ivf/ivf.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"

/*
 * ivfcostestimate fills in the planner's cost estimate for an index path.
 * Reads the index's metapage and centroids through the backend's cache.
 * Conditions on key columns lengthen the search instead of shortening it:
 * the first rows need about 1/selectivity as many lists.
 */
void
ivfcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				Cost *indexStartupCost, Cost *indexTotalCost,
				Selectivity *indexSelectivity, double *indexCorrelation,
				double *indexPages)
{
	GenericCosts costs;
	Relation	index;
	int			nlists;
	double		ratio;
	double		distCost;
	Cost		centroidCost;
	Cost		pageCost;
	Cost		rowCost;
	double		firstRows;

	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = disable_cost;
		*indexTotalCost = disable_cost;
		*indexSelectivity = 0.0;
		*indexCorrelation = 0.0;
		*indexPages = 0.0;
		return;
	}

	index = index_open(path->indexinfo->indexoid, NoLock);
	{
		const IvfCache *cache = IvfGetCache(index);

		nlists = cache->nlists;
	}
	index_close(index, NoLock);

	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = Max(path->indexinfo->tuples, 1.0);
	genericcostestimate(root, path, loop_count, &costs);

	/*
	 * Our own page and row costs replace the generic ones: a list is a run
	 * of consecutive pages after a build, so its pages cost seq_page_cost
	 * (random_page_cost would make an index larger than its table look
	 * dearer than reading the table), and a distance costs one operator,
	 * as the distance functions' procost says, so the index and an exact
	 * sort are weighed alike.
	 */
	ratio = nlists > 0 ? (double) IvfEffectiveProbes(nlists) / nlists : 1.0;
	/* conditions on key columns: about 1/selectivity as many lists to read */
	if (path->indexclauses != NIL)
		ratio = Min(1.0, ratio / Max(costs.indexSelectivity, 1.0 / costs.numIndexTuples));
	distCost = cpu_operator_cost;
	centroidCost = (double) nlists * distCost;
	pageCost = path->indexinfo->pages * seq_page_cost;
	rowCost = costs.numIndexTuples * (cpu_index_tuple_cost + distCost);
	firstRows = costs.numIndexTuples * ratio;

	*indexStartupCost = centroidCost + ratio * (pageCost + rowCost) +
		firstRows * log2(Max(firstRows, 2.0)) * cpu_operator_cost;
	*indexTotalCost = centroidCost + pageCost + rowCost +
		costs.numIndexTuples * log2(Max(firstRows, 2.0)) * cpu_operator_cost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0.0;
	*indexPages = costs.numIndexPages;
}
