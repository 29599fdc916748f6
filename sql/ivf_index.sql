-- The vsearch_ivf index: options, settings, every error message, plans,
-- small exact cases, NULLs and zero vectors, empty and tiny tables,
-- unlogged tables, the validator and the structure checker.
\set SHOW_CONTEXT never
SET client_min_messages = notice;

CREATE TABLE ivf_t (id int PRIMARY KEY, v vector(3));
INSERT INTO ivf_t SELECT i, ARRAY[i % 10, (i / 10) % 10, i / 100]::vector
  FROM generate_series(0, 999) i;

-- reloption bounds
CREATE INDEX ON ivf_t USING vsearch_ivf (v) WITH (lists = -1);
CREATE INDEX ON ivf_t USING vsearch_ivf (v) WITH (lists = 32769);
CREATE INDEX ON ivf_t USING vsearch_ivf (v) WITH (lists = 'many');
CREATE INDEX ON ivf_t USING vsearch_ivf (v) WITH (probes = 3);

-- what the access method does not do
CREATE INDEX ON ivf_t USING vsearch_ivf (v vector_ops);
CREATE INDEX ON ivf_t USING vsearch_ivf (id);
CREATE INDEX ON ivf_t USING vsearch_ivf (v, v);
CREATE UNIQUE INDEX ON ivf_t USING vsearch_ivf (v);
CREATE INDEX ON ivf_t USING vsearch_ivf (v) INCLUDE (id);

-- the default operator class is vector_l2_ops; lists from the option
CREATE INDEX ivf_t_l2 ON ivf_t USING vsearch_ivf (v) WITH (lists = 10);
SELECT opcname FROM pg_index i JOIN pg_opclass o ON o.oid = i.indclass[0]
 WHERE i.indexrelid = 'ivf_t_l2'::regclass;
SELECT vsearch_ivf_check('ivf_t_l2');

-- with LIMIT the planner uses the index; without, an exact sort
EXPLAIN (COSTS OFF) SELECT id FROM ivf_t ORDER BY v <-> '[1,2,3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_t ORDER BY v <-> '[1,2,3]';
-- an operator of another opclass cannot use it
EXPLAIN (COSTS OFF) SELECT id FROM ivf_t ORDER BY v <#> '[1,2,3]' LIMIT 5;

-- exact neighbours on a grid (probing every list)
SET vsearch.probes = 10;
SELECT id, v, v <-> '[1,2,3]' AS dist FROM ivf_t ORDER BY v <-> '[1,2,3]' LIMIT 7;
-- the whole table comes back through the index, each row once
SET enable_seqscan = off;
SET vsearch.probes = 1;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM ivf_t ORDER BY v <-> '[4,4,4]' LIMIT 5000) s;
-- a WHERE clause that rejects most rows: the scan goes on into other lists
-- until it has found all 10 rows asked for
SELECT array_agg(id ORDER BY id) FROM
  (SELECT id FROM ivf_t WHERE id % 100 = 99 ORDER BY v <-> '[0,0,0]' LIMIT 10) s;
RESET enable_seqscan;
RESET vsearch.probes;

-- query errors: other dimensions
SELECT id FROM ivf_t ORDER BY v <-> '[1,2]' LIMIT 1;
-- a NULL query vector gives no rows from the index
SET plan_cache_mode = force_generic_plan;
PREPARE ivf_q(vector) AS SELECT id FROM ivf_t ORDER BY v <-> $1 LIMIT 5;
EXPLAIN (COSTS OFF) EXECUTE ivf_q(NULL);
EXECUTE ivf_q(NULL);
EXECUTE ivf_q('[9,9,9]');
DEALLOCATE ivf_q;
RESET plan_cache_mode;

-- setting bounds
SET vsearch.probes = -1;
SET vsearch.probes = 32769;
SET vsearch.probs = 1;
SHOW vsearch.probes;

