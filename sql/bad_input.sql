-- Bad input corpus: malformed text, array casts, type modifiers, operands of
-- different dimensions for every operator and function, numeric overflow,
-- aggregate states, index options, settings, index and checker misuse and
-- rows too large for a page.  Every case is shown as
-- "SQLSTATE: message (detail)" (or "ok") through pg_temp.try; at the end the
-- backend has not restarted.  (sql/vector_input.sql has the basic cases.)
\set SHOW_CONTEXT never
SET client_min_messages = warning;

CREATE TEMP TABLE bad_session AS
  SELECT pg_postmaster_start_time() AS postmaster_start, pg_backend_pid() AS pid;

CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  detail text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
END $$;

-- try_value: the value of a one-column query, or its error
CREATE FUNCTION pg_temp.try_value(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  detail text;
  result text;
BEGIN
  EXECUTE sql INTO result;
  RETURN coalesce(result, 'NULL');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
END $$;

-- malformed text (input shown as JSON, tabs and newlines in messages as \t, \n)
SELECT to_json(input) AS input,
       replace(replace(pg_temp.try(format('SELECT %L::vector', input)), E'\n', '\n'), E'\t', '\t') AS result
  FROM unnest(ARRAY[
    ' ', E'\t', '[', '[[', ']]', '[1,2]]', '[[1,2]', '[1]]', '[1][2]', '{1,2}', '(1,2)',
    '[1,2', '1,2]', '[1 ,2 3]', '[1,,]', '[,1]', '[,]', '[ , ]', '[1, ,2]', '[;]',
    '[1;2]', '[1|2]', '[1 2 3]', '[1	2]', '[1,2,]', '[,1,2]', '[1e]', '[1e+]', '[1e-]',
    '[e5]', '[.]', '[-]', '[+]', '[+-1]', '[-+1]', '[--1]', '[1.2.3]', '[1e5e5]', '[0x]', '[0x1g]',
    '[1_000]', '[１]', '[١]', '[1e2x]', '[1x]', '[x1]', '[true]', '[null]', '[NULL]',
    '[''1'']', '["1"]', '[1] x', '[1]]]', 'x[1]', '[1],[2]', '[1]' || E'\n' || 'x', '[1,2]  ;',
    '[nan]', '[-nan]', '[NaN,1]', '[1,NaN]', '[inf]', '[+inf]', '[-Infinity]', '[infinity]', '[1,Inf]',
    '[1e39]', '[-1e39]', '[3.5e38]', '[1e400]', '[-1e-46]', '[1e-50]', '[0x1p128]', '[-0x1p128]', '[0x1p-150]',
    '[' || repeat('9', 40) || ']', '[0.' || repeat('0', 50) || '1]'
  ]) AS input;
-- long inputs (the message repeats the input: its start is shown)
SELECT length(input) AS input_length, left(pg_temp.try(format('SELECT %L::vector', input)), 60) AS result_start
  FROM unnest(ARRAY[
    '[' || repeat('1', 400) || ']', '[' || repeat('0', 400) || '1]', '[' || repeat(' ', 10000) || '1]',
    '[1' || repeat(',', 10000) || ']', '[' || repeat('[', 10000), '[1,' || repeat('x', 10000) || ']',
    '[' || array_to_string(array_fill('-3.4028235e38'::text, ARRAY[16000]), ',') || ']'
  ]) AS input;

-- numbers strtof reads that are fine, and the extremes
SELECT to_json(input) AS input, pg_temp.try_value(format('SELECT %L::vector::text', input)) AS result
  FROM unnest(ARRAY[
    '[.5]', '[5.]', '[-.5e-3]', '[+0]', '[-0]', '[0x10]', '[0x1p-149]', '[1.401298464324817e-45]',
    '[3.4028235e38]', '[-3.4028235e38]', '[3.40282356e38]', '[1.17549435e-38]', '[1e-45]',
    '[00001]', '[1,000]', '[1E3]', '[ 1 ]', E'[\n1\n]', E'\r[1]\r'
  ]) AS input;

-- dimension limits through every way of making a vector
SELECT 'text' AS via, pg_temp.try($$SELECT ('[' || array_to_string(array_fill(0, ARRAY[16001]), ',') || ']')::vector$$)
UNION ALL
SELECT 'integer[]', pg_temp.try($$SELECT array_fill(1, ARRAY[16001])::vector$$)
UNION ALL
SELECT 'real[]', pg_temp.try($$SELECT array_fill(1::real, ARRAY[16001])::vector$$)
UNION ALL
SELECT 'double precision[]', pg_temp.try($$SELECT array_fill(1::float8, ARRAY[16001])::vector$$)
UNION ALL
SELECT 'numeric[]', pg_temp.try($$SELECT array_fill(1::numeric, ARRAY[16001])::vector$$)
UNION ALL
SELECT '||', pg_temp.try($$SELECT array_fill(1, ARRAY[16000])::vector || '[1]'$$)
UNION ALL
SELECT '16000 ok', pg_temp.try($$SELECT array_fill(1::real, ARRAY[16000])::vector$$);

-- type modifiers
SELECT typmod, pg_temp.try(format('SELECT %L::vector(%s)', '[1,2]', typmod)) AS result
  FROM unnest(ARRAY['1', '2', '16000', '16001', '2147483647', '2147483648', '-2147483648',
                    '1.5', '''2''', '''''', 'NULL', '1, 2', '2, 2, 2']) AS typmod;
SELECT decl, pg_temp.try(format('CREATE TEMP TABLE bad_typmod (v %s)', decl)) AS result
  FROM unnest(ARRAY['vector(0)', 'vector(-5)', 'vector(16001)', 'vector(a)', 'vector(3)[]',
                    'vector(2,3)']) AS decl;
DROP TABLE IF EXISTS bad_typmod;
SELECT pg_temp.try($$SELECT '[1,2,3]'::vector::vector(2)$$) AS narrow,
       pg_temp.try($$SELECT ARRAY[1,2]::vector(3)$$) AS widen_array,
       pg_temp.try($$SELECT ARRAY[1,2,3]::real[]::vector(3)::vector(2)$$) AS chain,
       pg_temp.try($$SELECT vector_typmod_in(ARRAY['abc']::cstring[])$$) AS typmod_in;

-- arrays to vector: every element type with NULLs, several dimensions,
-- special values and values out of float4 range
SELECT t AS element_type, a AS array_value,
       pg_temp.try(format('SELECT %L::%s[]::vector', a, t)) AS result
  FROM unnest(ARRAY['integer', 'real', 'double precision', 'numeric']) AS t,
       unnest(ARRAY['{NULL}', '{1,NULL}', '{NULL,NULL,NULL}', '{{1,2},{3,4}}', '{{{1}}}', '{{1}}',
                    '{}', '{{}}', '[0:1]={1,2}', '[-5:-4]={7,8}']) AS a
 ORDER BY 1, 2;
SELECT t AS element_type, a AS array_value,
       pg_temp.try(format('SELECT %L::%s[]::vector', a, t)) AS result
  FROM unnest(ARRAY['real', 'double precision', 'numeric']) AS t,
       unnest(ARRAY['{NaN}', '{1,Infinity}', '{-Infinity}', '{1e39}', '{-1e39}', '{1e-46}', '{-1e-50}',
                    '{1e308}', '{4e-324}', '{3.4028235e38}', '{1e-45}']) AS a
 ORDER BY 1, 2;
SELECT pg_temp.try($$SELECT ARRAY[2147483647, -2147483648]::vector::text$$) AS int_extremes,
       pg_temp.try($$SELECT ARRAY[1e400]::numeric[]::vector$$) AS numeric_huge,
       pg_temp.try($$SELECT ARRAY[1, 2, NULL]::integer[]::vector(3)$$) AS null_with_typmod;

-- vector to arrays: integer range at the boundaries (float4 values nearest)
SELECT v, pg_temp.try_value(format('SELECT %L::vector::integer[]::text', v)) AS result
  FROM unnest(ARRAY['[2147483520]', '[2147483648]', '[-2147483648]', '[-2147483904]', '[3.4e38]',
                    '[-3.4e38]', '[0.5,1.5,2.5,-0.5,-1.5]', '[1e-45]']) AS v;

-- operands of different dimensions, for every operator and function
SELECT op, pg_temp.try(format('SELECT %L::vector %s %L::vector', a, op, b)) AS result
  FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>', '+', '-', '*']) AS op,
       (VALUES ('[1,2,3]', '[1,2]'), ('[1]', '[1,2]')) AS p(a, b)
 ORDER BY op, a;
SELECT f, pg_temp.try(format('SELECT %s(%L::vector, %L::vector)', f, '[1,2,3]', '[1,2]')) AS result
  FROM unnest(ARRAY['l2_distance', 'vector_l2_squared_distance', 'inner_product',
                    'vector_negative_inner_product', 'cosine_distance', 'l1_distance',
                    'vector_add', 'vector_sub', 'vector_mul']) AS f;
-- comparison and concatenation accept different dimensions
SELECT op, pg_temp.try_value(format('SELECT (%L::vector %s %L::vector)::text', '[1,2,3]', op, '[1,2]')) AS result
  FROM unnest(ARRAY['<', '<=', '=', '<>', '>=', '>', '||']) AS op;
SELECT pg_temp.try_value($$SELECT vector_cmp('[1,2,3]', '[1,2]')::text$$) AS vector_cmp;
-- aggregates over rows of different dimensions
SELECT agg, pg_temp.try(format('SELECT %s(v) FROM (VALUES (%L::vector), (%L)) t(v)', agg, a, b)) AS result
  FROM unnest(ARRAY['avg', 'sum']) AS agg,
       (VALUES ('[1,2]', '[1,2,3]'), ('[1,2,3]', '[1]')) AS p(a, b)
 ORDER BY agg, a;

-- numeric overflow and underflow in arithmetic and aggregates
SELECT expr, pg_temp.try_value('SELECT (' || expr || ')::text') AS result
  FROM unnest(ARRAY[
    $$'[3e38]'::vector + '[1e38]'$$,
    $$'[-3e38]'::vector + '[-1e38]'$$,
    $$'[1,3e38]'::vector + '[1,3e38]'$$,
    $$'[3.4028235e38]'::vector + '[0]'$$,
    $$'[-3e38]'::vector - '[1e38]'$$,
    $$'[3e38]'::vector - '[-3e38]'$$,
    $$'[3e38]'::vector - '[3e38]'$$,
    $$'[2e19]'::vector * '[2e19]'$$,
    $$'[-2e19]'::vector * '[2e19]'$$,
    $$'[1e-23]'::vector * '[1e-23]'$$,
    $$'[1e-40]'::vector * '[0.5]'$$,
    $$'[0]'::vector * '[3e38]'$$,
    $$'[3e38,3e38]'::vector <-> '[-3e38,-3e38]'$$,
    $$'[3e38]'::vector <#> '[3e38]'$$,
    $$'[3e38]'::vector <+> '[-3e38]'$$,
    $$vector_norm('[3e38,3e38]')$$,
    $$l2_normalize('[3e38,3e38]')$$,
    $$l2_normalize('[1e-45,0]')$$
  ]) AS expr;
SELECT what, pg_temp.try_value(sql) AS result
  FROM (VALUES
    ('sum overflow', $$SELECT sum(v)::text FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v)$$),
    ('sum negative overflow', $$SELECT sum(v)::text FROM (VALUES ('[-3e38,1]'::vector), ('[-3e38,1]')) t(v)$$),
    ('sum back in range', $$SELECT sum(v)::text FROM (VALUES ('[3e38]'::vector), ('[-3e38]'), ('[1]')) t(v)$$),
    ('avg of large values', $$SELECT avg(v)::text FROM (VALUES ('[3e38]'::vector), ('[3.4e38]')) t(v)$$),
    ('avg of many large values', $$SELECT avg(v)::text FROM (SELECT '[3.4e38,-3.4e38]'::vector FROM generate_series(1, 1000)) t(v)$$),
    ('avg of tiny values', $$SELECT avg(v)::text FROM (VALUES ('[1e-45]'::vector), ('[0]')) t(v)$$),
    ('sum of no rows', $$SELECT sum(v)::text FROM (SELECT '[1]'::vector WHERE false) t(v)$$),
    ('avg of NULLs', $$SELECT avg(v)::text FROM (VALUES (NULL::vector), (NULL)) t(v)$$)
  ) AS c(what, sql);

