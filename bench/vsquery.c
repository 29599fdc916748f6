/*-------------------------------------------------------------------------
 *
 * vsquery.c
 *	  Benchmark query driver: runs the k-NN queries of one configuration
 *	  through libpq, one client, and prints one CSV line per filter with
 *	  recall@k, rows returned, QPS and latency percentiles.
 *
 *	  vsquery --data DIR --gt-dir DIR --metric M --queries Q [--k K]
 *	          [--filters LIST] [--set NAME=VALUE]... [--warmup N] [--time-limit S]
 *	          [--min-time S]
 *	          [--conninfo STR] [--plans FILE] [--header] [--binary]
 *	          [--engine S] [--dataset S] [--index S] [--build S]
 *	          [--param-name S] [--param S] [--run N]
 *
 *	  The labels (--engine ... --run) are only copied into the CSV.  --binary
 *	  sends the query vector in the type's binary form instead of as text.
 *	  --min-time runs the queries again, in the same order and unscored,
 *	  until the timed pass has lasted that long: a filter answered in 0.3 ms
 *	  is otherwise timed over 30 ms, where one stall of the host decides
 *	  its QPS.
 *
 * Design: each filter gets one prepared statement
 *	  SELECT id FROM items [WHERE col op $3] ORDER BY embedding <op> $1 LIMIT $2
 * with the query vector sent as text, formatted before the clock starts, so
 * that a query's latency is the round trip of PQexecPrepared alone.  A few
 * untimed warm-up executions first take the statement past the plan
 * cache's custom-plan phase.  Recall counts a returned row as a hit when it
 * is in the cached exact top list at a distance no larger than the k-th
 * exact distance (plus a relative 1e-4 for float rounding), so rows tied
 * with the k-th neighbour are not counted as misses.
 *
 * IDENTIFICATION
 *	  bench/vsquery.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "vsbench.h"

#define MAX_SETS 32

typedef struct Labels
{
	const char *engine;
	const char *dataset;
	const char *index;
	const char *build;
	const char *param_name;
	const char *param;
	long		run;
} Labels;

static PGconn *conn;

/*
 * CheckResult exits with the server's message unless res has the expected
 * status; the caller still owns res.
 */
static void
CheckResult(PGresult *res, ExecStatusType want, const char *what)
{
	if (res == NULL)
		vsb_die("%s: %s", what, PQerrorMessage(conn));
	if (PQresultStatus(res) != want)
		vsb_die("%s: %s", what, PQresultErrorMessage(res));
}

/*
 * FormatVector returns a malloc'd "[x,y,...]" text of v with nine
 * significant digits, enough to round-trip a float4.
 */
static char *
FormatVector(const float *v, uint32_t d)
{
	size_t		cap = (size_t) d * 17 + 3,
				len = 0;
	char	   *s = vsb_malloc(cap);

	s[len++] = '[';
	for (uint32_t i = 0; i < d; i++)
	{
		int			n = snprintf(s + len, cap - len, "%s%.9g", i ? "," : "", (double) v[i]);

		if (n < 0 || (size_t) n >= cap - len)
			vsb_die("internal error: vector text overflow");
		len += (size_t) n;
	}
	if (len + 2 > cap)
		vsb_die("internal error: vector text overflow");
	s[len++] = ']';
	s[len] = '\0';
	return s;
}

/*
 * BinaryVector returns a malloc'd copy of v in the vector type's binary
 * form (int16 dimensions, int16 zero, big-endian float4s); *len gets its
 * length.
 */
static char *
BinaryVector(const float *v, uint32_t d, int *len)
{
	unsigned char *b = vsb_malloc(4 + (size_t) d * 4);

	b[0] = (unsigned char) (d >> 8);
	b[1] = (unsigned char) d;
	b[2] = b[3] = 0;
	for (uint32_t i = 0; i < d; i++)
	{
		uint32_t	bits;

		memcpy(&bits, &v[i], 4);
		b[4 + 4 * i] = (unsigned char) (bits >> 24);
		b[5 + 4 * i] = (unsigned char) (bits >> 16);
		b[6 + 4 * i] = (unsigned char) (bits >> 8);
		b[7 + 4 * i] = (unsigned char) bits;
	}
	*len = (int) (4 + d * 4);
	return (char *) b;
}

