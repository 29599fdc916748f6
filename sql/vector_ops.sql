-- Distance operators and functions, vector functions, arithmetic,
-- comparison and B-tree behaviour, with every error.
\set SHOW_CONTEXT never

-- distances, by operator and by function
SELECT '[1,2,3]'::vector <-> '[4,6,8]' AS l2,
       l2_distance('[1,2,3]', '[4,6,8]') AS l2_fn,
       vector_l2_squared_distance('[1,2,3]', '[4,6,8]') AS l2_squared;
SELECT '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip,
       inner_product('[1,2,3]', '[4,5,6]') AS ip,
       vector_negative_inner_product('[1,2,3]', '[4,5,6]') AS neg_ip_fn;
SELECT '[1,0]'::vector <=> '[0,1]' AS orthogonal,
       '[1,1]'::vector <=> '[2,2]' AS same_direction,
       '[1,1]'::vector <=> '[-1,-1]' AS opposite,
       cosine_distance('[3,4]', '[4,3]') AS cos_fn;
SELECT '[1,2,3]'::vector <+> '[4,0,3]' AS l1, l1_distance('[1,2,3]', '[4,0,3]') AS l1_fn;
-- zero vector under cosine: NaN (no direction)
SELECT '[0,0]'::vector <=> '[1,1]' AS zero_cosine, cosine_distance('[0,0]', '[0,0]') AS both_zero;
-- commutators
SELECT '[1,2]'::vector <-> '[3,5]' = '[3,5]'::vector <-> '[1,2]' AS l2_commutes;
-- overflow of the float accumulators gives Infinity, not an error
SELECT '[3e38,-3e38]'::vector <-> '[-3e38,3e38]' AS l2_overflow;
-- NULL in, NULL out
SELECT NULL::vector <-> '[1]' IS NULL AS null_distance;
-- dimension mismatch
SELECT '[1,2,3]'::vector <-> '[1,2]';
SELECT inner_product('[1,2,3]', '[1,2]');
SELECT '[1]'::vector <=> '[1,2]';
SELECT l1_distance('[1,2]', '[1]');

-- distances over a table, ordered like an exact nearest-neighbour search
CREATE TEMP TABLE items (id int, v vector(3));
INSERT INTO items VALUES (1, '[1,1,1]'), (2, '[2,2,2]'), (3, '[1,1,2]'), (4, '[-1,-1,-1]'), (5, NULL);
SELECT id, round((v <-> '[1,1,1]')::numeric, 4) AS dist FROM items ORDER BY v <-> '[1,1,1]', id LIMIT 3;
SELECT id FROM items ORDER BY v <#> '[1,1,1]', id;
SELECT id FROM items ORDER BY v <=> '[1,1,1]', id;
SELECT id FROM items ORDER BY v <+> '[1,1,1]', id;

-- kernels: every kernel the CPU offers gives the same answer on exact cases
SELECT count(*) >= 1 AS has_kernels, bool_or(k = 'scalar') AS has_scalar FROM vsearch_kernels() k;
SET vsearch.kernel = 'scalar';
SELECT '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]'::vector <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' AS l2_scalar;
RESET vsearch.kernel;
SELECT '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]'::vector <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' AS l2_auto;
SET vsearch.kernel = 'sse9';
SET vsearch.no_such_setting = 1;

-- functions
SELECT vector_dims('[1,2,3]'), vector_norm('[3,4]'), vector_norm('[0,0]');
SELECT l2_normalize('[3,4]'), l2_normalize('[0,0]'), vector_norm(l2_normalize('[1,2,3]'))::numeric(10,6);
SELECT subvector('[1,2,3,4,5]', 2, 3), subvector('[1,2,3,4,5]', 4, 10), subvector('[1,2,3]', -1, 3);
SELECT subvector('[1,2,3]', 4, 1);
SELECT subvector('[1,2,3]', 1, 0);
SELECT subvector('[1,2,3]', 2147483647, 2147483647);

-- arithmetic
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]';
SELECT '[1,2]'::vector + '[3]';
SELECT '[1,2]'::vector - '[3]';
SELECT '[1,2]'::vector * '[3]';
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e20]'::vector * '[1e20]';
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[8000]), ',') || ']')::vector
    || ('[' || array_to_string(array_fill(1, ARRAY[8001]), ',') || ']')::vector);

-- comparison: element by element, then shorter first
SELECT '[1,2]'::vector < '[1,3]', '[1,2]'::vector < '[1,2,0]', '[2]'::vector > '[1,9]',
       '[1,2]'::vector = '[1,2]', '[1,2]'::vector <> '[1,2]', '[1,2]'::vector <= '[1,2]',
       '[1,2]'::vector >= '[1,2,3]', vector_cmp('[1,2]', '[1,2]'), vector_cmp('[1]', '[0]'), vector_cmp('[0]', '[1]');
-- B-tree: ORDER BY, DISTINCT, UNIQUE index, GROUP BY
CREATE TEMP TABLE cmp_t (v vector);
INSERT INTO cmp_t VALUES ('[1,2]'), ('[1]'), ('[0,5]'), ('[1,2]'), ('[1,2,0]');
SELECT v FROM cmp_t ORDER BY v;
SELECT DISTINCT v FROM cmp_t ORDER BY v;
SELECT v, count(*) FROM cmp_t GROUP BY v ORDER BY v;
CREATE UNIQUE INDEX ON cmp_t (v);
DELETE FROM cmp_t WHERE v = '[1,2]';
CREATE UNIQUE INDEX cmp_t_v_key ON cmp_t (v);
INSERT INTO cmp_t VALUES ('[0,5]');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM cmp_t WHERE v = '[1]';
SELECT * FROM cmp_t WHERE v = '[1]';
RESET enable_seqscan;
