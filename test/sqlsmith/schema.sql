-- test/sqlsmith/schema.sql
--	  The database scripts/sqlsmith lets sqlsmith loose on: vsearch plus a
--	  small schema worth exploring, and a steering view.
--
-- Design: sqlsmith builds random queries from what it finds in the catalog:
-- table columns are its only source of non-NULL values of most types (its
-- literals are integers 0..99, booleans and typed NULLs), and it picks
-- functions from pg_proc.  So the tables hold vectors of several dimensions
-- (NULLs, zero, duplicate and huge values among them), arrays that cast to
-- vectors (with NULL elements, two dimensions, empty), strings that the
-- vector parser must reject or accept, names of relations for the structure
-- checkers and of settings for set_config().  Index scans need ORDER BY,
-- which sqlsmith never writes, so SQL helper functions run k-NN queries
-- through each index and the hybrid scan with the query vector, k and
-- filter sqlsmith picks.  sqlsmith reads pg_proc without a schema name, so
-- a view information_schema.pg_proc, found first through the role's
-- search_path, narrows its choice to vsearch's functions, the helpers and
-- a short list of core functions that make inputs for them; sqlsmith's
-- --exclude-catalog keeps it from querying that view as a table.
--
-- Runs as the superuser in a fresh database; sqlsmith connects as
-- vsearch_smith, an ordinary role.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION vsearch;

-- items: the main table, 3 dimensions, every index kind
CREATE TABLE items (
	id int PRIMARY KEY,
	tenant int,
	emb vector(3),
	note text,
	arr real[],
	darr float8[],
	rel regclass
);
-- sample values, joined to the rows by id modulo their count
CREATE TEMP TABLE s_note (k int, v text);
INSERT INTO s_note SELECT ord - 1, v FROM unnest(ARRAY['[1,2,3]', '[1,2]', '', '[',
	'[1,,3]', '[NaN,1,2]', '[4e38,1,1]', '[1e-46,0,0]', ' [ 1 , 2 , 3 ] ', '[1,2,3]x',
	NULL]) WITH ORDINALITY AS u(v, ord);
CREATE TEMP TABLE s_arr (k int, v real[]);
INSERT INTO s_arr VALUES (0, '{1,2,3}'), (1, '{}'), (2, '{1,NULL,3}'), (3, '{0.5}'),
	(4, '{{1,2},{3,4}}'), (5, '{1e30,1e30,1e30}'), (6, NULL);
CREATE TEMP TABLE s_darr (k int, v float8[]);
INSERT INTO s_darr VALUES (0, '{0}'), (1, '{1,2,3,4}'), (2, '{2,0.5,0.5,0.5}'),
	(3, '{-1,1,1,1}'), (4, '{0.5,1,1,1}'), (5, '{1,Infinity,0,0}'), (6, '{1,NaN,0,0}'),
	(7, '{}'), (8, '{{1,2}}'), (9, '{1,NULL}'), (10, '{3,1,2,3}'), (11, NULL);
INSERT INTO items
SELECT i, i % 7,
	   CASE WHEN i % 11 = 0 THEN NULL
			WHEN i % 13 = 0 THEN '[0,0,0]'
			WHEN i % 17 = 0 THEN '[1,1,1]'
			WHEN i % 97 = 0 THEN '[3e38,-3e38,1e-38]'
			ELSE ARRAY[sin(i), cos(i), (i % 10) / 10.0]::vector END,
	   (SELECT v FROM s_note WHERE k = i % 11),
	   (SELECT v FROM s_arr WHERE k = i % 7),
	   (SELECT v FROM s_darr WHERE k = i % 12),
	   NULL
  FROM generate_series(1, 600) i;

CREATE INDEX items_hnsw_l2 ON items USING vsearch_hnsw (emb vector_l2_ops)
	WITH (m = 4, ef_construction = 16);
CREATE INDEX items_hnsw_cos ON items USING vsearch_hnsw (emb vector_cosine_ops);
CREATE INDEX items_hnsw_l1 ON items USING vsearch_hnsw (emb vector_l1_ops)
	WHERE tenant < 3;
CREATE INDEX items_ivf_ip ON items USING vsearch_ivf (emb vector_ip_ops)
	WITH (lists = 4);
CREATE INDEX items_ivf_l2 ON items USING vsearch_ivf (emb vector_l2_ops)
	WITH (lists = 8);
