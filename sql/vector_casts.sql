-- Casts between vector and arrays, and the vector(n) coercion.
\set SHOW_CONTEXT never

-- arrays to vector
SELECT ARRAY[1,2,3]::vector, ARRAY[1.5,2.5]::real[]::vector, ARRAY[0.1,0.2]::float8[]::vector,
       ARRAY[1.25,-3]::numeric[]::vector;
SELECT ARRAY[1,2,3]::vector(3);
SELECT ARRAY[1,2,3]::vector(2);
SELECT '{}'::int[]::vector;
SELECT ARRAY[[1,2],[3,4]]::vector;
SELECT ARRAY[1,NULL,3]::vector;
SELECT ARRAY[1e300]::float8[]::vector;
SELECT ARRAY[1e-300]::float8[]::vector;
SELECT ARRAY['NaN']::float8[]::vector;
SELECT ARRAY['Infinity']::float8[]::vector;
SELECT ARRAY['-Infinity']::real[]::vector;
SELECT ARRAY['NaN']::numeric[]::vector;
SELECT ARRAY[1e400]::numeric[]::vector;
SELECT ARRAY['-Infinity']::numeric[]::vector;
SELECT ARRAY[1e-400]::numeric[]::vector;
-- assignment casts: insert arrays into a vector column
CREATE TEMP TABLE cast_t (v vector(2));
INSERT INTO cast_t VALUES (ARRAY[1,2]), (ARRAY[0.5,0.25]::real[]), (ARRAY[2,3]::float8[]);
INSERT INTO cast_t VALUES (ARRAY[1,2,3]);
SELECT * FROM cast_t;

-- vector to arrays
SELECT '[1,2.5,-3]'::vector::real[], '[0.1]'::vector::float8[], '[0.1,2]'::vector::numeric[];
SELECT '[1.4,1.5,2.5,-1.5]'::vector::int[];
SELECT '[3e9]'::vector::int[];
-- implicit cast to real[] lets array functions take a vector
SELECT array_length('[1,2,3]'::vector::real[], 1), ('[4,5,6]'::vector::real[])[2];
-- round trip through real[] is exact
SELECT v = v::real[]::vector AS exact FROM (SELECT '[0.1,1e-40,3.4028235e38]'::vector AS v) s;

-- vector(n) coercion
SELECT '[1,2]'::vector::vector(2);
SELECT '[1,2]'::vector::vector(3);
SELECT CAST(ARRAY[1,2] AS vector(2))::vector(2);

-- a type modifier below 1 (other than -1) can only come from a direct call
SELECT vector_in('[1,2]', 0, -5);
SELECT vector('[1,2]'::vector, 0, true);
SELECT array_to_vector(ARRAY[1,2], 16001, true);