-- aggregate support functions called directly with malformed states
SELECT call, pg_temp.try_value('SELECT (' || call || ')::text') AS result
  FROM unnest(ARRAY[
    $$vector_accum('{}', '[1]')$$,
    $$vector_accum('{1,2}', '[1,2,3]')$$,
    $$vector_accum('{NULL}', '[1]')$$,
    $$vector_accum('{1,NULL}', '[1]')$$,
    $$vector_accum('{{1,2},{3,4}}', '[1]')$$,
    $$vector_accum('{0}', '[1,2]')$$,
    $$vector_combine('{}', '{}')$$,
    $$vector_combine('{1,2}', '{1,2,3}')$$,
    $$vector_combine('{1,NULL}', '{1,2}')$$,
    $$vector_combine('{0}', '{1,5}')$$,
    $$vector_avg('{}')$$,
    $$vector_avg('{0}')$$,
    $$vector_avg('{0,1}')$$,
    $$vector_avg('{1,NULL}')$$,
    $$vector_avg('{{1,2},{3,4}}')$$,
    $$vector_avg('{1,1e300}')$$,
    $$vector_avg('{1,Infinity}')$$,
    $$vector_avg('{1e-300,1}')$$
  ]) AS call;

-- subvector and functions on degenerate arguments
SELECT args, pg_temp.try_value(format('SELECT subvector(%L, %s)::text', '[1,2,3]', args)) AS result
  FROM unnest(ARRAY['0, 2', '-1, 2', '-1, 1', '3, 1', '4, 1', '1, -1', '2, 2147483647',
                    '-2147483648, 2147483647', '-2147483648, -2147483648', '1, -2147483648',
                    '2147483647, 1', 'NULL, 1']) AS args;
