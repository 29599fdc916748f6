-- hybrid.sql: WHERE ... ORDER BY distance LIMIT k through the hybrid scan.
-- A synthetic clustered set (20,000 x 32, 50 clusters) with an independent
-- attribute u (uniform 0..9999: u < 1 keeps 0.01%, u < 10000 everything)
-- and the cluster id cl (correlated with the vectors).  For every
-- selectivity and for filters that keep or exclude the query's own
-- cluster: each query returns min(k, matching rows) rows and recall
-- against exact filtered search is >= 0.95; plans and strategies are read
-- from EXPLAIN; generic plans, LATERAL, a partitioned table, the
-- similarity form and IVF.  Drops its tables.
\set QUIET 1
SET client_min_messages = warning;
SELECT plan(109);
-- The strategies read below are the cost model's own: what the session
-- learns from its probes (vsearch.hybrid_learn) is off until the tests of
-- it at the end.
SET vsearch.hybrid_learn = off;

SELECT setseed(0.57);
DROP TABLE IF EXISTS hy_items, hy_queries, hy_centres, hy_basis, hy_parts, hy_keyed, hy_keyed_ivf, hy_wide;
CREATE TABLE hy_centres AS
  SELECT c, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 32) WHERE c >= 0)::vector(32) AS centre
    FROM generate_series(0, 49) c;
-- each cluster spans a random 10-dimensional subspace, plus a little noise
-- (embeddings have a low intrinsic dimension)
CREATE TABLE hy_basis AS
  SELECT c, k, ARRAY(SELECT ((random() * 2 - 1) * 0.3)::real FROM generate_series(1, 32) WHERE c >= 0 AND k > 0)::vector(32) AS b
    FROM generate_series(0, 49) c, generate_series(1, 10) k;
CREATE FUNCTION pg_temp.point(c int) RETURNS vector LANGUAGE sql AS $$
  SELECT (SELECT centre FROM hy_centres WHERE hy_centres.c = $1)
         + sum(array_fill((random() * 2 - 1)::real, ARRAY[32])::vector(32) * b)
         + ARRAY(SELECT ((random() - 0.5) * 0.2)::real FROM generate_series(1, 32))::vector(32)
    FROM hy_basis WHERE hy_basis.c = $1
$$;
CREATE TABLE hy_items (id int PRIMARY KEY, u int NOT NULL, cl int NOT NULL, emb vector(32) NOT NULL);
INSERT INTO hy_items SELECT i, (random() * 9999.99)::int % 10000, i % 50, pg_temp.point(i % 50)
  FROM generate_series(1, 20000) i;
CREATE INDEX ON hy_items (u);
CREATE INDEX ON hy_items (cl);
-- Default build settings.  These clusters overlap: before scans and the
-- build started layer 0 from several seeds (c730232, 9c2105e), a build at
-- the default ef_construction now and then found only 0.95 of the
-- unfiltered top 10 at ef_search 40 (one fresh-clone CI run of three:
-- u < 10000 0.950, the query's neighbourhood excluded 0.935), so the set
-- was built at 128.  Since, 8 runs at the default: every HNSW recall
-- below >= 0.985.
CREATE INDEX hy_hnsw ON hy_items USING vsearch_hnsw (emb vector_l2_ops);
CREATE INDEX hy_hnsw_cos ON hy_items USING vsearch_hnsw (emb vector_cosine_ops);
ANALYZE hy_items;
CREATE TABLE hy_queries AS SELECT q, (q * 7) % 50 AS cl, pg_temp.point((q * 7) % 50) AS v
  FROM generate_series(1, 20) q;

-- The lines of a plan, optionally executed.
CREATE FUNCTION pg_temp.plan(query text, run bool DEFAULT false) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF, TIMING OFF, SUMMARY OFF' ||
                      CASE WHEN run THEN ', ANALYZE' ELSE '' END || ') ' || query LOOP
    RETURN NEXT line;
  END LOOP;
END $$;

-- The strategy the hybrid scan ran for a query (EXPLAIN ANALYZE).
CREATE FUNCTION pg_temp.strategy(query text) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(trim(p), '; ') FROM pg_temp.plan(query, true) p
   WHERE p LIKE '%Strategy:%' OR p LIKE '%Switched to Exact%'
$$;

-- For one filter (a WHERE clause over hy_items with $1 = query vector and
-- $2 = query's cluster) and k: the queries that returned other than
-- min(k, matches) rows, and recall against exact search with the hybrid
-- scan and vector index scans off.
CREATE TEMP TABLE hy_log (label text, short int, recall float8);
CREATE FUNCTION pg_temp.check(label text, filter text, k int, tab text DEFAULT 'hy_items',
                              ord text DEFAULT 'emb <-> $1')
RETURNS hy_log LANGUAGE plpgsql AS $$
DECLARE
  r record;
  got int[];
  exact int[];
  matches bigint;
  short int := 0;
  hits bigint := 0;
  wanted bigint := 0;
  res hy_log;
BEGIN
  FOR r IN SELECT * FROM hy_queries ORDER BY q LOOP
    EXECUTE format('SELECT count(*) FROM %s WHERE %s', tab, filter) INTO matches USING r.v, r.cl;
    SET LOCAL vsearch.hybrid = off;
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %s WHERE %s ORDER BY %s LIMIT %s) s',
                   tab, filter, ord, k) INTO exact USING r.v, r.cl;
    SET LOCAL vsearch.hybrid = on;
    SET LOCAL enable_indexscan = on;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %s WHERE %s ORDER BY %s LIMIT %s) s',
                   tab, filter, ord, k) INTO got USING r.v, r.cl;
    IF coalesce(cardinality(got), 0) <> least(k, matches) THEN
      short := short + 1;
    END IF;
    hits := hits + (SELECT count(*) FROM unnest(got) g WHERE g = ANY (exact));
    wanted := wanted + least(k, matches);
  END LOOP;
  res := (label, short, CASE WHEN wanted = 0 THEN 1 ELSE hits::float8 / wanted END);
  INSERT INTO hy_log VALUES (res.*);
  RETURN res;
