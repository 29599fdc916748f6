/*-------------------------------------------------------------------------
 *
 * distance.h
 *	  Public API of the distance room: float4 distance kernels chosen once
 *	  at load time from the CPU, callable through one indirection.
 *
 * Design: every caller (type functions, index AMs) goes through the active
 * kernel table, so a new instruction set is one new table and no caller
 * changes.  The scalar kernels are the reference: they add in index order
 * and are what the SIMD kernels are tested against.
 *
 * IDENTIFICATION
 *	  src/distance/distance.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_DISTANCE_H
#define VSEARCH_DISTANCE_H

/*
 * One set of kernels.  Every function takes two arrays of n > 0 floats and
 * accumulates in float; none allocates or errors.  Results may be +Inf when
 * the sums overflow float range.
 */
typedef struct VsKernelTable
{
	const char *name;			/* "scalar", "avx2", "avx512" */
	float		(*l2sq) (const float *a, const float *b, int n);	/* sum (a-b)^2 */
	float		(*dot) (const float *a, const float *b, int n);	/* sum a*b */
	float		(*l1) (const float *a, const float *b, int n);	/* sum |a-b| */
	/* dot product and both squared norms in one pass */
	void		(*cosine_parts) (const float *a, const float *b, int n,
								 float *dot, float *aa, float *bb);

	/*
	 * One vector against count > 0 vectors stored one after another (n
	 * floats each): out[j] = l2sq(a, ys + j * n, n), or dot.  Results equal
	 * the one-pair kernels' bit for bit (same additions in the same order);
	 * the SIMD versions load a once for several of ys.
	 */
	void		(*l2sq_many) (const float *a, const float *ys, int n, int count,
							  float *out);
	void		(*dot_many) (const float *a, const float *ys, int n, int count,
							 float *out);
} VsKernelTable;

/* The active kernel table; never NULL once VsDistanceInit has run. */
extern const VsKernelTable *vs_kernel;

/* Registers the vsearch.kernel GUC and selects the best kernel for the CPU. */
extern void VsDistanceInit(void);

static inline float
VsL2Squared(const float *a, const float *b, int n)
{
	return vs_kernel->l2sq(a, b, n);
}

static inline float
VsDot(const float *a, const float *b, int n)
{
	return vs_kernel->dot(a, b, n);
}

/* out[j] = VsL2Squared(a, ys + j * n, n) for j < count */
static inline void
VsL2SquaredMany(const float *a, const float *ys, int n, int count, float *out)
{
	vs_kernel->l2sq_many(a, ys, n, count, out);
}

/* out[j] = VsDot(a, ys + j * n, n) for j < count */
static inline void
VsDotMany(const float *a, const float *ys, int n, int count, float *out)
{
	vs_kernel->dot_many(a, ys, n, count, out);
}

static inline float
VsL1(const float *a, const float *b, int n)
{
	return vs_kernel->l1(a, b, n);
}

/*
 * Cosine distance 1 - a.b / (|a| |b|), with the quotient computed in double
 * and clamped to [-1, 1].  NaN when either vector has norm zero.
 */
extern double VsCosineDistance(const float *a, const float *b, int n);

#endif							/* VSEARCH_DISTANCE_H */
