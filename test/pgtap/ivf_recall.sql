-- ivf_recall.sql: recall@10 of vsearch_ivf against exact search on a
-- synthetic clustered set (8,000 rows x 64 dimensions: 80 clusters
-- (sum-of-uniforms noise) plus 5% uniform noise, fixed seed), with probes = sqrt(lists):
-- after the build, after inserts, after deleting 75% and vacuuming; for
-- the L2, inner-product and cosine operator classes; an index built on an
-- empty table then filled; and a LIMIT beyond what the probed lists hold.
--
-- Unlike the other pgTAP files this one does not run in one transaction:
-- VACUUM cannot run inside a transaction block.  It drops its tables at
-- the end.
SET client_min_messages = warning;
SELECT plan(16);

DROP TABLE IF EXISTS ivf_r_centers, ivf_r, ivf_r_q, ivf_r_e;
SELECT setseed(0.17);
CREATE TABLE ivf_r_centers (c int PRIMARY KEY, x real[]);
-- a point: a random center plus noise of sd 0.25 per dimension, or (5%)
-- uniform in the cube.  PL/pgSQL, so every call draws new numbers.
CREATE FUNCTION pg_temp.ivf_random_array() RETURNS real[] LANGUAGE plpgsql AS $$
BEGIN
  RETURN ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 64));
END $$;
CREATE FUNCTION pg_temp.ivf_point() RETURNS vector LANGUAGE plpgsql AS $$
DECLARE
  center real[];
  pick int := 1 + floor(random() * 80)::int;
BEGIN
  IF random() < 0.05 THEN
    RETURN pg_temp.ivf_random_array()::vector;
  END IF;
  SELECT x INTO STRICT center FROM ivf_r_centers WHERE c = pick;
  RETURN ARRAY(SELECT (center[d] + (random() + random() + random() - 1.5) * 0.5)::real
                 FROM generate_series(1, 64) d)::vector;
END $$;
INSERT INTO ivf_r_centers SELECT c, pg_temp.ivf_random_array() FROM generate_series(1, 80) c;
CREATE TABLE ivf_r (id int PRIMARY KEY, v vector(64));
INSERT INTO ivf_r SELECT i, pg_temp.ivf_point() FROM generate_series(1, 8000) i;
CREATE TABLE ivf_r_q (qid int PRIMARY KEY, q vector(64));
INSERT INTO ivf_r_q SELECT i, pg_temp.ivf_point() FROM generate_series(1, 40) i;

