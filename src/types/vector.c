/*-------------------------------------------------------------------------
 *
 * vector.c
 *	  The vector type's input, output, binary I/O, type modifier and casts.
 *
 * Design: every way a value enters (text, binary, arrays, typmod coercion)
 * goes through the same checks (VsCheckDim, VsCheckElement,
 * VsCheckTypmod), so a stored vector always has 1..VECTOR_MAX_DIM finite
 * elements and a zero reserved field, and code reading a vector may rely on
 * that.
 *
 * IDENTIFICATION
 *	  src/types/vector.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "common/vsfmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "types/vector.h"
#include "types/vectorparse.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

/* ---------- shared checks ---------- */

/*
 * VsVectorAlloc returns a zero-filled vector with dim elements, palloc'd in
 * CurrentMemoryContext; the caller owns it.  dim must already be checked.
 */
Vector *
VsVectorAlloc(int dim)
{
	Size		size = VECTOR_SIZE(dim);
	Vector	   *v = (Vector *) palloc0(size);

	SET_VARSIZE(v, size);
	v->dim = dim;
	return v;
}

void
VsCheckDim(int dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension")));
	if (dim > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vector cannot have more than %d dimensions",
						VECTOR_MAX_DIM)));
}

void
VsCheckTypmod(int dim, int32 typmod)
{
	/* only a direct call of an I/O or cast function can pass such a typmod */
	if (typmod < -1 || typmod == 0 || typmod > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier %d for type vector", typmod)));
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

void
VsCheckElement(float value)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in vector")));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in vector")));
}

/* ---------- text I/O ---------- */

/* Grows the parser's element buffer in CurrentMemoryContext. */
static float *
GrowValues(float *old, int newcap, void *arg)
{
	return repalloc(old, sizeof(float) * newcap);
}

/*
 * vs_vector_in parses '[x1, x2, ...]' with VsParseVectorText and raises the
 * error that matches the first problem found.  White space is allowed
 * around every token; each element is read with strtof, and NaN,
 * infinities, values out of float4 range and values that underflow to zero
 * are rejected.  The input string is only read.
 */
VS_FUNCTION(vs_vector_in);
Datum
vs_vector_in(PG_FUNCTION_ARGS)
{
	const char *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	float	   *values = palloc(sizeof(float) * 16);
	VsParseResult res;
	Vector	   *result;

	VsParseVectorText(str, VECTOR_MAX_DIM, &values, 16, GrowValues, NULL, &res);
	switch (res.status)
	{
		case VS_PARSE_OK:
			break;
		case VS_PARSE_SYNTAX:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type vector: \"%s\"", str),
					 errdetail_internal("%s", res.detail)));
			break;
		case VS_PARSE_EMPTY:
			VsCheckDim(0);
			break;
		case VS_PARSE_TOO_MANY:
			VsCheckDim(VECTOR_MAX_DIM + 1);
			break;
		case VS_PARSE_NAN:
			VsCheckElement(NAN);
			break;
		case VS_PARSE_INFINITE:
			VsCheckElement(INFINITY);
			break;
		case VS_PARSE_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%.*s\" is out of range for type vector",
							res.toklen, res.token)));
			break;
	}

	VsCheckTypmod(res.dim, typmod);
	result = VsVectorAlloc(res.dim);
	memcpy(result->x, values, sizeof(float) * res.dim);
	pfree(values);
	PG_RETURN_VECTOR_P(result);
}

/*
 * vs_vector_out prints '[x1,x2,...]' with each element in the shortest form
 * that reads back to the same float4, whatever extra_float_digits says.
 */
VS_FUNCTION(vs_vector_out);
Datum
vs_vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	char	   *buf = palloc((Size) v->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 2);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(v->x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf);
}

/* ---------- type modifier ---------- */

/* vs_vector_typmod_in accepts exactly one modifier, 1..VECTOR_MAX_DIM. */
VS_FUNCTION(vs_vector_typmod_in);
Datum
vs_vector_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("Type vector takes one modifier, the number of dimensions.")));
	if (tl[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector must be at least 1")));
	if (tl[0] > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector cannot exceed %d",
						VECTOR_MAX_DIM)));
	PG_RETURN_INT32(tl[0]);
}

/*
 * vs_vector_coerce implements the vector(n) length coercion: the value is
 * returned unchanged if it has n dimensions, else an error is raised.
 */
VS_FUNCTION(vs_vector_coerce);
Datum
vs_vector_coerce(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	VsCheckTypmod(v->dim, PG_GETARG_INT32(1));
	PG_RETURN_VECTOR_P(v);
}

/* ---------- binary I/O ---------- */

/*
 * vs_vector_recv reads int16 dim, int16 reserved (must be 0) and dim
 * big-endian float4s, with VsParseVectorBinaryHeader and VsDecodeFloats.
 * The message must hold exactly that many bytes.
 */