SELECT pg_temp.try_value($$SELECT vector_norm('[0,0]')::text$$) AS norm_zero,
       pg_temp.try_value($$SELECT l2_normalize('[0,-0]')::text$$) AS normalize_zero,
       pg_temp.try_value($$SELECT ('[0,0]'::vector <=> '[0,0]')::text$$) AS cosine_zero,
       pg_temp.try_value($$SELECT vector_dims(NULL)::text$$) AS dims_null;

-- index options out of range, for both access methods
CREATE TABLE bad_idx (id int, v vector(3), u vector, w vector(2001), c int);
INSERT INTO bad_idx VALUES (1, '[1,2,3]', '[1,2]', NULL, 1), (2, '[3,2,1]', '[1,2,3]', NULL, 2);
SELECT am, opts, pg_temp.try(format('CREATE INDEX ON bad_idx USING %s (v) WITH (%s)', am, opts)) AS result
  FROM (VALUES
    ('vsearch_hnsw', 'm = 0'), ('vsearch_hnsw', 'm = -1'), ('vsearch_hnsw', 'm = 2147483648'),
    ('vsearch_hnsw', 'm = ''abc'''), ('vsearch_hnsw', 'm = '''''), ('vsearch_hnsw', 'm'),
    ('vsearch_hnsw', 'm = 1e3'), ('vsearch_hnsw', 'ef_construction = 0'),
    ('vsearch_hnsw', 'ef_construction = -64'), ('vsearch_hnsw', 'ef_construction = ''lots'''),
    ('vsearch_hnsw', 'm = 100, ef_construction = 199'), ('vsearch_hnsw', 'm = 2, ef_construction = 3'),
    ('vsearch_hnsw', 'm = 4, m = 5'), ('vsearch_hnsw', 'lists = 10'), ('vsearch_hnsw', 'probes = 1'),
    ('vsearch_hnsw', 'ef_search = 10'),
    ('vsearch_ivf', 'lists = -5'), ('vsearch_ivf', 'lists = 32769'), ('vsearch_ivf', 'lists = 2147483648'),
    ('vsearch_ivf', 'lists = ''many'''), ('vsearch_ivf', 'lists = '''''), ('vsearch_ivf', 'lists'),
    ('vsearch_ivf', 'lists = 1, lists = 2'), ('vsearch_ivf', 'm = 16'), ('vsearch_ivf', 'probes = 2'),
    ('vsearch_ivf', 'fillfactor = 50')
  ) AS c(am, opts);
CREATE INDEX bad_idx_hnsw ON bad_idx USING vsearch_hnsw (v);
CREATE INDEX bad_idx_ivf ON bad_idx USING vsearch_ivf (v) WITH (lists = 1);
SELECT stmt, pg_temp.try(stmt) AS result
  FROM unnest(ARRAY[
    'ALTER INDEX bad_idx_hnsw SET (m = 1)',
    'ALTER INDEX bad_idx_hnsw SET (ef_construction = 1001)',
    'ALTER INDEX bad_idx_hnsw SET (lists = 3)',
    'ALTER INDEX bad_idx_ivf SET (lists = -1)',
    'ALTER INDEX bad_idx_ivf SET (m = 8)',
    'ALTER INDEX bad_idx_ivf SET (lists = ''x'')'
  ]) AS stmt;

-- index definitions it cannot build
SELECT stmt, pg_temp.try(stmt) AS result
  FROM unnest(ARRAY[
    'CREATE INDEX ON bad_idx USING vsearch_hnsw (u)',
    'CREATE INDEX ON bad_idx USING vsearch_hnsw (w)',
    'CREATE INDEX ON bad_idx USING vsearch_ivf (w)',
    'CREATE INDEX ON bad_idx USING vsearch_hnsw (c)',
    'CREATE INDEX ON bad_idx USING vsearch_ivf (c)',
    'CREATE INDEX ON bad_idx USING vsearch_hnsw ((u || u))',
    'CREATE INDEX ON bad_idx USING vsearch_ivf ((v || w))',
    'CREATE INDEX ON bad_idx USING vsearch_ivf (u)',
    'CREATE INDEX ON bad_idx USING vsearch_hnsw (v vector_ops)',
    'CREATE INDEX ON bad_idx USING vsearch_ivf (v vector_l1_ops)',
    'CREATE INDEX ON bad_idx USING vsearch_hnsw (v, v)',
    'CREATE UNIQUE INDEX ON bad_idx USING vsearch_ivf (v)',
    'CREATE INDEX ON bad_idx USING vsearch_hnsw (v) INCLUDE (id)',
    'CREATE INDEX ON bad_idx USING vsearch_hnsw (v DESC)',
    'CREATE INDEX ON bad_idx USING vsearch_ivf (v NULLS FIRST)'
  ]) AS stmt;

-- settings out of range
SELECT stmt, pg_temp.try(replace(stmt, ':db', quote_ident(current_database()))) AS result
  FROM unnest(ARRAY[
    'SET vsearch.ef_search = -1', 'SET vsearch.ef_search = 2147483648', 'SET vsearch.ef_search = ''abc''',
    'SET vsearch.ef_search = ''''', 'SET vsearch.ef_search = 1e9', 'SET vsearch.ef_search TO DEFAULT',
    'SET vsearch.probes = -5', 'SET vsearch.probes = 40000', 'SET vsearch.probes = ''all''',
    'SET vsearch.probes = 1e10',
    'SET vsearch.kernel = ''sse9''', 'SET vsearch.kernel = ''''', 'SET vsearch.kernel = ''scalar ''',
    'SET vsearch.kernel = 1', 'SET vsearch.kernel = ''neon''',
    'SET vsearch.ef_serach = 10', 'SET vsearch.kernels = ''scalar''', 'SET vsearch = 1',
    $$SELECT set_config('vsearch.ef_search', '0', true)$$,
    $$SELECT set_config('vsearch.probes', '-1', false)$$,
    $$SELECT set_config('vsearch.kernel', 'fastest', true)$$,
    'ALTER DATABASE :db SET vsearch.ef_search = 0',
    'ALTER ROLE CURRENT_USER SET vsearch.kernel = ''bogus''',
    'ALTER ROLE CURRENT_USER SET vsearch.probes = 32769'
  ]) AS stmt;
