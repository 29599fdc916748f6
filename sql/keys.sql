-- Key columns: scalar columns after the vector column of a vsearch index,
-- tested on the values stored in the index (src/common/vskeys.h).
SET client_min_messages = warning;

-- 600 rows, deterministic 3-d vectors; tenant 0..5 (NULL for every 50th),
-- lang en/de/fr, a timestamp, a numeric, a flag, a uuid
CREATE TABLE keys_t (id int PRIMARY KEY, tenant int, lang text, ts timestamptz,
                     price numeric, flag bool, u uuid, emb vector(3));
INSERT INTO keys_t
SELECT i, CASE WHEN i % 50 = 0 THEN NULL ELSE i % 6 END,
       (ARRAY['en', 'de', 'fr'])[i % 3 + 1],
       timestamptz '2026-01-01 00:00+00' + i * interval '1 hour',
       (i % 17) * 1.5, i % 4 = 0,
       ('00000000-0000-0000-0000-' || lpad(to_hex(i % 7), 12, '0'))::uuid,
       ARRAY[sin(i * 0.37), cos(i * 0.53), sin(i * 0.91)]::vector
  FROM generate_series(1, 600) i;
-- identical vectors with different keys must not share one index entry
INSERT INTO keys_t
SELECT 1000 + i, i % 3, 'en', timestamptz '2026-01-01 00:00+00', 1, true,
       '00000000-0000-0000-0000-000000000001', '[0.5,0.5,0.5]'
  FROM generate_series(0, 29) i;
ANALYZE keys_t;

-- every key type has a default operator class in both access methods
SELECT a.amname, c.opcname, t.typname, c.opcdefault, amvalidate(c.oid)
  FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod JOIN pg_type t ON t.oid = c.opcintype
 WHERE a.amname LIKE 'vsearch%' AND t.typname <> 'vector'
 ORDER BY 1, 2;

CREATE INDEX keys_hnsw ON keys_t USING vsearch_hnsw (emb vector_l2_ops, tenant, lang, ts, price, flag, u);
SELECT * FROM vsearch_hnsw_check('keys_hnsw');

-- the plain index scan (hybrid scan off): conditions on key columns become
-- Index Cond and agree with an exact search
SET vsearch.hybrid = off;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM keys_t WHERE tenant = 3 AND lang = 'en' ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;

-- keys_compare(cond, q, k) runs the top-k query for WHERE cond as planned
-- (sequential scans off) and exactly (no index, no hybrid scan), and says
-- whether both return the same distances (ties make ids ambiguous)
CREATE FUNCTION keys_compare(cond text, q vector, k int, OUT n int, OUT same bool)
LANGUAGE plpgsql AS $$
DECLARE
  hybrid text := current_setting('vsearch.hybrid');
  sql text := pg_catalog.format('SELECT array_agg(d) FROM (SELECT emb <-> %L::vector AS d FROM keys_t WHERE %s ORDER BY emb <-> %L::vector LIMIT %s) s',
                                q, cond, q, k);
  via_index float8[];
  exact float8[];
BEGIN
  PERFORM set_config('enable_seqscan', 'off', true);
  EXECUTE sql INTO via_index;
  PERFORM set_config('enable_seqscan', 'on', true);
  PERFORM set_config('enable_indexscan', 'off', true);
  PERFORM set_config('enable_bitmapscan', 'off', true);
  PERFORM set_config('vsearch.hybrid', 'off', true);
  EXECUTE sql INTO exact;
  PERFORM set_config('enable_indexscan', 'on', true);
  PERFORM set_config('enable_bitmapscan', 'on', true);
  PERFORM set_config('vsearch.hybrid', hybrid, true);
  n := coalesce(array_length(via_index, 1), 0);
  same := via_index IS NOT DISTINCT FROM exact;
END $$;

