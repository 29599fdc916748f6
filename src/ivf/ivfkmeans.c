/*-------------------------------------------------------------------------
 *
 * ivfkmeans.c
 *	  k-means for training the lists of a vsearch_ivf index: k-means++
 *	  seeding, then Lloyd iterations accelerated with Hamerly's bounds.
 *
 * Design: a pure algorithm on float arrays, independent of pages and
 * relations; the caller owns every input and output buffer and has already
 * checked the memory it needs against maintenance_work_mem
 * (IvfKmeansMemory).  Training always minimises squared L2: for cosine the
 * samples arrive unit-length and centroids are renormalised after every
 * update (spherical k-means), where L2 and dot-product order agree.
 * Hamerly's bounds skip a point's search over all centroids whenever its
 * assigned centroid provably stays the nearest, which after the first
 * iterations is most points, so the result is exactly Lloyd's at a
 * fraction of the cost.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfkmeans.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "ivf/ivf.h"
#include "miscadmin.h"
#include "utils/memutils.h"

/* Most Lloyd iterations; training stops earlier once few points move. */
#define IVF_KMEANS_MAX_ITERATIONS	25

/* Above this many centroids the centroid-to-centroid bound is not computed. */
#define IVF_KMEANS_MAX_PEER_BOUND	4096

/*
 * IvfKmeansMemory returns the bytes IvfKmeans allocates for n samples of
 * dims floats and k centroids, not counting the samples and centroids the
 * caller passes in.  Overflow raises an error (add_size/mul_size).
 */
Size
IvfKmeansMemory(int n, int dims, int k)
{
	Size		sz = 0;

	sz = add_size(sz, mul_size(mul_size(k, dims), sizeof(double)));	/* sums */
	sz = add_size(sz, mul_size(mul_size(k, dims), sizeof(float)));	/* old centroids */
	sz = add_size(sz, mul_size(k, sizeof(int) + 3 * sizeof(float)));	/* counts, moves, s */
	sz = add_size(sz, mul_size(n, sizeof(int) + 2 * sizeof(float)));	/* assign, bounds */
	return sz;
}

/* Euclidean (not squared) distance between a and b. */
static inline float
L2(const float *a, const float *b, int dims)
{
	return sqrtf(VsL2Squared(a, b, dims));
}

/*
 * SeedPlusPlus picks k initial centroids from the samples with k-means++:
 * the first uniformly, each next one with probability proportional to its
 * squared distance from the nearest centroid so far.  mindist holds n
 * floats of scratch space.
 */
static void
SeedPlusPlus(const float *samples, int n, int dims, int k, float *centroids,
			 float *mindist, pg_prng_state *rng)
{
	int			i,
				j;
	int			first = (int) pg_prng_uint64_range(rng, 0, n - 1);

	memcpy(centroids, samples + (Size) first * dims, sizeof(float) * dims);
	VsL2SquaredMany(centroids, samples, dims, n, mindist);

	for (j = 1; j < k; j++)
	{
		double		total = 0.0;
		int			pick = -1;
		float	   *c = centroids + (Size) j * dims;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < n; i++)
			total += mindist[i];
		if (total > 0.0 && isfinite(total))
		{
			double		r = pg_prng_double(rng) * total;
			double		acc = 0.0;

			for (i = 0; i < n; i++)
			{
				acc += mindist[i];
				if (acc > r && mindist[i] > 0.0f)
				{
					pick = i;
					break;
				}
			}
		}
		if (pick < 0)
		{
			/* every sample coincides with a centroid: any one will do */
			pick = (int) pg_prng_uint64_range(rng, 0, n - 1);
		}
		memcpy(c, samples + (Size) pick * dims, sizeof(float) * dims);
		for (i = 0; i < n; i += IVF_DISTANCE_CHUNK)
		{
			float		dist[IVF_DISTANCE_CHUNK];
			int			count = Min(IVF_DISTANCE_CHUNK, n - i);

			VsL2SquaredMany(c, samples + (Size) i * dims, dims, count, dist);
			for (int t = 0; t < count; t++)
			{
				if (dist[t] < mindist[i + t])
					mindist[i + t] = dist[t];
			}
		}
	}
}

