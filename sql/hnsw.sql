-- vsearch_hnsw: options, errors, plans and small exact cases.
\set SHOW_CONTEXT never
SET client_min_messages = warning;

CREATE TABLE hnsw_t (id int PRIMARY KEY, v vector(3));
INSERT INTO hnsw_t VALUES (1, '[1,1,1]'), (2, '[2,2,2]'), (3, '[1,1,2]'), (4, '[-1,-1,-1]'),
                          (5, NULL), (6, '[0,0,0]'), (7, '[1,1,1]');
CREATE INDEX hnsw_t_l2 ON hnsw_t USING vsearch_hnsw (v vector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_t ORDER BY v <-> '[1,1,1]' LIMIT 3;
-- tiny graph: exact order, duplicates returned, NULL not indexed
SELECT id, v <-> '[1,1,1]' AS dist FROM hnsw_t ORDER BY v <-> '[1,1,1]', id LIMIT 10;
SELECT count(*) FROM (SELECT id FROM hnsw_t ORDER BY v <-> '[1,1,1]') s;
-- a NULL query vector reaching the index returns no rows (documented);
-- rows whose vector is NULL are not in the index at all
SELECT id FROM hnsw_t ORDER BY v <-> (SELECT NULL::vector) LIMIT 3;
-- query with other dimensions
SELECT id FROM hnsw_t ORDER BY v <-> '[1,1]' LIMIT 3;
SELECT elements, heap_tids, deleted, unreachable, live_rows FROM vsearch_hnsw_check('hnsw_t_l2');

-- cosine: the zero vector is not indexed
CREATE INDEX hnsw_t_cos ON hnsw_t USING vsearch_hnsw (v vector_cosine_ops);
SELECT id FROM hnsw_t ORDER BY v <=> '[1,1,1]', id LIMIT 10;
SELECT elements, heap_tids, live_rows FROM vsearch_hnsw_check('hnsw_t_cos');
DROP INDEX hnsw_t_cos;
RESET enable_seqscan;

-- the index is not used without ORDER BY or without LIMIT on a large table
CREATE TABLE hnsw_big (id int, v vector(8));
INSERT INTO hnsw_big SELECT i, ARRAY[i % 7, i % 11, i % 13, i % 17, i % 19, i % 23, i % 29, i % 31]::real[]
  FROM generate_series(1, 20000) i;
CREATE INDEX hnsw_big_idx ON hnsw_big USING vsearch_hnsw (v);
ANALYZE hnsw_big;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_big ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_big ORDER BY v <-> '[1,2,3,4,5,6,7,8]';
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_big WHERE v = '[1,2,3,4,5,6,7,8]';
-- an opclass whose operator does not match the ORDER BY is not used
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_big ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 5;
DROP TABLE hnsw_big;

-- options and their bounds
CREATE INDEX ON hnsw_t USING vsearch_hnsw (v) WITH (m = 1);
CREATE INDEX ON hnsw_t USING vsearch_hnsw (v) WITH (m = 101);
CREATE INDEX ON hnsw_t USING vsearch_hnsw (v) WITH (ef_construction = 3);
CREATE INDEX ON hnsw_t USING vsearch_hnsw (v) WITH (ef_construction = 1001);
CREATE INDEX ON hnsw_t USING vsearch_hnsw (v) WITH (m = 16, ef_construction = 20);
CREATE INDEX ON hnsw_t USING vsearch_hnsw (v) WITH (lists = 5);
CREATE INDEX hnsw_t_opts ON hnsw_t USING vsearch_hnsw (v) WITH (m = 4, ef_construction = 8);
SELECT reloptions FROM pg_class WHERE relname = 'hnsw_t_opts';
DROP INDEX hnsw_t_opts;
SET vsearch.ef_search = 0;
SET vsearch.ef_search = 1001;
SET vsearch.ef_search = 1;
SHOW vsearch.ef_search;
RESET vsearch.ef_search;

-- columns it cannot index
CREATE TABLE hnsw_bad (a vector, b vector(2001), c int);
CREATE INDEX ON hnsw_bad USING vsearch_hnsw (a);
CREATE INDEX ON hnsw_bad USING vsearch_hnsw (b);
CREATE INDEX ON hnsw_bad USING vsearch_hnsw (c);
CREATE INDEX ON hnsw_bad USING vsearch_hnsw ((b::vector(3)), (b::vector(3)));
CREATE UNIQUE INDEX ON hnsw_t USING vsearch_hnsw (v);
DROP TABLE hnsw_bad;
-- 2,000 dimensions are indexable
CREATE TABLE hnsw_wide (v vector(2000));
INSERT INTO hnsw_wide SELECT array_fill(i::real, ARRAY[2000])::vector FROM generate_series(1, 20) i;
CREATE INDEX hnsw_wide_idx ON hnsw_wide USING vsearch_hnsw (v);
INSERT INTO hnsw_wide SELECT array_fill(i::real, ARRAY[2000])::vector FROM generate_series(21, 30) i;
SELECT elements, live_rows FROM vsearch_hnsw_check('hnsw_wide_idx');
DROP TABLE hnsw_wide;

-- inserts of the wrong dimension are rejected before the index sees them
INSERT INTO hnsw_t VALUES (8, '[1,2]');

-- empty table, then inserts
CREATE TABLE hnsw_empty (v vector(2));
CREATE INDEX hnsw_empty_idx ON hnsw_empty USING vsearch_hnsw (v);
SELECT elements FROM vsearch_hnsw_check('hnsw_empty_idx');
SET enable_seqscan = off;
SELECT * FROM hnsw_empty ORDER BY v <-> '[0,0]' LIMIT 1;
INSERT INTO hnsw_empty SELECT ARRAY[i, -i]::real[] FROM generate_series(1, 100) i;
SELECT * FROM hnsw_empty ORDER BY v <-> '[0,0]' LIMIT 3;
RESET enable_seqscan;
SELECT elements, live_rows FROM vsearch_hnsw_check('hnsw_empty_idx');
DROP TABLE hnsw_empty;

-- unlogged tables get an init fork
CREATE UNLOGGED TABLE hnsw_unlogged (v vector(2));
CREATE INDEX hnsw_unlogged_idx ON hnsw_unlogged USING vsearch_hnsw (v);
INSERT INTO hnsw_unlogged VALUES ('[1,2]');
SELECT elements FROM vsearch_hnsw_check('hnsw_unlogged_idx');
DROP TABLE hnsw_unlogged;

-- REINDEX and CREATE INDEX CONCURRENTLY
REINDEX INDEX hnsw_t_l2;
CREATE INDEX CONCURRENTLY hnsw_t_cc ON hnsw_t USING vsearch_hnsw (v vector_ip_ops);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'hnsw_t_cc'::regclass;
REINDEX INDEX CONCURRENTLY hnsw_t_cc;
SELECT elements FROM vsearch_hnsw_check('hnsw_t_cc');

-- the checker refuses other indexes and relations that are not indexes
SELECT * FROM vsearch_hnsw_check('hnsw_t_pkey');
SELECT * FROM vsearch_hnsw_check('hnsw_t');

-- a partial index: the checker counts only rows satisfying the predicate
-- (it once reported rows outside it as missing from the index)
CREATE INDEX hnsw_t_partial ON hnsw_t USING vsearch_hnsw (v) WHERE id % 2 = 1;
SELECT elements, heap_tids, live_rows FROM vsearch_hnsw_check('hnsw_t_partial');
DROP INDEX hnsw_t_partial;

-- ALTER INDEX ... SET (m) changes nothing until REINDEX: the layout comes
-- from the metapage
ALTER INDEX hnsw_t_l2 SET (m = 4);
INSERT INTO hnsw_t VALUES (8, '[3,3,3]');
SET enable_seqscan = off;
SELECT id FROM hnsw_t ORDER BY v <-> '[3,3,3]' LIMIT 2;
RESET enable_seqscan;
SELECT elements, heap_tids, live_rows FROM vsearch_hnsw_check('hnsw_t_l2');
REINDEX INDEX hnsw_t_l2;
SELECT elements, heap_tids, live_rows FROM vsearch_hnsw_check('hnsw_t_l2');

-- operator classes validate
SELECT opcname, amvalidate(opc.oid) FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
 WHERE amname = 'vsearch_hnsw' ORDER BY opcname;

DROP TABLE hnsw_t;