SELECT cond, k, c.*
  FROM (VALUES
    ('tenant = 3', '[0.1,0.2,0.3]', 5),
    ('tenant = 3 AND lang = ''en''', '[0.1,0.2,0.3]', 5),
    ('tenant >= 4 AND tenant < 5', '[0.1,0.2,0.3]', 5),
    ('tenant = 2::bigint', '[0.1,0.2,0.3]', 5),
    ('2::smallint > tenant', '[0.1,0.2,0.3]', 5),
    ('ts < date ''2026-01-05''', '[0.1,0.2,0.3]', 5),
    ('ts >= timestamp ''2026-01-20 00:00'' AND ts < timestamptz ''2026-01-21 00:00+00''', '[0.1,0.2,0.3]', 30),
    ('price > 20.5 AND flag = true', '[0.1,0.2,0.3]', 5),
    ('price <= 1.5::float8', '[0.1,0.2,0.3]', 5),
    ('u = ''00000000-0000-0000-0000-000000000003''', '[0.1,0.2,0.3]', 5),
    ('lang > ''e'' AND lang < ''g''', '[0.1,0.2,0.3]', 5),
    ('tenant = 2', '[0.5,0.5,0.5]', 12),
    ('tenant = 0', '[0.5,0.5,0.5]', 200),
    ('tenant = 7', '[0.1,0.2,0.3]', 5)
  ) v(cond, q, k), LATERAL keys_compare(cond, q::vector, k) c;

-- a comparison with NULL keeps no row; NULL keys never pass a comparison
SELECT count(*) FROM (SELECT id FROM keys_t WHERE tenant = NULL::int
                       ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM keys_t WHERE tenant < 100
                       ORDER BY emb <-> '[0.1,0.2,0.3]') s;
-- IS NULL is not a key condition: a Filter, and the rows come back
EXPLAIN (COSTS OFF)
SELECT id FROM keys_t WHERE tenant IS NULL ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 3;
SELECT * FROM keys_compare('tenant IS NULL', '[0.1,0.2,0.3]', 3);

-- parameters: a generic plan keeps the Index Cond
SET plan_cache_mode = force_generic_plan;
PREPARE keys_p(int, text) AS
  SELECT id FROM keys_t WHERE tenant = $1 AND lang = $2 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 4;
EXPLAIN (COSTS OFF) EXECUTE keys_p(1, 'de');
EXECUTE keys_p(1, 'de');
EXECUTE keys_p(NULL, 'de');
RESET plan_cache_mode;
RESET enable_seqscan;

-- inserts after the build, deletes and VACUUM keep the keys right
INSERT INTO keys_t
SELECT 2000 + i, 9, 'nl', now(), 0, false, NULL, ARRAY[i, i, i]::vector
  FROM generate_series(1, 20) i;
SELECT array_agg(id) FROM (SELECT id FROM keys_t WHERE tenant = 9 AND lang = 'nl'
                            ORDER BY emb <-> '[0,0,0]' LIMIT 3) s;
DELETE FROM keys_t WHERE tenant = 9 AND id < 2010;
VACUUM keys_t;
SELECT array_agg(id) FROM (SELECT id FROM keys_t WHERE tenant = 9 AND lang = 'nl'
                            ORDER BY emb <-> '[0,0,0]' LIMIT 3) s;
SELECT * FROM vsearch_hnsw_check('keys_hnsw');

-- the hybrid scan turns the same conditions into its index keys
RESET vsearch.hybrid;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM keys_t WHERE tenant = 3 AND lang IN ('en', 'fr') AND id > 10
 ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
SET vsearch.hybrid_strategy = index;
SELECT cond, k, c.*
  FROM (VALUES
    ('tenant = 3 AND lang IN (''en'', ''fr'') AND id > 10', '[0.1,0.2,0.3]', 5),
    ('1 = tenant', '[0.5,0.5,0.5]', 12),
    ('lang = ANY (ARRAY[''de'', NULL]) AND flag', '[0.1,0.2,0.3]', 5),
    ('tenant = ANY (''{}''::int[])', '[0.1,0.2,0.3]', 5)
  ) v(cond, q, k), LATERAL keys_compare(cond, q::vector, k) c;
RESET vsearch.hybrid_strategy;
RESET enable_seqscan;

