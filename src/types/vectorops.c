/*-------------------------------------------------------------------------
 *
 * vectorops.c
 *	  Distance functions, vector functions, arithmetic, comparisons and
 *	  aggregate support for the vector type.
 *
 * Design: distances go through the distance room's active kernels and are
 * returned as float8; element-wise arithmetic checks every result for
 * float4 overflow so a vector never holds an infinity.
 *
 * IDENTIFICATION
 *	  src/types/vectorops.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/vsfmgr.h"
#include "distance/distance.h"
#include "types/vector.h"
#include "utils/array.h"
#include "utils/float.h"

void
VsCheckSameDims(const Vector *a, const Vector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", a->dim, b->dim)));
}

/* ---------- detoasting the query vector once ---------- */

/*
 * A distance function is called once per row with the query vector as one
 * argument.  When that vector is stored compressed or out of line (a
 * subquery over a table, a parameter bound from a column), detoasting it on
 * every call costs more than the distance itself.  Each argument slot keeps
 * the raw datum it last saw and the detoasted result; a raw datum equal to
 * the cached one byte for byte (inline compressed data, or an on-disk TOAST
 * pointer, which names an immutable value) reuses the result.  A slot that
 * keeps missing stops caching, so a column of compressed values costs no
 * more than plain detoasting.
 */
typedef struct ArgCacheSlot
{
	struct varlena *raw;		/* copy of the raw datum, in fn_mcxt */
	Size		rawlen;
	Vector	   *value;			/* detoasted value, in fn_mcxt */
	int			hits;
	int			misses;
} ArgCacheSlot;

#define ARG_CACHE_SLOTS 2
#define ARG_CACHE_GIVE_UP 64	/* misses without a hit before giving up */

Vector *
VsGetArgVector(FunctionCallInfo fcinfo, int argno)
{
	Datum		d = PG_GETARG_DATUM(argno);
	struct varlena *raw = (struct varlena *) DatumGetPointer(d);
	ArgCacheSlot *slot;
	Size		rawlen;
	MemoryContext old;

	if (!(VARATT_IS_COMPRESSED(raw) || VARATT_IS_EXTERNAL_ONDISK(raw)) ||
		argno >= ARG_CACHE_SLOTS || fcinfo->flinfo == NULL)
		return DatumGetVector(d);

	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
								   sizeof(ArgCacheSlot) * ARG_CACHE_SLOTS);
	slot = &((ArgCacheSlot *) fcinfo->flinfo->fn_extra)[argno];

	rawlen = VARSIZE_ANY(raw);
	if (slot->raw != NULL && slot->rawlen == rawlen &&
		memcmp(slot->raw, raw, rawlen) == 0)
	{
		slot->hits++;
		return slot->value;
	}
	slot->misses++;
	if (slot->hits == 0 && slot->misses > ARG_CACHE_GIVE_UP)
		return DatumGetVector(d);

	if (slot->raw != NULL)
	{
		pfree(slot->raw);
		pfree(slot->value);
	}
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	slot->raw = palloc(rawlen);
	memcpy(slot->raw, raw, rawlen);
	slot->rawlen = rawlen;
	slot->value = DatumGetVector(d);
	MemoryContextSwitchTo(old);
	return slot->value;
}

/* ---------- distances ---------- */

/* vs_l2_distance returns the Euclidean distance sqrt(sum (a-b)^2). */
VS_FUNCTION(vs_l2_distance);
Datum
vs_l2_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = VsGetArgVector(fcinfo, 0);
	Vector	   *b = VsGetArgVector(fcinfo, 1);

	VsCheckSameDims(a, b);
	PG_RETURN_FLOAT8(sqrt((double) VsL2Squared(a->x, b->x, a->dim)));
}

/* vs_l2_squared_distance returns sum (a-b)^2, which orders like L2. */
VS_FUNCTION(vs_l2_squared_distance);
Datum
vs_l2_squared_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = VsGetArgVector(fcinfo, 0);
	Vector	   *b = VsGetArgVector(fcinfo, 1);

	VsCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) VsL2Squared(a->x, b->x, a->dim));
}

/* vs_inner_product returns sum a*b. */
VS_FUNCTION(vs_inner_product);
Datum
vs_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = VsGetArgVector(fcinfo, 0);
	Vector	   *b = VsGetArgVector(fcinfo, 1);

	VsCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) VsDot(a->x, b->x, a->dim));
}

/*
 * vs_negative_inner_product returns -(a.b), so that ascending order puts the
 * largest inner product first.
 */
VS_FUNCTION(vs_negative_inner_product);
Datum
vs_negative_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = VsGetArgVector(fcinfo, 0);
	Vector	   *b = VsGetArgVector(fcinfo, 1);

	VsCheckSameDims(a, b);
	PG_RETURN_FLOAT8(-(double) VsDot(a->x, b->x, a->dim));
}

/*
 * vs_cosine_distance returns 1 - cos(a, b) in [0, 2]; NaN when either vector
 * is all zeros.
 */
