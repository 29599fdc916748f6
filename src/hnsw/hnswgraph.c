/*-------------------------------------------------------------------------
 *
 * hnswgraph.c
 *	  The HNSW algorithm: level sampling, best-first layer search and the
 *	  neighbour-selection heuristic.
 *
 * Design: pure algorithm over HnswGraphOps callbacks, with no knowledge of
 * pages or of the build's arrays, so one implementation serves the
 * in-memory build, inserts and scans (Malkov & Yashunin, "Efficient and
 * robust approximate nearest neighbor search using Hierarchical Navigable
 * Small World graphs", algorithms 2 and 4).
 *
 * IDENTIFICATION
 *	  src/hnsw/hnswgraph.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"

/*
 * HnswRandomLevel draws an element's top layer from the geometric
 * distribution with normalisation factor 1/ln(m), capped at HNSW_MAX_LEVEL.
 */
int
HnswRandomLevel(int m)
{
	double		u = 1.0 - pg_prng_double(&pg_global_prng_state);	/* (0, 1] */
	double		level = -log(u) / log((double) m);

	return (int) Min(level, (double) HNSW_MAX_LEVEL);
}

/*
 * HnswExpand lists the neighbours of id on layer lc not visited yet (and
 * marks them visited) and computes their distances to the query, in one
 * batch when the graph offers it, so page reads can overlap.  Returns the
 * number of neighbours in nbrs; ok[i] is false for unusable ones.
 */
int
HnswExpand(const HnswGraphOps *ops, void *ctx, uint64 id, int lc,
		   uint64 *nbrs, int maxn, float *dists, bool *ok)
{
	int			n = ops->neighbors(ctx, id, lc, nbrs, maxn);
	int			fresh = 0;

	for (int i = 0; i < n; i++)
		if (ops->visit(ctx, nbrs[i]))
			nbrs[fresh++] = nbrs[i];
	if (ops->distances)
		ops->distances(ctx, nbrs, fresh, dists, ok);
	else
		for (int i = 0; i < fresh; i++)
			ok[i] = ops->distance(ctx, nbrs[i], &dists[i]);
	return fresh;
}

/*
 * HnswSearchLayer runs the best-first search of one layer from the given
 * entries (already visited, distances known) and leaves the ef closest
 * elements found in result, a max-heap the caller created empty.
 * Allocates in CurrentMemoryContext; the caller resets it.
 */
void
HnswSearchLayer(const HnswGraphOps *ops, void *ctx,
				const VsHeapEntry *entries, int nentries,
				int ef, int lc, int m, VsHeap *result)
{
	VsHeap		cand;
	int			maxn = HNSW_LAYER_SLOTS(lc, m);
	uint64	   *nbrs = palloc(sizeof(uint64) * maxn);
	float	   *dists = palloc(sizeof(float) * maxn);
	bool	   *ok = palloc(sizeof(bool) * maxn);

	VsHeapInit(&cand, Max(ef * 2, nentries), false);
	for (int i = 0; i < nentries; i++)
	{
		VsHeapPush(&cand, entries[i].dist, entries[i].id);
		VsHeapPush(result, entries[i].dist, entries[i].id);
		if (result->count > ef)
			VsHeapPop(result);
	}

	while (cand.count > 0)
	{
		VsHeapEntry c = *VsHeapTop(&cand);
		int			n;

		if (result->count >= ef && c.dist > VsHeapTop(result)->dist)
			break;
		VsHeapPop(&cand);
		CHECK_FOR_INTERRUPTS();

		n = HnswExpand(ops, ctx, c.id, lc, nbrs, maxn, dists, ok);
		for (int i = 0; i < n; i++)
		{
			float		d = dists[i];

			if (!ok[i])
				continue;
			if (result->count < ef || d < VsHeapTop(result)->dist)
			{
				VsHeapPush(&cand, d, nbrs[i]);
				VsHeapPush(result, d, nbrs[i]);
				if (result->count > ef)
					VsHeapPop(result);
			}
		}
	}
	pfree(cand.items);
	pfree(nbrs);
	pfree(dists);
	pfree(ok);
}

/*
 * HnswHeapToSorted empties a max-heap into a palloc'd array in ascending
 * distance order.
 */
VsHeapEntry *
HnswHeapToSorted(VsHeap *heap, int *count)
{
	int			n = heap->count;
	VsHeapEntry *out = palloc(sizeof(VsHeapEntry) * Max(n, 1));

	Assert(heap->max);
	for (int i = n - 1; i >= 0; i--)
		out[i] = VsHeapPop(heap);
	*count = n;
	return out;
}

/*
 * HnswSelectNeighbors applies the heuristic of algorithm 4: walking the
 * candidates from the closest, keep one only if it is closer to the new
 * element than to every neighbour kept so far.  This spreads links across
 * directions.  The list is then filled up to max with the closest
 * candidates the heuristic passed over (the paper's keepPrunedConnections):
 * on clustered data the heuristic alone keeps only a handful of links,
 * which costs recall, and a full list that drops only its farthest members
 * keeps elements' in-links.  Writes at most max entries to out, in
 * selection order, and returns how many; when kept is not NULL, kept[i]
 * tells whether out[i] was chosen by the heuristic (not a filler).
 */
int
HnswSelectNeighbors(const HnswGraphOps *ops, void *ctx,
					const VsHeapEntry *sorted, int ncands, int max,
					VsHeapEntry *out, bool *kept)
{
	int			count = 0;
	bool	   *taken = palloc0(sizeof(bool) * Max(ncands, 1));

	for (int i = 0; i < ncands && count < max; i++)
	{
		bool		keep = true;

		for (int j = 0; j < count; j++)
		{
			if (HnswPrunes(ops->pair_distance(ctx, sorted[i].id, out[j].id), sorted[i].dist))
			{
				keep = false;
				break;
			}
		}
		if (keep)
		{
			if (kept)
				kept[count] = true;
			out[count++] = sorted[i];
			taken[i] = true;
		}
	}
	for (int i = 0; i < ncands && count < max; i++)
	{
		if (!taken[i])
		{
			if (kept)
				kept[count] = false;
			out[count++] = sorted[i];
		}
	}
	pfree(taken);
	return count;
}