-- key columns: the scans test the filter on the index tuples
CREATE INDEX items_hnsw_keys ON items USING vsearch_hnsw (emb vector_l2_ops, tenant, note)
	WITH (m = 6);
CREATE INDEX items_ivf_keys ON items USING vsearch_ivf (emb vector_cosine_ops, tenant)
	WITH (lists = 3);
CREATE INDEX items_tenant ON items (tenant);
CREATE INDEX items_btree_emb ON items (emb);

-- mixed: vectors of many dimensions (no typmod), one wide row, text to parse
CREATE TABLE mixed (
	id int,
	v vector,
	txt text,
	num numeric[],
	ints int[]
);
CREATE TEMP TABLE s_txt (k int, v text);
INSERT INTO s_txt SELECT ord - 1, v FROM unnest(ARRAY['[1]', '[1,2,3,4,5,6,7,8]', '[1,2,3]',
	'[0]', '[-1e38,1e38]', '[Infinity]', '[1a]', '[]', '[,]', 'vsearch.ef_search',
	NULL]) WITH ORDINALITY AS u(v, ord);
CREATE TEMP TABLE s_num (k int, v numeric[]);
INSERT INTO s_num VALUES (0, '{1.5,2.5,3.5}'), (1, '{1e39}'), (2, '{NaN}'), (3, '{NULL}'),
	(4, '{}'), (5, NULL);
CREATE TEMP TABLE s_ints (k int, v int[]);
INSERT INTO s_ints VALUES (0, '{1,2,3}'), (1, '{2147483647,-2147483648,0}'), (2, '{{1},{2}}'),
	(3, '{}'), (4, NULL);
INSERT INTO mixed
SELECT i,
	   CASE WHEN i % 9 = 0 THEN NULL
			ELSE array_fill((i % 5)::real - 2, ARRAY[1 + i % 8])::vector END,
	   (SELECT v FROM s_txt WHERE k = i % 11),
	   (SELECT v FROM s_num WHERE k = i % 6),
	   (SELECT v FROM s_ints WHERE k = i % 5)
  FROM generate_series(1, 120) i;
INSERT INTO mixed VALUES (0, array_fill(0.25::real, ARRAY[2000])::vector, '[1,2,3]', NULL, NULL);

-- empty: indexes on an empty table
CREATE TABLE empty (id int, v vector(2));
CREATE INDEX empty_hnsw ON empty USING vsearch_hnsw (v);
CREATE INDEX empty_ivf ON empty USING vsearch_ivf (v) WITH (lists = 2);

-- unlogged table with an expression index
CREATE UNLOGGED TABLE scratch (id int, v vector(4));
INSERT INTO scratch SELECT i, ARRAY[i, -i, i % 3, 1]::vector FROM generate_series(1, 50) i;
CREATE INDEX scratch_hnsw_norm ON scratch USING vsearch_hnsw ((l2_normalize(v)::vector(4)) vector_ip_ops);

-- names for the checkers and set_config
UPDATE items SET rel = (ARRAY['items_hnsw_l2', 'items_hnsw_cos', 'items_hnsw_l1',
		'items_ivf_ip', 'items_ivf_l2', 'items_tenant', 'items', 'empty_hnsw',
		'empty_ivf', 'scratch_hnsw_norm', 'items_pkey', 'items_btree_emb',
		'pg_class', 'items_hnsw_keys', 'items_ivf_keys'])[1 + id % 15]::regclass;
CREATE TABLE settings (name text, value text);
INSERT INTO settings VALUES
	('vsearch.ef_search', '1'), ('vsearch.ef_search', '1000'),
	('vsearch.ef_search', '0'), ('vsearch.probes', '0'),
	('vsearch.probes', '1'), ('vsearch.probes', '100000'),
	('vsearch.hybrid', 'off'), ('vsearch.hybrid_strategy', 'index'),
	('vsearch.hybrid_strategy', 'exact'), ('vsearch.kernel', 'scalar'),
	('vsearch.kernel', 'avx512'), ('vsearch.nonexistent', '1'),
	('enable_seqscan', 'off'), ('work_mem', '64kB'),
	('maintenance_work_mem', '1MB'), ('max_parallel_workers_per_gather', '0'),
	(NULL, NULL);