END $$;

-- plan shape
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_items WHERE u < 100
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$) p
          WHERE p LIKE '%Custom Scan (VSearch Hybrid) on hy_items%'),
          'a filtered ORDER BY distance LIMIT query plans the hybrid scan');
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_items WHERE u < 100
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$) p
          WHERE p LIKE '%Strategy: chosen at run time%'),
          'plain EXPLAIN does not run the search');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_items
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$) p
          WHERE p LIKE '%VSearch Hybrid%'),
          'without WHERE the plain index scan stays');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_items WHERE u < 100
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) $$) p
          WHERE p LIKE '%VSearch Hybrid%'),
          'without LIMIT the hybrid scan is not planned');

-- strategies
SELECT is(pg_temp.strategy($$ SELECT id FROM hy_items WHERE u < 1
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$),
          'Strategy: exact over bitmap matches', '0.01% through a B-tree: exact over the bitmap');
SELECT is(pg_temp.strategy($$ SELECT id FROM hy_items WHERE u < 10000
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$),
          'Strategy: index traversal', '100%: index traversal');
SELECT is(pg_temp.strategy($$ SELECT id FROM hy_items WHERE u + 0 < 2
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$),
          'Strategy: exact over all rows; Switched to Exact: 1',
          '0.01% with no index for the filter: traversal notices and switches to exact');
-- A far cluster with no index for the filter (2%, estimated 0.5%): with
-- nothing counted, a run of failing candidates may be the query's own
-- neighbourhood, past which a filter passes plenty (a filter keeping half
-- of 200,000 x 768 took up to 2,750 candidates, 27 ms, where ranking its
-- 100,000 rows takes 107 ms), so traversal does not switch before its
-- candidates have cost a quarter of an exact pass (about 180 here, by the
-- model).  Whether the cluster's rows then start passing before the next
-- check depends on the graph's random levels: traversal or a switch.
SELECT ok(pg_temp.strategy($$ SELECT id FROM hy_items WHERE cl + 0 = (SELECT (cl + 25) % 50 FROM hy_queries WHERE q = 1)
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$)
            ~ '^Strategy: (index traversal|exact over all rows; Switched to Exact: 1)$'
          AND (SELECT substring(p FROM 'Candidates Visited: ([0-9]+)')::int
                 FROM pg_temp.plan($$ SELECT id FROM hy_items WHERE cl + 0 = (SELECT (cl + 25) % 50 FROM hy_queries WHERE q = 1)
                                      ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$, true) p
                WHERE p ~ 'Candidates Visited') % 20000 >= 160,
          'a far cluster with no index for the filter: no switch before 160 candidates');

-- row counts and recall at every selectivity, k = 10
SELECT tap FROM (VALUES
    ('u < 1 (0.01%)', 'u < 1'),
    ('u < 10 (0.1%)', 'u < 10'),
    ('u < 100 (1%)', 'u < 100'),
    ('u < 1000 (10%)', 'u < 1000'),
    ('u < 5000 (50%)', 'u < 5000'),
    ('u < 10000 (100%)', 'u < 10000'),
    ('unindexed u + 0 < 10 (0.1%)', 'u + 0 < 10'),
    ('unindexed u + 0 < 1000 (10%)', 'u + 0 < 1000'),
    ('own cluster (2%, around the query)', 'cl = $2'),
    ('other clusters (98%, query neighbourhood excluded)', 'cl <> $2'),
    ('a far cluster (2%, anti-correlated)', 'cl = ($2 + 25) % 50'),
    ('far cluster and u < 5000, one unindexed', 'cl + 0 = ($2 + 25) % 50 AND u < 5000')
  ) t(l, f), LATERAL pg_temp.check(l, f, 10) c,
  LATERAL unnest(ARRAY[is(c.short, 0, c.label || ': every query returns min(k, matches) rows'),
                       cmp_ok(c.recall, '>=', 0.95::float8, c.label || ': recall >= 0.95')]) tap;