VS_FUNCTION(vs_vector_recv);
Datum
vs_vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	const unsigned char *data = (const unsigned char *) buf->data + buf->cursor;
	VsBinaryHeader h;
	Vector	   *result;

	VsParseVectorBinaryHeader(data, buf->len - buf->cursor, VECTOR_MAX_DIM, &h);
	switch (h.status)
	{
		case VS_BINARY_OK:
			break;
		case VS_BINARY_SHORT_HEADER:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid external vector value"),
					 errdetail("The value is shorter than its 4-byte header.")));
			break;
		case VS_BINARY_BAD_DIM:
			VsCheckDim(h.dim);
			break;
		case VS_BINARY_RESERVED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid external vector value"),
					 errdetail("The reserved field must be 0, not %d.", h.reserved)));
			break;
		case VS_BINARY_LENGTH:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid external vector value"),
					 errdetail("The value declares %d dimensions, which take %d bytes, but %ld bytes follow the header.",
							   h.dim, (int) sizeof(float) * h.dim, h.payload)));
			break;
	}
	VsCheckTypmod(h.dim, typmod);

	result = VsVectorAlloc(h.dim);
	VsDecodeFloats(data + 4, h.dim, result->x);
	for (int i = 0; i < h.dim; i++)
		VsCheckElement(result->x[i]);
	buf->cursor = buf->len;
	PG_RETURN_VECTOR_P(result);
}

/* vs_vector_send writes the format vs_vector_recv reads. */
VS_FUNCTION(vs_vector_send);
Datum
vs_vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, 0);
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------- casts from arrays ---------- */

/*
 * ElementToFloat converts one array element of type elemtype to float4,
 * raising the float4 range errors of PostgreSQL's own casts.
 */
static float
ElementToFloat(Datum d, Oid elemtype)
{
	double		value;

	switch (elemtype)
	{
		case INT4OID:
			return (float) DatumGetInt32(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		case FLOAT8OID:
			value = DatumGetFloat8(d);
			break;
		case NUMERICOID:
			/* numeric infinity is rejected below as infinite, not as overflow */
			if (numeric_is_inf(DatumGetNumeric(d)))
				return INFINITY;
			value = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
			if (isinf(value))
				float_overflow_error();
			break;
		default:
			elog(ERROR, "unsupported array element type %u", elemtype);
	}
	if (!isnan(value) && !isinf(value))
	{
		float		f = (float) value;

		if (isinf(f))
			float_overflow_error();
		if (f == 0.0f && value != 0.0)
			float_underflow_error();
		return f;
	}
	return (float) value;		/* NaN or infinity: VsCheckElement rejects it */
}

/*
 * vs_array_to_vector casts a one-dimensional integer[], real[], double
 * precision[] or numeric[] without NULLs to vector, applying the target
 * typmod.
 */
VS_FUNCTION(vs_array_to_vector);
Datum
vs_array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Vector	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, &nulls, &n);
	VsCheckDim(n);
	VsCheckTypmod(n, typmod);

	result = VsVectorAlloc(n);
	for (int i = 0; i < n; i++)
	{
		result->x[i] = ElementToFloat(elems[i], elemtype);
		VsCheckElement(result->x[i]);
	}
	pfree(elems);
	pfree(nulls);
	PG_RETURN_VECTOR_P(result);
}

/* ---------- casts to arrays ---------- */

/* BuildArray wraps n datums of elemtype into a one-dimensional array. */
static ArrayType *
BuildArray(Datum *elems, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return construct_array(elems, n, elemtype, typlen, typbyval, typalign);
}

/* vs_vector_to_float4 casts vector to real[], exactly. */
VS_FUNCTION(vs_vector_to_float4);
Datum
vs_vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *elems = palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		elems[i] = Float4GetDatum(v->x[i]);
	PG_RETURN_POINTER(BuildArray(elems, v->dim, FLOAT4OID));
}

/* vs_vector_to_float8 casts vector to double precision[], exactly. */
VS_FUNCTION(vs_vector_to_float8);
Datum
vs_vector_to_float8(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *elems = palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		elems[i] = Float8GetDatum((double) v->x[i]);
	PG_RETURN_POINTER(BuildArray(elems, v->dim, FLOAT8OID));
}

/*
 * vs_vector_to_numeric casts vector to numeric[]; each element becomes the
 * numeric PostgreSQL's real-to-numeric cast gives (shortest decimal form).
 */
VS_FUNCTION(vs_vector_to_numeric);
Datum
vs_vector_to_numeric(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *elems = palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		elems[i] = DirectFunctionCall1(float4_numeric, Float4GetDatum(v->x[i]));
	PG_RETURN_POINTER(BuildArray(elems, v->dim, NUMERICOID));
}

/*
 * vs_vector_to_int4 casts vector to integer[], rounding each element to the
 * nearest integer (ties to even) like the real-to-integer cast, and raising
 * "integer out of range" where it does not fit.
 */
VS_FUNCTION(vs_vector_to_int4);
Datum
vs_vector_to_int4(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *elems = palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		elems[i] = DirectFunctionCall1(ftoi4, Float4GetDatum(v->x[i]));
	PG_RETURN_POINTER(BuildArray(elems, v->dim, INT4OID));
}
