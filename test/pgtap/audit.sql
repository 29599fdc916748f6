-- audit.sql: the catalog entries of every object of the extension.
--
-- Every function (members of the extension: pg_depend, deptype 'e') is
-- IMMUTABLE, PARALLEL SAFE and, if written in C, STRICT, except those in
-- the allow-list below, each with its reason; no function is SECURITY
-- DEFINER.  Every function, operator, type, access method and operator
-- class has a COMMENT.  Operators have the commutators (and comparison
-- operators the negators) they should; the function of every distance
-- operator is STRICT, IMMUTABLE and PARALLEL SAFE; every operator class
-- passes its access method's validator (amvalidate).  Failures list the
-- offending objects.
BEGIN;
SELECT plan(19);

CREATE TEMP TABLE ext_member AS
  SELECT d.classid, d.objid
    FROM pg_depend d
   WHERE d.refclassid = 'pg_extension'::regclass
     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vsearch')
     AND d.deptype = 'e';

CREATE TEMP TABLE fn AS
  SELECT p.oid, p.proname || '(' || oidvectortypes(p.proargtypes) || ')' AS sig,
         p.prokind, l.lanname, p.proisstrict, p.prosecdef,
         CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END AS volatility,
         CASE p.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED' ELSE 'UNSAFE' END AS parallel
    FROM ext_member m
    JOIN pg_proc p ON p.oid = m.objid
    JOIN pg_language l ON l.oid = p.prolang
   WHERE m.classid = 'pg_proc'::regclass;

-- The allow-list: functions that may differ from IMMUTABLE / PARALLEL SAFE /
-- STRICT, with what they may be instead.  NULL means "no requirement".
CREATE TEMP TABLE allowed (sig text PRIMARY KEY, volatility text[], parallel text[],
                           strict_exempt bool, why text);
INSERT INTO allowed VALUES
  -- The kernels depend on the CPU the server runs on, which does not change
  -- within a statement but is not a property of the arguments.
  ('vsearch_kernels()', '{STABLE}', '{SAFE}', false, 'CPU-dependent'),
  -- Index AM handlers are called by the backend through GetIndexAmRoutine,
  -- never from a query (their argument is internal): their volatility,
  -- parallel safety and strictness do not matter.
  ('vsearch_hnsw_handler(internal)', NULL, NULL, true, 'AM handler'),
  ('vsearch_ivf_handler(internal)', NULL, NULL, true, 'AM handler'),
  -- The structure checkers read index pages and take a lock on the table
  -- (results change from call to call: VOLATILE) and must not run inside a
  -- parallel worker (RESTRICTED or UNSAFE).
  ('vsearch_hnsw_check(regclass)', '{VOLATILE}', '{RESTRICTED,UNSAFE}', false, 'structure checker'),
  ('vsearch_ivf_check(regclass)', '{VOLATILE}', '{RESTRICTED,UNSAFE}', false, 'structure checker');

SELECT is(ARRAY(SELECT a.sig FROM allowed a WHERE NOT EXISTS (SELECT FROM fn WHERE fn.sig = a.sig)
                 ORDER BY 1),
          '{}'::text[], 'every function on the allow-list exists (the list is current)');

SELECT cmp_ok((SELECT count(*)::int FROM fn), '>=', 40,
              'the extension''s functions are found through pg_depend');

SELECT is(ARRAY(SELECT fn.sig || ' is ' || fn.volatility FROM fn LEFT JOIN allowed a USING (sig)
                 WHERE CASE WHEN a.sig IS NULL THEN fn.volatility <> 'IMMUTABLE'
                            ELSE fn.volatility <> ALL (coalesce(a.volatility, ARRAY[fn.volatility])) END
                 ORDER BY 1),
          '{}'::text[], 'every function is IMMUTABLE, except the allow-list (with its own volatility)');

SELECT is(ARRAY(SELECT fn.sig || ' is PARALLEL ' || fn.parallel FROM fn LEFT JOIN allowed a USING (sig)
                 WHERE CASE WHEN a.sig IS NULL THEN fn.parallel <> 'SAFE'
                            ELSE fn.parallel <> ALL (coalesce(a.parallel, ARRAY[fn.parallel])) END
                 ORDER BY 1),
          '{}'::text[], 'every function is PARALLEL SAFE, except the allow-list (with its own parallel safety)');

SELECT is(ARRAY(SELECT fn.sig FROM fn LEFT JOIN allowed a USING (sig)
                 WHERE fn.lanname = 'c' AND NOT fn.proisstrict AND NOT coalesce(a.strict_exempt, false)
                 ORDER BY 1),
          '{}'::text[], 'every C function is STRICT, except the AM handlers');

SELECT is(ARRAY(SELECT fn.sig FROM fn WHERE fn.prosecdef ORDER BY 1),
          '{}'::text[], 'no function is SECURITY DEFINER');

-- Aggregates marked PARALLEL SAFE need a combine function to run in parallel.
SELECT is(ARRAY(SELECT fn.sig FROM fn JOIN pg_aggregate g ON g.aggfnoid = fn.oid
                 WHERE fn.parallel = 'SAFE' AND g.aggcombinefn = 0 ORDER BY 1),
          '{}'::text[], 'every parallel-safe aggregate has a combine function');

-- Comments.  Every object listed by its pg_describe_object text.
CREATE TEMP TABLE uncommented AS
  SELECT m.classid::regclass::text AS catalog, pg_describe_object(m.classid, m.objid, 0) AS object
    FROM ext_member m
   WHERE m.classid IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_type'::regclass,
                       'pg_am'::regclass, 'pg_opclass'::regclass)
     AND obj_description(m.objid, m.classid::regclass::text) IS NULL;

