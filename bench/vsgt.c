/*-------------------------------------------------------------------------
 *
 * vsgt.c
 *	  Exact top-k ground truth of the benchmark queries, unfiltered and for
 *	  each filter, cached as one file per filter.
 *
 *	  vsgt --data DIR --out-dir DIR --metric l2|ip|cosine --queries Q
 *	       [--rows N] [--k K] [--filters LIST] [--threads T]
 *
 *	  DIR holds base.vec, base.attr, query.vec and query.attr (see vsdata).
 *	  For each filter it writes <out-dir>/<name>.gt unless a file with the
 *	  same filter, metric, k, base rows and at least Q queries is there.
 *
 * Design: one pass over the base rows serves a batch of queries and every
 * filter at once: each (query, row) distance is computed once in float by
 * the SIMD-friendly kernel and offered to a bounded max-heap per filter;
 * the survivors are then re-scored in double and re-sorted, so the cached
 * order and distances do not depend on float rounding.  k defaults to 100
 * so that recall@10 can count ties at the 10th distance as hits.
 *
 * IDENTIFICATION
 *	  bench/vsgt.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsbench.h"

#define BATCH 8

typedef struct HeapItem
{
	float		dist;
	int32_t		id;
} HeapItem;

/* a max-heap of at most cap items: the root is the worst kept neighbour */
typedef struct Heap
{
	HeapItem   *items;
	uint32_t	len;
	uint32_t	cap;
} Heap;

static void
HeapOffer(Heap *h, float dist, int32_t id)
{
	HeapItem   *a = h->items;
	uint32_t	i;

	if (h->len < h->cap)
	{
		/* sift up */
		i = h->len++;
		while (i > 0)
		{
			uint32_t	p = (i - 1) / 2;

			if (a[p].dist >= dist)
				break;
			a[i] = a[p];
			i = p;
		}
		a[i] = (HeapItem) {dist, id};
		return;
	}
	if (dist >= a[0].dist)
		return;
	/* replace the root and sift down */
	i = 0;
	for (;;)
	{
		uint32_t	l = 2 * i + 1,
					r = l + 1,
					m = i;
		float		md = dist;

		if (l < h->len && a[l].dist > md)
		{
			m = l;
			md = a[l].dist;
		}
		if (r < h->len && a[r].dist > md)
			m = r;
		if (m == i)
			break;
		a[i] = a[m];
		i = m;
	}
	a[i] = (HeapItem) {dist, id};
}

typedef struct Scored
{
	double		dist;
	int32_t		id;
} Scored;