static int
CmpDouble(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* nearest-rank percentile of a sorted array */
static double
Percentile(const double *sorted, uint32_t n, double p)
{
	long		r = (long) ceil(p / 100.0 * n);

	if (r < 1)
		r = 1;
	if (r > (long) n)
		r = n;
	return sorted[r - 1];
}

static const char *
OperatorFor(VsbMetric m)
{
	switch (m)
	{
		case VSB_METRIC_L2:
			return "<->";
		case VSB_METRIC_IP:
			return "<#>";
		case VSB_METRIC_COSINE:
			return "<=>";
	}
	return "?";
}

/*
 * PrintPlanLine writes one EXPLAIN line to f with every vector literal
 * '[...]' shortened to '[..]', so the plan file stays readable.
 */
static void
PrintPlanLine(FILE *f, const char *line)
{
	const char *p = line;

	for (;;)
	{
		const char *open = strstr(p, "'[");
		const char *close = open ? strstr(open + 2, "]'") : NULL;

		if (close == NULL)
			break;
		fwrite(p, 1, (size_t) (open - p), f);
		fputs("'[..]'", f);
		p = close + 2;
	}
	fprintf(f, "%s\n", p);
}

/*
 * PlanTag runs EXPLAIN of prepared statement "stmt" for query 0, appends
 * the plan to plans (if not NULL) and writes into tag a short name of the
 * scan on items: "index:<name>", "bitmap", "seq" or "other", prefixed
 * "parallel-" under a Gather.
 */
static void
PlanTag(const char *stmt, const char *qtext, int k, bool has_param, int param,
		FILE *plans, const Labels *lb, const char *filter, char *tag, size_t taglen)
{
	char	   *lit = PQescapeLiteral(conn, qtext, strlen(qtext));
	size_t		cap;
	char	   *sql;
	PGresult   *res;
	bool		parallel = false;

	if (lit == NULL)
		vsb_die("PQescapeLiteral: %s", PQerrorMessage(conn));
	cap = strlen(lit) + 200;
	sql = vsb_malloc(cap);
	if (has_param)
		snprintf(sql, cap, "EXPLAIN (COSTS OFF) EXECUTE %s(%s, %d, %d)", stmt, lit, k, param);
	else
		snprintf(sql, cap, "EXPLAIN (COSTS OFF) EXECUTE %s(%s, %d)", stmt, lit, k);
	PQfreemem(lit);
	res = PQexec(conn, sql);
	CheckResult(res, PGRES_TUPLES_OK, "EXPLAIN");
	snprintf(tag, taglen, "other");
	if (plans)
		fprintf(plans, "-- engine=%s dataset=%s index=%s build=%s %s=%s filter=%s run=%ld\n",
				lb->engine, lb->dataset, lb->index, lb->build, lb->param_name, lb->param,
				filter, lb->run);
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *line = PQgetvalue(res, i, 0);
		const char *p;

		if (plans)
			PrintPlanLine(plans, line);
		if (strstr(line, "Gather"))
			parallel = true;
		if (strcmp(tag, "other") != 0)
			continue;
		if ((p = strstr(line, "Index Scan using ")) != NULL ||
			(p = strstr(line, "Index Only Scan using ")) != NULL)
		{
			char		name[64];

			p = strstr(p, "using ") + 6;
			if (sscanf(p, "%63s", name) == 1)
				snprintf(tag, taglen, "index:%s", name);
		}
		else if (strstr(line, "Bitmap Heap Scan"))
			snprintf(tag, taglen, "bitmap");
		else if (strstr(line, "Seq Scan"))
			snprintf(tag, taglen, "seq");
		else if (strstr(line, "Custom Scan"))
			snprintf(tag, taglen, "custom");
	}
	if (plans)
		fputc('\n', plans);
	if (parallel)
	{
		char		t2[128];

		if (snprintf(t2, sizeof(t2), "parallel-%s", tag) >= (int) sizeof(t2) ||
			snprintf(tag, taglen, "%s", t2) >= (int) taglen)
			vsb_die("internal error: plan tag too long");
	}
	PQclear(res);
	free(sql);
}