SELECT is(ARRAY(SELECT object FROM uncommented WHERE catalog = 'pg_proc' ORDER BY 1),
          '{}'::text[], 'every function and aggregate has a COMMENT');
SELECT is(ARRAY(SELECT object FROM uncommented WHERE catalog = 'pg_operator' ORDER BY 1),
          '{}'::text[], 'every operator has a COMMENT');
SELECT is(ARRAY(SELECT object FROM uncommented WHERE catalog = 'pg_type' ORDER BY 1),
          '{}'::text[], 'every type has a COMMENT');
SELECT is(ARRAY(SELECT object FROM uncommented WHERE catalog = 'pg_am' ORDER BY 1),
          '{}'::text[], 'every access method has a COMMENT');
SELECT is(ARRAY(SELECT object FROM uncommented WHERE catalog = 'pg_opclass' ORDER BY 1),
          '{}'::text[], 'every operator class has a COMMENT');

-- Operators.  Each operator name of the extension with the commutator and
-- negator it must have (NULL: none; "-" and "||" do not commute).  An
-- operator missing from this list fails the first test: classify it.
CREATE TEMP TABLE op AS
  SELECT o.oid, o.oid::regoperator::text AS sig, o.oprname, o.oprleft, o.oprright,
         o.oprcom, o.oprnegate, o.oprcode
    FROM ext_member m JOIN pg_operator o ON o.oid = m.objid
   WHERE m.classid = 'pg_operator'::regclass;
CREATE TEMP TABLE op_expect (oprname name PRIMARY KEY, commutator name, negator name, distance bool);
INSERT INTO op_expect VALUES
  ('<->', '<->', NULL, true), ('<#>', '<#>', NULL, true), ('<=>', '<=>', NULL, true), ('<+>', '<+>', NULL, true),
  ('=', '=', '<>', false), ('<>', '<>', '=', false),
  ('<', '>', '>=', false), ('>', '<', '<=', false), ('<=', '>=', '>', false), ('>=', '<=', '<', false),
  ('+', '+', NULL, false), ('*', '*', NULL, false), ('-', NULL, NULL, false), ('||', NULL, NULL, false);

SELECT is(ARRAY(SELECT op.sig FROM op LEFT JOIN op_expect e USING (oprname) WHERE e.oprname IS NULL ORDER BY 1),
          '{}'::text[], 'every operator is classified in op_expect');

SELECT is(ARRAY(SELECT op.sig || ' has commutator ' || coalesce(c.oprname, 'none')
                  FROM op JOIN op_expect e USING (oprname) LEFT JOIN pg_operator c ON c.oid = op.oprcom
                 WHERE c.oprname IS DISTINCT FROM e.commutator
                    OR (c.oid IS NOT NULL AND (c.oprleft, c.oprright) <> (op.oprright, op.oprleft))
                    OR (c.oid IS NOT NULL AND c.oid NOT IN (SELECT oid FROM op))
                 ORDER BY 1),
          '{}'::text[], 'every operator has the commutator it should (distances, =, <>, +, *, and < > <= >=)');

SELECT is(ARRAY(SELECT op.sig || ' has negator ' || coalesce(n.oprname, 'none')
                  FROM op JOIN op_expect e USING (oprname) LEFT JOIN pg_operator n ON n.oid = op.oprnegate
                 WHERE n.oprname IS DISTINCT FROM e.negator
                    OR (n.oid IS NOT NULL AND (n.oprleft, n.oprright) <> (op.oprleft, op.oprright))
                    OR (n.oid IS NOT NULL AND n.oid NOT IN (SELECT oid FROM op))
                 ORDER BY 1),
          '{}'::text[], 'every comparison operator has its negator, no other operator has one');

-- Distance operators: the four names, plus every operator an operator class
-- of the extension uses FOR ORDER BY.
CREATE TEMP TABLE dist_op AS
  SELECT op.* FROM op JOIN op_expect e USING (oprname) WHERE e.distance
  UNION
  SELECT op.* FROM op JOIN pg_amop a ON a.amopopr = op.oid WHERE a.amoppurpose = 'o';

SELECT is((SELECT count(*)::int FROM dist_op), 4, 'four distance operators');

SELECT is(ARRAY(SELECT format('%s: %s is %s, %s, PARALLEL %s', d.sig, fn.sig, fn.volatility,
                              CASE WHEN fn.proisstrict THEN 'STRICT' ELSE 'not STRICT' END, fn.parallel)
                  FROM dist_op d JOIN fn ON fn.oid = d.oprcode
                 WHERE fn.volatility <> 'IMMUTABLE' OR NOT fn.proisstrict OR fn.parallel <> 'SAFE'
                 ORDER BY 1),
          '{}'::text[], 'the function of every distance operator is IMMUTABLE, STRICT and PARALLEL SAFE');

-- Operator classes: the access method's validator accepts each (a failure
-- also prints the validator's INFO messages).
CREATE TEMP TABLE opc AS
  SELECT c.oid, format('%s USING %s', c.opcname, am.amname) AS name
    FROM ext_member m JOIN pg_opclass c ON c.oid = m.objid JOIN pg_am am ON am.oid = c.opcmethod
   WHERE m.classid = 'pg_opclass'::regclass;

SELECT is((SELECT count(*)::int FROM opc), 32,
          '32 operator classes (btree; four vector and twelve key-column vsearch_hnsw; three vector and twelve key-column vsearch_ivf)');

SELECT is(ARRAY(SELECT name FROM opc WHERE NOT amvalidate(oid) ORDER BY 1),
          '{}'::text[], 'every operator class validates with amvalidate');

SELECT * FROM finish();
ROLLBACK;
