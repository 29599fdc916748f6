-- order_junk.sql: a top-k query that does not select its distance does not
-- compute it per returned row (src/planner/orderjunk.c).  EXPLAIN VERBOSE
-- shows where the hidden ORDER BY column became NULL and where it stays;
-- every query's rows are compared, in order, with the same query planned
-- with vsearch.hybrid off (which also turns the rewrite off): same index,
-- same search, so the arrays must be equal.
SET client_min_messages = warning;
CREATE TABLE oj (id int PRIMARY KEY, cat int, emb vector(3), p point);
INSERT INTO oj SELECT i, i % 50, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7)]::real[]::vector(3)
  FROM generate_series(1, 2000) i;
UPDATE oj SET p = point(id % 37, id % 41);
-- ties: three rows share one vector
INSERT INTO oj VALUES (2001, 1, '[0.5,0.5,0.5]'), (2002, 1, '[0.5,0.5,0.5]'), (2003, 1, '[0.5,0.5,0.5]');
CREATE INDEX ON oj (cat);
CREATE INDEX oj_gist ON oj USING gist (p);
CREATE INDEX oj_hnsw ON oj USING vsearch_hnsw (emb vector_l2_ops);
CREATE INDEX oj_ivf ON oj USING vsearch_ivf (emb vector_cosine_ops) WITH (lists = 10);
ANALYZE oj;

-- rewritten: the index scan's hidden distance column is NULL
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oj ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oj ORDER BY emb <=> '[0.1,0.2,0.3]' LIMIT 5;
-- rewritten: the hybrid scan's hidden distance column, both ORDER BY forms
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oj WHERE cat = 7 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oj WHERE cat = 7 ORDER BY 1 - (emb <=> '[0.1,0.2,0.3]') DESC NULLS LAST LIMIT 5;
-- kept: the distance is selected
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, emb <-> '[0.1,0.2,0.3]' AS d FROM oj ORDER BY d LIMIT 5;
-- kept: WITH TIES compares the sort column
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oj ORDER BY emb <-> '[0.5,0.5,0.5]' FETCH FIRST 1 ROWS WITH TIES;
-- kept: a second sort key (the Sort reads the column)
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oj ORDER BY emb <-> '[0.1,0.2,0.3]', id LIMIT 5;
-- kept: FOR UPDATE (LockRows above the scan)
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oj ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5 FOR UPDATE;
-- kept: in a subquery the statement's top node is not the LIMIT
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM (SELECT id FROM oj ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5) s;
-- kept: another access method's ordered scan (GiST) is not touched
SET enable_seqscan = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oj ORDER BY p <-> point(3, 4) LIMIT 5;
RESET enable_seqscan;
-- kept: vsearch.hybrid off gives the core plan
SET vsearch.hybrid = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oj ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
RESET vsearch.hybrid;

-- same rows in the same order as without the rewrite
CREATE TABLE oj_queries (q text);
INSERT INTO oj_queries VALUES
  ('SELECT id FROM oj ORDER BY emb <-> ''[0.1,0.2,0.3]'' LIMIT 7'),
  ('SELECT id FROM oj ORDER BY emb <=> ''[-0.4,0.2,0.9]'' LIMIT 7'),
  ('SELECT id FROM oj ORDER BY emb <-> ''[0.5,0.5,0.5]'' LIMIT 2'),
  ('SELECT id FROM oj ORDER BY emb <-> ''[0.5,0.5,0.5]'' FETCH FIRST 1 ROWS WITH TIES'),
  ('SELECT id FROM oj WHERE cat = 7 ORDER BY 1 - (emb <=> ''[0.1,0.2,0.3]'') DESC NULLS LAST LIMIT 5');
-- each query runs through a cursor, so that it is planned as a statement of
-- its own (in a subquery the LIMIT would not be the top node)
CREATE FUNCTION top_ids_cursor(sql text, rewrite bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE c refcursor; r int[] := '{}'; v int;
BEGIN
  EXECUTE format('SET LOCAL vsearch.hybrid = %s', CASE WHEN rewrite THEN 'on' ELSE 'off' END);
  OPEN c FOR EXECUTE sql;
  LOOP
    FETCH c INTO v;
    EXIT WHEN NOT FOUND;
    r := r || v;
  END LOOP;
  CLOSE c;
  RETURN r;
END $$;
SELECT q, top_ids_cursor(q, true) = top_ids_cursor(q, false) AS same_rows,
       cardinality(top_ids_cursor(q, true)) AS n
  FROM oj_queries ORDER BY q;
-- ties: WITH TIES still returns all three identical rows
SELECT top_ids_cursor('SELECT id FROM oj ORDER BY emb <-> ''[0.5,0.5,0.5]'' FETCH FIRST 1 ROWS WITH TIES', true);
-- the hybrid scan, filtered: the exact answer (the core plan may be an
-- approximate index scan with a Filter; ORDER BY distance + 0 is an exact sort)
SELECT top_ids_cursor('SELECT id FROM oj WHERE cat = 7 ORDER BY emb <-> ''[0.1,0.2,0.3]'' LIMIT 5', true)
     = top_ids_cursor('SELECT id FROM oj WHERE cat = 7 ORDER BY (emb <-> ''[0.1,0.2,0.3]'') + 0 LIMIT 5', false) AS hybrid_exact;
-- a prepared statement's generic plan is rewritten too
SET plan_cache_mode = force_generic_plan;
PREPARE p(vector, int) AS SELECT id FROM oj ORDER BY emb <-> $1 LIMIT $2;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE p('[0.1,0.2,0.3]', 4);
DEALLOCATE p;
CREATE FUNCTION top_ids_param(q vector, k int, rewrite bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[] := '{}'; v int;
BEGIN
  -- two statements, each planned (and its plan cached) at its first run
  EXECUTE format('SET LOCAL vsearch.hybrid = %s', CASE WHEN rewrite THEN 'on' ELSE 'off' END);
  IF rewrite THEN
    FOR v IN SELECT id FROM oj ORDER BY emb <-> q LIMIT k LOOP
      r := r || v;
    END LOOP;
  ELSE
    FOR v IN SELECT id FROM oj ORDER BY emb <-> q LIMIT k LOOP
      r := r || v;
    END LOOP;
  END IF;
  RETURN r;
END $$;
SELECT top_ids_param('[0.1,0.2,0.3]', 8, true) = top_ids_param('[0.1,0.2,0.3]', 8, false) AS generic_same,
       cardinality(top_ids_param('[0.1,0.2,0.3]', 8, true)) AS n;
RESET plan_cache_mode;

DROP FUNCTION top_ids_param(vector, int, bool);
DROP FUNCTION top_ids_cursor(text, bool);
DROP TABLE oj, oj_queries;