-- k-NN helpers: sqlsmith chooses the query vector, k and the filter.  They
-- return int, the type sqlsmith asks for most (its literals are integers).
CREATE FUNCTION knn_l2(q vector, k int) RETURNS int
	LANGUAGE sql STABLE SET enable_seqscan = off
	AS $$ SELECT min(id) FROM (SELECT id FROM items ORDER BY emb <-> q LIMIT k) s $$;
CREATE FUNCTION knn_cosine(q vector, k int) RETURNS int
	LANGUAGE sql STABLE SET enable_seqscan = off
	AS $$ SELECT min(id) FROM (SELECT id FROM items ORDER BY emb <=> q LIMIT k) s $$;
CREATE FUNCTION knn_l1_partial(q vector, k int) RETURNS int
	LANGUAGE sql STABLE SET enable_seqscan = off
	AS $$ SELECT min(id) FROM (SELECT id FROM items WHERE tenant < 3 ORDER BY emb <+> q LIMIT k) s $$;
CREATE FUNCTION knn_ip(q vector, k int) RETURNS int
	LANGUAGE sql STABLE SET enable_seqscan = off
	AS $$ SELECT min(id) FROM (SELECT id FROM items ORDER BY emb <#> q LIMIT k) s $$;
CREATE FUNCTION knn_hybrid(q vector, k int, t int) RETURNS int
	LANGUAGE sql STABLE
	AS $$ SELECT min(id) FROM (SELECT id FROM items WHERE tenant = t ORDER BY emb <-> q LIMIT k) s $$;
CREATE FUNCTION knn_hybrid_offset(q vector, k int, o int, t int) RETURNS int
	LANGUAGE sql STABLE
	AS $$ SELECT min(id) FROM (SELECT id FROM items WHERE tenant <= t AND note IS NOT NULL
										 ORDER BY emb <=> q LIMIT k OFFSET o) s $$;
CREATE FUNCTION knn_empty(q vector, k int) RETURNS int
	LANGUAGE sql STABLE SET enable_seqscan = off
	AS $$ SELECT min(id) FROM (SELECT id FROM empty ORDER BY v <-> q LIMIT k) s $$;
CREATE FUNCTION knn_scratch(q vector, k int) RETURNS int
	LANGUAGE sql STABLE SET enable_seqscan = off
	AS $$ SELECT min(id) FROM (SELECT id FROM scratch ORDER BY l2_normalize(v)::vector(4) <#> q LIMIT k) s $$;

-- the checkers, on whatever relation sqlsmith names
CREATE FUNCTION check_hnsw(r regclass) RETURNS int
	LANGUAGE sql VOLATILE
	AS $$ SELECT (vsearch_hnsw_check(r)).elements::int $$;
CREATE FUNCTION check_ivf(r regclass) RETURNS int
	LANGUAGE sql VOLATILE
	AS $$ SELECT 0 FROM (SELECT vsearch_ivf_check(r)) s $$;

ANALYZE;

-- the role sqlsmith runs as, and the view that steers it
CREATE ROLE vsearch_smith LOGIN;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO vsearch_smith;
CREATE VIEW information_schema.pg_proc AS
SELECT p.*
  FROM pg_catalog.pg_proc p
 WHERE NOT 'pg_catalog.internal'::pg_catalog.regtype = ANY (p.proargtypes)
   AND (p.pronamespace = 'public'::pg_catalog.regnamespace
		OR (p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
			AND p.proname = ANY (ARRAY[
				-- strings into the vector parser
				'textout', 'int4out', 'float4out', 'float8out', 'numeric_out',
				'concat', 'repeat', 'substr', 'replace', 'lpad', 'rpad', 'left',
				'right', 'btrim', 'format',
				-- arrays into the casts and aggregate state functions
				'array_append', 'array_prepend', 'array_cat', 'array_fill',
				'array_remove', 'array_replace', 'trim_array', 'array_length',
				'cardinality', 'array_agg',
				-- numbers for dimensions, k, offsets
				'abs', 'sqrt', 'power', 'float4', 'float8', 'int4', 'numeric',
				'count', 'min', 'max', 'sum', 'avg', 'length',
				-- relations for the checkers, settings for the scans
				'to_regclass', 'set_config', 'current_setting'])));
GRANT SELECT ON information_schema.pg_proc TO vsearch_smith;
ALTER ROLE vsearch_smith SET search_path = information_schema, pg_catalog, public;
