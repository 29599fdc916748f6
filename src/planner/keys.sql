------------------------------------------------------------------------
-- planner: operator classes for key columns of vsearch indexes
--
-- An index may list scalar columns after its vector column, e.g.
--   CREATE INDEX ON docs USING vsearch_hnsw (embedding vector_cosine_ops, tenant_id);
-- WHERE clauses on those columns with <, <=, =, >=, > (and = ANY in the
-- hybrid scan) are then tested on values stored in the index, without
-- visiting the heap (src/common/vskeys.h).  Each key type gets a default
-- operator class in each access method, in families that, as B-tree's do,
-- let integers, floats and date/time types be compared across types.
-- The classes need no support function: the scan calls each operator's
-- own function.  Built in a loop over both access methods and the type
-- list below; the target schema is the current schema of the install
-- script, and every name is qualified.
------------------------------------------------------------------------

DO $keys$
DECLARE
	extschema text := pg_catalog.current_schema();
	am text;
	fam record;
	lt text;
	rt text;
	ops text;
BEGIN
	FOREACH am IN ARRAY ARRAY['vsearch_hnsw', 'vsearch_ivf'] LOOP
		FOR fam IN
			SELECT f.name, f.types
			  FROM (VALUES ('integer_ops', ARRAY['int2', 'int4', 'int8']),
						   ('float_ops', ARRAY['float4', 'float8']),
						   ('datetime_ops', ARRAY['date', 'timestamp', 'timestamptz']),
						   ('numeric_ops', ARRAY['numeric']),
						   ('text_ops', ARRAY['text']),
						   ('bool_ops', ARRAY['bool']),
						   ('uuid_ops', ARRAY['uuid'])) AS f(name, types)
		LOOP
			EXECUTE pg_catalog.format('CREATE OPERATOR FAMILY %I.%I USING %I',
									  extschema, fam.name, am);
			EXECUTE pg_catalog.format('COMMENT ON OPERATOR FAMILY %I.%I USING %I IS %L',
									  extschema, fam.name, am,
									  'key columns of ' || am || ' indexes: comparisons of '
									  || pg_catalog.array_to_string(fam.types, ', '));
			FOREACH lt IN ARRAY fam.types LOOP
				FOREACH rt IN ARRAY fam.types LOOP
					ops := pg_catalog.format(
						'OPERATOR 1 pg_catalog.< (pg_catalog.%1$I, pg_catalog.%2$I), '
						'OPERATOR 2 pg_catalog.<= (pg_catalog.%1$I, pg_catalog.%2$I), '
						'OPERATOR 3 pg_catalog.= (pg_catalog.%1$I, pg_catalog.%2$I), '
						'OPERATOR 4 pg_catalog.>= (pg_catalog.%1$I, pg_catalog.%2$I), '
						'OPERATOR 5 pg_catalog.> (pg_catalog.%1$I, pg_catalog.%2$I)', lt, rt);
					IF lt = rt THEN
						EXECUTE pg_catalog.format(
							'CREATE OPERATOR CLASS %I.%I DEFAULT FOR TYPE pg_catalog.%I '
							'USING %I FAMILY %I.%I AS %s',
							extschema, lt || '_ops', lt, am, extschema, fam.name, ops);
						EXECUTE pg_catalog.format(
							'COMMENT ON OPERATOR CLASS %I.%I USING %I IS %L',
							extschema, lt || '_ops', am,
							'key column of type ' || lt || ' in a ' || am || ' index');
					ELSE
						EXECUTE pg_catalog.format('ALTER OPERATOR FAMILY %I.%I USING %I ADD %s',
												  extschema, fam.name, am, ops);
					END IF;
				END LOOP;
			END LOOP;
		END LOOP;
	END LOOP;
END
$keys$;