-- dimension limit of the index
CREATE TABLE ivf_big (v vector(2001));
CREATE INDEX ON ivf_big USING vsearch_ivf (v);
CREATE TABLE ivf_untyped (id int, v vector);
INSERT INTO ivf_untyped VALUES (1, array_fill(1, ARRAY[2001])::vector);
CREATE INDEX ON ivf_untyped USING vsearch_ivf (v);
TRUNCATE ivf_untyped;
-- mixed dimensions in a column without a type modifier
INSERT INTO ivf_untyped VALUES (1, '[1,2,3]'), (2, '[1,2]');
CREATE INDEX ON ivf_untyped USING vsearch_ivf (v);
-- (TRUNCATE, not DELETE: a deleted row stays visible to an index build
-- while any other session's snapshot may still see it)
TRUNCATE ivf_untyped;
INSERT INTO ivf_untyped VALUES (1, '[1,2,3]');
CREATE INDEX ivf_untyped_idx ON ivf_untyped USING vsearch_ivf (v);
INSERT INTO ivf_untyped VALUES (3, '[1,2]');
INSERT INTO ivf_untyped VALUES (4, array_fill(1, ARRAY[2001])::vector);
SELECT vsearch_ivf_check('ivf_untyped_idx');

-- maintenance_work_mem is checked before anything is allocated
CREATE TABLE ivf_wide (v vector(2000));
INSERT INTO ivf_wide SELECT array_fill(i, ARRAY[2000])::vector FROM generate_series(1, 3) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX ON ivf_wide USING vsearch_ivf (v) WITH (lists = 100);
RESET maintenance_work_mem;

-- a table with fewer rows than lists: fewer lists, with a notice
CREATE INDEX ivf_wide_idx ON ivf_wide USING vsearch_ivf (v) WITH (lists = 100);
SELECT vsearch_ivf_check('ivf_wide_idx');

-- NULLs are not indexed, nor zero vectors under cosine
CREATE TABLE ivf_c (id int, v vector(2));
INSERT INTO ivf_c VALUES (1, '[1,0]'), (2, '[0,0]'), (3, NULL), (4, '[0,1]'), (5, '[1,1]');
CREATE INDEX ivf_c_cos ON ivf_c USING vsearch_ivf (v vector_cosine_ops) WITH (lists = 2);
INSERT INTO ivf_c VALUES (6, '[0,0]'), (7, NULL), (8, '[2,1]');
SET enable_seqscan = off;
SELECT id, v <=> '[3,1]' AS dist FROM ivf_c ORDER BY v <=> '[3,1]' LIMIT 10;
SET vsearch.probes = 2;
SELECT id FROM ivf_c ORDER BY v <=> '[0,0]' LIMIT 10;
RESET vsearch.probes;
RESET enable_seqscan;
SELECT vsearch_ivf_check('ivf_c_cos');

-- inner product
CREATE INDEX ivf_c_ip ON ivf_c USING vsearch_ivf (v vector_ip_ops) WITH (lists = 1);
SET enable_seqscan = off;
SELECT id, v <#> '[1,2]' AS neg_ip FROM ivf_c ORDER BY v <#> '[1,2]' LIMIT 10;
RESET enable_seqscan;
SELECT vsearch_ivf_check('ivf_c_ip');

-- an empty table: a notice, and the first row creates the only list
CREATE TABLE ivf_e (id int, v vector(2));
CREATE INDEX ivf_e_idx ON ivf_e USING vsearch_ivf (v);
SET enable_seqscan = off;
SELECT id FROM ivf_e ORDER BY v <-> '[1,1]' LIMIT 1;
INSERT INTO ivf_e SELECT i, ARRAY[i, -i]::vector FROM generate_series(1, 500) i;
SELECT id FROM ivf_e ORDER BY v <-> '[10,-10]' LIMIT 3;
RESET enable_seqscan;
SELECT vsearch_ivf_check('ivf_e_idx');
-- an empty table without a type modifier takes the first row's dimensions
CREATE TABLE ivf_e2 (v vector);
CREATE INDEX ivf_e2_idx ON ivf_e2 USING vsearch_ivf (v);
INSERT INTO ivf_e2 VALUES ('[1,2,3,4]');
INSERT INTO ivf_e2 VALUES ('[1,2,3]');
SELECT vsearch_ivf_check('ivf_e2_idx');

-- unlogged tables get an init fork
CREATE UNLOGGED TABLE ivf_u (id int, v vector(2));
INSERT INTO ivf_u SELECT i, ARRAY[i % 7, i % 5]::vector FROM generate_series(1, 100) i;
CREATE INDEX ivf_u_idx ON ivf_u USING vsearch_ivf (v) WITH (lists = 4);
INSERT INTO ivf_u SELECT i, ARRAY[i % 7, i % 5]::vector FROM generate_series(101, 200) i;
SELECT count(*) FROM (SELECT id FROM ivf_u ORDER BY v <-> '[3,3]' LIMIT 1000) s;
SELECT vsearch_ivf_check('ivf_u_idx');

-- vacuum removes dead rows and the space is reused
DELETE FROM ivf_t;
VACUUM ivf_t;
SELECT vsearch_ivf_check('ivf_t_l2');
SELECT pg_relation_size('ivf_t_l2') AS size_before \gset
INSERT INTO ivf_t SELECT i, ARRAY[i % 10, (i / 10) % 10, i / 100]::vector
  FROM generate_series(0, 999) i;
SELECT pg_relation_size('ivf_t_l2') = :size_before AS same_size;
SELECT vsearch_ivf_check('ivf_t_l2');

-- REINDEX and CREATE INDEX CONCURRENTLY
REINDEX INDEX ivf_t_l2;
CREATE INDEX CONCURRENTLY ivf_t_cc ON ivf_t USING vsearch_ivf (v) WITH (lists = 5);
SELECT vsearch_ivf_check('ivf_t_l2'), vsearch_ivf_check('ivf_t_cc');

-- the validator accepts the shipped operator classes
SELECT opcname, amvalidate(o.oid)
  FROM pg_opclass o JOIN pg_am a ON a.oid = o.opcmethod
 WHERE a.amname = 'vsearch_ivf' ORDER BY opcname;
-- and rejects a broken one
CREATE OPERATOR FAMILY ivf_bad USING vsearch_ivf;
CREATE FUNCTION ivf_bad_dist(vector, vector) RETURNS int
  AS 'SELECT 1' LANGUAGE sql IMMUTABLE;
CREATE OPERATOR CLASS ivf_bad_ops FOR TYPE vector USING vsearch_ivf FAMILY ivf_bad AS
  FUNCTION 1 ivf_bad_dist(vector, vector);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'ivf_bad_ops';
-- an opclass whose distance vsearch_ivf cannot compute
CREATE OPERATOR CLASS ivf_l1_ops FOR TYPE vector USING vsearch_ivf AS
  OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
  FUNCTION 1 l1_distance(vector, vector);
CREATE INDEX ON ivf_c USING vsearch_ivf (v ivf_l1_ops);

-- the checker refuses other relations
SELECT vsearch_ivf_check('ivf_t');
SELECT vsearch_ivf_check('ivf_t_pkey');

DROP TABLE ivf_t, ivf_big, ivf_untyped, ivf_wide, ivf_c, ivf_e, ivf_e2, ivf_u;
DROP OPERATOR CLASS ivf_l1_ops USING vsearch_ivf;
DROP OPERATOR FAMILY ivf_bad USING vsearch_ivf;
DROP FUNCTION ivf_bad_dist(vector, vector);
