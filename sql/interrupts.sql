-- Long operations stop on statement_timeout (CHECK_FOR_INTERRUPTS in their
-- loops) and leave nothing behind: an index build (graph, k-means), a deep
-- index scan read to the end.  The timeout is far below what each operation
-- needs on 20,000 x 128 rows, so each is cancelled mid-way.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SELECT setseed(0.5);
CREATE TABLE intr_t (id int, v vector(128));
INSERT INTO intr_t
  SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 128) WHERE i > 0)::vector
    FROM generate_series(1, 20000) i;

SET statement_timeout = '150ms';
CREATE INDEX intr_hnsw ON intr_t USING vsearch_hnsw (v);
CREATE INDEX intr_ivf ON intr_t USING vsearch_ivf (v) WITH (lists = 200);
RESET statement_timeout;
-- no half-built index is left, and nothing holds a lock on the table
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'intr_t'::regclass;
SELECT count(*) AS other_locks FROM pg_locks
 WHERE relation = 'intr_t'::regclass AND pid <> pg_backend_pid();

-- the builds succeed when given time
CREATE INDEX intr_hnsw ON intr_t USING vsearch_hnsw (v) WITH (m = 8, ef_construction = 16);
CREATE INDEX intr_ivf ON intr_t USING vsearch_ivf (v) WITH (lists = 50);

-- scans read to the end (every row through the index, 40 times) stop too
SET enable_seqscan = off;
SET statement_timeout = '100ms';
SELECT count(*) FROM generate_series(1, 40) g,
  LATERAL (SELECT id FROM intr_t ORDER BY v <-> (SELECT v FROM intr_t WHERE id = g) LIMIT 20000) s;
RESET statement_timeout;
RESET enable_seqscan;
SELECT elements FROM vsearch_hnsw_check('intr_hnsw');
DROP TABLE intr_t;