/* Scales v (dims floats) to unit length; returns false for a zero vector. */
static bool
Normalize(float *v, int dims)
{
	double		norm = 0.0;
	int			i;

	for (i = 0; i < dims; i++)
		norm += (double) v[i] * v[i];
	if (!(norm > 0.0))
		return false;
	norm = sqrt(norm);
	for (i = 0; i < dims; i++)
		v[i] = (float) (v[i] / norm);
	return true;
}

/*
 * FullSearch finds the nearest and second-nearest centroid of x, returning
 * the nearest's number and setting *d1 and *d2 to their Euclidean
 * distances (*d2 is FLT_MAX when k is 1).
 */
static int
FullSearch(const float *x, const float *centroids, int k, int dims,
		   float *d1, float *d2)
{
	float		best = FLT_MAX,
				second = FLT_MAX;
	int			bestj = 0;

	for (int start = 0; start < k; start += IVF_DISTANCE_CHUNK)
	{
		float		dist[IVF_DISTANCE_CHUNK];
		int			count = Min(IVF_DISTANCE_CHUNK, k - start);

		VsL2SquaredMany(x, centroids + (Size) start * dims, dims, count, dist);
		for (int t = 0; t < count; t++)
		{
			float		d = dist[t];

			if (d < best)
			{
				second = best;
				best = d;
				bestj = start + t;
			}
			else if (d < second)
				second = d;
		}
	}
	*d1 = sqrtf(best);
	*d2 = second == FLT_MAX ? FLT_MAX : sqrtf(second);
	return bestj;
}

/*
 * IvfKmeans clusters n samples of dims floats into k centroids, written to
 * centroids (k * dims floats, caller-allocated).  Requires 1 <= k <= n.
 * Under IVF_METRIC_COSINE the samples must be unit length and the
 * centroids come out unit length.  Allocates IvfKmeansMemory(n, dims, k)
 * bytes in CurrentMemoryContext and frees them.  Deterministic for a given
 * rng state.  Checks for interrupts in every long loop.
 */