VS_FUNCTION(vs_cosine_distance);
Datum
vs_cosine_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = VsGetArgVector(fcinfo, 0);
	Vector	   *b = VsGetArgVector(fcinfo, 1);

	VsCheckSameDims(a, b);
	PG_RETURN_FLOAT8(VsCosineDistance(a->x, b->x, a->dim));
}

/* vs_l1_distance returns the taxicab distance sum |a-b|. */
VS_FUNCTION(vs_l1_distance);
Datum
vs_l1_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = VsGetArgVector(fcinfo, 0);
	Vector	   *b = VsGetArgVector(fcinfo, 1);

	VsCheckSameDims(a, b);
	PG_RETURN_FLOAT8((double) VsL1(a->x, b->x, a->dim));
}

/* ---------- functions ---------- */

VS_FUNCTION(vs_vector_dims);
Datum
vs_vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(a->dim);
}

/* vs_vector_norm returns the Euclidean norm, accumulated in double. */
VS_FUNCTION(vs_vector_norm);
Datum
vs_vector_norm(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	double		sum = 0.0;

	for (int i = 0; i < a->dim; i++)
		sum += (double) a->x[i] * (double) a->x[i];
	PG_RETURN_FLOAT8(sqrt(sum));
}

bool
VsNormalize(const float *in, float *out, int dim)
{
	double		norm = 0.0;

	for (int i = 0; i < dim; i++)
		norm += (double) in[i] * (double) in[i];
	norm = sqrt(norm);
	if (!(norm > 0.0))
		return false;
	for (int i = 0; i < dim; i++)
		out[i] = (float) ((double) in[i] / norm);
	return true;
}

/*
 * vs_l2_normalize returns a / |a|; a zero vector is returned unchanged
 * (it has no direction to keep).
 */
VS_FUNCTION(vs_l2_normalize);
Datum
vs_l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *result = VsVectorAlloc(a->dim);

	VsNormalize(a->x, result->x, a->dim);
	PG_RETURN_VECTOR_P(result);
}

/*
 * vs_subvector(a, start, count) returns elements start .. start+count-1
 * (1-based) of a, clipped to the vector; an empty selection is an error.
 */
VS_FUNCTION(vs_subvector);
Datum
vs_subvector(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		end = start + (int64) PG_GETARG_INT32(2);	/* exclusive */
	Vector	   *result;

	if (start < 1)
		start = 1;
	if (end > (int64) a->dim + 1)
		end = (int64) a->dim + 1;
	if (end <= start)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension"),
				 errdetail("The range selects no element of a vector with %d dimensions.",
						   a->dim)));
	result = VsVectorAlloc((int) (end - start));
	memcpy(result->x, a->x + (start - 1), sizeof(float) * result->dim);
	PG_RETURN_VECTOR_P(result);
}

/* ---------- arithmetic ---------- */

/* Raises the float4 overflow error if any element of v is infinite. */
static void
CheckOverflow(const Vector *v)
{
	for (int i = 0; i < v->dim; i++)
		if (isinf(v->x[i]))
			float_overflow_error();
}

VS_FUNCTION(vs_vector_add);
Datum
vs_vector_add(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VsCheckSameDims(a, b);
	result = VsVectorAlloc(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] + b->x[i];
	CheckOverflow(result);
	PG_RETURN_VECTOR_P(result);
}

VS_FUNCTION(vs_vector_sub);
Datum
vs_vector_sub(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VsCheckSameDims(a, b);
	result = VsVectorAlloc(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] - b->x[i];
	CheckOverflow(result);
	PG_RETURN_VECTOR_P(result);
}

/*
 * vs_vector_mul multiplies element-wise; a product that overflows or
 * underflows to zero from non-zero factors is an error, as for real.
 */
VS_FUNCTION(vs_vector_mul);
Datum
vs_vector_mul(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VsCheckSameDims(a, b);
	result = VsVectorAlloc(a->dim);
	for (int i = 0; i < a->dim; i++)
	{
		result->x[i] = a->x[i] * b->x[i];
		if (result->x[i] == 0.0f && a->x[i] != 0.0f && b->x[i] != 0.0f)
			float_underflow_error();
	}
	CheckOverflow(result);
	PG_RETURN_VECTOR_P(result);
}

/* vs_vector_concat appends b's elements to a's. */
VS_FUNCTION(vs_vector_concat);
Datum
vs_vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VsCheckDim(a->dim + b->dim);
	result = VsVectorAlloc(a->dim + b->dim);
	memcpy(result->x, a->x, sizeof(float) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(result);
}

/* ---------- comparisons ---------- */

int
VsVectorCompare(const Vector *a, const Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	if (a->dim < b->dim)
		return -1;
	if (a->dim > b->dim)
		return 1;
	return 0;
}

/* Defines one SQL comparison function from VsVectorCompare. */
#define VS_COMPARISON(fn, test) \
VS_FUNCTION(fn); \
Datum \
fn(PG_FUNCTION_ARGS) \
{ \
	Vector	   *a = PG_GETARG_VECTOR_P(0); \
	Vector	   *b = PG_GETARG_VECTOR_P(1); \
	int			c = VsVectorCompare(a, b); \
\
	PG_RETURN_BOOL(test); \
}

