/*-------------------------------------------------------------------------
 *
 * vsbench.h
 *	  Shared declarations of the benchmark tools (vsdata, vsgt, vsquery):
 *	  cache file formats, filter specifications, distances and helpers.
 *
 * Design: every tool speaks the same three little-endian cache files (a
 * vector file, an attribute file, a ground-truth file) and the same filter
 * specification string, so that the rows loaded into PostgreSQL, the exact
 * answers and the measured answers can never disagree about what a query
 * or a filter means.
 *
 * IDENTIFICATION
 *	  bench/vsbench.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSBENCH_H
#define VSBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Cache file magics; each header is magic, version, then sizes (uint32). */
#define VSB_VEC_MAGIC	0x56425356u		/* "VSBV" */
#define VSB_ATTR_MAGIC	0x41425356u		/* "VSBA" */
#define VSB_GT_MAGIC	0x47425356u		/* "VSBG" */
#define VSB_FORMAT_VERSION 1u

/* Attribute columns, in file order; names match the SQL columns. */
#define VSB_NATTR		3
#define VSB_COL_ID		VSB_NATTR	/* filter column "id": the row's number */
#define VSB_ATTR_LABEL	0			/* class label or latent cluster id */
#define VSB_ATTR_U		1			/* uniform 0..999, independent of the vector */
#define VSB_ATTR_C		2			/* 0..999, a function of label: correlated */

#define VSB_MAX_FILTERS 32
#define VSB_NAME_LEN	48
#define VSB_SPEC_LEN	128

typedef enum VsbMetric
{
	VSB_METRIC_L2,
	VSB_METRIC_IP,
	VSB_METRIC_COSINE
} VsbMetric;

typedef enum VsbOp
{
	VSB_OP_NONE,				/* no filter at all */
	VSB_OP_LT,
	VSB_OP_EQ,
	VSB_OP_NE,
	VSB_OP_GE
} VsbOp;

/*
 * A filter "name:column:op:value"; value is an integer or "q", meaning the
 * query's own value of that column (so "same:label:eq:q" keeps rows of the
 * query's class).  The bare name "none" is the unfiltered query.
 */
typedef struct VsbFilter
{
	char		name[VSB_NAME_LEN];
	char		spec[VSB_SPEC_LEN];	/* the text it was parsed from */
	VsbOp		op;
	int			col;
	int			value;
	bool		from_query;
} VsbFilter;

/* An n x d float matrix, mapped read-only from a vector file or malloc'd. */
typedef struct VsbVectors
{
	uint32_t	n;
	uint32_t	d;
	const float *data;
	void	   *map;			/* munmap target, or NULL when malloc'd */
	size_t		maplen;
} VsbVectors;

/* An n x VSB_NATTR int32 matrix read from an attribute file. */
typedef struct VsbAttrs
{
	uint32_t	n;
	int32_t    *data;
} VsbAttrs;

/*
 * Ground truth of one filter for nq queries: for each query the number of
 * matching rows in the base set and the ids and distances of its k nearest
 * matches, ascending; unused slots hold id -1.
 */
typedef struct VsbTruth
{
	uint32_t	nq;
	uint32_t	k;
	uint32_t	nbase;
	char		spec[VSB_SPEC_LEN];
	char		metric[16];
	int64_t    *matches;		/* nq */
	int32_t    *ids;			/* nq * k */
	double	   *dist;			/* nq * k */
} VsbTruth;

/* error exit, printf-style; never returns */
extern void vsb_die(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));
extern void *vsb_malloc(size_t size);

/* parsing of numbers and enumerations; each dies with a message on bad input */
extern long vsb_parse_long(const char *s, const char *what, long min, long max);
extern double vsb_parse_double(const char *s, const char *what);
extern VsbMetric vsb_parse_metric(const char *s);
extern const char *vsb_metric_name(VsbMetric m);

/* filters */
extern int	vsb_parse_filters(const char *list, VsbFilter *out, int max);
extern int	vsb_attr_col(const char *name);
extern const char *vsb_attr_name(int col);
extern const char *vsb_op_sql(VsbOp op);
extern bool vsb_filter_match(const VsbFilter *f, uint32_t id, const int32_t *row,
							 const int32_t *qrow);
extern int	vsb_filter_param(const VsbFilter *f, const int32_t *qrow);

/* cache files */
extern void vsb_vec_open(const char *path, VsbVectors *v);
extern void vsb_vec_close(VsbVectors *v);
extern void vsb_write_header(FILE *f, uint32_t magic, uint32_t a, uint32_t b, const char *path);
extern void vsb_write_all(FILE *f, const void *buf, size_t len, const char *path);
extern void vsb_attr_read(const char *path, VsbAttrs *a);
extern void vsb_truth_write(const char *path, const VsbTruth *t);
extern void vsb_truth_read(const char *path, VsbTruth *t);
extern void vsb_truth_free(VsbTruth *t);

/* distances: float scan kernel and a double reference used for the cache */
extern float vsb_distance(VsbMetric m, const float *a, const float *b, uint32_t d);
extern double vsb_distance_exact(VsbMetric m, const float *a, const float *b, uint32_t d);

/* time in seconds from a monotonic clock */
extern double vsb_now(void);

#endif							/* VSBENCH_H */