SELECT current_setting('vsearch.ef_search') AS ef_search, current_setting('vsearch.probes') AS probes,
       current_setting('vsearch.kernel') AS kernel;

-- index scans with a query of other dimensions (the plans show the index)
SET enable_seqscan = off;
DROP INDEX bad_idx_ivf;
EXPLAIN (COSTS OFF) SELECT id FROM bad_idx ORDER BY v <-> '[1,2]' LIMIT 1;
SELECT q, pg_temp.try(format('SELECT id FROM bad_idx ORDER BY v <-> %L LIMIT 1', q)) AS result
  FROM unnest(ARRAY['[1]', '[1,2]', '[1,2,3,4]']) AS q;
DROP INDEX bad_idx_hnsw;
CREATE INDEX bad_idx_ivf ON bad_idx USING vsearch_ivf (v vector_ip_ops) WITH (lists = 1);
EXPLAIN (COSTS OFF) SELECT id FROM bad_idx ORDER BY v <#> '[1,2]' LIMIT 1;
SELECT q, pg_temp.try(format('SELECT id FROM bad_idx ORDER BY v <#> %L LIMIT 1', q)) AS result
  FROM unnest(ARRAY['[1]', '[1,2]', '[1,2,3,4]']) AS q;
RESET enable_seqscan;