-- k = 1 and k = 100 (deeper than ef_search)
SELECT tap FROM (VALUES
    ('k = 1, u < 100', 'u < 100', 1),
    ('k = 100, u < 1000', 'u < 1000', 100),
    ('k = 100, other clusters', 'cl <> $2', 100)
  ) t(l, f, k), LATERAL pg_temp.check(l, f, k) c,
  LATERAL unnest(ARRAY[is(c.short, 0, c.label || ': every query returns min(k, matches) rows'),
                       cmp_ok(c.recall, '>=', 0.95::float8, c.label || ': recall >= 0.95')]) tap;

SELECT is((SELECT count(*) FROM (SELECT id FROM hy_items WHERE u < 5000
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 2) LIMIT 300) s), 300::bigint,
          'LIMIT 300 with ef_search 40 and a 50% filter returns 300 rows');

-- a generic plan serves both ends of the selectivity range
SET plan_cache_mode = force_generic_plan;
PREPARE hy_p(vector, int, int) AS SELECT id FROM hy_items WHERE u < $2 ORDER BY emb <-> $1 LIMIT $3;
-- static SQL in PL/pgSQL runs as a prepared statement: with
-- force_generic_plan, one generic plan serves every call
CREATE FUNCTION pg_temp.top10(qv vector, lim int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(*) FROM (SELECT id FROM hy_items WHERE u < lim ORDER BY emb <-> qv LIMIT 10) s);
END $$;
CREATE FUNCTION pg_temp.run_prepared() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  bad int := 0;
  lim int;
BEGIN
  FOR i IN 1..10 LOOP
    lim := CASE WHEN i % 2 = 0 THEN 1 ELSE 5000 END;
    IF pg_temp.top10((SELECT v FROM hy_queries WHERE q = i), lim)
       <> least(10, (SELECT count(*) FROM hy_items WHERE u < lim)) THEN
      bad := bad + 1;
    END IF;
  END LOOP;
  RETURN bad;
END $$;
SELECT is(pg_temp.run_prepared(), 0, 'generic plan executed 10 times: every execution returns min(k, matches) rows');
SELECT is(pg_temp.strategy(format('EXECUTE hy_p(%L, 1, 10)', (SELECT v FROM hy_queries WHERE q = 3))),
          'Strategy: exact over bitmap matches',
          'generic plan at 0.01%: estimated again with $2 = 1, exact over the bitmap from the start (no traversal, no switch)');
-- the estimate made with the parameters' values, shown by EXPLAIN ANALYZE
-- (the generic plan itself assumes a third of the 20,000 rows)
CREATE FUNCTION pg_temp.runtime_rows(query text) RETURNS float8 LANGUAGE sql AS $$
  SELECT substring(p FROM 'Rows Estimated with Parameters: ([0-9.]+)')::float8
    FROM pg_temp.plan(query, true) p WHERE p LIKE '%Rows Estimated with Parameters%'
$$;
SELECT ok(pg_temp.runtime_rows(format('EXECUTE hy_p(%L, 1, 10)', (SELECT v FROM hy_queries WHERE q = 3))) < 20
      AND pg_temp.runtime_rows(format('EXECUTE hy_p(%L, 5000, 10)', (SELECT v FROM hy_queries WHERE q = 3)))
          BETWEEN 8000 AND 12000,
          'generic plan: the rows expected are estimated again with the parameters (2 and 10,000 rows match)');
SELECT is(pg_temp.strategy(format('EXECUTE hy_p(%L, 5000, 10)', (SELECT v FROM hy_queries WHERE q = 3))),
          'Strategy: index traversal', 'generic plan at 50%: index traversal, filter checked in the heap');
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan(format('EXECUTE hy_p(%L, 5000, 10)', (SELECT v FROM hy_queries WHERE q = 3))) p
          WHERE p LIKE '%VSearch Hybrid%'), 'the generic plan is the hybrid scan');
DEALLOCATE hy_p;
RESET plan_cache_mode;

-- LATERAL: top 5 per outer row, the filter and the vector from the outer row
SELECT is((SELECT count(*) FROM hy_queries q, LATERAL (SELECT id FROM hy_items i WHERE i.cl <> q.cl AND u < 3000
             ORDER BY i.emb <-> q.v LIMIT 5) s), 100::bigint, 'LATERAL: 5 rows for each of 20 outer rows');
SELECT cmp_ok((SELECT count(*) FILTER (WHERE e.id IS NOT NULL)::float8 / count(*)
                 FROM hy_queries q
                 CROSS JOIN LATERAL (SELECT id FROM hy_items i WHERE i.cl <> q.cl AND u < 3000
                                      ORDER BY i.emb <-> q.v LIMIT 5) s
                 LEFT JOIN LATERAL (SELECT id FROM (SELECT id FROM hy_items i WHERE i.cl <> q.cl AND u < 3000
                                      ORDER BY (i.emb <-> q.v) + 0 LIMIT 5) x WHERE x.id = s.id) e ON true),
              '>=', 0.95::float8, 'LATERAL: recall >= 0.95 against exact search per outer row');
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT * FROM hy_queries q, LATERAL (SELECT id FROM hy_items i
            WHERE i.cl <> q.cl ORDER BY i.emb <-> q.v LIMIT 5) s $$) p WHERE p LIKE '%VSearch Hybrid%'),
          'LATERAL plans the hybrid scan');