VS_COMPARISON(vs_vector_lt, c < 0)
VS_COMPARISON(vs_vector_le, c <= 0)
VS_COMPARISON(vs_vector_eq, c == 0)
VS_COMPARISON(vs_vector_ne, c != 0)
VS_COMPARISON(vs_vector_ge, c >= 0)
VS_COMPARISON(vs_vector_gt, c > 0)

/* vs_vector_cmp is the B-tree support function: -1, 0 or 1. */
VS_FUNCTION(vs_vector_cmp);
Datum
vs_vector_cmp(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	PG_RETURN_INT32(VsVectorCompare(a, b));
}

/* ---------- aggregates ---------- */

/*
 * The avg state is a float8[] {n, sum_1, ..., sum_d}; '{0}' before the
 * first row.  Sums are kept in double so averages of many rows stay exact
 * to float4 precision.
 */

/*
 * StateValues checks an avg state array and returns its element pointer.
 * The state functions are callable from SQL, so a malformed state is a
 * user error: one dimension, no NULL, a count that is a whole number >= 0,
 * finite sums.
 */
static double *
StateValues(ArrayType *state, int *nelems)
{
	double	   *s;

	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != FLOAT8OID || ARR_DIMS(state)[0] < 1 ||
		ARR_DIMS(state)[0] > VECTOR_MAX_DIM + 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid vector aggregate state"),
				 errdetail("The state must be a one-dimensional double precision array without NULLs: {count, sum1, sum2, ...}.")));
	*nelems = ARR_DIMS(state)[0];
	/* cppcheck-suppress invalidPointerCast ; array data of float8, double aligned */
	s = (double *) ARR_DATA_PTR(state);
	if (!(s[0] >= 0.0) || s[0] != floor(s[0]) || isinf(s[0]))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid vector aggregate state"),
				 errdetail("The count must be a whole number of at least 0, not %g.", s[0])));
	for (int i = 1; i < *nelems; i++)
		if (isnan(s[i]) || isinf(s[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("invalid vector aggregate state"),
					 errdetail("The sums must be finite.")));
	return s;
}

/* NewState returns a zeroed state for dim dimensions in CurrentMemoryContext. */
static ArrayType *
NewState(int dim)
{
	Datum	   *zeros = palloc(sizeof(Datum) * (dim + 1));

	for (int i = 0; i <= dim; i++)
		zeros[i] = Float8GetDatum(0.0);
	return construct_array(zeros, dim + 1, FLOAT8OID, sizeof(float8),
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * vs_vector_accum adds one vector to the state.  Inside an aggregate the
 * state is updated in place (it belongs to the aggregate's context);
 * otherwise a new array is returned.
 */
VS_FUNCTION(vs_vector_accum);
Datum
vs_vector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *v = PG_GETARG_VECTOR_P(1);
	int			nelems;
	double	   *s = StateValues(state, &nelems);

	if (nelems == 1)
	{
		double		n = s[0];

		state = NewState(v->dim);
		s = StateValues(state, &nelems);
		s[0] = n;
	}
	else if (nelems - 1 != v->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", nelems - 1, v->dim)));
	else if (!AggCheckCallContext(fcinfo, NULL))
	{
		state = DatumGetArrayTypePCopy(PG_GETARG_DATUM(0));
		s = StateValues(state, &nelems);
	}

	s[0] += 1.0;
	for (int i = 0; i < v->dim; i++)
		s[i + 1] += (double) v->x[i];
	PG_RETURN_ARRAYTYPE_P(state);
}

/* vs_vector_combine merges two partial avg states into a new array. */
VS_FUNCTION(vs_vector_combine);
Datum
vs_vector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *sa = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *sb = PG_GETARG_ARRAYTYPE_P(1);
	int			na,
				nb;
	double	   *a = StateValues(sa, &na);
	double	   *b = StateValues(sb, &nb);
	ArrayType  *result;
	double	   *r;
	int			nr;

	if (na == 1 || nb == 1)
	{
		/* one side has no vectors yet: the other side's sums are the answer */
		result = DatumGetArrayTypePCopy(PointerGetDatum(na == 1 ? sb : sa));
		r = StateValues(result, &nr);
		r[0] = a[0] + b[0];
		PG_RETURN_ARRAYTYPE_P(result);
	}
	if (na != nb)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", na - 1, nb - 1)));
	result = NewState(na - 1);
	r = StateValues(result, &nr);
	for (int i = 0; i < na; i++)
		r[i] = a[i] + b[i];
	PG_RETURN_ARRAYTYPE_P(result);
}

/* vs_vector_avg finishes avg: NULL when no row was aggregated. */
VS_FUNCTION(vs_vector_avg);
Datum
vs_vector_avg(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			nelems;
	double	   *s = StateValues(state, &nelems);
	Vector	   *result;

	if (s[0] == 0.0 || nelems == 1)
		PG_RETURN_NULL();
	result = VsVectorAlloc(nelems - 1);
	for (int i = 0; i < result->dim; i++)
		result->x[i] = (float) (s[i + 1] / s[0]);
	CheckOverflow(result);
	PG_RETURN_VECTOR_P(result);
}
