/*-------------------------------------------------------------------------
 *
 * vsdata.c
 *	  Benchmark data tool: converts Debian's fashion-mnist into the cache
 *	  format, generates synthetic embedding-like data, streams cached rows
 *	  as a binary COPY, and prints statistics of a vector file.
 *
 *	  vsdata fashion   --src DIR --out DIR [--rows N] [--queries Q] [--seed S]
 *	  vsdata synthetic --out DIR --dim D --rows N --queries Q [--clusters C]
 *	                   [--latent L] [--noise X] [--spread X] [--within X]
 *	                   [--offset X] [--decay X] [--seed S] [--no-normalize]
 *	                   [--threads T]
 *	  vsdata copy      --vec FILE --attr FILE [--rows N]  > binary COPY stream
 *	  vsdata stats     --vec FILE [--sample N] [--metric M]
 *
 * Design: the synthetic rows are a pure function of (seed, row number):
 * every row seeds its own PRNG, so the output is identical for any thread
 * count, and queries are simply the rows after the last base row, drawn
 * from the same process but never loaded.  Each row is a point of a latent
 * cluster in L dimensions (L is the intrinsic-dimensionality knob, with a
 * decaying spectrum), mapped into d dimensions by a fixed random matrix,
 * shifted by a common offset (real embeddings share a mean direction) and
 * blurred by isotropic noise, then normalised for cosine.
 *
 * IDENTIFICATION
 *	  bench/vsdata.c
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
#include <sys/stat.h>
#include <zlib.h>

#include "vsbench.h"

/* ---------- PRNG: splitmix64 for seeding, xoshiro256** for streams ---------- */

typedef struct Rng
{
	uint64_t	s[4];
	double		spare;			/* second Box-Muller output */
	bool		has_spare;
} Rng;