-- similarity written as 1 - distance, descending
SELECT tap FROM pg_temp.check('1 - cosine DESC, u < 1000', 'u < 1000', 10, 'hy_items',
                      '1 - (emb <=> $1) DESC') c,
  LATERAL unnest(ARRAY[is(c.short, 0, c.label || ': every query returns min(k, matches) rows'),
                       cmp_ok(c.recall, '>=', 0.95::float8, c.label || ': recall >= 0.95')]) tap;
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_items WHERE u < 1000
            ORDER BY 1 - (emb <=> (SELECT v FROM hy_queries WHERE q = 1)) DESC LIMIT 10 $$) p
          WHERE p LIKE '%Order: similarity, descending%'),
          'ORDER BY 1 - (emb <=> q) DESC is served by the hybrid scan with the cosine index');

-- a distance threshold stops the search once it is past the threshold:
-- r is the distance of query 4's 60th nearest neighbour
CREATE TEMP TABLE hy_thr AS
  SELECT v AS q, (SELECT d FROM (SELECT emb <-> v AS d FROM hy_items ORDER BY 1 LIMIT 60) s ORDER BY d DESC LIMIT 1) AS r
    FROM hy_queries WHERE q = 4;
CREATE FUNCTION pg_temp.within(hybrid bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
  res int[];
  t record;
BEGIN
  SELECT * INTO t FROM hy_thr;
  IF NOT hybrid THEN
    SET LOCAL vsearch.hybrid = off;
    SET LOCAL enable_indexscan = off;
  END IF;
  SELECT array_agg(id) INTO res FROM (SELECT id FROM hy_items WHERE emb <-> t.q <= t.r ORDER BY emb <-> t.q) s;
  RETURN res;
END $$;
SELECT cmp_ok((SELECT count(*) FROM unnest(pg_temp.within(true)) g WHERE g = ANY (pg_temp.within(false)))::float8 / 60,
              '>=', 0.95::float8, 'threshold without LIMIT: >= 95% of the 60 rows within the threshold');
SELECT is(cardinality(pg_temp.within(true)), cardinality(pg_temp.within(false)),
          'threshold without LIMIT: as many rows as exact search');
SELECT ok((SELECT bool_and(p NOT LIKE '%Candidates Visited%' OR
                           substring(p FROM '[0-9]+')::int < 2000)
             FROM pg_temp.plan(format('SELECT id FROM hy_items WHERE emb <-> %L <= %s ORDER BY emb <-> %L',
                                      (SELECT q FROM hy_thr), (SELECT r FROM hy_thr), (SELECT q FROM hy_thr)), true) p)
          AND EXISTS (SELECT 1 FROM pg_temp.plan(format('SELECT id FROM hy_items WHERE emb <-> %L <= %s ORDER BY emb <-> %L',
                                      (SELECT q FROM hy_thr), (SELECT r FROM hy_thr), (SELECT q FROM hy_thr)), true) p
                      WHERE p LIKE '%Stopped at Threshold: 1%'),
          'threshold: the scan stops at the threshold after visiting fewer than 2,000 of 20,000 rows');
-- the same threshold written as a similarity (cosine index): the rows
-- above the bound, as exact search finds them, and the scan stops there
CREATE TEMP TABLE hy_sim AS
  SELECT v AS q, (SELECT s FROM (SELECT 1 - (emb <=> v) AS s FROM hy_items ORDER BY emb <=> v LIMIT 60) x ORDER BY s LIMIT 1) AS b
    FROM hy_queries WHERE q = 4;
CREATE FUNCTION pg_temp.similar(hybrid bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
  res int[];
  t record;
BEGIN
  SELECT * INTO t FROM hy_sim;
  IF NOT hybrid THEN
    SET LOCAL vsearch.hybrid = off;
    SET LOCAL enable_indexscan = off;
  END IF;
  SELECT array_agg(id) INTO res FROM (SELECT id FROM hy_items WHERE 1 - (emb <=> t.q) >= t.b
                                        ORDER BY 1 - (emb <=> t.q) DESC) s;
  RETURN res;
END $$;
SELECT ok(cardinality(pg_temp.similar(false)) = 60 AND
          (SELECT count(*) FROM unnest(pg_temp.similar(true)) g WHERE g = ANY (pg_temp.similar(false)))::float8 / 60 >= 0.95,
          'similarity threshold without LIMIT: >= 95% of the 60 rows above it');
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan(format('SELECT id FROM hy_items WHERE %s <= 1 - (emb <=> %L) ORDER BY emb <=> %L',
                                      (SELECT b FROM hy_sim), (SELECT q FROM hy_sim), (SELECT q FROM hy_sim)), true) p
                  WHERE p LIKE '%Stopped at Threshold: 1%')
          AND EXISTS (SELECT 1 FROM pg_temp.plan(format('SELECT id FROM hy_items WHERE 1 - (emb <=> %L) >= %s ORDER BY 1 - (emb <=> %L) DESC LIMIT 100',
                                      (SELECT q FROM hy_sim), (SELECT b FROM hy_sim), (SELECT q FROM hy_sim)), true) p
                      WHERE p LIKE '%Stopped at Threshold: 1%'),
          'similarity threshold (either side, either order, with and without LIMIT): the scan stops at it');

