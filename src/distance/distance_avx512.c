/*-------------------------------------------------------------------------
 *
 * distance_avx512.c
 *	  Distance kernels for CPUs with AVX-512 (F, BW, VL, DQ).
 *
 * Design: two independent 16-lane accumulators, and a masked load for the
 * tail so no element is handled in scalar code.  This file is the only one
 * compiled with -mavx512*, and its table is used only after the CPU was
 * seen to support those extensions.
 *
 * IDENTIFICATION
 *	  src/distance/distance_avx512.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "distance/distance_impl.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

/* Mask selecting the first r (0 < r < 16) lanes. */
static inline __mmask16
TailMask(int r)
{
	return (__mmask16) ((1u << r) - 1);
}

static float
Avx512L2Squared(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
	}
	for (; i + 16 <= n; i += 16)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
	}
	if (i < n)
	{
		__mmask16	m = TailMask(n - i);
		__m512		d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
									   _mm512_maskz_loadu_ps(m, b + i));

		s1 = _mm512_fmadd_ps(d0, d0, s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static float
Avx512Dot(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
	if (i < n)
	{
		__mmask16	m = TailMask(n - i);

		s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i),
							 _mm512_maskz_loadu_ps(m, b + i), s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static float
Avx512L1(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(d0));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(d1));
	}
	for (; i + 16 <= n; i += 16)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(d0));
	}
	if (i < n)
	{
		__mmask16	m = TailMask(n - i);
		__m512		d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
									   _mm512_maskz_loadu_ps(m, b + i));

		s1 = _mm512_add_ps(s1, _mm512_abs_ps(d0));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static void
Avx512CosineParts(const float *a, const float *b, int n,
				  float *dot, float *aa, float *bb)
{
	__m512		sd = _mm512_setzero_ps();
	__m512		sa = _mm512_setzero_ps();
	__m512		sb = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m512		va = _mm512_loadu_ps(a + i);
		__m512		vb = _mm512_loadu_ps(b + i);

		sd = _mm512_fmadd_ps(va, vb, sd);
		sa = _mm512_fmadd_ps(va, va, sa);
		sb = _mm512_fmadd_ps(vb, vb, sb);
	}
	if (i < n)
	{
		__mmask16	m = TailMask(n - i);
		__m512		va = _mm512_maskz_loadu_ps(m, a + i);
		__m512		vb = _mm512_maskz_loadu_ps(m, b + i);

		sd = _mm512_fmadd_ps(va, vb, sd);
		sa = _mm512_fmadd_ps(va, va, sa);
		sb = _mm512_fmadd_ps(vb, vb, sb);
	}
	*dot = _mm512_reduce_add_ps(sd);
	*aa = _mm512_reduce_add_ps(sa);
	*bb = _mm512_reduce_add_ps(sb);
}

/*
 * The "many" kernels take four of ys at a time: a's chunks are loaded once
 * for the four, and each of the four gets exactly the one-pair kernel's
 * accumulators, additions and masked tail, so its result is the same bit
 * for bit.  A remainder of fewer than four goes through the one-pair
 * kernel.  One body serves both: l2 is a constant in each caller, so the
 * compiler emits two specialised loops.
 */
#define MANY 4

/* one step of a one-pair kernel: squared difference (l2) or product */
static pg_attribute_always_inline __m512
Avx512Term(bool l2, __m512 a, __m512 b, __m512 s)
{
	if (l2)
	{
		__m512		d = _mm512_sub_ps(a, b);

		return _mm512_fmadd_ps(d, d, s);
	}
	return _mm512_fmadd_ps(a, b, s);
}

static pg_attribute_always_inline void
Avx512Many(bool l2, const float *a, const float *ys, int n, int count, float *out)
{
	int			j = 0;

	for (; j + MANY <= count; j += MANY)
	{
		const float *b[MANY];
		__m512		s0[MANY];
		__m512		s1[MANY];
		int			i = 0;

		for (int k = 0; k < MANY; k++)
		{
			b[k] = ys + (size_t) (j + k) * n;
			s0[k] = _mm512_setzero_ps();
			s1[k] = _mm512_setzero_ps();
		}
		for (; i + 32 <= n; i += 32)
		{
			__m512		a0 = _mm512_loadu_ps(a + i);
			__m512		a1 = _mm512_loadu_ps(a + i + 16);

			for (int k = 0; k < MANY; k++)
			{
				s0[k] = Avx512Term(l2, a0, _mm512_loadu_ps(b[k] + i), s0[k]);
				s1[k] = Avx512Term(l2, a1, _mm512_loadu_ps(b[k] + i + 16), s1[k]);
			}
		}
		for (; i + 16 <= n; i += 16)
		{
			__m512		a0 = _mm512_loadu_ps(a + i);

			for (int k = 0; k < MANY; k++)
				s0[k] = Avx512Term(l2, a0, _mm512_loadu_ps(b[k] + i), s0[k]);
		}
		if (i < n)
		{
			__mmask16	m = TailMask(n - i);
			__m512		a0 = _mm512_maskz_loadu_ps(m, a + i);

			for (int k = 0; k < MANY; k++)
				s1[k] = Avx512Term(l2, a0, _mm512_maskz_loadu_ps(m, b[k] + i), s1[k]);
		}
		for (int k = 0; k < MANY; k++)
			out[j + k] = _mm512_reduce_add_ps(_mm512_add_ps(s0[k], s1[k]));
	}
	for (; j < count; j++)
		out[j] = l2 ? Avx512L2Squared(a, ys + (size_t) j * n, n) :
			Avx512Dot(a, ys + (size_t) j * n, n);
}

static void
Avx512L2SquaredMany(const float *a, const float *ys, int n, int count, float *out)
{
	Avx512Many(true, a, ys, n, count, out);
}

static void
Avx512DotMany(const float *a, const float *ys, int n, int count, float *out)
{
	Avx512Many(false, a, ys, n, count, out);
}

const VsKernelTable vs_kernel_avx512 = {
	"avx512", Avx512L2Squared, Avx512Dot, Avx512L1, Avx512CosineParts,
	Avx512L2SquaredMany, Avx512DotMany
};

#else

/*
 * Built without AVX-512 support: the table exists so the dispatcher links,
 * but DetectKernels never selects it.
 */
const VsKernelTable vs_kernel_avx512 = {"avx512", NULL, NULL, NULL, NULL, NULL, NULL};

#endif
