------------------------------------------------------------------------
-- distance: distance functions and operators
------------------------------------------------------------------------

CREATE FUNCTION @extschema@.l2_distance(@extschema@.vector, @extschema@.vector)
	RETURNS pg_catalog.float8
	AS 'MODULE_PATHNAME', 'vs_l2_distance'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.l2_distance(@extschema@.vector, @extschema@.vector)
	IS 'Euclidean (L2) distance';

CREATE FUNCTION @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector)
	RETURNS pg_catalog.float8
	AS 'MODULE_PATHNAME', 'vs_l2_squared_distance'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector)
	IS 'squared Euclidean distance';

CREATE FUNCTION @extschema@.inner_product(@extschema@.vector, @extschema@.vector)
	RETURNS pg_catalog.float8
	AS 'MODULE_PATHNAME', 'vs_inner_product'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.inner_product(@extschema@.vector, @extschema@.vector)
	IS 'inner (dot) product';

CREATE FUNCTION @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector)
	RETURNS pg_catalog.float8
	AS 'MODULE_PATHNAME', 'vs_negative_inner_product'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector)
	IS 'negative inner product, so that ascending order ranks the largest product first';

CREATE FUNCTION @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector)
	RETURNS pg_catalog.float8
	AS 'MODULE_PATHNAME', 'vs_cosine_distance'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector)
	IS 'cosine distance, 1 - cosine similarity; NaN if either vector is zero';

CREATE FUNCTION @extschema@.l1_distance(@extschema@.vector, @extschema@.vector)
	RETURNS pg_catalog.float8
	AS 'MODULE_PATHNAME', 'vs_l1_distance'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.l1_distance(@extschema@.vector, @extschema@.vector)
	IS 'taxicab (L1) distance';

CREATE OPERATOR @extschema@.<-> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.l2_distance, COMMUTATOR = OPERATOR(@extschema@.<->)
);
COMMENT ON OPERATOR @extschema@.<->(@extschema@.vector, @extschema@.vector) IS 'Euclidean (L2) distance';

CREATE OPERATOR @extschema@.<#> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_negative_inner_product, COMMUTATOR = OPERATOR(@extschema@.<#>)
);
COMMENT ON OPERATOR @extschema@.<#>(@extschema@.vector, @extschema@.vector) IS 'negative inner product';

CREATE OPERATOR @extschema@.<=> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.cosine_distance, COMMUTATOR = OPERATOR(@extschema@.<=>)
);
COMMENT ON OPERATOR @extschema@.<=>(@extschema@.vector, @extschema@.vector) IS 'cosine distance';

CREATE OPERATOR @extschema@.<+> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.l1_distance, COMMUTATOR = OPERATOR(@extschema@.<+>)
);
COMMENT ON OPERATOR @extschema@.<+>(@extschema@.vector, @extschema@.vector) IS 'taxicab (L1) distance';

CREATE FUNCTION @extschema@.vsearch_kernels()
	RETURNS SETOF pg_catalog.text
	AS 'MODULE_PATHNAME', 'vs_kernels'
	LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 3;
COMMENT ON FUNCTION @extschema@.vsearch_kernels()
	IS 'distance kernels this CPU can run, best last (values for vsearch.kernel)';

CREATE FUNCTION @extschema@.vsearch_kernels_many_check(dims pg_catalog.int4, count pg_catalog.int4)
	RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'vs_kernels_many_check'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vsearch_kernels_many_check(pg_catalog.int4, pg_catalog.int4)
	IS 'self-test: results of the batched (one against many) kernels that differ from the one-pair kernels, 0 when none';