-- a partitioned table with IVF indexes: per-partition scans merged in order
CREATE TABLE hy_parts (id int, u int NOT NULL, cl int NOT NULL, emb vector(32) NOT NULL) PARTITION BY RANGE (u);
CREATE TABLE hy_parts_lo PARTITION OF hy_parts FOR VALUES FROM (0) TO (5000);
CREATE TABLE hy_parts_hi PARTITION OF hy_parts FOR VALUES FROM (5000) TO (10000);
INSERT INTO hy_parts SELECT * FROM hy_items;
CREATE INDEX ON hy_parts (cl);
CREATE INDEX ON hy_parts USING vsearch_ivf (emb vector_l2_ops) WITH (lists = 20);
ANALYZE hy_parts;
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_parts WHERE cl <> 3
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$) p
          WHERE p LIKE '%Merge Append%')
      AND (SELECT count(*) FROM pg_temp.plan($$ SELECT id FROM hy_parts WHERE cl <> 3
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$) p
           WHERE p LIKE '%VSearch Hybrid%') = 2,
          'partitioned table: a hybrid scan per partition under Merge Append');
SELECT tap FROM (VALUES
    ('partitioned, IVF, other clusters', 'cl <> $2'),
    ('partitioned, IVF, a far cluster', 'cl = ($2 + 25) % 50'),
    ('partitioned, IVF, unindexed 0.1%', 'u + 0 < 10')
  ) t(l, f), LATERAL pg_temp.check(l, f, 10, 'hy_parts') c,
  LATERAL unnest(ARRAY[is(c.short, 0, c.label || ': every query returns min(k, matches) rows'),
                       cmp_ok(c.recall, '>=', 0.95::float8, c.label || ': recall >= 0.95')]) tap;

-- key columns: the same rows in a table whose only index is a multi-column
-- HNSW index (emb, u, cl); conditions on u and cl are tested on the values
-- stored in the index, never through the heap
CREATE TABLE hy_keyed AS SELECT * FROM hy_items;
CREATE INDEX hy_keyed_idx ON hy_keyed USING vsearch_hnsw (emb vector_l2_ops, u, cl);
ANALYZE hy_keyed;
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_keyed WHERE u < 100 AND cl IN (1, 2)
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$) p
          WHERE p ~ 'Index Keys: \(\((\w+\.)?u < 100\) AND \((\w+\.)?cl = ANY \(''\{1,2\}''::integer\[\]\)\)\)'),
          'key columns: the hybrid scan tests u and cl in the index');
SET vsearch.hybrid_strategy = index;
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_keyed WHERE u < 1000
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$, true) p
          WHERE p ~ 'Rejected by Index Keys: [1-9]')
      AND EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_keyed WHERE u < 1000
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$, true) p
          WHERE p LIKE '%Rejected by Filter: 0%'),
          'key columns: traversal rejects candidates by their stored keys, none after a heap visit');
RESET vsearch.hybrid_strategy;
-- a generic plan guesses a third of the rows match; the index rejects
-- candidates by key inside one fetch, and gives up when the node's check
-- says exact ranking is cheaper
SET plan_cache_mode = force_generic_plan;
PREPARE hy_keyed_p(vector, int) AS SELECT id FROM hy_keyed WHERE u < $2 ORDER BY emb <-> $1 LIMIT 10;
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan(format('EXECUTE hy_keyed_p(%L, 1)',
                    (SELECT v FROM hy_queries WHERE q = 1)), true) p
          WHERE p LIKE '%Switched to Exact: 1%')
      AND EXISTS (SELECT 1 FROM pg_temp.plan(format('EXECUTE hy_keyed_p(%L, 1)',
                    (SELECT v FROM hy_queries WHERE q = 1)), true) p
          WHERE p ~ 'Rejected by Index Keys: [0-9]{1,3}$'),
          'key columns: a generic plan at 0.01% gives up traversal inside the index (< 1,000 key rejections of 20,000) and ranks exactly');
DEALLOCATE hy_keyed_p;
RESET plan_cache_mode;
SET vsearch.hybrid = off;
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_keyed WHERE u >= 1000 AND cl > 7
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$) p
          WHERE p ~ 'Index Cond: \(\((\w+\.)?u >= 1000\) AND \((\w+\.)?cl > 7\)\)'),
          'key columns: without the hybrid scan they are the Index Cond of the index scan');
