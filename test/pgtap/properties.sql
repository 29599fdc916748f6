-- properties.sql: round trips and metric properties of the vector type on
-- random data.
BEGIN;
SELECT plan(11);

SELECT setseed(0.17);
-- random vectors with elements over the whole float4 exponent range,
-- including subnormals and negative zero
CREATE TEMP TABLE vs AS
  SELECT i, ARRAY(SELECT (CASE WHEN random() < 0.02 THEN '-0'::real
                               ELSE ((random() - 0.5) * 10 ^ (random() * 76 - 38))::real END)
                    FROM generate_series(1, 1 + (i % 97)))::vector AS v
    FROM generate_series(1, 2000) i;

SELECT is((SELECT count(*)::int FROM vs WHERE vector_send(v::text::vector) <> vector_send(v)), 0,
          'text output reads back to the same bits (2000 random vectors)');
SELECT is((SELECT count(*)::int FROM vs WHERE v::text::vector::text <> v::text), 0,
          'text output is stable under a round trip');
SELECT is((SELECT count(*)::int FROM vs WHERE vector_send(v::real[]::vector) <> vector_send(v)), 0,
          'real[] round trip is exact');
SELECT is((SELECT count(*)::int FROM vs WHERE vector_send(v::float8[]::vector) <> vector_send(v)), 0,
          'double precision[] round trip is exact');
SELECT is((SELECT count(*)::int FROM vs WHERE vector_dims(v) <> length(vector_send(v)) / 4 - 1), 0,
          'binary form is 4 header bytes plus 4 bytes per element');

-- text input: elements in the usual decimal form take a fast path
-- (vectorparse.c, FastFloat); it must give strtof's float bit for bit, as
-- real's own input (float4in) does, including float midpoints (16777217),
-- negative zero, the longest mantissas and scales it accepts and the forms
-- it leaves to strtof
CREATE TEMP TABLE toks AS
  SELECT s FROM (
    SELECT CASE i % 6
      WHEN 0 THEN (floor(random() * 2 ^ (random() * 60)))::numeric::text
      WHEN 1 THEN round((random() * 2 - 1)::numeric, (random() * 12)::int)::text
      WHEN 2 THEN rpad(floor(random() * 1e6)::text, 1 + (random() * 16)::int, '7') || '.' ||
                  lpad(floor(random() * 1e6)::text, (random() * 24)::int, '0')
      WHEN 3 THEN ((2 ^ (24 + i % 3))::bigint + (random() * 64)::int)::text
      WHEN 4 THEN '-' || round((random() * 1e4)::numeric, (random() * 20)::int)::text
      ELSE (ARRAY['5.', '.5', '-0', '-0.0', '+7', '00012', '0.000', '1e5', '1E-3',
                  '16777217', '16777219', '9007199254740993', '900719925474099.3',
                  '0.0000000000000000000001', '0.00000000000000000000001',
                  '1.0000000000000000000000', '0000000000000000000000001',
                  '0x1p3', '3.4028235e38', '0.1'])[1 + i % 20]
    END AS s FROM generate_series(1, 30000) i) t;
SELECT is((SELECT count(*)::int FROM toks
            WHERE vector_send(('[' || s || ']')::vector) <> vector_send(ARRAY[s::real]::vector)), 0,
          'text elements read as real reads them, bit for bit (30000 tokens)');
SELECT is((SELECT count(*)::int FROM toks
            WHERE vector_send(('[ ' || s || ' , ' || s || ']')::vector)
                  <> vector_send(ARRAY[s::real, s::real]::vector)), 0,
          'the same with spaces and separators around the elements');

-- metric properties on moderate values (no overflow)
CREATE TEMP TABLE tri AS
  SELECT ARRAY(SELECT (random() * 200 - 100)::real FROM generate_series(1, 64))::vector AS a,
         ARRAY(SELECT (random() * 200 - 100)::real FROM generate_series(1, 64))::vector AS b,
         ARRAY(SELECT (random() * 200 - 100)::real FROM generate_series(1, 64))::vector AS c
    FROM generate_series(1, 500);
SELECT is((SELECT count(*)::int FROM tri WHERE (a <-> c) > (a <-> b) + (b <-> c) + 1e-3), 0,
          'L2 satisfies the triangle inequality');
SELECT is((SELECT count(*)::int FROM tri WHERE (a <+> c) > (a <+> b) + (b <+> c) + 1e-2), 0,
          'L1 satisfies the triangle inequality');
SELECT is((SELECT count(*)::int FROM tri WHERE (a <-> b) <> (b <-> a) OR (a <-> a) <> 0), 0,
          'L2 is symmetric and zero on identical vectors');
SELECT is((SELECT count(*)::int FROM tri WHERE (a <=> b) < 0 OR (a <=> b) > 2
                                            OR abs((a <=> b) - (l2_normalize(a) <=> l2_normalize(b))) > 1e-6), 0,
          'cosine distance lies in [0, 2] and ignores vector length');

SELECT * FROM finish();
ROLLBACK;
