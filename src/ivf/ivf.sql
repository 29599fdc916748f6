------------------------------------------------------------------------
-- ivf: the vsearch_ivf index access method
------------------------------------------------------------------------

CREATE FUNCTION @extschema@.vsearch_ivf_handler(pg_catalog.internal)
	RETURNS pg_catalog.index_am_handler
	AS 'MODULE_PATHNAME', 'vsearch_ivf_handler'
	LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vsearch_ivf_handler(pg_catalog.internal)
	IS 'index access method handler of vsearch_ivf';

CREATE ACCESS METHOD vsearch_ivf TYPE INDEX HANDLER @extschema@.vsearch_ivf_handler;
COMMENT ON ACCESS METHOD vsearch_ivf
	IS 'inverted-file (k-means partition) index for nearest-neighbour search on vectors';

-- Support function 1 orders rows exactly as the operator does; vsearch_ivf
-- recognises these three functions and computes them with its own kernels.
CREATE OPERATOR CLASS @extschema@.vector_l2_ops
	DEFAULT FOR TYPE @extschema@.vector USING vsearch_ivf AS
	OPERATOR 1 @extschema@.<-> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_ip_ops
	FOR TYPE @extschema@.vector USING vsearch_ivf AS
	OPERATOR 1 @extschema@.<#> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_cosine_ops
	FOR TYPE @extschema@.vector USING vsearch_ivf AS
	OPERATOR 1 @extschema@.<=> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector);

COMMENT ON OPERATOR CLASS @extschema@.vector_l2_ops USING vsearch_ivf IS 'IVF search by Euclidean distance (<->)';
COMMENT ON OPERATOR CLASS @extschema@.vector_ip_ops USING vsearch_ivf IS 'IVF search by negative inner product (<#>)';
COMMENT ON OPERATOR CLASS @extschema@.vector_cosine_ops USING vsearch_ivf IS 'IVF search by cosine distance (<=>), spherical k-means; zero vectors are not indexed';

CREATE FUNCTION @extschema@.vsearch_ivf_check(pg_catalog.regclass)
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'vsearch_ivf_check'
	LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.vsearch_ivf_check(pg_catalog.regclass)
	IS 'checks the structure of a vsearch_ivf index; raises an error at the first problem';