static uint64_t
SplitMix64(uint64_t *x)
{
	uint64_t	z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/*
 * RngSeed derives an independent stream from a seed and a stream number.
 */
static void
RngSeed(Rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t	x = seed ^ (stream * 0xD1B54A32D192ED03ull);

	for (int i = 0; i < 4; i++)
		r->s[i] = SplitMix64(&x);
	r->has_spare = false;
}

static inline uint64_t
Rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
RngNext(Rng *r)
{
	uint64_t   *s = r->s;
	uint64_t	result = Rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = Rotl(s[3], 45);
	return result;
}

/* uniform in [0, 1) with 53 random bits */
static double
RngUniform(Rng *r)
{
	return (double) (RngNext(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* uniform integer in [0, n), n > 0; the modulo bias is below 2^-40 here */
static uint32_t
RngBelow(Rng *r, uint32_t n)
{
	return (uint32_t) (RngNext(r) % n);
}

/* standard normal by Box-Muller, using both outputs */
static double
RngGauss(Rng *r)
{
	double		u,
				v,
				rad;

	if (r->has_spare)
	{
		r->has_spare = false;
		return r->spare;
	}
	do
		u = RngUniform(r);
	while (u <= 0.0);
	v = RngUniform(r);
	rad = sqrt(-2.0 * log(u));
	r->spare = rad * sin(2.0 * M_PI * v);
	r->has_spare = true;
	return rad * cos(2.0 * M_PI * v);
}

/* ---------- shared output helpers ---------- */

/*
 * JoinPath writes dir/name into buf of size len or exits.
 */
static void
JoinPath(char *buf, size_t len, const char *dir, const char *name)
{
	if (snprintf(buf, len, "%s/%s", dir, name) >= (int) len)
		vsb_die("path too long: %s/%s", dir, name);
}

static FILE *
OpenOut(const char *path)
{
	FILE	   *f = fopen(path, "wb");

	if (f == NULL)
		vsb_die("%s: %s", path, strerror(errno));
	return f;
}

static void
CloseOut(FILE *f, const char *path)
{
	if (fclose(f) != 0)
		vsb_die("%s: %s", path, strerror(errno));
}

/*
 * AttrRow computes the attribute columns of one row: label is the class or
 * cluster, attr_u a uniform 0..999 value independent of everything,
 * attr_c a 0..999 value inside the label's own slice of 0..999, so that
 * "attr_c < t" selects whole classes (t >= one slice) or a part of class 0.
 */
static void
AttrRow(int32_t *out, uint64_t seed, uint64_t rowkey, int label, int nlabels)
{
	Rng			r;
	int			lo = (int) ((int64_t) label * 1000 / nlabels);
	int			hi = (int) ((int64_t) (label + 1) * 1000 / nlabels);
	int			width = hi > lo ? hi - lo : 1;

	RngSeed(&r, seed ^ 0xA77Bu, rowkey);
	out[VSB_ATTR_LABEL] = label;
	out[VSB_ATTR_U] = (int32_t) RngBelow(&r, 1000);
	out[VSB_ATTR_C] = lo + (int32_t) RngBelow(&r, (uint32_t) width);
}

/* ---------- fashion-mnist ---------- */

static uint32_t
ReadBe32(gzFile g, const char *path)
{
	unsigned char b[4];

	if (gzread(g, b, 4) != 4)
		vsb_die("%s: truncated idx header", path);
	return ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) | ((uint32_t) b[2] << 8) | b[3];
}

/*
 * ReadIdx reads an idx file (images: magic 0x803, labels: 0x801) and
 * returns a malloc'd byte array of count * item bytes; *count and *item
 * are set from the header.
 */
static unsigned char *
ReadIdx(const char *path, bool images, uint32_t *count, uint32_t *item)
{
	gzFile		g = gzopen(path, "rb");
	uint32_t	magic,
				n,
				sz = 1;
	unsigned char *buf;
	size_t		total,
				done = 0;

	if (g == NULL)
		vsb_die("%s: cannot open", path);
	magic = ReadBe32(g, path);
	if (magic != (images ? 0x803u : 0x801u))
		vsb_die("%s: unexpected idx magic 0x%x", path, magic);
	n = ReadBe32(g, path);
	if (images)
	{
		uint32_t	rows = ReadBe32(g, path),
					cols = ReadBe32(g, path);

		if (rows == 0 || cols == 0 || rows > 1024 || cols > 1024)
			vsb_die("%s: bad image size %ux%u", path, rows, cols);
		sz = rows * cols;
	}
	if (n == 0 || n > 10000000)
		vsb_die("%s: bad item count %u", path, n);
	total = (size_t) n * sz;
	buf = vsb_malloc(total);
	while (done < total)
	{
		unsigned	chunk = total - done > (1u << 30) ? (1u << 30) : (unsigned) (total - done);
		int			got = gzread(g, buf + done, chunk);

		if (got <= 0)
			vsb_die("%s: truncated idx data", path);
		done += (size_t) got;
	}
	gzclose(g);
	*count = n;
	*item = sz;
	return buf;
}

/*
 * WriteIdxSet writes n images (as floats 0..255) and their attributes.
 */
static void
WriteIdxSet(const char *vecpath, const char *attrpath, const unsigned char *img,
			const unsigned char *lab, uint32_t n, uint32_t d, uint64_t seed, uint64_t keybase)
{
	FILE	   *fv = OpenOut(vecpath),
			   *fa = OpenOut(attrpath);
	float	   *row = vsb_malloc(d * sizeof(float));

	vsb_write_header(fv, VSB_VEC_MAGIC, n, d, vecpath);
	vsb_write_header(fa, VSB_ATTR_MAGIC, n, VSB_NATTR, attrpath);
	for (uint32_t i = 0; i < n; i++)
	{
		int32_t		attr[VSB_NATTR];

		if (lab[i] > 9)
			vsb_die("label %u out of range 0..9", lab[i]);
		for (uint32_t j = 0; j < d; j++)
			row[j] = (float) img[(size_t) i * d + j];
		vsb_write_all(fv, row, d * sizeof(float), vecpath);
		AttrRow(attr, seed, keybase + i, lab[i], 10);
		vsb_write_all(fa, attr, sizeof(attr), attrpath);
	}
	free(row);
	CloseOut(fv, vecpath);
	CloseOut(fa, attrpath);
}

static int
CmdFashion(int argc, char **argv)
{
	const char *src = "/usr/share/datasets/fashion-mnist";
	const char *out = NULL;
	long		rows = 60000,
				queries = 10000;
	uint64_t	seed = 42;
	char		p1[PATH_MAX],
				p2[PATH_MAX];
	unsigned char *trimg,
			   *trlab,
			   *teimg,
			   *telab;
	uint32_t	ntr,
				ntrl,
				nte,
				ntel,
				d,
				d2,
				one;

	for (int i = 0; i < argc; i++)
	{
		if (i + 1 >= argc)
			vsb_die("option %s needs a value", argv[i]);
		if (strcmp(argv[i], "--src") == 0)
			src = argv[++i];
		else if (strcmp(argv[i], "--out") == 0)
			out = argv[++i];
		else if (strcmp(argv[i], "--rows") == 0)
			rows = vsb_parse_long(argv[++i], "--rows", 1, 60000);
		else if (strcmp(argv[i], "--queries") == 0)
			queries = vsb_parse_long(argv[++i], "--queries", 1, 10000);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = (uint64_t) vsb_parse_long(argv[++i], "--seed", 0, LONG_MAX);
		else
			vsb_die("unknown option %s", argv[i]);
	}
	if (out == NULL)
		vsb_die("fashion: --out is required");

	JoinPath(p1, sizeof(p1), src, "train-images-idx3-ubyte.gz");
	trimg = ReadIdx(p1, true, &ntr, &d);
	JoinPath(p1, sizeof(p1), src, "train-labels-idx1-ubyte.gz");
	trlab = ReadIdx(p1, false, &ntrl, &one);
	JoinPath(p1, sizeof(p1), src, "t10k-images-idx3-ubyte.gz");
	teimg = ReadIdx(p1, true, &nte, &d2);
	JoinPath(p1, sizeof(p1), src, "t10k-labels-idx1-ubyte.gz");
	telab = ReadIdx(p1, false, &ntel, &one);
	if (ntr != ntrl || nte != ntel || d != d2)
		vsb_die("fashion-mnist: image and label files disagree");
	if ((uint32_t) rows > ntr || (uint32_t) queries > nte)
		vsb_die("fashion-mnist has %u train and %u test images", ntr, nte);

	JoinPath(p1, sizeof(p1), out, "base.vec");
	JoinPath(p2, sizeof(p2), out, "base.attr");
	WriteIdxSet(p1, p2, trimg, trlab, (uint32_t) rows, d, seed, 0);
	JoinPath(p1, sizeof(p1), out, "query.vec");
	JoinPath(p2, sizeof(p2), out, "query.attr");
	WriteIdxSet(p1, p2, teimg, telab, (uint32_t) queries, d, seed, 1ull << 32);
	free(trimg);
	free(trlab);
	free(teimg);
	free(telab);
	fprintf(stderr, "fashion-mnist: %ld base rows, %ld queries, %u dimensions\n", rows, queries, d);
	return 0;
}

/* ---------- synthetic ---------- */

typedef struct SynModel
{
	uint32_t	d;
	uint32_t	latent;
	uint32_t	clusters;
	uint64_t	seed;
	bool		normalize;
	double		noise_std;
	float	   *map;			/* d x latent */
	float	   *centers;		/* clusters x latent */
	float	   *within;			/* clusters: per-cluster spread */
	float	   *scale;			/* latent: spectrum s_j */
	float	   *offset;			/* d */
} SynModel;

/*
 * SynBuild draws the model's fixed parts (map, centers, offset) from the
 * seed; see the file banner for the model.
 */
static void
SynBuild(SynModel *m, double spread, double within, double offset, double decay, double noise)
{
	Rng			r;
	double		sigvar = 0,
				norm = 0;

	RngSeed(&r, m->seed, 0xF1C5ull);
	m->map = vsb_malloc((size_t) m->d * m->latent * sizeof(float));
	m->centers = vsb_malloc((size_t) m->clusters * m->latent * sizeof(float));
	m->within = vsb_malloc(m->clusters * sizeof(float));
	m->scale = vsb_malloc(m->latent * sizeof(float));
	m->offset = vsb_malloc(m->d * sizeof(float));

	for (uint32_t j = 0; j < m->latent; j++)
	{
		m->scale[j] = (float) pow(1.0 + j, -decay);
		sigvar += (double) m->scale[j] * m->scale[j] * (spread * spread + within * within);
	}
	sigvar /= m->latent;		/* variance of one output coordinate, before noise */

	for (size_t i = 0; i < (size_t) m->d * m->latent; i++)
		m->map[i] = (float) (RngGauss(&r) / sqrt((double) m->latent));
	for (uint32_t c = 0; c < m->clusters; c++)
	{
		for (uint32_t j = 0; j < m->latent; j++)
			m->centers[(size_t) c * m->latent + j] = (float) (RngGauss(&r) * spread * m->scale[j]);
		m->within[c] = (float) (within * (0.5 + RngUniform(&r)));
	}
	for (uint32_t k = 0; k < m->d; k++)
	{
		m->offset[k] = (float) RngGauss(&r);
		norm += (double) m->offset[k] * m->offset[k];
	}
	/* the offset's length is "offset" times the expected signal length */
	norm = sqrt(norm);
	for (uint32_t k = 0; k < m->d; k++)
		m->offset[k] = (float) (m->offset[k] / norm * offset * sqrt(sigvar * m->d));
	m->noise_std = noise * sqrt(sigvar);
}

/*
 * SynRow writes row number "row" into out[0..d-1] and returns its cluster;
 * base rows take clusters round-robin (equal sizes), queries at random.
 * z is scratch of latent floats.
 */
static int
SynRow(const SynModel *m, uint64_t row, bool is_query, float *out, float *z)
{
	Rng			r;
	int			c;
	double		norm = 0;

	RngSeed(&r, m->seed, row + 1);
	c = is_query ? (int) RngBelow(&r, m->clusters) : (int) (row % m->clusters);
	for (uint32_t j = 0; j < m->latent; j++)
		z[j] = m->centers[(size_t) c * m->latent + j] +
			(float) (m->within[c] * m->scale[j] * RngGauss(&r));
	for (uint32_t k = 0; k < m->d; k++)
	{
		const float *a = m->map + (size_t) k * m->latent;
		float		s = m->offset[k];

		for (uint32_t j = 0; j < m->latent; j++)
			s += a[j] * z[j];
		out[k] = s + (float) (m->noise_std * RngGauss(&r));
		norm += (double) out[k] * out[k];
	}
	if (m->normalize && norm > 0)
	{
		float		inv = (float) (1.0 / sqrt(norm));

		for (uint32_t k = 0; k < m->d; k++)
			out[k] *= inv;
	}
	return c;
}

typedef struct SynJob
{
	const SynModel *m;
	uint64_t	first;			/* global row number of buf row 0 */
	uint32_t	count;
	uint32_t	thread;
	uint32_t	nthreads;
	bool		is_query;
	float	   *buf;			/* count x d */
	int		   *cluster;		/* count */
} SynJob;

static void *
SynWorker(void *arg)
{
	SynJob	   *j = arg;
	float	   *z = vsb_malloc(j->m->latent * sizeof(float));

	for (uint32_t i = j->thread; i < j->count; i += j->nthreads)
		j->cluster[i] = SynRow(j->m, j->first + i, j->is_query,
							   j->buf + (size_t) i * j->m->d, z);
	free(z);
	return NULL;
}

/*
 * SynWriteSet generates rows [first, first + n) into a vector and an
 * attribute file, in chunks computed by nthreads threads.
 */
static void
SynWriteSet(const SynModel *m, const char *vecpath, const char *attrpath, uint64_t first,
			uint32_t n, bool is_query, int nthreads)
{
	const uint32_t chunk = 4096;
	FILE	   *fv = OpenOut(vecpath),
			   *fa = OpenOut(attrpath);
	float	   *buf = vsb_malloc((size_t) chunk * m->d * sizeof(float));
	int		   *cl = vsb_malloc(chunk * sizeof(int));
	int32_t    *attr = vsb_malloc((size_t) chunk * VSB_NATTR * sizeof(int32_t));
	pthread_t	th[16];
	SynJob		jobs[16];

	vsb_write_header(fv, VSB_VEC_MAGIC, n, m->d, vecpath);
	vsb_write_header(fa, VSB_ATTR_MAGIC, n, VSB_NATTR, attrpath);
	for (uint32_t done = 0; done < n; done += chunk)
	{
		uint32_t	cnt = n - done < chunk ? n - done : chunk;

		for (int t = 0; t < nthreads; t++)
		{
			jobs[t] = (SynJob) {m, first + done, cnt, (uint32_t) t, (uint32_t) nthreads,
			is_query, buf, cl};
			if (pthread_create(&th[t], NULL, SynWorker, &jobs[t]) != 0)
				vsb_die("pthread_create failed");
		}
		for (int t = 0; t < nthreads; t++)
			pthread_join(th[t], NULL);
		for (uint32_t i = 0; i < cnt; i++)
			AttrRow(attr + (size_t) i * VSB_NATTR, m->seed, first + done + i, cl[i], (int) m->clusters);
		vsb_write_all(fv, buf, (size_t) cnt * m->d * sizeof(float), vecpath);
		vsb_write_all(fa, attr, (size_t) cnt * VSB_NATTR * sizeof(int32_t), attrpath);
	}
	free(buf);
	free(cl);
	free(attr);
	CloseOut(fv, vecpath);
	CloseOut(fa, attrpath);
}

static int
CmdSynthetic(int argc, char **argv)
{
	SynModel	m = {0};
	const char *out = NULL;
	long		rows = 100000,
				queries = 1000;
	double		noise = 0.2,
				spread = 1.0,
				within = 0.8,
				offset = 0.5,
				decay = 0.5;
	int			nthreads = 2;
	char		p1[PATH_MAX],
				p2[PATH_MAX];
	double		t0 = vsb_now();

	m.d = 384;
	m.latent = 32;
	m.clusters = 100;
	m.seed = 42;
	m.normalize = true;
	for (int i = 0; i < argc; i++)
	{
		if (strcmp(argv[i], "--no-normalize") == 0)
		{
			m.normalize = false;
			continue;
		}
		if (i + 1 >= argc)
			vsb_die("option %s needs a value", argv[i]);
		if (strcmp(argv[i], "--out") == 0)
			out = argv[++i];
		else if (strcmp(argv[i], "--dim") == 0)
			m.d = (uint32_t) vsb_parse_long(argv[++i], "--dim", 1, 16000);
		else if (strcmp(argv[i], "--rows") == 0)
			rows = vsb_parse_long(argv[++i], "--rows", 1, 100000000);
		else if (strcmp(argv[i], "--queries") == 0)
			queries = vsb_parse_long(argv[++i], "--queries", 1, 1000000);
		else if (strcmp(argv[i], "--clusters") == 0)
			m.clusters = (uint32_t) vsb_parse_long(argv[++i], "--clusters", 1, 1000);
		else if (strcmp(argv[i], "--latent") == 0)
			m.latent = (uint32_t) vsb_parse_long(argv[++i], "--latent", 1, 4096);
		else if (strcmp(argv[i], "--noise") == 0)
			noise = vsb_parse_double(argv[++i], "--noise");
		else if (strcmp(argv[i], "--spread") == 0)
			spread = vsb_parse_double(argv[++i], "--spread");
		else if (strcmp(argv[i], "--within") == 0)
			within = vsb_parse_double(argv[++i], "--within");
		else if (strcmp(argv[i], "--offset") == 0)
			offset = vsb_parse_double(argv[++i], "--offset");
		else if (strcmp(argv[i], "--decay") == 0)
			decay = vsb_parse_double(argv[++i], "--decay");
		else if (strcmp(argv[i], "--seed") == 0)
			m.seed = (uint64_t) vsb_parse_long(argv[++i], "--seed", 0, LONG_MAX);
		else if (strcmp(argv[i], "--threads") == 0)
			nthreads = (int) vsb_parse_long(argv[++i], "--threads", 1, 16);
		else
			vsb_die("unknown option %s", argv[i]);
	}
	if (out == NULL)
		vsb_die("synthetic: --out is required");
	if (noise < 0 || spread < 0 || within < 0 || offset < 0 || decay < 0)
		vsb_die("synthetic: --noise, --spread, --within, --offset and --decay must be >= 0");
	if (m.latent > m.d)
		vsb_die("synthetic: --latent %u exceeds --dim %u", m.latent, m.d);

	SynBuild(&m, spread, within, offset, decay, noise);
	JoinPath(p1, sizeof(p1), out, "base.vec");
	JoinPath(p2, sizeof(p2), out, "base.attr");
	SynWriteSet(&m, p1, p2, 0, (uint32_t) rows, false, nthreads);
	JoinPath(p1, sizeof(p1), out, "query.vec");
	JoinPath(p2, sizeof(p2), out, "query.attr");
	SynWriteSet(&m, p1, p2, (uint64_t) rows, (uint32_t) queries, true, nthreads);
	fprintf(stderr, "synthetic: %ld base rows, %ld queries, %u dimensions, latent %u, "
			"%u clusters, %.1f s\n", rows, queries, m.d, m.latent, m.clusters, vsb_now() - t0);
	free(m.map);
	free(m.centers);
	free(m.within);
	free(m.scale);
	free(m.offset);
	return 0;
}

/* ---------- binary COPY stream ---------- */

typedef struct OutBuf
{
	unsigned char *p;
	size_t		len;
	size_t		cap;
} OutBuf;

static void
OutFlush(OutBuf *o)
{
	vsb_write_all(stdout, o->p, o->len, "stdout");
	o->len = 0;
}

/* OutReserve makes room for n more bytes; n is at most the capacity */
static unsigned char *
OutReserve(OutBuf *o, size_t n)
{
	unsigned char *r;

	if (n > o->cap)
		vsb_die("internal error: record of %zu bytes exceeds buffer", n);
	if (o->len + n > o->cap)
		OutFlush(o);
	r = o->p + o->len;
	o->len += n;
	return r;
}

static unsigned char *
Put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char) (v >> 8);
	p[1] = (unsigned char) v;
	return p + 2;
}

static unsigned char *
Put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
	return p + 4;
}

