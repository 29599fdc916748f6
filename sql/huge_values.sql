-- Vectors with elements near float4's largest value (3e38 is accepted,
-- 4e38 is not).  Their squared L2 distances, L1 sums and dot products
-- with other vectors overflow float4 to +Infinity, as pgvector's do, while
-- cosine distance is formed again in double and stays exact.  The indexes
-- must keep every row, link huge rows into the graph like any other,
-- return every row at a finite distance before any at +Infinity, and
-- still return those, last.
SET jit = off;
SELECT setseed(0.57);

-- the distances the operators give
SELECT '[-3e38,0]'::vector <-> '[0,0]' AS l2, '[-3e38,0]'::vector <+> '[0,0]' AS l1,
       '[-3e38,-3e38]'::vector <+> '[0,0]' AS l1_overflow,
       '[-3e38,-3e38]'::vector <#> '[1,1]' AS neg_ip, '[-3e38,-3e38]'::vector <#> '[-1,-1]' AS neg_ip_best,
       '[-3e38,3e38]'::vector <#> '[3e38,3e38]' AS neg_ip_nan;
SELECT '[-3e38,-3e38]'::vector <=> '[-1,-1]' AS cosine_same, '[-3e38,0]'::vector <=> '[0,1]' AS cosine_right_angle,
       '[3e38,-3e38]'::vector <=> '[-1,1]' AS cosine_opposite, cosine_distance('[1e30,1e30]', '[1e-30,1e-30]') AS cosine_small;

-- 300 ordinary rows in the unit cube, then rows of two groups:
-- group a (10001-): every element between -3e38 and -2e38: +Infinity from
--   every other row under L2 and L1, each other included; a product with
--   an ordinary row is -Infinity (+Infinity under <#>)
-- group b (20001-): first element -3e38, the others ordinary: finite L2
--   distances to each other, +Infinity to the rest; finite L1 distances
--   and products with ordinary rows
CREATE TABLE huge (id int PRIMARY KEY, v vector(8));
INSERT INTO huge SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector
  FROM generate_series(1, 300) i;
-- add_huge adds a rows of group a and b of group b to tbl, numbered on
CREATE FUNCTION add_huge(tbl regclass, a int, b int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  last int;
BEGIN
  EXECUTE format('SELECT coalesce(max(id), 10000) FROM %s WHERE id BETWEEN 10001 AND 19999', tbl) INTO last;
  EXECUTE format('INSERT INTO %s SELECT $2 + i, ARRAY(SELECT (-(2 + random()) * 1e38)::real
                    FROM generate_series(1, 8) WHERE i > 0)::vector FROM generate_series(1, $1) i', tbl)
    USING a, last;
  EXECUTE format('SELECT coalesce(max(id), 20000) FROM %s WHERE id BETWEEN 20001 AND 29999', tbl) INTO last;
  EXECUTE format('INSERT INTO %s SELECT $2 + i, (''[-3e38,'' || array_to_string(ARRAY(SELECT random()::real
                    FROM generate_series(1, 7) WHERE i > 0), '','') || '']'')::vector FROM generate_series(1, $1) i', tbl)
    USING b, last;
END $$;

-- finite_ids: the rows of tbl at a finite distance from q under op
CREATE FUNCTION finite_ids(tbl regclass, op text, q vector) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
  ids int[];
