/*-------------------------------------------------------------------------
 *
 * distance_avx2.c
 *	  Distance kernels for CPUs with AVX2 and FMA.
 *
 * Design: two independent 8-lane accumulators hide the FMA latency; the
 * tail of fewer than 8 elements is finished in scalar code.  This file is
 * the only one compiled with -mavx2 -mfma, and its table is used only after
 * the CPU was seen to support both.
 *
 * IDENTIFICATION
 *	  src/distance/distance_avx2.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "distance/distance_impl.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* Horizontal sum of the 8 lanes of v. */
static inline float
HorizontalSum256(__m256 v)
{
	__m128		lo = _mm256_castps256_ps128(v);
	__m128		hi = _mm256_extractf128_ps(v, 1);

	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
	return _mm_cvtss_f32(lo);
}

static float
Avx2L2Squared(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	float		sum;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	if (i + 8 <= n)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		i += 8;
	}
	sum = HorizontalSum256(_mm256_add_ps(s0, s1));
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		sum += d * d;
	}
	return sum;
}

static float
Avx2Dot(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	float		sum;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
	}
	if (i + 8 <= n)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		i += 8;
	}
	sum = HorizontalSum256(_mm256_add_ps(s0, s1));
	for (; i < n; i++)
		sum += a[i] * b[i];
	return sum;
}

static float
Avx2L1(const float *a, const float *b, int n)
{
	const __m256 signmask = _mm256_set1_ps(-0.0f);
	__m256		s0 = _mm256_setzero_ps();
	__m256		s1 = _mm256_setzero_ps();
	float		sum;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(signmask, d0));
		s1 = _mm256_add_ps(s1, _mm256_andnot_ps(signmask, d1));
	}
	if (i + 8 <= n)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		s0 = _mm256_add_ps(s0, _mm256_andnot_ps(signmask, d0));
		i += 8;
	}
	sum = HorizontalSum256(_mm256_add_ps(s0, s1));
	for (; i < n; i++)
		sum += fabsf(a[i] - b[i]);
	return sum;
}

static void
Avx2CosineParts(const float *a, const float *b, int n,
				float *dot, float *aa, float *bb)
{
	__m256		sd = _mm256_setzero_ps();
	__m256		sa = _mm256_setzero_ps();
	__m256		sb = _mm256_setzero_ps();
	float		d,
				x,
				y;
	int			i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256		va = _mm256_loadu_ps(a + i);
		__m256		vb = _mm256_loadu_ps(b + i);

		sd = _mm256_fmadd_ps(va, vb, sd);
		sa = _mm256_fmadd_ps(va, va, sa);
		sb = _mm256_fmadd_ps(vb, vb, sb);
	}
	d = HorizontalSum256(sd);
	x = HorizontalSum256(sa);
	y = HorizontalSum256(sb);
	for (; i < n; i++)
	{
		d += a[i] * b[i];
		x += a[i] * a[i];
		y += b[i] * b[i];
	}
	*dot = d;
	*aa = x;
	*bb = y;
}

/*
 * The "many" kernels take four of ys at a time: a's chunks are loaded once
 * for the four, and each of the four gets exactly the one-pair kernel's
 * accumulators, additions and tail, so its result is the same bit for bit.
 * A remainder of fewer than four goes through the one-pair kernel.  One
 * body serves both: l2 is a constant in each caller, so the compiler emits
 * two specialised loops.
 */
#define MANY 4

/* one step of a one-pair kernel: squared difference (l2) or product */
static pg_attribute_always_inline __m256
Avx2Term(bool l2, __m256 a, __m256 b, __m256 s)
{
	if (l2)
	{
		__m256		d = _mm256_sub_ps(a, b);

		return _mm256_fmadd_ps(d, d, s);
	}
	return _mm256_fmadd_ps(a, b, s);
}

static pg_attribute_always_inline void
Avx2Many(bool l2, const float *a, const float *ys, int n, int count, float *out)
{
	int			j = 0;

	for (; j + MANY <= count; j += MANY)
	{
		const float *b[MANY];
		__m256		s0[MANY];
		__m256		s1[MANY];
		int			i = 0;

		for (int k = 0; k < MANY; k++)
		{
			b[k] = ys + (size_t) (j + k) * n;
			s0[k] = _mm256_setzero_ps();
			s1[k] = _mm256_setzero_ps();
		}
		for (; i + 16 <= n; i += 16)
		{
			__m256		a0 = _mm256_loadu_ps(a + i);
			__m256		a1 = _mm256_loadu_ps(a + i + 8);

			for (int k = 0; k < MANY; k++)
			{
				s0[k] = Avx2Term(l2, a0, _mm256_loadu_ps(b[k] + i), s0[k]);
				s1[k] = Avx2Term(l2, a1, _mm256_loadu_ps(b[k] + i + 8), s1[k]);
			}
		}
		if (i + 8 <= n)
		{
			__m256		a0 = _mm256_loadu_ps(a + i);

			for (int k = 0; k < MANY; k++)
				s0[k] = Avx2Term(l2, a0, _mm256_loadu_ps(b[k] + i), s0[k]);
			i += 8;
		}
		for (int k = 0; k < MANY; k++)
		{
			float		sum = HorizontalSum256(_mm256_add_ps(s0[k], s1[k]));

			for (int t = i; t < n; t++)
			{
				float		d = a[t] - b[k][t];

				sum += l2 ? d * d : a[t] * b[k][t];
			}
			out[j + k] = sum;
		}
	}
	for (; j < count; j++)
		out[j] = l2 ? Avx2L2Squared(a, ys + (size_t) j * n, n) :
			Avx2Dot(a, ys + (size_t) j * n, n);
}

static void
Avx2L2SquaredMany(const float *a, const float *ys, int n, int count, float *out)
{
	Avx2Many(true, a, ys, n, count, out);
}

static void
Avx2DotMany(const float *a, const float *ys, int n, int count, float *out)
{
	Avx2Many(false, a, ys, n, count, out);
}

const VsKernelTable vs_kernel_avx2 = {
	"avx2", Avx2L2Squared, Avx2Dot, Avx2L1, Avx2CosineParts,
	Avx2L2SquaredMany, Avx2DotMany
};

#else

/*
 * Built without AVX2 support (another architecture or compiler): the table
 * exists so the dispatcher links, but DetectKernels never selects it.
 */
const VsKernelTable vs_kernel_avx2 = {"avx2", NULL, NULL, NULL, NULL, NULL, NULL};

#endif
