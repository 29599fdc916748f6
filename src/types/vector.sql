------------------------------------------------------------------------
-- types: the vector type
------------------------------------------------------------------------

CREATE TYPE @extschema@.vector;

CREATE FUNCTION @extschema@.vector_in(pg_catalog.cstring, pg_catalog.oid, pg_catalog.int4)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_vector_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_out(@extschema@.vector)
	RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'vs_vector_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_typmod_in(pg_catalog.cstring[])
	RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'vs_vector_typmod_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_recv(pg_catalog.internal, pg_catalog.oid, pg_catalog.int4)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_vector_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_send(@extschema@.vector)
	RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'vs_vector_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE main: a vector stays in the heap row while the row fits a page
-- (up to about 2,000 dimensions), so an exact scan reads no TOAST table.
-- See README.md, "Storage", for the measurement behind this choice.
CREATE TYPE @extschema@.vector (
	INPUT = @extschema@.vector_in,
	OUTPUT = @extschema@.vector_out,
	TYPMOD_IN = @extschema@.vector_typmod_in,
	RECEIVE = @extschema@.vector_recv,
	SEND = @extschema@.vector_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = main
);

COMMENT ON TYPE @extschema@.vector IS 'vector of float4 values, up to 16000 dimensions';
COMMENT ON FUNCTION @extschema@.vector_in(pg_catalog.cstring, pg_catalog.oid, pg_catalog.int4)
	IS 'text input of vector: [x1,x2,...]';
COMMENT ON FUNCTION @extschema@.vector_out(@extschema@.vector)
	IS 'text output of vector, shortest exact form of each element';
COMMENT ON FUNCTION @extschema@.vector_recv(pg_catalog.internal, pg_catalog.oid, pg_catalog.int4)
	IS 'binary input of vector: int16 dimensions, int16 zero, float4 elements';
COMMENT ON FUNCTION @extschema@.vector_send(@extschema@.vector)
	IS 'binary output of vector: int16 dimensions, int16 zero, float4 elements';
COMMENT ON FUNCTION @extschema@.vector_typmod_in(pg_catalog.cstring[])
	IS 'type modifier of vector(n): the number of dimensions';

-- typmod coercion and casts

