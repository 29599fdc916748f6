/*-------------------------------------------------------------------------
 *
 * vsbench.c
 *	  Helpers shared by the benchmark tools: checked parsing, the cache file
 *	  readers and writers, filter evaluation and the distance functions.
 *
 * Design: the cache files are read with mmap where they can be large (a
 * million 1536-dimensional vectors is 6 GB), and every length read from a
 * file is checked against the file's size before it is trusted.
 *
 * IDENTIFICATION
 *	  bench/vsbench.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vsbench.h"

/*
 * vsb_die prints "error: <message>" to stderr and exits with status 1.
 */
void
vsb_die(const char *fmt,...)
{
	va_list		ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/*
 * vsb_malloc returns zeroed memory of the given size or exits; the caller
 * frees it with free().
 */
void *
vsb_malloc(size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
		vsb_die("out of memory allocating %zu bytes", size);
	return p;
}

/*
 * vsb_parse_long parses a whole decimal string into [min, max]; "what" names
 * the option in the error message.
 */
long
vsb_parse_long(const char *s, const char *what, long min, long max)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		vsb_die("%s: \"%s\" is not an integer", what, s);
	if (v < min || v > max)
		vsb_die("%s: %ld is out of range %ld..%ld", what, v, min, max);
	return v;
}

/*
 * vsb_parse_double parses a whole finite floating-point string.
 */
double
vsb_parse_double(const char *s, const char *what)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
		vsb_die("%s: \"%s\" is not a finite number", what, s);
	return v;
}

VsbMetric
vsb_parse_metric(const char *s)
{
	if (strcmp(s, "l2") == 0)
		return VSB_METRIC_L2;
	if (strcmp(s, "ip") == 0)
		return VSB_METRIC_IP;
	if (strcmp(s, "cosine") == 0)
		return VSB_METRIC_COSINE;
	vsb_die("unknown metric \"%s\" (expected l2, ip or cosine)", s);
}

const char *
vsb_metric_name(VsbMetric m)
{
	switch (m)
	{
		case VSB_METRIC_L2:
			return "l2";
		case VSB_METRIC_IP:
			return "ip";
		case VSB_METRIC_COSINE:
			return "cosine";
	}
	return "?";
}

static const char *const attr_names[VSB_NATTR] = {"label", "attr_u", "attr_c"};

/*
 * vsb_attr_col maps a filter column name to its attribute index,
 * VSB_COL_ID for "id" (the row's number), or -1.
 */
int
vsb_attr_col(const char *name)
{
	if (strcmp(name, "id") == 0)
		return VSB_COL_ID;
	for (int i = 0; i < VSB_NATTR; i++)
		if (strcmp(name, attr_names[i]) == 0)
			return i;
	return -1;
}

const char *
vsb_attr_name(int col)
{
	if (col == VSB_COL_ID)
		return "id";
	return (col >= 0 && col < VSB_NATTR) ? attr_names[col] : "?";
}

/*
 * vsb_op_sql gives the SQL operator for a filter operation.
 */
const char *
vsb_op_sql(VsbOp op)
{
	switch (op)
	{
		case VSB_OP_LT:
			return "<";
		case VSB_OP_EQ:
			return "=";
		case VSB_OP_NE:
			return "<>";
		case VSB_OP_GE:
			return ">=";
		case VSB_OP_NONE:
			break;
	}
	return "?";
}

/*
 * ParseOneFilter fills *f from one "none" or "name:col:op:value" item; the
 * item is at most VSB_SPEC_LEN - 1 bytes, checked by the caller.
 */
