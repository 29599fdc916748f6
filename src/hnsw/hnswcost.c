/*-------------------------------------------------------------------------
 *
 * hnswcost.c
 *	  Cost estimate for vsearch_hnsw scans.
 *
 * Design: a search touches about 2·m·ef_search elements however large the
 * table, so the startup cost is that fraction of a full index scan, while
 * the total cost is the full scan a query without LIMIT would make the
 * streaming search do.  The planner therefore takes the index for
 * ORDER BY ... LIMIT k on tables large enough for it to pay, and an exact
 * sort without LIMIT.
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswcost.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "hnsw/hnsw.h"
#include "utils/float.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"

/*
 * hnswcostestimate is amcostestimate.  Without ORDER BY the index is
 * useless (it cannot evaluate WHERE clauses), so the cost is infinite.
 */
void
hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				 Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation,
				 double *indexPages)
{
	GenericCosts costs;
	Relation	index;
	int			m;
	double		visited;
	double		ratio;

	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);

	index = index_open(path->indexinfo->indexoid, NoLock);
	m = HnswGetOptions(index)->m;
	index_close(index, NoLock);

	visited = 2.0 * m * hnsw_ef_search;
	ratio = path->indexinfo->tuples > 0 ? Min(1.0, visited / path->indexinfo->tuples) : 1.0;

	*indexStartupCost = costs.indexTotalCost * ratio;
	*indexTotalCost = costs.indexTotalCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}