CREATE FUNCTION @extschema@.vector(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_vector_coerce'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	IS 'checks a vector against the dimensions of vector(n)';

CREATE FUNCTION @extschema@.array_to_vector(pg_catalog.int4[], pg_catalog.int4, pg_catalog.bool)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_array_to_vector'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.array_to_vector(pg_catalog.int4[], pg_catalog.int4, pg_catalog.bool)
	IS 'converts an integer array to a vector';

CREATE FUNCTION @extschema@.array_to_vector(pg_catalog.float4[], pg_catalog.int4, pg_catalog.bool)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_array_to_vector'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.array_to_vector(pg_catalog.float4[], pg_catalog.int4, pg_catalog.bool)
	IS 'converts a real array to a vector';

CREATE FUNCTION @extschema@.array_to_vector(pg_catalog.float8[], pg_catalog.int4, pg_catalog.bool)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_array_to_vector'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.array_to_vector(pg_catalog.float8[], pg_catalog.int4, pg_catalog.bool)
	IS 'converts a double precision array to a vector';

CREATE FUNCTION @extschema@.array_to_vector(pg_catalog.numeric[], pg_catalog.int4, pg_catalog.bool)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_array_to_vector'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.array_to_vector(pg_catalog.numeric[], pg_catalog.int4, pg_catalog.bool)
	IS 'converts a numeric array to a vector';

CREATE FUNCTION @extschema@.vector_to_float4(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	RETURNS pg_catalog.float4[]
	AS 'MODULE_PATHNAME', 'vs_vector_to_float4'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_to_float4(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	IS 'converts a vector to a real array';

CREATE FUNCTION @extschema@.vector_to_float8(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	RETURNS pg_catalog.float8[]
	AS 'MODULE_PATHNAME', 'vs_vector_to_float8'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_to_float8(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	IS 'converts a vector to a double precision array';

CREATE FUNCTION @extschema@.vector_to_numeric(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	RETURNS pg_catalog.numeric[]
	AS 'MODULE_PATHNAME', 'vs_vector_to_numeric'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_to_numeric(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	IS 'converts a vector to a numeric array';

CREATE FUNCTION @extschema@.vector_to_int4(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	RETURNS pg_catalog.int4[]
	AS 'MODULE_PATHNAME', 'vs_vector_to_int4'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_to_int4(@extschema@.vector, pg_catalog.int4, pg_catalog.bool)
	IS 'converts a vector to an integer array, rounding each element';

CREATE CAST (@extschema@.vector AS @extschema@.vector)
	WITH FUNCTION @extschema@.vector(@extschema@.vector, pg_catalog.int4, pg_catalog.bool) AS IMPLICIT;
CREATE CAST (pg_catalog.int4[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(pg_catalog.int4[], pg_catalog.int4, pg_catalog.bool) AS ASSIGNMENT;
CREATE CAST (pg_catalog.float4[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(pg_catalog.float4[], pg_catalog.int4, pg_catalog.bool) AS ASSIGNMENT;
CREATE CAST (pg_catalog.float8[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(pg_catalog.float8[], pg_catalog.int4, pg_catalog.bool) AS ASSIGNMENT;
CREATE CAST (pg_catalog.numeric[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(pg_catalog.numeric[], pg_catalog.int4, pg_catalog.bool) AS ASSIGNMENT;
CREATE CAST (@extschema@.vector AS pg_catalog.float4[])
	WITH FUNCTION @extschema@.vector_to_float4(@extschema@.vector, pg_catalog.int4, pg_catalog.bool) AS IMPLICIT;
CREATE CAST (@extschema@.vector AS pg_catalog.float8[])
	WITH FUNCTION @extschema@.vector_to_float8(@extschema@.vector, pg_catalog.int4, pg_catalog.bool);
CREATE CAST (@extschema@.vector AS pg_catalog.numeric[])
	WITH FUNCTION @extschema@.vector_to_numeric(@extschema@.vector, pg_catalog.int4, pg_catalog.bool);
CREATE CAST (@extschema@.vector AS pg_catalog.int4[])
	WITH FUNCTION @extschema@.vector_to_int4(@extschema@.vector, pg_catalog.int4, pg_catalog.bool);

------------------------------------------------------------------------
-- types: vector functions, arithmetic, comparison, aggregates
------------------------------------------------------------------------

CREATE FUNCTION @extschema@.vector_dims(@extschema@.vector)
	RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'vs_vector_dims'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_dims(@extschema@.vector) IS 'number of dimensions';

CREATE FUNCTION @extschema@.vector_norm(@extschema@.vector)
	RETURNS pg_catalog.float8
	AS 'MODULE_PATHNAME', 'vs_vector_norm'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_norm(@extschema@.vector) IS 'Euclidean norm';

CREATE FUNCTION @extschema@.l2_normalize(@extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_l2_normalize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.l2_normalize(@extschema@.vector)
	IS 'the vector scaled to unit Euclidean norm; a zero vector is returned unchanged';

CREATE FUNCTION @extschema@.subvector(@extschema@.vector, pg_catalog.int4, pg_catalog.int4)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_subvector'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.subvector(@extschema@.vector, pg_catalog.int4, pg_catalog.int4)
	IS 'subvector(v, start, count): count elements from 1-based position start';

CREATE FUNCTION @extschema@.vector_add(@extschema@.vector, @extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_vector_add'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_add(@extschema@.vector, @extschema@.vector) IS 'element-wise sum';

CREATE FUNCTION @extschema@.vector_sub(@extschema@.vector, @extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_vector_sub'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_sub(@extschema@.vector, @extschema@.vector) IS 'element-wise difference';

CREATE FUNCTION @extschema@.vector_mul(@extschema@.vector, @extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_vector_mul'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_mul(@extschema@.vector, @extschema@.vector) IS 'element-wise product';

CREATE FUNCTION @extschema@.vector_concat(@extschema@.vector, @extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_vector_concat'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_concat(@extschema@.vector, @extschema@.vector) IS 'concatenation';

CREATE OPERATOR @extschema@.+ (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_add, COMMUTATOR = OPERATOR(@extschema@.+)
);
COMMENT ON OPERATOR @extschema@.+(@extschema@.vector, @extschema@.vector) IS 'element-wise sum';

CREATE OPERATOR @extschema@.- (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_sub
);
COMMENT ON OPERATOR @extschema@.-(@extschema@.vector, @extschema@.vector) IS 'element-wise difference';

CREATE OPERATOR @extschema@.* (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_mul, COMMUTATOR = OPERATOR(@extschema@.*)
);
COMMENT ON OPERATOR @extschema@.*(@extschema@.vector, @extschema@.vector) IS 'element-wise product';

CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_concat
);
COMMENT ON OPERATOR @extschema@.||(@extschema@.vector, @extschema@.vector) IS 'concatenation';

-- comparison: element by element, then by dimension count

CREATE FUNCTION @extschema@.vector_lt(@extschema@.vector, @extschema@.vector) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vs_vector_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vector_le(@extschema@.vector, @extschema@.vector) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vs_vector_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vector_eq(@extschema@.vector, @extschema@.vector) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vs_vector_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vector_ne(@extschema@.vector, @extschema@.vector) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vs_vector_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vector_ge(@extschema@.vector, @extschema@.vector) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vs_vector_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vector_gt(@extschema@.vector, @extschema@.vector) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vs_vector_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vector_cmp(@extschema@.vector, @extschema@.vector) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'vs_vector_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_lt(@extschema@.vector, @extschema@.vector) IS 'less than';
COMMENT ON FUNCTION @extschema@.vector_le(@extschema@.vector, @extschema@.vector) IS 'less than or equal';
COMMENT ON FUNCTION @extschema@.vector_eq(@extschema@.vector, @extschema@.vector) IS 'equal';
COMMENT ON FUNCTION @extschema@.vector_ne(@extschema@.vector, @extschema@.vector) IS 'not equal';
COMMENT ON FUNCTION @extschema@.vector_ge(@extschema@.vector, @extschema@.vector) IS 'greater than or equal';
COMMENT ON FUNCTION @extschema@.vector_gt(@extschema@.vector, @extschema@.vector) IS 'greater than';
COMMENT ON FUNCTION @extschema@.vector_cmp(@extschema@.vector, @extschema@.vector) IS 'B-tree comparison: -1, 0 or 1';

CREATE OPERATOR @extschema@.< (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector, FUNCTION = @extschema@.vector_lt,
	COMMUTATOR = OPERATOR(@extschema@.>), NEGATOR = OPERATOR(@extschema@.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.<= (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector, FUNCTION = @extschema@.vector_le,
	COMMUTATOR = OPERATOR(@extschema@.>=), NEGATOR = OPERATOR(@extschema@.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector, FUNCTION = @extschema@.vector_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector, FUNCTION = @extschema@.vector_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR @extschema@.>= (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector, FUNCTION = @extschema@.vector_ge,
	COMMUTATOR = OPERATOR(@extschema@.<=), NEGATOR = OPERATOR(@extschema@.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector, FUNCTION = @extschema@.vector_gt,
	COMMUTATOR = OPERATOR(@extschema@.<), NEGATOR = OPERATOR(@extschema@.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
COMMENT ON OPERATOR @extschema@.<(@extschema@.vector, @extschema@.vector) IS 'less than';
COMMENT ON OPERATOR @extschema@.<=(@extschema@.vector, @extschema@.vector) IS 'less than or equal';
COMMENT ON OPERATOR @extschema@.=(@extschema@.vector, @extschema@.vector) IS 'equal';
COMMENT ON OPERATOR @extschema@.<>(@extschema@.vector, @extschema@.vector) IS 'not equal';
COMMENT ON OPERATOR @extschema@.>=(@extschema@.vector, @extschema@.vector) IS 'greater than or equal';
COMMENT ON OPERATOR @extschema@.>(@extschema@.vector, @extschema@.vector) IS 'greater than';

CREATE OPERATOR CLASS @extschema@.vector_ops
	DEFAULT FOR TYPE @extschema@.vector USING btree AS
	OPERATOR 1 @extschema@.< ,
	OPERATOR 2 @extschema@.<= ,
	OPERATOR 3 @extschema@.= ,
	OPERATOR 4 @extschema@.>= ,
	OPERATOR 5 @extschema@.> ,
	FUNCTION 1 @extschema@.vector_cmp(@extschema@.vector, @extschema@.vector);
COMMENT ON OPERATOR CLASS @extschema@.vector_ops USING btree
	IS 'B-tree ordering of vectors: element by element, then by dimension count';

-- aggregates: avg keeps {count, sums...} in double precision[]

CREATE FUNCTION @extschema@.vector_accum(pg_catalog.float8[], @extschema@.vector)
	RETURNS pg_catalog.float8[]
	AS 'MODULE_PATHNAME', 'vs_vector_accum'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_accum(pg_catalog.float8[], @extschema@.vector)
	IS 'avg(vector) transition function';

CREATE FUNCTION @extschema@.vector_combine(pg_catalog.float8[], pg_catalog.float8[])
	RETURNS pg_catalog.float8[]
	AS 'MODULE_PATHNAME', 'vs_vector_combine'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_combine(pg_catalog.float8[], pg_catalog.float8[])
	IS 'avg(vector) combine function';

CREATE FUNCTION @extschema@.vector_avg(pg_catalog.float8[])
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vs_vector_avg'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.vector_avg(pg_catalog.float8[])
	IS 'avg(vector) final function';

CREATE AGGREGATE @extschema@.avg(@extschema@.vector) (
	SFUNC = @extschema@.vector_accum,
	STYPE = pg_catalog.float8[],
	FINALFUNC = @extschema@.vector_avg,
	COMBINEFUNC = @extschema@.vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.avg(@extschema@.vector) IS 'element-wise average';

CREATE AGGREGATE @extschema@.sum(@extschema@.vector) (
	SFUNC = @extschema@.vector_add,
	STYPE = @extschema@.vector,
	COMBINEFUNC = @extschema@.vector_add,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.sum(@extschema@.vector) IS 'element-wise sum';
