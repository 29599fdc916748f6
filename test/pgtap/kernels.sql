-- kernels.sql: every distance kernel this CPU can run agrees with an exact
-- (double precision) reference within the floating-point error bound of a
-- float4 sum, and with the scalar reference kernel, on random vectors of
-- every length 1..300 and selected lengths up to 16,000.
--
-- Bound: a float4 dot product of length n, summed in any order (with or
-- without fused multiply-adds), is within gamma_n * sum|x_i y_i| of the
-- exact value, gamma_n = n*u / (1 - n*u), u = 2^-24 (Higham, Accuracy and
-- Stability of Numerical Algorithms, section 3.1).  L2 and L1 first round
-- each difference a_i - b_i, which adds two (L2) or one (L1) rounding:
-- gamma_{n+2} and gamma_{n+1}.
BEGIN;
SELECT plan((SELECT 4 * count(*)::int + 6 FROM vsearch_kernels()));

SELECT setseed(0.42);
CREATE TEMP TABLE pairs AS
  SELECT n,
         ARRAY(SELECT ((random() * 2 - 1) * scale)::real FROM generate_series(1, n))::vector AS a,
         ARRAY(SELECT ((random() * 2 - 1) * scale)::real FROM generate_series(1, n))::vector AS b
    FROM (SELECT n, (ARRAY[1, 1e-3, 1e3, 7])[1 + n % 4] AS scale
            FROM (SELECT generate_series(1, 300) AS n
                  UNION ALL
                  SELECT unnest(ARRAY[511, 512, 513, 1000, 1023, 1536, 2000, 3072, 4096, 8191, 16000])) s) s;

-- exact references, computed in double precision from the elements
CREATE TEMP TABLE exact AS
  SELECT p.n, p.a, p.b,
         (SELECT sum((x::float8 - y::float8) ^ 2) FROM unnest(p.a::real[], p.b::real[]) u(x, y)) AS l2sq,
         (SELECT sum(x::float8 * y::float8) FROM unnest(p.a::real[], p.b::real[]) u(x, y)) AS dot,
         (SELECT sum(abs(x::float8 * y::float8)) FROM unnest(p.a::real[], p.b::real[]) u(x, y)) AS dot_abs,
         (SELECT sum(abs(x::float8 - y::float8)) FROM unnest(p.a::real[], p.b::real[]) u(x, y)) AS l1,
         (SELECT sum(x::float8 * x::float8) FROM unnest(p.a::real[]) u(x)) AS aa,
         (SELECT sum(y::float8 * y::float8) FROM unnest(p.b::real[]) u(y)) AS bb,
         p.n * 2 ^ -24 / (1 - p.n * 2 ^ -24) AS gamma,
         (p.n + 2) * 2 ^ -24 / (1 - (p.n + 2) * 2 ^ -24) AS gamma_l2,
         (p.n + 1) * 2 ^ -24 / (1 - (p.n + 1) * 2 ^ -24) AS gamma_l1
    FROM pairs p;

-- results of each kernel, scalar first
CREATE TEMP TABLE results (kernel text, n int, l2 float8, neg_ip float8, cos float8, l1 float8);
CREATE FUNCTION pg_temp.run_kernel(k text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('vsearch.kernel', k, true);
  INSERT INTO results SELECT k, n, a <-> b, a <#> b, a <=> b, a <+> b FROM pairs;
END $$;
SELECT pg_temp.run_kernel(k) FROM vsearch_kernels() k;

SELECT is((SELECT count(DISTINCT n)::int FROM results WHERE kernel = 'scalar'), 311,
          'scalar kernel computed all 311 lengths');

-- each kernel against the exact value (the +1e-30 absorbs exact zeros)
SELECT is(
  (SELECT count(*)::int FROM results r JOIN exact e USING (n)
    WHERE r.kernel = k
      AND abs(r.l2 ^ 2 - e.l2sq) > 1.01 * e.gamma_l2 * e.l2sq + 1e-30),
  0, format('kernel %s: squared L2 within the float4 summation bound of exact', k))
  FROM vsearch_kernels() k;
SELECT is(
  (SELECT count(*)::int FROM results r JOIN exact e USING (n)
    WHERE r.kernel = k
      AND abs(-r.neg_ip - e.dot) > 1.01 * e.gamma * e.dot_abs + 1e-30),
  0, format('kernel %s: inner product within the float4 summation bound of exact', k))
  FROM vsearch_kernels() k;
SELECT is(
  (SELECT count(*)::int FROM results r JOIN exact e USING (n)
    WHERE r.kernel = k
      AND abs(r.l1 - e.l1) > 1.01 * e.gamma_l1 * e.l1 + 1e-30),
  0, format('kernel %s: L1 within the float4 summation bound of exact', k))
  FROM vsearch_kernels() k;
-- cosine: dot, |a|^2 and |b|^2 each carry the sum bound; the similarity
-- therefore errs by at most about 3 gamma_n (|dot| <= |a||b|)
SELECT is(
  (SELECT count(*)::int FROM results r JOIN exact e USING (n)
    WHERE r.kernel = k
      AND abs(r.cos - (1 - e.dot / sqrt(e.aa * e.bb))) > 3.1 * e.gamma * e.dot_abs / sqrt(e.aa * e.bb) + 1e-12),
  0, format('kernel %s: cosine distance within the error bound of exact', k))
  FROM vsearch_kernels() k;

-- each SIMD kernel against the scalar reference: both lie within the bound
-- of the exact value, so within twice the bound of each other
SELECT is(
  (SELECT count(*)::int FROM results r JOIN results s USING (n) JOIN exact e USING (n)
    WHERE s.kernel = 'scalar' AND r.kernel <> 'scalar'
      AND (abs(r.l2 ^ 2 - s.l2 ^ 2) > 2.02 * e.gamma_l2 * e.l2sq + 1e-30
           OR abs(r.neg_ip - s.neg_ip) > 2.02 * e.gamma * e.dot_abs + 1e-30
           OR abs(r.l1 - s.l1) > 2.02 * e.gamma_l1 * e.l1 + 1e-30)),
  0, 'every SIMD kernel agrees with the scalar reference');

-- the kernels are not all the same code path: on these inputs a SIMD kernel
-- differs from scalar somewhere (different summation order), unless only
-- scalar is available
SELECT ok(
  (SELECT count(*) FROM vsearch_kernels()) = 1
  OR EXISTS (SELECT 1 FROM results r JOIN results s USING (n)
              WHERE s.kernel = 'scalar' AND r.kernel <> 'scalar' AND r.l2 <> s.l2),
  'SIMD kernels really ran (their rounding differs from scalar on some inputs)');

-- the batched kernels (one vector against many: IVF's centroid searches)
-- give every kernel's one-pair results bit for bit: lengths around each
-- SIMD width and tail, counts around the batch of four
SELECT is(
  (SELECT sum(vsearch_kernels_many_check(d, c))::bigint
     FROM unnest(ARRAY[1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65, 127, 128, 129,
                       784, 1000, 1536, 3072, 16000]) d,
          unnest(ARRAY[1, 3, 4, 5, 8, 9, 64]) c),
  0::bigint, 'batched kernels equal the one-pair kernels bit for bit');
SELECT throws_ok('SELECT vsearch_kernels_many_check(0, 4)', '22023', NULL,
                 'vsearch_kernels_many_check rejects 0 dimensions');

-- the active kernel after RESET is the best the CPU has
RESET vsearch.kernel;
SELECT is(current_setting('vsearch.kernel'), 'auto', 'vsearch.kernel defaults to auto');

SELECT * FROM finish();
ROLLBACK;