/*
 * CmdCopy writes rows as PostgreSQL binary COPY for a table
 * (id int, label int, attr_u int, attr_c int, embedding vector): the vector
 * field is the type's binary form, int16 dimensions, int16 zero, then
 * big-endian float4s.
 */
static int
CmdCopy(int argc, char **argv)
{
	const char *vecpath = NULL,
			   *attrpath = NULL;
	long		rows = -1;
	VsbVectors	v;
	VsbAttrs	a;
	OutBuf		o;
	static const unsigned char sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0377, '\r', '\n', 0};
	size_t		reclen;

	for (int i = 0; i < argc; i++)
	{
		if (i + 1 >= argc)
			vsb_die("option %s needs a value", argv[i]);
		if (strcmp(argv[i], "--vec") == 0)
			vecpath = argv[++i];
		else if (strcmp(argv[i], "--attr") == 0)
			attrpath = argv[++i];
		else if (strcmp(argv[i], "--rows") == 0)
			rows = vsb_parse_long(argv[++i], "--rows", 0, UINT32_MAX);
		else
			vsb_die("unknown option %s", argv[i]);
	}
	if (vecpath == NULL || attrpath == NULL)
		vsb_die("copy: --vec and --attr are required");
	vsb_vec_open(vecpath, &v);
	vsb_attr_read(attrpath, &a);
	if (a.n != v.n)
		vsb_die("%s has %u rows but %s has %u", vecpath, v.n, attrpath, a.n);
	if (rows < 0)
		rows = v.n;
	if ((uint32_t) rows > v.n)
		vsb_die("copy: --rows %ld exceeds the %u rows cached", rows, v.n);
	if (v.d > 16000)
		vsb_die("copy: %u dimensions cannot be a vector", v.d);

	/* tuple: field count, 5 x (length + data) */
	reclen = 2 + 4 * (4 + 4) + 4 + 4 + (size_t) v.d * 4;
	o.cap = reclen > (1u << 20) ? reclen : (1u << 20);
	o.p = vsb_malloc(o.cap);
	o.len = 0;

	{
		unsigned char *p = OutReserve(&o, sizeof(sig) + 8);

		memcpy(p, sig, sizeof(sig));
		p = Put32(p + sizeof(sig), 0);	/* flags */
		Put32(p, 0);			/* header extension length */
	}
	for (uint32_t i = 0; i < (uint32_t) rows; i++)
	{
		unsigned char *p = OutReserve(&o, reclen);
		const float *x = v.data + (size_t) i * v.d;
		const int32_t *at = a.data + (size_t) i * VSB_NATTR;

		p = Put16(p, 5);
		p = Put32(p, 4);
		p = Put32(p, i);
		for (int c = 0; c < VSB_NATTR; c++)
		{
			p = Put32(p, 4);
			p = Put32(p, (uint32_t) at[c]);
		}
		p = Put32(p, 4 + v.d * 4);
		p = Put16(p, (uint16_t) v.d);
		p = Put16(p, 0);
		for (uint32_t k = 0; k < v.d; k++)
		{
			uint32_t	bits;

			memcpy(&bits, &x[k], 4);
			p = Put32(p, bits);
		}
	}
	Put16(OutReserve(&o, 2), 0xFFFF);	/* trailer: field count -1 */
	OutFlush(&o);
	if (fflush(stdout) != 0)
		vsb_die("stdout: %s", strerror(errno));
	free(o.p);
	free(a.data);
	vsb_vec_close(&v);
	return 0;
}