RESET vsearch.hybrid;
SELECT tap FROM (VALUES
    ('keys: 0.01%', 'u < 1', 10),
    ('keys: 0.1%', 'u < 10', 10),
    ('keys: 1%', 'u < 100', 10),
    ('keys: 10%', 'u < 1000', 10),
    ('keys: 50%', 'u >= 5000', 10),
    ('keys: 50% and the own cluster (1%)', 'u < 5000 AND cl = $2', 10),
    ('keys: every other cluster', 'cl <> $2', 10),
    ('keys: a far cluster, k 100', 'cl = ($2 + 25) % 50', 100),
    ('keys: two clusters, IN', 'cl IN (($2 + 1) % 50, ($2 + 2) % 50)', 10),
    ('keys and a heap filter, 1%', 'u < 1000 AND id % 10 = 0', 10)
  ) t(l, f, k), LATERAL pg_temp.check(l, f, k, 'hy_keyed') c,
  LATERAL unnest(ARRAY[is(c.short, 0, c.label || ': every query returns min(k, matches) rows'),
                       cmp_ok(c.recall, '>=', 0.95::float8, c.label || ': recall >= 0.95')]) tap;
SELECT is((SELECT unreachable FROM vsearch_hnsw_check('hy_keyed_idx')), 0::bigint,
          'key columns: the checker passes');
CREATE TABLE hy_keyed_ivf AS SELECT * FROM hy_items;
CREATE INDEX hy_keyed_ivf_idx ON hy_keyed_ivf USING vsearch_ivf (emb vector_l2_ops, u, cl) WITH (lists = 40);
ANALYZE hy_keyed_ivf;
SELECT tap FROM (VALUES
    ('keys, IVF: 0.1%', 'u < 10', 10),
    ('keys, IVF: 10%', 'u < 1000', 10),
    ('keys, IVF: a far cluster', 'cl = ($2 + 25) % 50', 10),
    ('keys, IVF: every other cluster, k 100', 'cl <> $2', 100)
  ) t(l, f, k), LATERAL pg_temp.check(l, f, k, 'hy_keyed_ivf') c,
  LATERAL unnest(ARRAY[is(c.short, 0, c.label || ': every query returns min(k, matches) rows'),
                       cmp_ok(c.recall, '>=', 0.95::float8, c.label || ': recall >= 0.95')]) tap;

-- IVF under a filter failing around the query (its own cluster excluded):
-- the extra read goes on into the next batch, passing over the rest of the
-- first (farther than every row collected), but not the rows tied with
-- the k-th: 50 copies of the 10th passing row's vector make `WITH TIES`
-- return 60 rows, and passed over they came back as 14.
CREATE TABLE hy_ties AS SELECT * FROM hy_items;
INSERT INTO hy_ties SELECT 100000 + g, 0, 99,
    (SELECT emb FROM hy_items x WHERE x.cl <> (SELECT cl FROM hy_queries WHERE q = 1)
      ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) OFFSET 9 LIMIT 1)
  FROM generate_series(1, 50) g;
CREATE INDEX ON hy_ties (cl);
CREATE INDEX ON hy_ties USING vsearch_ivf (emb vector_l2_ops) WITH (lists = 40);
ANALYZE hy_ties;
SET vsearch.hybrid_strategy = index;
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan($$ SELECT id FROM hy_ties WHERE cl <> (SELECT cl FROM hy_queries WHERE q = 1)
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) LIMIT 10 $$, true) p
          WHERE p ~ 'Passed Over in Batch: [1-9]'),
          'IVF, the query''s cluster excluded: the rest of the first batch is passed over');
SELECT is((SELECT count(*) FROM (SELECT id FROM hy_ties WHERE cl <> (SELECT cl FROM hy_queries WHERE q = 1)
            ORDER BY emb <-> (SELECT v FROM hy_queries WHERE q = 1) FETCH FIRST 10 ROWS WITH TIES) s),
          60::bigint, 'IVF, WITH TIES: the 50 rows tied with the 10th are not passed over');
RESET vsearch.hybrid_strategy;
DROP TABLE hy_ties;

-- Few matches by count, but all of them around the query: 24,000 x 384
-- with the vectors TOASTed (out of line, uncompressed: STORAGE EXTERNAL,
-- and a 600-byte column that takes the rows past the 2 kB at which
-- PostgreSQL TOASTs, as vectors of 512 dimensions and more do alone), 25
-- clusters of 960 rows (4%, under the 5% that counts the bitmap
-- first).  Ranking 960 rows (3.4 us each with a TOAST fetch, 3.3 ms) looks
-- cheaper than traversal at the global rate, but costs more than 2 probes
-- (PROBE_FACTOR x 526 us: 350 us to start a search and 32 candidates), so
-- traversal starts with the bitmap as its filter and, finding the query's
-- own cluster passing at once, does not switch; a filter independent of
-- the vectors keeping as many rows gets the right rows whichever way it
-- goes.  (Stored inline, the 960 rows cost 0.43 us each, 413 us, and are
-- ranked at once.)
CREATE TEMP TABLE hy_wide_c AS
  SELECT c, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 384) WHERE c >= 0)::vector(384) AS centre
    FROM generate_series(0, 24) c;
