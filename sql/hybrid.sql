-- hybrid.sql: the hybrid scan on a small table with exact answers: plan
-- shapes, OFFSET, cursors, NULL vectors, the similarity form, what is not
-- served, settings.  Results are compared with exact search (hybrid off,
-- vector index scans off) by EXCEPT, so a correct run prints no rows.
SET client_min_messages = warning;
CREATE TABLE hyb (id int PRIMARY KEY, cat int, emb vector(3));
INSERT INTO hyb SELECT i, i % 100, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7)]::real[]::vector(3)
  FROM generate_series(1, 3000) i;
INSERT INTO hyb VALUES (3001, 7, NULL), (3002, 7, NULL);
CREATE INDEX ON hyb (cat);
CREATE INDEX hyb_hnsw ON hyb USING vsearch_hnsw (emb vector_l2_ops);
CREATE INDEX hyb_cos ON hyb USING vsearch_hnsw (emb vector_cosine_ops);
ANALYZE hyb;

-- plan shape: the hybrid scan with the B-tree as its bitmap
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE cat = 7 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
-- plain EXPLAIN does not run the search; no WHERE: the plain index scan
EXPLAIN (COSTS OFF) SELECT id FROM hyb ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
-- not served: FOR UPDATE, a volatile filter, no LIMIT
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE cat = 7 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5 FOR UPDATE;
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE cat < random() * 200 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE cat = 7 ORDER BY emb <-> '[0.1,0.2,0.3]';
-- a threshold without LIMIT is served
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE emb <-> '[0.1,0.2,0.3]' < 0.2 ORDER BY emb <-> '[0.1,0.2,0.3]';

-- the exact answer of a query, for comparison
CREATE FUNCTION exact_ids(q text) RETURNS SETOF int LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL vsearch.hybrid = off;
  SET LOCAL enable_indexscan = off;
  RETURN QUERY EXECUTE q;
END $$;

-- each strategy, and auto, returns the exact rows (this table is small and
-- easy: the index finds every true neighbour)
SET vsearch.hybrid_strategy = exact;
(SELECT id FROM hyb WHERE cat < 30 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 20)
EXCEPT SELECT exact_ids($$ SELECT id FROM hyb WHERE cat < 30 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 20 $$);
SET vsearch.hybrid_strategy = index;
(SELECT id FROM hyb WHERE cat < 30 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 20)
EXCEPT SELECT exact_ids($$ SELECT id FROM hyb WHERE cat < 30 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 20 $$);
RESET vsearch.hybrid_strategy;
(SELECT id FROM hyb WHERE cat < 30 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 20)
EXCEPT SELECT exact_ids($$ SELECT id FROM hyb WHERE cat < 30 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 20 $$);

-- exact order, OFFSET, and rows past a LIMIT larger than ef_search
SET vsearch.hybrid_strategy = exact;
SELECT array_agg(id) = (SELECT array_agg(e) FROM exact_ids($$ SELECT id FROM hyb WHERE cat = 7
                          ORDER BY emb <-> '[0.1,0.2,0.3]' OFFSET 3 LIMIT 5 $$) e) AS offset_ok
  FROM (SELECT id FROM hyb WHERE cat = 7 ORDER BY emb <-> '[0.1,0.2,0.3]' OFFSET 3 LIMIT 5) s;
RESET vsearch.hybrid_strategy;
SELECT count(*) FROM (SELECT id FROM hyb WHERE cat < 50 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 1200) s;

-- a cursor reads every row the LIMIT allows (300 rows with a vector, 2 without)
CREATE FUNCTION cursor_rows() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  c refcursor;
  r record;
  n int := 0;
BEGIN
  OPEN c FOR SELECT id FROM hyb WHERE cat < 10 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 1000;
  LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
SELECT cursor_rows();

-- rows whose vector is NULL come last (after every row with a distance)
SET vsearch.hybrid_strategy = exact;
SELECT id FROM hyb WHERE cat = 7 ORDER BY emb <-> '[0.1,0.2,0.3]' OFFSET 28 LIMIT 5;
RESET vsearch.hybrid_strategy;
-- a NULL query vector: any rows, as many as asked
SELECT count(*) FROM (SELECT id FROM hyb WHERE cat = 7 ORDER BY emb <-> NULL::vector LIMIT 4) s;

-- a zero query under cosine: the index finds nothing (every distance is
-- NaN), the scan hands over to exact and returns as many rows as asked
SET vsearch.hybrid_strategy = index;
SELECT count(*) FROM (SELECT id FROM hyb WHERE cat < 50 ORDER BY emb <=> '[0,0,0]' LIMIT 5) s;
RESET vsearch.hybrid_strategy;

-- similarity: DESC NULLS FIRST needs vectors known not to be NULL
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE cat < 50
  ORDER BY 1 - (emb <=> '[0.1,0.2,0.3]') DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE cat < 50 AND emb IS NOT NULL
  ORDER BY 1 - (emb <=> '[0.1,0.2,0.3]') DESC LIMIT 5;
(SELECT id FROM hyb WHERE cat < 50 AND emb IS NOT NULL ORDER BY 1 - (emb <=> '[0.1,0.2,0.3]') DESC LIMIT 10)
EXCEPT SELECT exact_ids($$ SELECT id FROM hyb WHERE cat < 50 AND emb IS NOT NULL
                           ORDER BY 1 - (emb <=> '[0.1,0.2,0.3]') DESC LIMIT 10 $$);

-- row-level security: a leaky function in the WHERE clause never sees a
-- row the policy hides (it would raise a NOTICE), whatever the strategy
CREATE FUNCTION leaky(c int) RETURNS bool LANGUAGE plpgsql STABLE COST 0.0001 AS $$
BEGIN
  IF c >= 10 THEN
    RAISE NOTICE 'leaked a row of category %', c;
  END IF;
  RETURN true;
END $$;
CREATE ROLE regress_hybrid_reader;
GRANT SELECT ON hyb TO regress_hybrid_reader;
ALTER TABLE hyb ENABLE ROW LEVEL SECURITY;
CREATE POLICY hyb_low ON hyb FOR SELECT TO regress_hybrid_reader USING (cat < 10);
SET ROLE regress_hybrid_reader;
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE leaky(cat) ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
SET vsearch.hybrid_strategy = index;
SELECT count(*) FROM (SELECT id FROM hyb WHERE leaky(cat) ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5) s;
SET vsearch.hybrid_strategy = exact;
SELECT count(*) FROM (SELECT id FROM hyb WHERE leaky(cat) ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5) s;
RESET vsearch.hybrid_strategy;
RESET ROLE;
DROP POLICY hyb_low ON hyb;
ALTER TABLE hyb DISABLE ROW LEVEL SECURITY;
REVOKE SELECT ON hyb FROM regress_hybrid_reader;
DROP ROLE regress_hybrid_reader;
DROP FUNCTION leaky(int);

-- settings
SET vsearch.hybrid_strategy = sometimes;
SET vsearch.hybrid = off;
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE cat = 7 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
RESET vsearch.hybrid;

-- a new session without shared_preload_libraries: the library loads while
-- the query is parsed, so the planner hook is in place when it plans
\c -
EXPLAIN (COSTS OFF) SELECT id FROM hyb WHERE cat = 7 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;

DROP FUNCTION exact_ids(text);
DROP FUNCTION cursor_rows();
DROP TABLE hyb;