static int
CmpScored(const void *a, const void *b)
{
	const Scored *x = a,
			   *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

typedef struct Shared
{
	VsbMetric	metric;
	const VsbVectors *base;
	const VsbAttrs *battr;
	const VsbVectors *query;
	const VsbAttrs *qattr;
	uint32_t	nbase;
	uint32_t	nq;
	uint32_t	k;
	int			nfilters;
	const VsbFilter *filters;
	VsbTruth   *truth;			/* nfilters */
	pthread_mutex_t lock;
	uint32_t	next;			/* next query to hand out */
	uint32_t	done;
	double		t0;
} Shared;

/*
 * Worker takes batches of queries until none are left and fills their rows
 * of every truth array; batches are disjoint, so no lock is held while
 * writing results.
 */
static void *
Worker(void *arg)
{
	Shared	   *s = arg;
	uint32_t	d = s->base->d;
	int			nf = s->nfilters;
	Heap	   *heaps = vsb_malloc((size_t) BATCH * nf * sizeof(Heap));
	int64_t    *counts = vsb_malloc((size_t) BATCH * nf * sizeof(int64_t));
	Scored	   *tmp = vsb_malloc(s->k * sizeof(Scored));

	for (int i = 0; i < BATCH * nf; i++)
	{
		heaps[i].items = vsb_malloc(s->k * sizeof(HeapItem));
		heaps[i].cap = s->k;
	}

	for (;;)
	{
		uint32_t	q0,
					nb;

		pthread_mutex_lock(&s->lock);
		q0 = s->next;
		nb = s->nq - q0 < BATCH ? s->nq - q0 : BATCH;
		s->next += nb;
		pthread_mutex_unlock(&s->lock);
		if (nb == 0)
			break;

		for (int i = 0; i < BATCH * nf; i++)
		{
			heaps[i].len = 0;
			counts[i] = 0;
		}
		for (uint32_t j = 0; j < s->nbase; j++)
		{
			const float *x = s->base->data + (size_t) j * d;
			const int32_t *row = s->battr->data + (size_t) j * VSB_NATTR;

			for (uint32_t b = 0; b < nb; b++)
			{
				const int32_t *qrow = s->qattr->data + (size_t) (q0 + b) * VSB_NATTR;
				float		dist = NAN;

				for (int f = 0; f < nf; f++)
				{
					if (!vsb_filter_match(&s->filters[f], j, row, qrow))
						continue;
					if (isnan(dist))
						dist = vsb_distance(s->metric, s->query->data + (size_t) (q0 + b) * d, x, d);
					counts[b * nf + f]++;
					HeapOffer(&heaps[b * nf + f], dist, (int32_t) j);
				}
			}
		}

		for (uint32_t b = 0; b < nb; b++)
		{
			const float *qv = s->query->data + (size_t) (q0 + b) * d;

			for (int f = 0; f < nf; f++)
			{
				Heap	   *h = &heaps[b * nf + f];
				VsbTruth   *t = &s->truth[f];
				size_t		off = (size_t) (q0 + b) * s->k;

				for (uint32_t i = 0; i < h->len; i++)
				{
					tmp[i].id = h->items[i].id;
					tmp[i].dist = vsb_distance_exact(s->metric, qv,
													 s->base->data + (size_t) tmp[i].id * d, d);
				}
				qsort(tmp, h->len, sizeof(Scored), CmpScored);
				for (uint32_t i = 0; i < s->k; i++)
				{
					t->ids[off + i] = i < h->len ? tmp[i].id : -1;
					t->dist[off + i] = i < h->len ? tmp[i].dist : INFINITY;
				}
				t->matches[q0 + b] = counts[b * nf + f];
			}
		}

		pthread_mutex_lock(&s->lock);
		s->done += nb;
		if (s->done == s->nq || s->done % 512 < nb)
			fprintf(stderr, "\rground truth: %u/%u queries, %.0f s", s->done, s->nq,
					vsb_now() - s->t0);
		pthread_mutex_unlock(&s->lock);
	}

	for (int i = 0; i < BATCH * nf; i++)
		free(heaps[i].items);
	free(heaps);
	free(counts);
	free(tmp);
	return NULL;
}

/*
 * UpToDate tells whether path already holds ground truth that serves this
 * request: same filter, metric, k and base rows, and at least nq queries.
 */
static bool
UpToDate(const char *path, const VsbFilter *f, VsbMetric m, uint32_t nq, uint32_t k, uint32_t nbase)
{
	VsbTruth	t;
	bool		ok;

	if (access(path, R_OK) != 0)
		return false;
	vsb_truth_read(path, &t);
	ok = strcmp(t.spec, f->spec) == 0 && strcmp(t.metric, vsb_metric_name(m)) == 0 &&
		t.k == k && t.nbase == nbase && t.nq >= nq;
	vsb_truth_free(&t);
	return ok;
}

int
main(int argc, char **argv)
{
	const char *data = NULL,
			   *outdir = NULL,
			   *filterlist = "none";
	long		nq = -1,
				rows = -1,
				k = 100;
	int			nthreads = 2;
	VsbMetric	metric = VSB_METRIC_L2;
	bool		have_metric = false;
	VsbFilter	all[VSB_MAX_FILTERS],
				pending[VSB_MAX_FILTERS];
	int			nall,
				npending = 0;
	char		path[PATH_MAX];
	VsbVectors	base,
				query;
	VsbAttrs	battr,
				qattr;
	Shared		s;
	pthread_t	th[16];

	for (int i = 1; i < argc; i++)
	{
		if (i + 1 >= argc)
			vsb_die("option %s needs a value", argv[i]);
		if (strcmp(argv[i], "--data") == 0)
			data = argv[++i];
		else if (strcmp(argv[i], "--out-dir") == 0)
			outdir = argv[++i];
		else if (strcmp(argv[i], "--metric") == 0)
		{
			metric = vsb_parse_metric(argv[++i]);
			have_metric = true;
		}
		else if (strcmp(argv[i], "--queries") == 0)
			nq = vsb_parse_long(argv[++i], "--queries", 1, 10000000);
		else if (strcmp(argv[i], "--rows") == 0)
			rows = vsb_parse_long(argv[++i], "--rows", 1, INT32_MAX);
		else if (strcmp(argv[i], "--k") == 0)
			k = vsb_parse_long(argv[++i], "--k", 1, 10000);
		else if (strcmp(argv[i], "--filters") == 0)
			filterlist = argv[++i];
		else if (strcmp(argv[i], "--threads") == 0)
			nthreads = (int) vsb_parse_long(argv[++i], "--threads", 1, 16);
		else
			vsb_die("unknown option %s", argv[i]);
	}
	if (data == NULL || outdir == NULL || nq < 0 || !have_metric)
		vsb_die("usage: vsgt --data DIR --out-dir DIR --metric M --queries Q "
				"[--rows N] [--k K] [--filters LIST] [--threads T]");
	nall = vsb_parse_filters(filterlist, all, VSB_MAX_FILTERS);

	snprintf(path, sizeof(path), "%s/base.vec", data);
	vsb_vec_open(path, &base);
	snprintf(path, sizeof(path), "%s/base.attr", data);
	vsb_attr_read(path, &battr);
	snprintf(path, sizeof(path), "%s/query.vec", data);
	vsb_vec_open(path, &query);
	snprintf(path, sizeof(path), "%s/query.attr", data);
	vsb_attr_read(path, &qattr);
	if (battr.n != base.n || qattr.n != query.n || base.d != query.d)
		vsb_die("%s: vector and attribute files disagree", data);
	if (rows < 0)
		rows = base.n;
	if ((uint32_t) rows > base.n || (uint32_t) nq > query.n)
		vsb_die("asked for %ld rows and %ld queries; %s has %u and %u",
				rows, nq, data, base.n, query.n);

	for (int f = 0; f < nall; f++)
	{
		if (snprintf(path, sizeof(path), "%s/%s.gt", outdir, all[f].name) >= (int) sizeof(path))
			vsb_die("path too long under %s", outdir);
		if (!UpToDate(path, &all[f], metric, (uint32_t) nq, (uint32_t) k, (uint32_t) rows))
			pending[npending++] = all[f];
	}
	if (npending == 0)
	{
		fprintf(stderr, "ground truth: cached in %s\n", outdir);
		return 0;
	}

	memset(&s, 0, sizeof(s));
	s.metric = metric;
	s.base = &base;
	s.battr = &battr;
	s.query = &query;
	s.qattr = &qattr;
	s.nbase = (uint32_t) rows;
	s.nq = (uint32_t) nq;
	s.k = (uint32_t) k;
	s.nfilters = npending;
	s.filters = pending;
	s.truth = vsb_malloc(npending * sizeof(VsbTruth));
	s.t0 = vsb_now();
	pthread_mutex_init(&s.lock, NULL);
	for (int f = 0; f < npending; f++)
	{
		VsbTruth   *t = &s.truth[f];

		t->nq = s.nq;
		t->k = s.k;
		t->nbase = s.nbase;
		snprintf(t->spec, sizeof(t->spec), "%s", pending[f].spec);
		snprintf(t->metric, sizeof(t->metric), "%s", vsb_metric_name(metric));
		t->matches = vsb_malloc(s.nq * sizeof(int64_t));
		t->ids = vsb_malloc((size_t) s.nq * s.k * sizeof(int32_t));
		t->dist = vsb_malloc((size_t) s.nq * s.k * sizeof(double));
	}

	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, Worker, &s) != 0)
			vsb_die("pthread_create failed");
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	fputc('\n', stderr);

	for (int f = 0; f < npending; f++)
	{
		if (snprintf(path, sizeof(path), "%s/%s.gt", outdir, pending[f].name) >= (int) sizeof(path))
			vsb_die("path too long under %s", outdir);
		vsb_truth_write(path, &s.truth[f]);
		vsb_truth_free(&s.truth[f]);
	}
	fprintf(stderr, "ground truth: %d filter(s), %ld queries, %ld rows, %.1f s\n",
			npending, nq, rows, vsb_now() - s.t0);
	free(s.truth);
	free(battr.data);
	free(qattr.data);
	vsb_vec_close(&base);
	vsb_vec_close(&query);
	return 0;
}