-- the same through a vsearch_ivf index (every list probed, so the order is
-- exact and the answers must equal exact search)
DROP INDEX keys_hnsw;
CREATE INDEX keys_ivf ON keys_t USING vsearch_ivf (emb vector_l2_ops, tenant, lang, ts, price, flag, u)
  WITH (lists = 8);
SELECT vsearch_ivf_check('keys_ivf');
SET vsearch.probes = 8;
SET vsearch.hybrid = off;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM keys_t WHERE tenant = 3 AND lang = 'en' ORDER BY emb <-> '[0.1,0.2,0.3]' LIMIT 5;
RESET enable_seqscan;
SELECT cond, k, c.*
  FROM (VALUES
    ('tenant = 3 AND lang = ''en''', '[0.1,0.2,0.3]', 5),
    ('tenant = 2::bigint', '[0.1,0.2,0.3]', 5),
    ('ts < date ''2026-01-05''', '[0.1,0.2,0.3]', 5),
    ('price > 20.5 AND flag = true', '[0.1,0.2,0.3]', 5),
    ('u = ''00000000-0000-0000-0000-000000000003''', '[0.1,0.2,0.3]', 5),
    ('tenant = 0', '[0.5,0.5,0.5]', 200),
    ('tenant = NULL::int', '[0.1,0.2,0.3]', 5),
    ('tenant = 9 AND lang = ''nl''', '[0,0,0]', 20)
  ) v(cond, q, k), LATERAL keys_compare(cond, q::vector, k) c;
RESET vsearch.hybrid;
SET vsearch.hybrid_strategy = index;
SELECT cond, k, c.*
  FROM (VALUES
    ('tenant = 3 AND lang IN (''en'', ''fr'') AND id > 10', '[0.1,0.2,0.3]', 5),
    ('tenant = ANY (''{}''::int[])', '[0.1,0.2,0.3]', 5)
  ) v(cond, q, k), LATERAL keys_compare(cond, q::vector, k) c;
RESET vsearch.hybrid_strategy;
RESET vsearch.probes;
INSERT INTO keys_t
SELECT 3000 + i, 11, 'it', now(), 0, false, NULL, ARRAY[i, -i, i]::vector
  FROM generate_series(1, 5) i;
DELETE FROM keys_t WHERE tenant = 11 AND id < 3003;
VACUUM keys_t;
SELECT array_agg(id) FROM (SELECT id FROM keys_t WHERE tenant = 11 AND lang = 'it'
                            ORDER BY emb <-> '[0,0,0]' LIMIT 5) s;
SELECT vsearch_ivf_check('keys_ivf');

-- what is refused
CREATE INDEX ON keys_t USING vsearch_hnsw (tenant, emb);
CREATE INDEX ON keys_t USING vsearch_hnsw (emb, emb);
CREATE INDEX ON keys_t USING vsearch_hnsw (emb, id, emb);
CREATE INDEX ON keys_t USING vsearch_ivf (emb, tenant, emb);
CREATE TABLE keys_wide (id int, note text, emb vector(2000));
-- 224 characters that do not compress
INSERT INTO keys_wide
SELECT 1, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 7) g),
       array_fill(1, ARRAY[2000])::vector;
CREATE INDEX ON keys_wide USING vsearch_hnsw (emb, note);
-- the largest vector with a small key fits; a large key is refused on insert
UPDATE keys_wide SET note = 'x';
CREATE INDEX keys_wide_idx ON keys_wide USING vsearch_hnsw (emb, note);
INSERT INTO keys_wide
SELECT 2, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 7) g),
       array_fill(2, ARRAY[2000])::vector;
SELECT count(*) FROM keys_wide;
DROP INDEX keys_wide_idx;
CREATE INDEX ON keys_wide USING vsearch_ivf (emb, note) WITH (lists = 1);
INSERT INTO keys_wide
SELECT 3, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 7) g),
       array_fill(3, ARRAY[2000])::vector;
DROP TABLE keys_wide;

DROP FUNCTION keys_compare;
DROP TABLE keys_t;
