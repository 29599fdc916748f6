-- avg and sum aggregates, serial and parallel.
\set SHOW_CONTEXT never

SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,4,5]'), (NULL)) t(v);
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM (SELECT NULL::vector AS v WHERE false) t;
SELECT avg(v) FROM (VALUES (NULL::vector)) t(v);
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
-- avg keeps double precision sums: many small values
SELECT avg(v) FROM (SELECT '[0.1,1e6]'::vector AS v FROM generate_series(1, 100000)) t;
-- grouped
SELECT g, avg(v), sum(v) FROM (VALUES (1, '[1,1]'::vector), (1, '[3,3]'), (2, '[5,7]')) t(g, v)
 GROUP BY g ORDER BY g;

-- parallel aggregation gives the same answer as serial
CREATE TABLE agg_t AS
  SELECT i, ARRAY[i % 7, i % 11, (i % 13) * 0.5]::real[]::vector AS v
    FROM generate_series(1, 200000) i;
ANALYZE agg_t;
SET max_parallel_workers_per_gather = 0;
SELECT avg(v) AS serial_avg, sum(v) AS serial_sum FROM agg_t;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM agg_t;
SELECT avg(v) AS parallel_avg, sum(v) AS parallel_sum FROM agg_t;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE agg_t;

-- the state functions are callable directly: malformed states are errors
SELECT vector_avg('{2,NaN}');
SELECT vector_avg('{-1,5}');
SELECT vector_avg('{1.5,5}');
SELECT vector_avg('{{1,2}}');
SELECT vector_avg('{0}') IS NULL AS no_rows;
SELECT vector_accum('{1,Infinity}', '[1]');
SELECT vector_combine('{1,2}', '{1,2,3}');