-- recall@10 of the index for operator op: the exact answer comes from a
-- sequential scan (index scans disabled), the approximate one from the
-- index (sequential scans disabled)
CREATE FUNCTION pg_temp.ivf_recall(tbl text, op text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
  r float8;
BEGIN
  SET LOCAL enable_indexscan = off;
  EXECUTE format('CREATE TEMP TABLE ivf_exact AS SELECT qid, id FROM ivf_r_q,
                  LATERAL (SELECT id FROM %I ORDER BY v %s q LIMIT 10) s', tbl, op);
  SET LOCAL enable_indexscan = on;
  SET LOCAL enable_seqscan = off;
  EXECUTE format('SELECT count(*)::float8 / (SELECT count(*) FROM ivf_exact) FROM ivf_r_q,
                  LATERAL (SELECT id FROM %I ORDER BY v %s q LIMIT 10) s
                  JOIN ivf_exact e USING (id) WHERE e.qid = ivf_r_q.qid', tbl, op) INTO r;
  DROP TABLE ivf_exact;
  RETURN r;
END $$;

-- the index answers the queries (not a sequential scan)
CREATE INDEX ivf_r_l2 ON ivf_r USING vsearch_ivf (v vector_l2_ops) WITH (lists = 64);
SET vsearch.probes = 8;  -- sqrt(64)
SELECT ok((SELECT count(*) FROM (SELECT 1 FROM ivf_r ORDER BY v <-> (SELECT q FROM ivf_r_q WHERE qid = 1) LIMIT 10) s) = 10,
          'an index scan returns 10 rows');

SELECT pg_temp.ivf_recall('ivf_r', '<->') AS r \gset
SELECT diag('L2 build: recall@10 = ' || :r);
SELECT cmp_ok(:r::float8, '>=', 0.95::float8, 'L2: recall@10 >= 0.95 after build');

INSERT INTO ivf_r SELECT i, pg_temp.ivf_point() FROM generate_series(8001, 12000) i;
SELECT pg_temp.ivf_recall('ivf_r', '<->') AS r \gset
SELECT diag('L2 4,000 inserts: recall@10 = ' || :r);
SELECT cmp_ok(:r::float8, '>=', 0.95::float8, 'L2: recall@10 >= 0.95 after 4,000 inserts');

-- a LIMIT larger than the probed lists hold still returns every row asked
-- for; with work_mem at its minimum (room for 5,461 candidates) the 12,000
-- rows need several passes over a batch
SET vsearch.probes = 1;
SELECT is((SELECT count(*)::int FROM (SELECT id FROM ivf_r ORDER BY v <-> (SELECT q FROM ivf_r_q WHERE qid = 2) LIMIT 1500) s),
          1500, 'probes = 1: LIMIT 1500 returns 1500 rows');
SELECT is((SELECT count(DISTINCT id)::int FROM (SELECT id FROM ivf_r ORDER BY v <-> (SELECT q FROM ivf_r_q WHERE qid = 2) LIMIT 100000) s),
          (SELECT count(*)::int FROM ivf_r), 'probes = 1: a LIMIT beyond the table returns every row once');
SET work_mem = '64kB';
SELECT is((SELECT count(DISTINCT id)::int FROM (SELECT id FROM ivf_r ORDER BY v <-> (SELECT q FROM ivf_r_q WHERE qid = 2) LIMIT 100000) s),
          (SELECT count(*)::int FROM ivf_r), 'work_mem 64kB, probes = 1: every row once when batches overflow the memory bound');
SET vsearch.probes = 64;
SELECT is((SELECT count(DISTINCT id)::int FROM (SELECT id FROM ivf_r ORDER BY v <-> (SELECT q FROM ivf_r_q WHERE qid = 2) LIMIT 100000) s),
          (SELECT count(*)::int FROM ivf_r), 'work_mem 64kB, all lists in one batch: every row once, in passes');
SELECT ok((SELECT bool_and(d >= lag_d) FROM (
             SELECT d, lag(d, 1, '-Infinity') OVER (ORDER BY n) AS lag_d FROM (
               SELECT row_number() OVER () AS n, v <-> (SELECT q FROM ivf_r_q WHERE qid = 2) AS d
                 FROM (SELECT v FROM ivf_r ORDER BY v <-> (SELECT q FROM ivf_r_q WHERE qid = 2) LIMIT 100000) s) s) s),
          'work_mem 64kB, all lists in one batch: rows come in exact distance order across passes');
RESET work_mem;
SET vsearch.probes = 8;

DELETE FROM ivf_r WHERE id % 4 <> 0;
VACUUM ivf_r;
SELECT pg_temp.ivf_recall('ivf_r', '<->') AS r \gset
SELECT diag('L2 deleting 75% and vacuuming: recall@10 = ' || :r);
SELECT cmp_ok(:r::float8, '>=', 0.95::float8, 'L2: recall@10 >= 0.95 after deleting 75% and vacuuming');
SELECT lives_ok($$SELECT vsearch_ivf_check('ivf_r_l2')$$, 'L2: the checker passes after vacuum');

-- inner product and cosine
CREATE INDEX ivf_r_ip ON ivf_r USING vsearch_ivf (v vector_ip_ops) WITH (lists = 64);
SELECT pg_temp.ivf_recall('ivf_r', '<#>') AS r \gset
SELECT diag('inner product: recall@10 = ' || :r);
SELECT cmp_ok(:r::float8, '>=', 0.95::float8, 'inner product: recall@10 >= 0.95');
CREATE INDEX ivf_r_cos ON ivf_r USING vsearch_ivf (v vector_cosine_ops) WITH (lists = 64);
SELECT pg_temp.ivf_recall('ivf_r', '<=>') AS r \gset
SELECT diag('cosine: recall@10 = ' || :r);
SELECT cmp_ok(:r::float8, '>=', 0.95::float8, 'cosine: recall@10 >= 0.95');
SELECT lives_ok($$SELECT vsearch_ivf_check('ivf_r_ip'), vsearch_ivf_check('ivf_r_cos')$$,
                'the checker passes on the inner-product and cosine indexes');

-- an index built on an empty table, then filled
CREATE TABLE ivf_r_e (id int PRIMARY KEY, v vector(64));
CREATE INDEX ivf_r_e_idx ON ivf_r_e USING vsearch_ivf (v);
INSERT INTO ivf_r_e SELECT id, v FROM ivf_r;
SELECT pg_temp.ivf_recall('ivf_r_e', '<->') AS r \gset
SELECT diag('empty table then inserts: recall@10 = ' || :r);
SELECT cmp_ok(:r::float8, '>=', 0.999::float8, 'empty table then inserts: one list, exact answers');
SELECT lives_ok($$SELECT vsearch_ivf_check('ivf_r_e_idx')$$, 'the checker passes on the filled index');
-- rebuilt on the data it now holds, it is trained again
REINDEX INDEX ivf_r_e_idx;
SELECT pg_temp.ivf_recall('ivf_r_e', '<->') AS r \gset
SELECT diag('after REINDEX with automatic lists: recall@10 = ' || :r);
SELECT cmp_ok(:r::float8, '>=', 0.95::float8, 'after REINDEX with automatic lists: recall@10 >= 0.95');

SELECT * FROM finish();
DROP TABLE ivf_r_centers, ivf_r, ivf_r_q, ivf_r_e;