CREATE TABLE hy_wide (id int PRIMARY KEY, cl int NOT NULL, u int NOT NULL, emb vector(384) NOT NULL,
                      pad text NOT NULL);
ALTER TABLE hy_wide ALTER COLUMN emb SET STORAGE EXTERNAL, ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO hy_wide
  SELECT i, i % 25, (i / 25) % 25,
         (SELECT centre FROM hy_wide_c WHERE c = i % 25)
         + ARRAY(SELECT ((random() - 0.5) * 0.6)::real FROM generate_series(1, 384) WHERE i > 0)::vector(384),
         repeat('p', 600)
    FROM generate_series(1, 24000) i;
CREATE INDEX ON hy_wide (cl);
CREATE INDEX ON hy_wide (u);
CREATE INDEX hy_wide_hnsw ON hy_wide USING vsearch_hnsw (emb vector_l2_ops);
ANALYZE hy_wide;
CREATE TEMP TABLE hy_wide_q AS
  SELECT (SELECT centre FROM hy_wide_c WHERE c = 7)
         + ARRAY(SELECT ((random() - 0.5) * 0.6)::real FROM generate_series(1, 384))::vector(384) AS v;
-- Traversal starts (the matches sit around the query); it may still switch
-- to exact when the search's first round lands outside the cluster (the
-- graph's levels are random, so that varies from build to build), but
-- the rows are not ranked at once.
SELECT ok(pg_temp.strategy(format('SELECT id FROM hy_wide WHERE cl = 7 ORDER BY emb <-> %L LIMIT 10',
                                  (SELECT v FROM hy_wide_q))) ~
            '^(Strategy: index traversal, bitmap filter|Strategy: exact over bitmap matches; Switched to Exact: 1)$',
          'own cluster, 4% of rows: traversal with the bitmap first, not exact at once');
-- wide_ids: the ids of the top 10 for query qv under filter, ordered by
-- distance: 'auto' (the hybrid node), 'core' (vsearch.hybrid off, no bitmap
-- scan nor sort: the plain HNSW index scan with a filter) or 'exact' (no
-- index).  Every setting is set
-- each time: SET LOCAL lasts to the end of the calling statement.
CREATE FUNCTION pg_temp.wide_ids(filter text, mode text, qv vector) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  EXECUTE format('SET LOCAL vsearch.hybrid = %s', mode = 'auto');
  EXECUTE format('SET LOCAL enable_indexscan = %s', mode <> 'exact');
  EXECUTE format('SET LOCAL enable_bitmapscan = %s', mode <> 'core');
  EXECUTE format('SET LOCAL enable_sort = %s', mode <> 'core');
  EXECUTE format('SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, emb <-> %L AS d FROM hy_wide WHERE %s ORDER BY emb <-> %L LIMIT 10) s',
                 qv, filter, qv) INTO r;
  RETURN r;
END $$;
CREATE FUNCTION pg_temp.wide_recall(filter text, mode text, qv vector) RETURNS float8 LANGUAGE sql AS $$
  SELECT count(*) / 10.0 FROM unnest(pg_temp.wide_ids(filter, mode, qv)) a
   WHERE a = ANY (pg_temp.wide_ids(filter, 'exact', qv))
$$;
-- The own cluster's top 10 are the whole table's: traversal must find them
-- as well as the plain index scan does.  These clusters are noisy (every
-- member about as far from the query as the next), so HNSW at ef_search 40
-- finds about 93% of the true top 10 even without a filter (40 queries, 4
-- builds: 0.928-0.943); one query's exact top 10, the earlier form of this
-- test, failed in one CI run of five.  Ten queries, mean recall, at
-- ef_search 100: at 40 this test failed 2 runs of 10 once the set's
-- clusters were real (which changed its random stream); in 11 runs with
-- the values printed the hybrid's recall equalled the plain scan's query
-- by query, with means down to 0.89, so what failed was the 0.85 bound on
-- the graph's noise, which is there to catch a broken search.
CREATE TEMP TABLE hy_wide_q10 AS
  SELECT q, (SELECT centre FROM hy_wide_c WHERE c = 7)
            + ARRAY(SELECT ((random() - 0.5) * 0.6)::real FROM generate_series(1, 384) WHERE q > 0)::vector(384) AS v
    FROM generate_series(1, 10) q;
SET vsearch.ef_search = 100;
SELECT ok((SELECT avg(pg_temp.wide_recall('cl = 7', 'auto', v)) >= avg(pg_temp.wide_recall('cl = 7', 'core', v)) - 0.02
                  AND avg(pg_temp.wide_recall('cl = 7', 'auto', v)) >= 0.85
             FROM hy_wide_q10),
          'own cluster, 4% of rows: recall@10 over 10 queries as good as the plain index scan''s, and >= 0.85');