BEGIN
  EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM %s WHERE (v %s $1) < ''Infinity''', tbl, op)
    INTO ids USING q;
  RETURN ids;
END $$;

-- check_query: the first rows of the index scan ORDER BY v op q LIMIT
-- (finite rows + 3, at most all rows) are the rows at a finite distance,
-- the others at +Infinity; and LIMIT 10 through the index, searching
-- every element or list, gives the exact answer's finite distances.
-- Returns 'ok' or what differs.
CREATE FUNCTION check_query(tbl regclass, op text, q vector) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  fin int[] := finite_ids(tbl, op, q);
  got int[];
  exact float8[];
  approx float8[];
  k int;
BEGIN
  EXECUTE format('SELECT least(%s, count(*)) FROM %s', cardinality(fin) + 3, tbl) INTO k;
  SET LOCAL enable_seqscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %s ORDER BY v %s $1 LIMIT %s) s', tbl, op, k)
    INTO got USING q;
  IF cardinality(got) <> k THEN
    RETURN format('%s rows, not %s', cardinality(got), k);
  END IF;
  IF (SELECT array_agg(x ORDER BY x) FROM unnest(got[1:cardinality(fin)]) x) IS DISTINCT FROM
     (CASE WHEN cardinality(fin) = 0 THEN NULL ELSE fin END) THEN
    RETURN format('the first %s rows are not those at a finite distance', cardinality(fin));
  END IF;
  -- distances, not ids: rows can tie (cosine of rows of group b)
  SET LOCAL vsearch.ef_search = 400;
  SET LOCAL vsearch.probes = 100;
  EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s $1 AS d FROM %s ORDER BY v %s $1 LIMIT 10) s WHERE d < ''Infinity''', op, tbl, op)
    INTO approx USING q;
  SET LOCAL enable_seqscan = on;
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s $1 AS d FROM %s ORDER BY v %s $1 LIMIT 10) s WHERE d < ''Infinity''', op, tbl, op)
    INTO exact USING q;
  IF cardinality(approx) IS DISTINCT FROM cardinality(exact) OR
     EXISTS (SELECT FROM unnest(approx, exact) x(a, e) WHERE abs(a - e) > 1e-6 * greatest(1, abs(e))) THEN
    RETURN format('LIMIT 10 gives distances %s, exact search %s', approx, exact);
  END IF;
  RETURN 'ok';
END $$;

-- check_index: check_query's verdicts for queries from rows ids of tbl,
-- grouped by kind (ordinary, a, b) and number of rows at a finite
-- distance
CREATE FUNCTION check_index(tbl regclass, op text, ids int[]) RETURNS TABLE (query text, finite_rows int, verdict text, queries bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT CASE WHEN id < 10000 THEN ''ordinary'' WHEN id < 20000 THEN ''a'' ELSE ''b'' END,
            cardinality(finite_ids(%L, %L, v)), check_query(%L, %L, v), count(*)
       FROM %s WHERE id = ANY ($1) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3', tbl, op, tbl, op, tbl) USING ids;
END $$;

-- scan_all: rows and distinct rows an index scan without LIMIT returns
CREATE FUNCTION scan_all(tbl regclass, op text, OUT n bigint, OUT d bigint) LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL enable_seqscan = off;
  EXECUTE format('SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM %s ORDER BY v %s ''[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]'') s', tbl, op)
    INTO n, d;
END $$;

-- vsearch_hnsw, one index per opclass, built on the ordinary rows; the
-- huge rows and 40 more ordinary ones are inserted
CREATE INDEX huge_l2 ON huge USING vsearch_hnsw (v vector_l2_ops);
CREATE INDEX huge_ip ON huge USING vsearch_hnsw (v vector_ip_ops);
CREATE INDEX huge_cos ON huge USING vsearch_hnsw (v vector_cosine_ops);
CREATE INDEX huge_l1 ON huge USING vsearch_hnsw (v vector_l1_ops);
SELECT add_huge('huge', 20, 20);
INSERT INTO huge SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector
  FROM generate_series(301, 340) i;
SET vsearch.ef_search = 10;
-- every row has an element, every element is reachable (under inner
-- product the graph leaves many elements of this data without in-links,
-- huge or not: not shown)
SELECT indexrelid::regclass AS index, c.elements, c.heap_tids, c.live_rows,
       CASE WHEN indexrelid <> 'huge_ip'::regclass THEN c.unreachable = 0 END AS all_reachable
  FROM pg_index, vsearch_hnsw_check(indexrelid) c WHERE indrelid = 'huge'::regclass AND indexrelid <> 'huge_pkey'::regclass
 ORDER BY 1;
SELECT 'l2' AS op, * FROM scan_all('huge', '<->') UNION ALL SELECT 'ip', * FROM scan_all('huge', '<#>')
UNION ALL SELECT 'cosine', * FROM scan_all('huge', '<=>') UNION ALL SELECT 'l1', * FROM scan_all('huge', '<+>');
SELECT * FROM check_index('huge', '<->', '{1,2,3,10001,10002,10003,10004,10005,20001,20002,20003,20004,20005}');
-- under inner product a product with a row of group a or b overflows to
-- +Infinity (distance -Infinity, ranked first) for queries of those
-- groups: ordinary queries only
SELECT * FROM check_index('huge', '<#>', '{1,2,3,4,5}');
SELECT * FROM check_index('huge', '<=>', '{1,2,3,10001,10002,10003,20001,20002,20003}');
SELECT * FROM check_index('huge', '<+>', '{1,2,3,10001,10002,10003,10004,10005,20001,20002,20003,20004,20005}');

-- built with the huge rows present
REINDEX TABLE huge;
SELECT indexrelid::regclass AS index, c.elements, c.heap_tids, c.live_rows
  FROM pg_index, vsearch_hnsw_check(indexrelid) c WHERE indrelid = 'huge'::regclass AND indexrelid <> 'huge_pkey'::regclass
 ORDER BY 1;
SELECT * FROM check_index('huge', '<->', '{1,2,3,10001,10002,10003,10004,10005,20001,20002,20003,20004,20005}');
SELECT * FROM check_index('huge', '<#>', '{1,2,3,4,5}');
SELECT * FROM check_index('huge', '<=>', '{1,2,3,10001,10002,10003,20001,20002,20003}');
SELECT * FROM check_index('huge', '<+>', '{1,2,3,10001,10002,10003,10004,10005,20001,20002,20003,20004,20005}');
DROP INDEX huge_l2, huge_ip, huge_cos, huge_l1;

-- Full neighbour lists (m = 4, 2,000 rows): a row of group a inserted
-- into one must keep its in-links, or the search cannot reach it.  With
-- a search window of 10 each row of group a must come first for its own
-- vector (distance 0, every other row at +Infinity).
CREATE TABLE huge_full (id int PRIMARY KEY, v vector(8));
INSERT INTO huge_full SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector
  FROM generate_series(1, 2000) i;
CREATE INDEX huge_full_l2 ON huge_full USING vsearch_hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
SELECT add_huge('huge_full', 30, 0);
-- the checker counts 0 or 1 unreachable elements here (an ordinary row a
-- back-link displaced); 10 to 18 when the rows of group a lost their
-- in-links
SELECT unreachable < 5 AS huge_rows_linked FROM vsearch_hnsw_check('huge_full_l2');
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE (SELECT id FROM huge_full ORDER BY v <-> q.v LIMIT 1) = q.id) AS found_first, count(*)
  FROM huge_full q WHERE id > 10000;
RESET enable_seqscan;
SELECT * FROM scan_all('huge_full', '<->');
DROP TABLE huge_full;

-- vsearch_ivf: one list probed at first.  Built on the table with the
-- huge rows (k-means trains on them), then more inserted.
CREATE INDEX huge_ivf_l2 ON huge USING vsearch_ivf (v vector_l2_ops) WITH (lists = 10);
CREATE INDEX huge_ivf_ip ON huge USING vsearch_ivf (v vector_ip_ops) WITH (lists = 10);
CREATE INDEX huge_ivf_cos ON huge USING vsearch_ivf (v vector_cosine_ops) WITH (lists = 10);
SELECT add_huge('huge', 5, 5);
SET vsearch.probes = 1;
SELECT vsearch_ivf_check('huge_ivf_l2') IS NOT NULL AS l2_ok, vsearch_ivf_check('huge_ivf_ip') IS NOT NULL AS ip_ok,
       vsearch_ivf_check('huge_ivf_cos') IS NOT NULL AS cos_ok;
SELECT 'l2' AS op, * FROM scan_all('huge', '<->') UNION ALL SELECT 'ip', * FROM scan_all('huge', '<#>')
UNION ALL SELECT 'cosine', * FROM scan_all('huge', '<=>');
SELECT * FROM check_index('huge', '<->', '{1,2,3,10001,10002,10003,10021,10022,20001,20002,20003,20021,20022}');
SELECT * FROM check_index('huge', '<#>', '{1,2,3,4,5}');
SELECT * FROM check_index('huge', '<=>', '{1,2,3,10001,10002,10021,20001,20002,20021}');
DROP INDEX huge_ivf_l2, huge_ivf_ip, huge_ivf_cos;

-- Built on ordinary rows only, then the huge rows inserted: each is
-- +Infinity from every centroid under L2 and joins the first list, read
-- whenever that list is probed.
DELETE FROM huge WHERE id > 10000;
CREATE INDEX huge_ivf_l2 ON huge USING vsearch_ivf (v vector_l2_ops) WITH (lists = 10);
SELECT add_huge('huge', 20, 20);
SELECT vsearch_ivf_check('huge_ivf_l2') IS NOT NULL AS l2_ok;
SELECT * FROM scan_all('huge', '<->');
SELECT * FROM check_index('huge', '<->', '{1,2,3,4,5,6,7,8,9,10,10001,10002,10003,20001,20002,20003}');
RESET vsearch.probes;
RESET vsearch.ef_search;
DROP TABLE huge;
DROP FUNCTION add_huge, finite_ids, check_query, check_index, scan_all;