/* ---------- statistics ---------- */

static int
CmpDouble(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * CmdStats prints, for a sample of rows, the spread of pairwise cosine
 * similarity and of nearest-neighbour similarity (real text embeddings
 * show a positive mean and a long upper tail), and the TWO-NN estimate of
 * intrinsic dimensionality (Facco et al. 2017): d = n / sum(log(r2 / r1)).
 */
static int
CmdStats(int argc, char **argv)
{
	const char *vecpath = NULL;
	long		sample = 2000;
	VsbMetric	metric = VSB_METRIC_L2;
	VsbVectors	v;
	uint32_t	n;
	double	   *pairs,
			   *nncos,
				logsum = 0;
	long		npairs = 0,
				used = 0;
	Rng			r;
	uint32_t   *pick;

	for (int i = 0; i < argc; i++)
	{
		if (i + 1 >= argc)
			vsb_die("option %s needs a value", argv[i]);
		if (strcmp(argv[i], "--vec") == 0)
			vecpath = argv[++i];
		else if (strcmp(argv[i], "--sample") == 0)
			sample = vsb_parse_long(argv[++i], "--sample", 10, 20000);
		else if (strcmp(argv[i], "--metric") == 0)
			metric = vsb_parse_metric(argv[++i]);
		else
			vsb_die("unknown option %s", argv[i]);
	}
	if (vecpath == NULL)
		vsb_die("stats: --vec is required");
	vsb_vec_open(vecpath, &v);
	n = v.n < (uint32_t) sample ? v.n : (uint32_t) sample;
	if (n < 3)
		vsb_die("stats: need at least 3 rows");
	pick = vsb_malloc(n * sizeof(uint32_t));
	RngSeed(&r, 7, 7);
	for (uint32_t i = 0; i < n; i++)
		pick[i] = v.n == n ? i : RngBelow(&r, v.n);
	pairs = vsb_malloc((size_t) n * sizeof(double));
	nncos = vsb_malloc((size_t) n * sizeof(double));

	for (uint32_t i = 0; i < n; i++)
	{
		const float *a = v.data + (size_t) pick[i] * v.d;
		double		r1 = INFINITY,
					r2 = INFINITY,
					best = -2;

		for (uint32_t j = 0; j < n; j++)
		{
			const float *b = v.data + (size_t) pick[j] * v.d;
			double		dist,
						cs;

			if (j == i || pick[j] == pick[i])
				continue;
			dist = vsb_distance_exact(metric == VSB_METRIC_L2 ? VSB_METRIC_L2 : VSB_METRIC_COSINE,
									  a, b, v.d);
			cs = 1.0 - vsb_distance_exact(VSB_METRIC_COSINE, a, b, v.d);
			if (j == (i + 1) % n)
				pairs[npairs++] = cs;
			if (cs > best)
				best = cs;
			if (dist < r1)
			{
				r2 = r1;
				r1 = dist;
			}
			else if (dist < r2)
				r2 = dist;
		}
		nncos[i] = best;
		if (r1 > 0 && isfinite(r2))
		{
			logsum += log(r2 / r1);
			used++;
		}
	}
	qsort(pairs, npairs, sizeof(double), CmpDouble);
	qsort(nncos, n, sizeof(double), CmpDouble);
	printf("rows %u dim %u sample %u\n", v.n, v.d, n);
	printf("random-pair cosine similarity: p5 %.3f median %.3f p95 %.3f\n",
		   pairs[npairs * 5 / 100], pairs[npairs / 2], pairs[npairs * 95 / 100]);
	printf("nearest-neighbour cosine similarity (in sample): p5 %.3f median %.3f p95 %.3f\n",
		   nncos[n * 5 / 100], nncos[n / 2], nncos[n * 95 / 100]);
	printf("TWO-NN intrinsic dimension (%s): %.1f\n",
		   metric == VSB_METRIC_L2 ? "l2" : "cosine", used > 0 && logsum > 0 ? used / logsum : NAN);
	free(pick);
	free(pairs);
	free(nncos);
	vsb_vec_close(&v);
	return 0;
}

static void
Usage(void)
{
	fputs("usage: vsdata fashion|synthetic|copy|stats [options]\n"
		  "  see the banner of bench/vsdata.c and bench/README.md\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		Usage();
	if (strcmp(argv[1], "fashion") == 0)
		return CmdFashion(argc - 2, argv + 2);
	if (strcmp(argv[1], "synthetic") == 0)
		return CmdSynthetic(argc - 2, argv + 2);
	if (strcmp(argv[1], "copy") == 0)
		return CmdCopy(argc - 2, argv + 2);
	if (strcmp(argv[1], "stats") == 0)
		return CmdStats(argc - 2, argv + 2);
	Usage();
}
