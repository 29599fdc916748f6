/*-------------------------------------------------------------------------
 *
 * hnswcost.c
 *	  Cost estimate for vsearch_hnsw scans.
 *
 * Design: a search expands about ef_search elements of layer 0 and reads
 * their 2·m neighbours, about half of them new (the rest were seen), plus
 * m per upper layer on the way down: that many tuples however large the
 * table.  The startup cost is that fraction of a full index scan, with its
 * pages charged as sequential reads (a search revisits a small, mostly
 * cached part of the index); the total cost is the full scan, at random
 * page cost, that a query without LIMIT would make the streaming search
 * do.  The planner therefore takes the index for ORDER BY ... LIMIT k on
 * tables large enough for it to pay, and an exact sort without LIMIT.
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
#include "utils/spccache.h"

#include <math.h>

/*
 * hnswcostestimate is amcostestimate.  Without ORDER BY the index is
 * useless (it cannot answer WHERE clauses alone), so the cost is infinite.
 * Conditions on key columns do not shrink the search, they lengthen it:
 * the scan may read the whole index to return every matching row, and
 * reaching the first rows takes about 1/selectivity times the elements.
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
	double		seq_page_cost;

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
	if (path->indexclauses != NIL)
		costs.numIndexTuples = Max(path->indexinfo->tuples, 1.0);
	genericcostestimate(root, path, loop_count, &costs);

	index = index_open(path->indexinfo->indexoid, NoLock);
	{
		HnswMetaPageData meta;

		HnswReadMeta(index, &meta);
		m = meta.m;
	}
	index_close(index, NoLock);

	if (path->indexinfo->tuples > 1)
	{
		double		levels = log(path->indexinfo->tuples) / log((double) m);

		visited = 0.5 * 2.0 * m * hnsw_ef_search + m * levels;
		if (path->indexclauses != NIL)
			visited /= Max(costs.indexSelectivity, 1.0 / path->indexinfo->tuples);
		ratio = Min(1.0, visited / path->indexinfo->tuples);
	}
	else
		ratio = 1.0;

	get_tablespace_page_costs(path->indexinfo->reltablespace, NULL, &seq_page_cost);
	*indexStartupCost = ratio * (costs.indexTotalCost -
								 costs.numIndexPages * (costs.spc_random_page_cost - seq_page_cost));
	*indexTotalCost = costs.indexTotalCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}