RESET vsearch.ef_search;
SELECT is(cardinality(pg_temp.wide_ids('u = 3', 'auto', (SELECT v FROM hy_wide_q))), 10, 'independent 4%: 10 rows');
SELECT cmp_ok(pg_temp.wide_recall('u = 3', 'auto', (SELECT v FROM hy_wide_q)), '>=', 0.9::float8,
              'independent 4%: recall >= 0.9 against exact (one query)');
-- For 30 rows either filter is a probe (ranking the 960 rows, 3.3 ms, is
-- cheaper than traversal for 30 at the global 4%, 5.3 ms, but dearer than
-- 2 probes): traversal opens with a first round of 16 candidates
-- (PROBE_SAMPLE) instead of ef_search's 40, so that when the matches are
-- not around the query, finding out costs a fraction of a search before
-- the rows are ranked exactly.  (The round is 16 whether the scan then
-- goes on or switches; ranked at once, the plan would show no search
-- window at all.)
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan(format('SELECT id FROM hy_wide WHERE %s ORDER BY emb <-> %L LIMIT 30',
                                                    f, (SELECT v FROM hy_wide_q)), true) p
                   WHERE p ~ 'First Search Window: 16$'),
          f || ': the probe opens with a first round of 16')
  FROM unnest(ARRAY['cl = 7', 'u = 3']) f;

-- Learning (src/planner/hybridlearn.c): each probe's outcome is counted
-- per filter shape, and the chance that a filter's matches sit around the
-- query, q = (near + 1) / (probes + 2), decides the next probe (probe when
-- q x ranking > probe).  Over the ten queries near cluster 7, the own
-- cluster's probes find their matches and the independent 4% filter's do
-- not (one query in ten, or none); EXPLAIN ANALYZE shows the q the
-- decision used.  With learning off nothing is shown.  (Once q is high,
-- the own cluster is traversed without counting the bitmap first: a
-- probe's worth of traversal finds its rows, and the count would be
-- wasted.)
CREATE FUNCTION pg_temp.near_rate(f text, qv vector) RETURNS float8 LANGUAGE sql AS $$
  SELECT substring(p FROM 'Learned Near-Query Rate: ([0-9.]+)')::float8
    FROM pg_temp.plan(format('SELECT id FROM hy_wide WHERE %s ORDER BY emb <-> %L LIMIT 30', f, qv), true) p
   WHERE p ~ 'Learned Near-Query Rate'
$$;
SELECT is(pg_temp.near_rate('u = 3', (SELECT v FROM hy_wide_q)), NULL, 'learning off: no learned rate');
SET vsearch.hybrid_learn = on;
SELECT count(*) FROM hy_wide_q10, LATERAL (SELECT id FROM hy_wide WHERE cl = 7 ORDER BY emb <-> v LIMIT 30) s;
SELECT count(*) FROM hy_wide_q10, LATERAL (SELECT id FROM hy_wide WHERE u = 3 ORDER BY emb <-> v LIMIT 30) s;
SELECT cmp_ok(pg_temp.near_rate('cl = 7', (SELECT v FROM hy_wide_q)), '>', 0.5::float8,
              'own cluster: its probes found the matches near, q > 1/2');
SELECT cmp_ok(pg_temp.near_rate('u = 3', (SELECT v FROM hy_wide_q)), '<', 0.5::float8,
              'independent 4%: its probes did not, q < 1/2');
SELECT ok(pg_temp.strategy(format('SELECT id FROM hy_wide WHERE cl = 7 ORDER BY emb <-> %L LIMIT 30',
                                  (SELECT v FROM hy_wide_q))) ~ '^Strategy: index traversal(, bitmap filter)?$',
          'own cluster: still traversed, not ranked');
RESET vsearch.hybrid_learn;

-- HNSW widens its first round under a filter expected to keep p >= 1/4 of
-- the rows, to ef_search / sqrt(p) (common/vshint.h; without it, half the
-- rows passing left the 10 rows returned as shallow a search as ef_search
-- 20), and leaves it at ef_search under a filter keeping fewer.
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan(format('SELECT id FROM hy_items WHERE u < 5000 ORDER BY emb <-> %L LIMIT 10',
                                                    (SELECT v FROM hy_queries WHERE q = 3)), true) p
                   WHERE p ~ 'First Search Window: (5[0-9]|6[0-9])$'),
          'half the rows pass: the first round is widened to about ef_search / sqrt(1/2) = 57');
SELECT ok(EXISTS (SELECT 1 FROM pg_temp.plan(format('SELECT id FROM hy_items WHERE u < 1000 ORDER BY emb <-> %L LIMIT 10',
                                                    (SELECT v FROM hy_queries WHERE q = 3)), true) p
                   WHERE p ~ 'First Search Window: 40$'),
          'a tenth of the rows pass: the first round stays at ef_search');

SELECT diag(format('%-52s short %s recall %s', label, short, round(recall::numeric, 3))) FROM hy_log;
SELECT * FROM finish();
DROP TABLE hy_items, hy_queries, hy_centres, hy_basis, hy_parts, hy_keyed, hy_keyed_ivf, hy_wide;
