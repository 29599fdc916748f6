------------------------------------------------------------------------
-- hnsw: the vsearch_hnsw index access method
------------------------------------------------------------------------

CREATE FUNCTION @extschema@.vsearch_hnsw_handler(pg_catalog.internal)
	RETURNS pg_catalog.index_am_handler
	AS 'MODULE_PATHNAME', 'vsearch_hnsw_handler'
	LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vsearch_hnsw_handler(pg_catalog.internal)
	IS 'handler of the vsearch_hnsw index access method';

CREATE ACCESS METHOD vsearch_hnsw TYPE INDEX HANDLER @extschema@.vsearch_hnsw_handler;
COMMENT ON ACCESS METHOD vsearch_hnsw IS 'HNSW graph index for approximate nearest-neighbour search';

CREATE OPERATOR CLASS @extschema@.vector_l2_ops
	DEFAULT FOR TYPE @extschema@.vector USING vsearch_hnsw AS
	OPERATOR 1 @extschema@.<-> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_ip_ops
	FOR TYPE @extschema@.vector USING vsearch_hnsw AS
	OPERATOR 1 @extschema@.<#> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector);

-- cosine: vectors are normalised (support function 2), then ordered by
-- negative inner product, which orders like cosine distance
CREATE OPERATOR CLASS @extschema@.vector_cosine_ops
	FOR TYPE @extschema@.vector USING vsearch_hnsw AS
	OPERATOR 1 @extschema@.<=> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector),
	FUNCTION 2 @extschema@.vector_norm(@extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_l1_ops
	FOR TYPE @extschema@.vector USING vsearch_hnsw AS
	OPERATOR 1 @extschema@.<+> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.l1_distance(@extschema@.vector, @extschema@.vector);

COMMENT ON OPERATOR CLASS @extschema@.vector_l2_ops USING vsearch_hnsw IS 'HNSW search by Euclidean distance (<->)';
COMMENT ON OPERATOR CLASS @extschema@.vector_ip_ops USING vsearch_hnsw IS 'HNSW search by negative inner product (<#>)';
COMMENT ON OPERATOR CLASS @extschema@.vector_cosine_ops USING vsearch_hnsw IS 'HNSW search by cosine distance (<=>); zero vectors are not indexed';
COMMENT ON OPERATOR CLASS @extschema@.vector_l1_ops USING vsearch_hnsw IS 'HNSW search by taxicab distance (<+>)';

CREATE FUNCTION @extschema@.vsearch_hnsw_check(index pg_catalog.regclass,
		OUT elements pg_catalog.int8, OUT heap_tids pg_catalog.int8,
		OUT deleted pg_catalog.int8, OUT unreachable pg_catalog.int8,
		OUT live_rows pg_catalog.int8)
	AS 'MODULE_PATHNAME', 'vsearch_hnsw_check'
	LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.vsearch_hnsw_check(pg_catalog.regclass)
	IS 'checks the structure of a vsearch_hnsw index; raises an error describing the first problem';
