-- scripts/demo.sql: the quick-start demo, run by scripts/quickstart.
-- It builds a table of 50,000 documents with 64-dimensional embeddings and shows nearest
-- neighbour, hybrid (filtered) and distance-function queries.  The data is generated in
-- SQL from a fixed seed, so every run builds the same table; run it again at any time.
--
--   psql -X -v ON_ERROR_STOP=1 -f scripts/demo.sql

\set ON_ERROR_STOP 1
\set QUIET 1
\pset pager off
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS vsearch;
-- vsearch 0.1.0 is still in development: a cluster created by an earlier
-- build may hold the extension without objects added since.  The demo
-- owns only its table, so it recreates the extension in that case.
SELECT NOT EXISTS (SELECT 1 FROM pg_am WHERE amname = 'vsearch_hnsw') AS vsearch_is_stale \gset
\if :vsearch_is_stale
\echo 'vsearch in this database predates the installed build: recreating it'
DROP EXTENSION vsearch CASCADE;
CREATE EXTENSION vsearch;
\endif

\echo
\echo '== Building docs: 50,000 rows, 64-dimensional embeddings in 50 topic clusters'

DROP TABLE IF EXISTS docs;
CREATE TABLE docs (
    id        bigint PRIMARY KEY,
    tenant_id int NOT NULL,
    published timestamptz NOT NULL,
    lang      text NOT NULL,
    title     text NOT NULL,
    embedding vector(64) NOT NULL
);

-- random() is seeded once; both statements below run single-threaded (random() is
-- parallel restricted), so the same seed always yields the same rows.
DO $$ BEGIN PERFORM setseed(0.42); END $$;

-- One centre per cluster: 64 coordinates uniform in [-1, 1).
CREATE TEMP TABLE demo_centres AS
SELECT c AS cluster, array_agg((random() * 2 - 1)::real ORDER BY d) AS centre
FROM generate_series(0, 49) AS c
CROSS JOIN generate_series(1, 64) AS d
GROUP BY c;

-- Document i belongs to cluster i % 50; its embedding is that centre plus uniform noise
-- in [-0.25, 0.25) on every coordinate, cast from real[] to vector.  The embedding is a
-- correlated subquery in the select list, which runs again for every row; a LATERAL join
-- could be memoized per cluster and give every document of a cluster the same noise.
INSERT INTO docs (id, tenant_id, published, lang, title, embedding)
SELECT i,
       1 + floor(random() * 20)::int,
       now() - random() * interval '365 days',
       (ARRAY['en', 'en', 'en', 'en', 'de', 'fr', 'es', 'ja'])[1 + floor(random() * 8)::int],
       format('%s note #%s',
              (ARRAY['databases', 'gardening', 'astronomy', 'cooking', 'cycling',
                     'chess', 'jazz', 'pottery', 'sailing', 'poetry'])[1 + c.cluster % 10],
              i),
       (SELECT array_agg(c.centre[d] + (random() * 0.5 - 0.25)::real)::vector(64)
        FROM generate_series(1, 64) AS d)
FROM generate_series(1, 50000) AS i
JOIN demo_centres AS c ON c.cluster = i % 50
ORDER BY i;

DROP TABLE demo_centres;

-- An ordinary B-tree serves the scalar filters of the hybrid query below.
CREATE INDEX docs_tenant_lang_published_idx ON docs (tenant_id, lang, published);

\echo
\echo '== Building HNSW indexes for L2 (<->) and cosine (<=>) search'
CREATE INDEX docs_embedding_l2_idx ON docs USING vsearch_hnsw (embedding vector_l2_ops);
CREATE INDEX docs_embedding_cos_idx ON docs USING vsearch_hnsw (embedding vector_cosine_ops);
ANALYZE docs;

SELECT count(*) AS docs, count(DISTINCT tenant_id) AS tenants,
       min(vector_dims(embedding)) AS dims
FROM docs;

\echo
\echo '== 1. The 5 nearest neighbours of document 42 by L2 distance (<->)'
\echo '      (the first is document 42 itself; the others share its cluster: ids ending in 42 or 92)'
SELECT id, title, round((embedding <-> (SELECT embedding FROM docs WHERE id = 42))::numeric, 4) AS l2
FROM docs
ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 42)
LIMIT 5;

\echo
\echo '== 2. Hybrid query: tenant 7, English, published in the last 30 days,'
\echo '      the 10 closest to document 42 by cosine distance (<=>)'
SELECT id, tenant_id, lang, published::date AS published, title,
       round((embedding <=> (SELECT embedding FROM docs WHERE id = 42))::numeric, 4) AS cosine
FROM docs
WHERE tenant_id = 7
  AND published > now() - interval '30 days'
  AND lang = 'en'
ORDER BY embedding <=> (SELECT embedding FROM docs WHERE id = 42)
LIMIT 10;

\echo
\echo '== 3. Distance functions on literals'
SELECT '[1,2,3]'::vector <-> '[4,5,6]'            AS l2_operator,
       l2_distance('[1,2,3]', '[4,5,6]')           AS l2_distance,
       '[1,2,3]'::vector <#> '[4,5,6]'            AS neg_inner_product,
       inner_product('[1,2,3]', '[4,5,6]')         AS inner_product,
       '[1,2,3]'::vector <=> '[4,5,6]'            AS cosine_operator,
       cosine_distance('[1,2,3]', '[4,5,6]')       AS cosine_distance,
       '[1,2,3]'::vector <+> '[4,5,6]'            AS l1_operator;

SELECT vector_dims('[1,2,3]'::vector)              AS dims,
       vector_norm('[3,4]'::vector)                AS norm,
       l2_normalize('[3,4]'::vector)               AS normalized,
       subvector('[1,2,3,4,5]'::vector, 2, 3)      AS sub,
       ARRAY[1.5, 2.5]::real[]::vector             AS from_real_array;

\echo
\echo '== 4. The plans: the nearest-neighbour query uses the HNSW index; the hybrid'
\echo '      query runs as a VSearch Hybrid scan, which chooses at run time between'
\echo '      exact ranking of the rows the B-tree finds and a filtered index traversal'
\echo '      (EXPLAIN ANALYZE shows the strategy it chose and what it read)'
EXPLAIN (COSTS OFF)
SELECT id, title
FROM docs
ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 42)
LIMIT 5;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id, title
FROM docs
WHERE tenant_id = 7
  AND published > now() - interval '30 days'
  AND lang = 'en'
ORDER BY embedding <=> (SELECT embedding FROM docs WHERE id = 42)
LIMIT 10;