/*
 * ExecQuery runs query i through the prepared statement stmt (its vector
 * as text, or in binary form when qbin is set; LIMIT kbuf; the filter's
 * value for that query) and returns the checked result; *secs is the
 * round trip of PQexecPrepared alone.
 */
static PGresult *
ExecQuery(const char *stmt, const VsbFilter *f, uint32_t i, char **qtext, char **qbin,
		  int qbinlen, const VsbAttrs *qattr, const char *kbuf, double *secs)
{
	char		pbuf[16];
	const char *vals[3] = {qbin ? qbin[i] : qtext[i], kbuf, pbuf};
	const int	lens[3] = {qbinlen, 0, 0};
	const int	fmts[3] = {qbin ? 1 : 0, 0, 0};
	double		t0;
	PGresult   *res;

	snprintf(pbuf, sizeof(pbuf), "%d",
			 vsb_filter_param(f, qattr->data + (size_t) i * VSB_NATTR));
	t0 = vsb_now();
	res = PQexecPrepared(conn, stmt, f->op != VSB_OP_NONE ? 3 : 2, vals, lens, fmts, 0);
	*secs = vsb_now() - t0;
	CheckResult(res, PGRES_TUPLES_OK, "query");
	return res;
}

/*
 * RunFilter measures one filter over queries [0, nq) and prints its CSV
 * line.  qtext holds the query vectors as text; qbin, when not NULL, in
 * binary form (qbinlen bytes each), and those are sent instead.  The timed
 * pass stops early, after the first query that ends past time_limit
 * seconds (0: no limit); the CSV line then counts only the queries run.
 * A pass over all nq queries shorter than min_time seconds goes on with
 * the same queries, unscored, until it has lasted min_time; QPS and the
 * latency percentiles then count every execution.
 */
