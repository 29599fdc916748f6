-- Text and binary input/output of the vector type, type modifiers, and every
-- input error with its SQLSTATE.
\set SHOW_CONTEXT never

-- Errors are shown as "SQLSTATE: message (detail)" through this helper.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  detail text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
END $$;

-- well-formed input, white space anywhere between tokens
SELECT '[1,2,3]'::vector;
SELECT ' [ 1 , -2.5 ,3e2 ] '::vector;
SELECT E'[\t1,\n2 ]'::vector;
SELECT '[1.5e-3,+4,0.1]'::vector;
SELECT '[-0]'::vector, '[0]'::vector;
-- shortest output that reads back to the same float4
SELECT '[0.1,0.2,0.3333333333333]'::vector;
SELECT '[3.4028235e38,-3.4028235e38,1e-45,1.17549435e-38]'::vector;
SELECT v::text::vector = v AS round_trip
  FROM (SELECT '[0.1,1e-40,123456.789,-7.25e-20]'::vector AS v) s;
-- extra_float_digits does not change the output
SET extra_float_digits = 0;
SELECT '[0.1,0.3333333333]'::vector;
RESET extra_float_digits;

-- malformed text (22P02), NaN and infinity (22000), out of range (22003),
-- empty (22000)
SELECT input, pg_temp.try(format('SELECT %L::vector', input)) AS result
  FROM unnest(ARRAY['', '[', ']', '[,]', '[1,]', '[1,,3]', '[1a]', '[1 2]',
                    '[1,2]9', '1,2', '[1,2', '[1,é]', '[1;2]', '[[1]]',
                    '[1e]', '[--1]', '[0x10]',
                    '[NaN]', '[1,nan]', '[Infinity]', '[-inf]',
                    '[4e38]', '[-4e38]', '[1e-46]', '[1e-40]',
                    '[]', '[ ]']) AS input;
-- 16,000 dimensions are allowed, 16,001 are not (54000)
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::vector);
SELECT pg_temp.try($$SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector$$);
-- what a user sees
SELECT '[1,2'::vector;
SELECT '[1,2,3]'::vector <-> '[1,2]';
-- the input function does not modify its argument
SELECT s, s::vector, s FROM (SELECT ' [1, 2] '::text AS s) t;

-- type modifiers
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2]'::vector(3);
SELECT '[1,2,3]'::vector(2);
SELECT '[1,2]'::vector(0);
SELECT typmod, pg_temp.try(format('SELECT %L::vector(%s)', '[1,2]', typmod)) AS result
  FROM unnest(ARRAY['0', '-1', '16001', '3,2', '''a''']) AS typmod;
CREATE TEMP TABLE typmod_t (v vector(3));
INSERT INTO typmod_t VALUES ('[1,2,3]');
INSERT INTO typmod_t VALUES ('[1,2]');
INSERT INTO typmod_t SELECT '[1,2,3,4]'::vector;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'typmod_t'::regclass AND attname = 'v';
SELECT * FROM typmod_t;

-- binary send format: int16 dim, int16 reserved, big-endian float4s
-- (malformed binary input is tested through a client in test/client)
SELECT vector_send('[1,2,3]'::vector);
SELECT vector_send('[-0.5]'::vector);

-- storage: vectors stay uncompressed in the heap row when they do not
-- compress (like real embeddings) and the row fits a page
CREATE TEMP TABLE storage_t (v vector);
INSERT INTO storage_t
  SELECT ARRAY(SELECT sin(i * 7.31 + j * 1.7) FROM generate_series(1, 1500) j)::real[]::vector
    FROM generate_series(1, 3) i;
SELECT pg_column_size(v) AS bytes, pg_column_compression(v) AS compression FROM storage_t;
SELECT pg_relation_size(reltoastrelid) AS toast_bytes FROM pg_class WHERE oid = 'storage_t'::regclass;