void
IvfKmeans(const float *samples, int n, int dims, int k, int metric,
		  float *centroids, pg_prng_state *rng)
{
	double	   *sums;
	float	   *old;
	int		   *counts;
	float	   *moved;
	float	   *s;
	int		   *assign;
	float	   *upper;
	float	   *lower;
	int			iter,
				i,
				j;
	bool		spherical = (metric == IVF_METRIC_COSINE);

	Assert(k >= 1 && k <= n);

	sums = palloc_extended(mul_size(mul_size(k, dims), sizeof(double)), MCXT_ALLOC_HUGE);
	old = palloc_extended(mul_size(mul_size(k, dims), sizeof(float)), MCXT_ALLOC_HUGE);
	counts = palloc(sizeof(int) * k);
	moved = palloc(sizeof(float) * k);
	s = palloc(sizeof(float) * k);
	assign = palloc_extended(mul_size(n, sizeof(int)), MCXT_ALLOC_HUGE);
	upper = palloc_extended(mul_size(n, sizeof(float)), MCXT_ALLOC_HUGE);
	lower = palloc_extended(mul_size(n, sizeof(float)), MCXT_ALLOC_HUGE);

	/* upper serves as k-means++ scratch space before the bounds start */
	SeedPlusPlus(samples, n, dims, k, centroids, upper, rng);

	/* first assignment: exact nearest and second-nearest for every point */
	for (i = 0; i < n; i++)
	{
		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		assign[i] = FullSearch(samples + (Size) i * dims, centroids, k, dims,
							   &upper[i], &lower[i]);
	}

	for (iter = 0; iter < IVF_KMEANS_MAX_ITERATIONS; iter++)
	{
		int			changed = 0;
		float		maxmove = 0.0f;

		CHECK_FOR_INTERRUPTS();

		/* update step: each centroid becomes the mean of its points */
		memcpy(old, centroids, sizeof(float) * (Size) k * dims);
		memset(sums, 0, sizeof(double) * (Size) k * dims);
		memset(counts, 0, sizeof(int) * k);
		for (i = 0; i < n; i++)
		{
			const float *x = samples + (Size) i * dims;
			double	   *sum = sums + (Size) assign[i] * dims;
			int			d;

			counts[assign[i]]++;
			for (d = 0; d < dims; d++)
				sum[d] += x[d];
		}
		for (j = 0; j < k; j++)
		{
			float	   *c = centroids + (Size) j * dims;
			int			d;

			if (counts[j] == 0)
			{
				/*
				 * An empty cluster takes the point farthest from its own
				 * centroid (by its upper bound) as its centroid, and that
				 * point joins it, so the next empty cluster picks another.
				 */
				int			far = 0;

				CHECK_FOR_INTERRUPTS(); /* each empty cluster scans every sample */
				for (i = 1; i < n; i++)
					if (upper[i] > upper[far])
						far = i;
				memcpy(c, samples + (Size) far * dims, sizeof(float) * dims);
				/* exact distance 0 to c, and 0 is a valid lower bound */
				assign[far] = j;
				upper[far] = 0.0f;
				lower[far] = 0.0f;
				continue;
			}
			for (d = 0; d < dims; d++)
				c[d] = (float) (sums[(Size) j * dims + d] / counts[j]);
			if (spherical && !Normalize(c, dims))
				memcpy(c, old + (Size) j * dims, sizeof(float) * dims);
		}

		/* how far each centroid moved, and half the gap to its nearest peer */
		for (j = 0; j < k; j++)
		{
			moved[j] = L2(centroids + (Size) j * dims, old + (Size) j * dims, dims);
			if (moved[j] > maxmove)
				maxmove = moved[j];
		}
		for (j = 0; j < k; j++)
		{
			float		best = FLT_MAX;
			int			jj;

			/* the k*k pass costs more than it saves for many lists */
			if (k > IVF_KMEANS_MAX_PEER_BOUND)
			{
				s[j] = 0.0f;
				continue;
			}
			if ((j & 63) == 0)
				CHECK_FOR_INTERRUPTS();
			for (jj = 0; jj < k; jj++)
			{
				float		d;

				if (jj == j)
					continue;
				d = VsL2Squared(centroids + (Size) j * dims, centroids + (Size) jj * dims, dims);
				if (d < best)
					best = d;
			}
			s[j] = best == FLT_MAX ? FLT_MAX : 0.5f * sqrtf(best);
		}

		/* assignment step with Hamerly's bounds */
		for (i = 0; i < n; i++)
		{
			const float *x = samples + (Size) i * dims;
			int			a = assign[i];
			float		bound;

			if ((i & 255) == 0)
				CHECK_FOR_INTERRUPTS();
			upper[i] += moved[a];
			lower[i] -= maxmove;
			bound = Max(s[a], lower[i]);
			if (upper[i] <= bound)
				continue;
			/* tighten the upper bound, then test again */
			upper[i] = L2(x, centroids + (Size) a * dims, dims);
			if (upper[i] <= bound)
				continue;
			assign[i] = FullSearch(x, centroids, k, dims, &upper[i], &lower[i]);
			if (assign[i] != a)
				changed++;
		}

		/*
		 * converged: fewer than 1 point in 100 changed lists (the points
		 * still moving then sit between sibling centroids; 1 in 1,000
		 * took 23 iterations instead of 10 on 1,000 lists for the same
		 * recall, see README)
		 */
		if (changed == 0 || (double) changed < (double) n / 100.0)
			break;
	}

	pfree(sums);
	pfree(old);
	pfree(counts);
	pfree(moved);
	pfree(s);
	pfree(assign);
	pfree(upper);
	pfree(lower);
}