static void
RunFilter(const VsbFilter *f, int fno, const Labels *lb, VsbMetric metric, char **qtext,
		  char **qbin, int qbinlen, const VsbAttrs *qattr, const char *gtdir, uint32_t nq,
		  int k, uint32_t warmup, double time_limit, double min_time, FILE *plans)
{
	char		stmt[32],
				sql[512],
				path[PATH_MAX],
				kbuf[16],
				tag[96];
	bool		has_param = f->op != VSB_OP_NONE;
	VsbTruth	gt;
	PGresult   *res;
	size_t		latcap = nq;
	double	   *lat = vsb_malloc(latcap * sizeof(double));
	size_t		nexec = 0;
	double		recall_sum = 0,
				rows_sum = 0,
				match_sum = 0,
				t_all = 0;
	uint32_t	done = 0;
	uint32_t	recall_n = 0,
				short_n = 0;

	if (snprintf(path, sizeof(path), "%s/%s.gt", gtdir, f->name) >= (int) sizeof(path))
		vsb_die("path too long under %s", gtdir);
	vsb_truth_read(path, &gt);
	if (strcmp(gt.spec, f->spec) != 0)
		vsb_die("%s was made for filter \"%s\", not \"%s\"", path, gt.spec, f->spec);
	if (strcmp(gt.metric, vsb_metric_name(metric)) != 0)
		vsb_die("%s was made for metric %s, not %s", path, gt.metric, vsb_metric_name(metric));
	if (gt.nq < nq)
		vsb_die("%s has %u queries, %u needed", path, gt.nq, nq);
	if ((int) gt.k < k)
		vsb_die("%s keeps %u neighbours, %d needed", path, gt.k, k);

	snprintf(stmt, sizeof(stmt), "vsq_%d", fno);
	if (has_param)
		snprintf(sql, sizeof(sql),
				 "SELECT id FROM items WHERE %s %s $3::int ORDER BY embedding %s $1::vector LIMIT $2::int",
				 vsb_attr_name(f->col), vsb_op_sql(f->op), OperatorFor(metric));
	else
		snprintf(sql, sizeof(sql),
				 "SELECT id FROM items ORDER BY embedding %s $1::vector LIMIT $2::int",
				 OperatorFor(metric));
	res = PQprepare(conn, stmt, sql, 0, NULL);
	CheckResult(res, PGRES_COMMAND_OK, "PREPARE");
	PQclear(res);
	snprintf(kbuf, sizeof(kbuf), "%d", k);

	for (int pass = 0; pass < 2; pass++)
	{
		uint32_t	n = pass == 0 ? (warmup < nq ? warmup : nq) : nq;
		double		t_start = vsb_now();

		for (uint32_t i = 0; i < n; i++)
		{
			double		secs;
			int			nrows;

			res = ExecQuery(stmt, f, i, qtext, qbin, qbinlen, qattr, kbuf, &secs);
			if (pass == 1)
			{
				lat[i] = secs;
				done = i + 1;
			}
			if (pass == 0)
			{
				PQclear(res);
				continue;
			}

			/* score against the cached exact answer */
			nrows = PQntuples(res);
			rows_sum += nrows;
			match_sum += (double) gt.matches[i];
			{
				int64_t		g64 = gt.matches[i] < k ? gt.matches[i] : k;
				uint32_t	g = (uint32_t) g64;
				const int32_t *ids = gt.ids + (size_t) i * gt.k;
				const double *dist = gt.dist + (size_t) i * gt.k;

				if ((uint32_t) nrows < g)
					short_n++;
				if (g > 0)
				{
					double		thr = dist[g - 1] + 1e-4 * fabs(dist[g - 1]) + 1e-6;
					uint32_t	hits = 0;

					for (int r = 0; r < nrows && r < k; r++)
					{
						char	   *end;
						const char *v = PQgetvalue(res, r, 0);
						long		id = strtol(v, &end, 10);

						if (end == v || *end != '\0')
							vsb_die("query returned a non-integer id \"%s\"", v);
						for (uint32_t j = 0; j < gt.k && ids[j] >= 0; j++)
							if (ids[j] == id)
							{
								if (dist[j] <= thr)
									hits++;
								break;
							}
					}
					recall_sum += (double) (hits < g ? hits : g) / g;
					recall_n++;
				}
			}
			PQclear(res);
			if (time_limit > 0 && vsb_now() - t_start > time_limit)
				break;
		}
		nexec = done;
		/* again, unscored, until the timed pass has lasted min_time */
		while (pass == 1 && done == nq && min_time > 0 && vsb_now() - t_start < min_time)
		{
			for (uint32_t i = 0; i < nq && vsb_now() - t_start < min_time; i++)
			{
				if (nexec == latcap)
				{
					latcap *= 2;
					lat = realloc(lat, latcap * sizeof(double));
					if (lat == NULL)
						vsb_die("out of memory");
				}
				PQclear(ExecQuery(stmt, f, i, qtext, qbin, qbinlen, qattr, kbuf, &lat[nexec++]));
			}
		}
		if (pass == 1)
			t_all = vsb_now() - t_start;
	}

	PlanTag(stmt, qtext[0], k, has_param, vsb_filter_param(f, qattr->data), plans, lb, f->name,
			tag, sizeof(tag));

	{
		double		mean = 0,
					qps;

		if (done < nq)
			fprintf(stderr, "vsquery: filter %s stopped after %u of %u queries (time limit %g s)\n",
					f->name, done, nq, time_limit);
		for (size_t i = 0; i < nexec; i++)
			mean += lat[i];
		mean /= nexec;
		qsort(lat, nexec, sizeof(double), CmpDouble);
		qps = t_all > 0 ? nexec / t_all : 0;
		printf("%s,%s,%s,%s,%s,%s,%s,%.6f,%ld,%u,%d,%.4f,%.2f,%.3f,%.3f,%.3f,%.2f,%u,%s\n",
			   lb->engine, lb->dataset, lb->index, lb->build, lb->param_name, lb->param,
			   f->name, gt.nbase ? match_sum / done / gt.nbase : 0, lb->run, done, k,
			   recall_n ? recall_sum / recall_n : 1.0, qps, mean * 1e3,
			   Percentile(lat, (uint32_t) nexec, 50) * 1e3, Percentile(lat, (uint32_t) nexec, 99) * 1e3,
			   rows_sum / done, short_n, tag);
		fflush(stdout);
	}

	snprintf(sql, sizeof(sql), "DEALLOCATE %s", stmt);
	res = PQexec(conn, sql);
	CheckResult(res, PGRES_COMMAND_OK, "DEALLOCATE");
	PQclear(res);
	vsb_truth_free(&gt);
	free(lat);
}