static void
ParseOneFilter(const char *item, VsbFilter *f)
{
	char		buf[VSB_SPEC_LEN];
	char	   *fields[4];
	int			nf = 0;
	char	   *p;

	memset(f, 0, sizeof(*f));
	snprintf(f->spec, sizeof(f->spec), "%s", item);
	if (strcmp(item, "none") == 0)
	{
		snprintf(f->name, sizeof(f->name), "none");
		f->op = VSB_OP_NONE;
		f->col = -1;
		return;
	}

	snprintf(buf, sizeof(buf), "%s", item);
	p = buf;
	while (nf < 4)
	{
		fields[nf++] = p;
		p = strchr(p, ':');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (nf != 4 || p != NULL)
		vsb_die("filter \"%s\": expected name:column:op:value", item);

	if (fields[0][0] == '\0' || strlen(fields[0]) >= VSB_NAME_LEN)
		vsb_die("filter \"%s\": name must have 1 to %d characters", item, VSB_NAME_LEN - 1);
	for (const char *c = fields[0]; *c; c++)
		if (!(*c == '_' || *c == '.' || *c == '-' ||
			  (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
			vsb_die("filter \"%s\": name may hold only letters, digits, '.', '-' and '_'", item);
	snprintf(f->name, sizeof(f->name), "%s", fields[0]);
	if (strcmp(f->name, "none") == 0)
		vsb_die("filter \"%s\": the name \"none\" is reserved for the unfiltered query", item);

	f->col = vsb_attr_col(fields[1]);
	if (f->col < 0)
		vsb_die("filter \"%s\": unknown column \"%s\" (expected id, label, attr_u or attr_c)",
				item, fields[1]);

	if (strcmp(fields[2], "lt") == 0)
		f->op = VSB_OP_LT;
	else if (strcmp(fields[2], "eq") == 0)
		f->op = VSB_OP_EQ;
	else if (strcmp(fields[2], "ne") == 0)
		f->op = VSB_OP_NE;
	else if (strcmp(fields[2], "ge") == 0)
		f->op = VSB_OP_GE;
	else
		vsb_die("filter \"%s\": unknown operation \"%s\" (expected lt, eq, ne or ge)",
				item, fields[2]);

	if (strcmp(fields[3], "q") == 0)
	{
		if (f->col == VSB_COL_ID)
			vsb_die("filter \"%s\": queries have no id to compare with; give a number", item);
		f->from_query = true;
	}
	else
		f->value = (int) vsb_parse_long(fields[3], "filter value", INT_MIN, INT_MAX);
}

/*
 * vsb_parse_filters parses a comma-separated filter list into out[0..max-1]
 * and returns the count; names must be unique.
 */
int
vsb_parse_filters(const char *list, VsbFilter *out, int max)
{
	int			n = 0;
	const char *p = list;

	while (*p)
	{
		const char *comma = strchr(p, ',');
		size_t		len = comma ? (size_t) (comma - p) : strlen(p);
		char		item[VSB_SPEC_LEN];

		if (len == 0)
			vsb_die("empty item in filter list \"%s\"", list);
		if (len >= sizeof(item))
			vsb_die("filter item longer than %d characters in \"%s\"", VSB_SPEC_LEN - 1, list);
		if (n >= max)
			vsb_die("more than %d filters", max);
		memcpy(item, p, len);
		item[len] = '\0';
		ParseOneFilter(item, &out[n]);
		for (int i = 0; i < n; i++)
			if (strcmp(out[i].name, out[n].name) == 0)
				vsb_die("filter name \"%s\" used twice", out[n].name);
		n++;
		p = comma ? comma + 1 : p + len;
	}
	if (n == 0)
		vsb_die("empty filter list");
	return n;
}

/*
 * vsb_filter_param is the integer bound to the filter's SQL parameter for
 * the query whose attribute row is qrow.
 */
int
vsb_filter_param(const VsbFilter *f, const int32_t *qrow)
{
	return f->from_query ? qrow[f->col] : f->value;
}

/*
 * vsb_filter_match tells whether base row number id, with attributes
 * "row", passes filter f for the query with attributes "qrow".
 */
bool
vsb_filter_match(const VsbFilter *f, uint32_t id, const int32_t *row, const int32_t *qrow)
{
	int64_t		x;
	int64_t		v;

	if (f->op == VSB_OP_NONE)
		return true;
	x = f->col == VSB_COL_ID ? (int64_t) id : (int64_t) row[f->col];
	v = vsb_filter_param(f, qrow);
	switch (f->op)
	{
		case VSB_OP_LT:
			return x < v;
		case VSB_OP_EQ:
			return x == v;
		case VSB_OP_NE:
			return x != v;
		case VSB_OP_GE:
			return x >= v;
		case VSB_OP_NONE:
			break;
	}
	return true;
}

/*
 * ReadHeader reads and checks a four-word header; returns the two size
 * words through a and b.
 */
static void
ReadHeader(FILE *f, uint32_t magic, uint32_t *a, uint32_t *b, const char *path)
{
	uint32_t	h[4];

	if (fread(h, sizeof(h), 1, f) != 1)
		vsb_die("%s: cannot read header", path);
	if (h[0] != magic)
		vsb_die("%s: wrong file type", path);
	if (h[1] != VSB_FORMAT_VERSION)
		vsb_die("%s: format version %u, expected %u", path, h[1], VSB_FORMAT_VERSION);
	*a = h[2];
	*b = h[3];
}

void
vsb_write_header(FILE *f, uint32_t magic, uint32_t a, uint32_t b, const char *path)
{
	uint32_t	h[4] = {magic, VSB_FORMAT_VERSION, a, b};

	vsb_write_all(f, h, sizeof(h), path);
}

/*
 * vsb_write_all writes len bytes or exits naming the path.
 */
void
vsb_write_all(FILE *f, const void *buf, size_t len, const char *path)
{
	if (len > 0 && fwrite(buf, 1, len, f) != len)
		vsb_die("%s: write failed: %s", path, strerror(errno));
}

/*
 * vsb_vec_open maps a vector file read-only; vsb_vec_close unmaps it.
 */
void
vsb_vec_open(const char *path, VsbVectors *v)
{
	int			fd;
	struct stat st;
	uint32_t	h[4];
	size_t		need;

	memset(v, 0, sizeof(*v));
	fd = open(path, O_RDONLY);
	if (fd < 0)
		vsb_die("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0)
		vsb_die("%s: %s", path, strerror(errno));
	if ((size_t) st.st_size < sizeof(h) || pread(fd, h, sizeof(h), 0) != (ssize_t) sizeof(h))
		vsb_die("%s: cannot read header", path);
	if (h[0] != VSB_VEC_MAGIC || h[1] != VSB_FORMAT_VERSION)
		vsb_die("%s: not a vector file of format %u", path, VSB_FORMAT_VERSION);
	if (h[3] == 0 || h[3] > 16000)
		vsb_die("%s: bad dimension %u", path, h[3]);
	need = sizeof(h) + (size_t) h[2] * h[3] * sizeof(float);
	if ((size_t) st.st_size != need)
		vsb_die("%s: size %lld, expected %zu", path, (long long) st.st_size, need);
	v->map = mmap(NULL, need, PROT_READ, MAP_SHARED, fd, 0);
	if (v->map == MAP_FAILED)
		vsb_die("%s: mmap: %s", path, strerror(errno));
	close(fd);
	v->maplen = need;
	v->n = h[2];
	v->d = h[3];
	v->data = (const float *) ((const char *) v->map + sizeof(h));
}

void
vsb_vec_close(VsbVectors *v)
{
	if (v->map)
		munmap(v->map, v->maplen);
	memset(v, 0, sizeof(*v));
}

/*
 * vsb_attr_read loads an attribute file into a malloc'd array owned by *a.
 */
void
vsb_attr_read(const char *path, VsbAttrs *a)
{
	FILE	   *f = fopen(path, "rb");
	uint32_t	n,
				ncol;
	size_t		cnt;

	if (f == NULL)
		vsb_die("%s: %s", path, strerror(errno));
	ReadHeader(f, VSB_ATTR_MAGIC, &n, &ncol, path);
	if (ncol != VSB_NATTR)
		vsb_die("%s: %u columns, expected %d", path, ncol, VSB_NATTR);
	cnt = (size_t) n * VSB_NATTR;
	a->n = n;
	a->data = vsb_malloc(cnt * sizeof(int32_t));
	if (fread(a->data, sizeof(int32_t), cnt, f) != cnt)
		vsb_die("%s: truncated", path);
	if (fgetc(f) != EOF)
		vsb_die("%s: trailing bytes", path);
	fclose(f);
}

/*
 * vsb_truth_write writes a ground-truth file through a temporary name and
 * renames it, so that an interrupted run never leaves a half file behind.
 */
void
vsb_truth_write(const char *path, const VsbTruth *t)
{
	char		tmp[PATH_MAX];
	FILE	   *f;
	uint32_t	h[3] = {t->nq, t->k, t->nbase};
	size_t		cells = (size_t) t->nq * t->k;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp))
		vsb_die("path too long: %s", path);
	f = fopen(tmp, "wb");
	if (f == NULL)
		vsb_die("%s: %s", tmp, strerror(errno));
	vsb_write_header(f, VSB_GT_MAGIC, 0, 0, tmp);
	vsb_write_all(f, h, sizeof(h), tmp);
	vsb_write_all(f, t->spec, sizeof(t->spec), tmp);
	vsb_write_all(f, t->metric, sizeof(t->metric), tmp);
	vsb_write_all(f, t->matches, t->nq * sizeof(int64_t), tmp);
	vsb_write_all(f, t->ids, cells * sizeof(int32_t), tmp);
	vsb_write_all(f, t->dist, cells * sizeof(double), tmp);
	if (fclose(f) != 0)
		vsb_die("%s: %s", tmp, strerror(errno));
	if (rename(tmp, path) != 0)
		vsb_die("rename %s: %s", tmp, strerror(errno));
}

/*
 * vsb_truth_read loads a ground-truth file into arrays owned by *t; free
 * them with vsb_truth_free.
 */
void
vsb_truth_read(const char *path, VsbTruth *t)
{
	FILE	   *f = fopen(path, "rb");
	uint32_t	z1,
				z2,
				h[3];
	size_t		cells;

	if (f == NULL)
		vsb_die("%s: %s", path, strerror(errno));
	memset(t, 0, sizeof(*t));
	ReadHeader(f, VSB_GT_MAGIC, &z1, &z2, path);
	if (fread(h, sizeof(h), 1, f) != 1 ||
		fread(t->spec, sizeof(t->spec), 1, f) != 1 ||
		fread(t->metric, sizeof(t->metric), 1, f) != 1)
		vsb_die("%s: truncated header", path);
	t->spec[sizeof(t->spec) - 1] = '\0';
	t->metric[sizeof(t->metric) - 1] = '\0';
	t->nq = h[0];
	t->k = h[1];
	t->nbase = h[2];
	if (t->k == 0 || t->k > 10000 || t->nq > 100000000)
		vsb_die("%s: implausible sizes nq=%u k=%u", path, t->nq, t->k);
	cells = (size_t) t->nq * t->k;
	t->matches = vsb_malloc(t->nq * sizeof(int64_t));
	t->ids = vsb_malloc(cells * sizeof(int32_t));
	t->dist = vsb_malloc(cells * sizeof(double));
	if (fread(t->matches, sizeof(int64_t), t->nq, f) != t->nq ||
		fread(t->ids, sizeof(int32_t), cells, f) != cells ||
		fread(t->dist, sizeof(double), cells, f) != cells)
		vsb_die("%s: truncated", path);
	if (fgetc(f) != EOF)
		vsb_die("%s: trailing bytes", path);
	fclose(f);
}

void
vsb_truth_free(VsbTruth *t)
{
	free(t->matches);
	free(t->ids);
	free(t->dist);
	memset(t, 0, sizeof(*t));
}

/*
 * vsb_distance is the scan kernel: float arithmetic in two four-lane GCC
 * vector accumulators, which become SIMD on any target without ISA or
 * fast-math flags.  It orders like the SQL operators: L2 distance, negative
 * inner product, cosine distance.
 */
typedef float VsbV4 __attribute__((vector_size(16)));

static inline VsbV4
LoadV4(const float *p)
{
	VsbV4		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline float
SumV4(VsbV4 v)
{
	return (v[0] + v[1]) + (v[2] + v[3]);
}

float
vsb_distance(VsbMetric m, const float *a, const float *b, uint32_t d)
{
	VsbV4		s0 = {0},
				s1 = {0},
				t0 = {0},
				t1 = {0},
				u0 = {0},
				u1 = {0};
	size_t		i = 0,
				n = d;
	float		x,
				y,
				z;

	if (m == VSB_METRIC_L2)
	{
		for (; i + 8 <= n; i += 8)
		{
			VsbV4		e0 = LoadV4(a + i) - LoadV4(b + i);
			VsbV4		e1 = LoadV4(a + i + 4) - LoadV4(b + i + 4);

			s0 += e0 * e0;
			s1 += e1 * e1;
		}
		x = SumV4(s0 + s1);
		for (; i < n; i++)
			x += (a[i] - b[i]) * (a[i] - b[i]);
		return sqrtf(x);
	}

	for (; i + 8 <= n; i += 8)
	{
		VsbV4		a0 = LoadV4(a + i),
					a1 = LoadV4(a + i + 4),
					b0 = LoadV4(b + i),
					b1 = LoadV4(b + i + 4);

		s0 += a0 * b0;
		s1 += a1 * b1;
		t0 += a0 * a0;
		t1 += a1 * a1;
		u0 += b0 * b0;
		u1 += b1 * b1;
	}
	x = SumV4(s0 + s1);
	y = SumV4(t0 + t1);
	z = SumV4(u0 + u1);
	for (; i < n; i++)
	{
		x += a[i] * b[i];
		y += a[i] * a[i];
		z += b[i] * b[i];
	}
	if (m == VSB_METRIC_IP)
		return -x;
	return 1.0f - x / sqrtf(y * z);
}

/*
 * vsb_distance_exact is the double-precision reference the cached ground
 * truth stores and is ordered by.
 */
double
vsb_distance_exact(VsbMetric m, const float *a, const float *b, uint32_t d)
{
	double		x = 0,
				y = 0,
				z = 0;

	if (m == VSB_METRIC_L2)
	{
		for (uint32_t i = 0; i < d; i++)
		{
			double		t = (double) a[i] - (double) b[i];

			x += t * t;
		}
		return sqrt(x);
	}
	for (uint32_t i = 0; i < d; i++)
	{
		x += (double) a[i] * b[i];
		y += (double) a[i] * a[i];
		z += (double) b[i] * b[i];
	}
	if (m == VSB_METRIC_IP)
		return -x;
	return 1.0 - x / sqrt(y * z);
}

double
vsb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}
