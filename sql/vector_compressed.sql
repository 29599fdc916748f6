-- Vectors stored pglz-compressed in the row are decoded by vsearch's own
-- decoder (src/types/vectorlz.c).  Every value is compared with the same
-- vector parsed from its text, which PostgreSQL's own detoaster reads back:
-- patterns of repeated bytes at every distance 1..12, long zero runs
-- (back-references longer than 18 bytes), literal runs, and noise that does
-- not compress (PostgreSQL's path).
SET default_toast_compression = pglz;
SELECT setseed(0.42);
CREATE TABLE lzt (id int, kind int, t text, v vector);
INSERT INTO lzt
SELECT g, g % 5, s, s::vector FROM (
  SELECT g, '[' || string_agg(
    (CASE g % 5
       WHEN 0 THEN CASE WHEN (j * (g % 13 + 1)) % 7 = 0 THEN ((j * 37 + g) % 256)::float8 ELSE 0 END
       WHEN 1 THEN (j % (g % 12 + 1))::float8
       WHEN 2 THEN round((random() * 100)::numeric, 3)::float8
       WHEN 3 THEN CASE WHEN (j / 40) % 2 = 0 THEN round((random() * 10)::numeric, 1)::float8
                        ELSE ((j % 40) % (g % 11 + 1))::float8 END
       ELSE CASE WHEN j % 97 < 60 THEN 0 ELSE (j % 3)::float8 + 0.5 END
     END)::text, ',' ORDER BY j) || ']' AS s
  FROM generate_series(1, 500) g, generate_series(1, 100 + (g * 37) % 1900) j
  GROUP BY g) q;
-- kinds 0, 1, 3 and 4 are stored compressed (except the shortest rows); kind 2 never
SELECT kind, count(*) AS rows,
       count(*) FILTER (WHERE pg_column_compression(v) = 'pglz') AS pglz,
       count(*) FILTER (WHERE v::text <> t) AS text_differs,
       count(*) FILTER (WHERE v <> t::vector) AS value_differs
  FROM lzt GROUP BY kind ORDER BY kind;
-- distance functions read the decoded values too
SELECT count(*) FILTER (WHERE v <#> v <> t::vector <#> t::vector) AS inner_product_differs,
       count(*) FILTER (WHERE vector_norm(v) <> vector_norm(t::vector)) AS norm_differs,
       count(*) FILTER (WHERE v <-> t::vector <> 0) AS l2_nonzero
  FROM lzt;
SELECT count(*) FILTER (WHERE vector_dims(v) = vector_dims(t::vector)) AS dims_agree FROM lzt;
DROP TABLE lzt;
RESET default_toast_compression;
