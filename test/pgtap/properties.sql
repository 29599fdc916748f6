-- properties.sql: round trips and metric properties of the vector type on
-- random data.
BEGIN;
SELECT plan(9);

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