/*
 * CheckLabel refuses label values that would break the CSV line.
 */
static const char *
CheckLabel(const char *v, const char *opt)
{
	if (strpbrk(v, ",\n\r\"") != NULL)
		vsb_die("%s: value may not contain commas, quotes or newlines", opt);
	return v;
}

int
main(int argc, char **argv)
{
	const char *data = NULL,
			   *gtdir = NULL,
			   *filterlist = "none",
			   *conninfo = "",
			   *planpath = NULL;
	const char *sets[MAX_SETS];
	int			nsets = 0;
	long		nq = -1,
				k = 10,
				warmup = 10;
	double		time_limit = 0,
				min_time = 0;
	VsbMetric	metric = VSB_METRIC_L2;
	bool		have_metric = false,
				header = false,
				binary = false;
	char	  **qbin = NULL;
	int			qbinlen = 0;
	Labels		lb = {"-", "-", "-", "-", "-", "-", 1};
	VsbFilter	filters[VSB_MAX_FILTERS];
	int			nf;
	char		path[PATH_MAX];
	VsbVectors	query;
	VsbAttrs	qattr;
	char	  **qtext;
	FILE	   *plans = NULL;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--header") == 0)
		{
			header = true;
			continue;
		}
		if (strcmp(argv[i], "--binary") == 0)
		{
			binary = true;
			continue;
		}
		if (i + 1 >= argc)
			vsb_die("option %s needs a value", argv[i]);
		if (strcmp(argv[i], "--data") == 0)
			data = argv[++i];
		else if (strcmp(argv[i], "--gt-dir") == 0)
			gtdir = argv[++i];
		else if (strcmp(argv[i], "--metric") == 0)
		{
			metric = vsb_parse_metric(argv[++i]);
			have_metric = true;
		}
		else if (strcmp(argv[i], "--queries") == 0)
			nq = vsb_parse_long(argv[++i], "--queries", 1, 10000000);
		else if (strcmp(argv[i], "--k") == 0)
			k = vsb_parse_long(argv[++i], "--k", 1, 10000);
		else if (strcmp(argv[i], "--filters") == 0)
			filterlist = argv[++i];
		else if (strcmp(argv[i], "--set") == 0)
		{
			if (nsets >= MAX_SETS)
				vsb_die("more than %d --set options", MAX_SETS);
			sets[nsets++] = argv[++i];
		}
		else if (strcmp(argv[i], "--warmup") == 0)
			warmup = vsb_parse_long(argv[++i], "--warmup", 0, 1000000);
		else if (strcmp(argv[i], "--time-limit") == 0)
		{
			time_limit = vsb_parse_double(argv[++i], "--time-limit");
			if (time_limit < 0)
				vsb_die("--time-limit must be >= 0");
		}
		else if (strcmp(argv[i], "--min-time") == 0)
		{
			min_time = vsb_parse_double(argv[++i], "--min-time");
			if (min_time < 0)
				vsb_die("--min-time must be >= 0");
		}
		else if (strcmp(argv[i], "--conninfo") == 0)
			conninfo = argv[++i];
		else if (strcmp(argv[i], "--plans") == 0)
			planpath = argv[++i];
		else if (strcmp(argv[i], "--engine") == 0)
			lb.engine = CheckLabel(argv[++i], "--engine");
		else if (strcmp(argv[i], "--dataset") == 0)
			lb.dataset = CheckLabel(argv[++i], "--dataset");
		else if (strcmp(argv[i], "--index") == 0)
			lb.index = CheckLabel(argv[++i], "--index");
		else if (strcmp(argv[i], "--build") == 0)
			lb.build = CheckLabel(argv[++i], "--build");
		else if (strcmp(argv[i], "--param-name") == 0)
			lb.param_name = CheckLabel(argv[++i], "--param-name");
		else if (strcmp(argv[i], "--param") == 0)
			lb.param = CheckLabel(argv[++i], "--param");
		else if (strcmp(argv[i], "--run") == 0)
			lb.run = vsb_parse_long(argv[++i], "--run", 0, 1000000);
		else
			vsb_die("unknown option %s", argv[i]);
	}
	if (header)
	{
		/* validate the filter list early, so a caller can check it up front */
		nf = vsb_parse_filters(filterlist, filters, VSB_MAX_FILTERS);
		puts("engine,dataset,index,build,param_name,param,filter,selectivity,run,queries,k,"
			 "recall,qps,mean_ms,p50_ms,p99_ms,rows_mean,short_queries,plan");
		if (data == NULL)
			return 0;
	}
	if (data == NULL || gtdir == NULL || nq < 0 || !have_metric)
		vsb_die("usage: vsquery --data DIR --gt-dir DIR --metric M --queries Q [options]");
	nf = vsb_parse_filters(filterlist, filters, VSB_MAX_FILTERS);

	snprintf(path, sizeof(path), "%s/query.vec", data);
	vsb_vec_open(path, &query);
	snprintf(path, sizeof(path), "%s/query.attr", data);
	vsb_attr_read(path, &qattr);
	if (qattr.n != query.n)
		vsb_die("%s: vector and attribute files disagree", data);
	if ((uint32_t) nq > query.n)
		vsb_die("asked for %ld queries; %s has %u", nq, data, query.n);
	qtext = vsb_malloc(nq * sizeof(char *));
	for (long i = 0; i < nq; i++)
		qtext[i] = FormatVector(query.data + (size_t) i * query.d, query.d);
	if (binary)
	{
		qbin = vsb_malloc(nq * sizeof(char *));
		for (long i = 0; i < nq; i++)
			qbin[i] = BinaryVector(query.data + (size_t) i * query.d, query.d, &qbinlen);
	}

	if (planpath)
	{
		plans = fopen(planpath, "a");
		if (plans == NULL)
			vsb_die("%s: %s", planpath, strerror(errno));
	}

	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		vsb_die("connection failed: %s", PQerrorMessage(conn));
	for (int i = 0; i < nsets; i++)
	{
		char		name[128];
		const char *eq = strchr(sets[i], '=');
		const char *vals[2];
		PGresult   *res;

		if (eq == NULL || eq == sets[i] || (size_t) (eq - sets[i]) >= sizeof(name))
			vsb_die("--set expects NAME=VALUE, not \"%s\"", sets[i]);
		memcpy(name, sets[i], eq - sets[i]);
		name[eq - sets[i]] = '\0';
		vals[0] = name;
		vals[1] = eq + 1;
		res = PQexecParams(conn, "SELECT pg_catalog.set_config($1, $2, false)", 2, NULL, vals,
						   NULL, NULL, 0);
		CheckResult(res, PGRES_TUPLES_OK, "set_config");
		PQclear(res);
	}

	for (int f = 0; f < nf; f++)
		RunFilter(&filters[f], f, &lb, metric, qtext, qbin, qbinlen, &qattr, gtdir, (uint32_t) nq,
				  (int) k, (uint32_t) warmup, time_limit, min_time, plans);

	PQfinish(conn);
	if (plans && fclose(plans) != 0)
		vsb_die("%s: %s", planpath, strerror(errno));
	for (long i = 0; i < nq; i++)
	{
		free(qtext[i]);
		if (qbin)
			free(qbin[i]);
	}
	free(qtext);
	free(qbin);
	free(qattr.data);
	vsb_vec_close(&query);
	return 0;
}