-- structure checkers on other relations
CREATE INDEX bad_idx_btree ON bad_idx (id);
CREATE SEQUENCE bad_seq;
CREATE VIEW bad_view AS SELECT 1 AS x;
SELECT rel, pg_temp.try(format('SELECT %s(%L)', f, rel)) AS result
  FROM unnest(ARRAY['vsearch_hnsw_check', 'vsearch_ivf_check']) AS f,
       unnest(ARRAY['bad_idx', 'bad_idx_btree', 'bad_seq', 'bad_view', 'pg_class_oid_index']) AS rel
 ORDER BY f, rel;
SELECT pg_temp.try($$SELECT vsearch_hnsw_check('bad_idx_ivf')$$) AS hnsw_on_ivf,
       pg_temp.try($$SELECT vsearch_hnsw_check('no_such_index')$$) AS missing;

-- rows too large for a page
CREATE TABLE bad_plain (v vector);
ALTER TABLE bad_plain ALTER COLUMN v SET STORAGE plain;
SELECT n, pg_temp.try(format('INSERT INTO bad_plain SELECT array_fill(1::real, ARRAY[%s])::vector', n)) AS result
  FROM unnest(ARRAY[2000, 2100, 16000]) AS n;
CREATE TABLE bad_main (v vector);
SELECT n, pg_temp.try(format(
         'INSERT INTO bad_main SELECT ARRAY(SELECT sin(i * 1.7) FROM generate_series(1, %s) i)::real[]::vector', n)) AS result
  FROM unnest(ARRAY[2100, 16000]) AS n;
SELECT pg_temp.try($$CREATE INDEX ON bad_main (v)$$) AS btree_on_wide_rows;
SELECT count(*) AS rows_kept, sum(vector_dims(v)) AS dims FROM bad_main;

-- COPY with malformed rows (COPY FROM STDIN cannot run in pg_temp.try:
-- psql shows the error)
CREATE TABLE bad_copy (id int, v vector(2));
COPY bad_copy FROM stdin;
1	[1,2]
2	[1,2,3]
\.
COPY bad_copy FROM stdin;
3	[1,x]
\.
COPY bad_copy FROM stdin;
4	[NaN,1]
\.
SELECT count(*) AS copied FROM bad_copy;

DROP TABLE bad_idx, bad_plain, bad_main, bad_copy;
DROP SEQUENCE bad_seq;
DROP VIEW bad_view;

-- the backend survived every case: same postmaster, same backend
SELECT pg_postmaster_start_time() = s.postmaster_start AS same_postmaster,
       pg_backend_pid() = s.pid AS same_backend,
       EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = s.pid) AS backend_in_pg_stat_activity
  FROM bad_session s;
