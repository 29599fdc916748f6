/*-------------------------------------------------------------------------
 *
 * vector.h
 *	  Public API of the types room: the vector datum and its helpers.
 *
 * Design: the datum layout is pgvector's (varlena header, int16 dim, int16
 * reserved zero, float4 elements), so the binary wire format and the on-disk
 * value are the same for both extensions and a dump moves between them.
 *
 * IDENTIFICATION
 *	  src/types/vector.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VECTOR_H
#define VSEARCH_VECTOR_H

#include "fmgr.h"

/* Largest number of dimensions a vector may have. */
#define VECTOR_MAX_DIM 16000

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of elements, 1..VECTOR_MAX_DIM */
	int16		unused;			/* reserved, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

#define VECTOR_SIZE(dim)		(offsetof(Vector, x) + sizeof(float) * (Size) (dim))
#define DatumGetVector(d)		VsDetoastVector(d)
#define PG_GETARG_VECTOR_P(n)	DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(v)	PG_RETURN_POINTER(v)

/*
 * Returns vector datum d detoasted: d itself when stored plain, else a
 * palloc'd copy.  Decodes inline pglz-compressed values itself, faster
 * than PostgreSQL's decoder (vectorlz.c).
 */
extern Vector *VsDetoastVector(Datum d);

/*
 * Returns argument argno of a vector function, detoasted.  When the same
 * compressed or out-of-line value arrives call after call (the query vector
 * of a scan), the detoasted copy is kept in fn_extra and reused.
 */
extern Vector *VsGetArgVector(FunctionCallInfo fcinfo, int argno);

/* Allocates a zeroed vector of dim elements in CurrentMemoryContext. */
extern Vector *VsVectorAlloc(int dim);

/* Raises the standard errors if dim is not a valid vector dimension. */
extern void VsCheckDim(int dim);

/* Raises "expected %d dimensions, not %d" unless typmod is -1 or dim. */
extern void VsCheckTypmod(int dim, int32 typmod);

/* Raises the standard error for a NaN or infinite element. */
extern void VsCheckElement(float value);

/* Raises "different vector dimensions" unless a and b agree. */
extern void VsCheckSameDims(const Vector *a, const Vector *b);

/*
 * Writes in / |in| to out (which may be in), with the norm accumulated in
 * double; returns false, leaving out untouched, for a zero vector.
 */
extern bool VsNormalize(const float *in, float *out, int dim);

/* Three-way comparison: element by element, then by dimension count. */
extern int	VsVectorCompare(const Vector *a, const Vector *b);

#endif							/* VSEARCH_VECTOR_H */
