/*-------------------------------------------------------------------------
 *
 * distance.c
 *	  Scalar reference kernels, the kernel dispatcher and the vsearch.kernel
 *	  setting.
 *
 * Design: the kernel is chosen once, when the library loads, by asking the
 * CPU (cpuid and the OS-enabled state) what it can run; afterwards each
 * distance costs one indirect call.  The setting vsearch.kernel lets a user
 * or a test pin a kernel the CPU supports, e.g. to compare against the
 * scalar reference.
 *
 * IDENTIFICATION
 *	  src/distance/distance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "common/vsfmgr.h"
#include "distance/distance_impl.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"

/* The active kernels; set by the vsearch.kernel assign hook. */
const VsKernelTable *vs_kernel = &vs_kernel_scalar;

typedef enum VsKernelChoice
{
	VS_KERNEL_AUTO,
	VS_KERNEL_SCALAR,
	VS_KERNEL_AVX2,
	VS_KERNEL_AVX512
} VsKernelChoice;

static const struct config_enum_entry kernel_options[] = {
	{"auto", VS_KERNEL_AUTO, false},
	{"scalar", VS_KERNEL_SCALAR, false},
	{"avx2", VS_KERNEL_AVX2, false},
	{"avx512", VS_KERNEL_AVX512, false},
	{NULL, 0, false}
};

static int	kernel_choice = VS_KERNEL_AUTO;

/* Filled by DetectKernels: the kernels this CPU runs, best last. */
static const char *available_names[3];
static const VsKernelTable *available_tables[3];
static int	available_count = 0;

/* ---------- scalar reference ---------- */

/*
 * Each reference kernel adds in index order with one float accumulator; it
 * defines the expected result the SIMD kernels are compared with.
 */
static float
ScalarL2Squared(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
	{
		float		d = a[i] - b[i];

		sum += d * d;
	}
	return sum;
}

static float
ScalarDot(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += a[i] * b[i];
	return sum;
}

static float
ScalarL1(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += fabsf(a[i] - b[i]);
	return sum;
}

static void
ScalarCosineParts(const float *a, const float *b, int n,
				  float *dot, float *aa, float *bb)
{
	float		d = 0.0f,
				x = 0.0f,
				y = 0.0f;

	for (int i = 0; i < n; i++)
	{
		d += a[i] * b[i];
		x += a[i] * a[i];
		y += b[i] * b[i];
	}
	*dot = d;
	*aa = x;
	*bb = y;
}

static void
ScalarL2SquaredMany(const float *a, const float *ys, int n, int count, float *out)
{
	for (int j = 0; j < count; j++)
		out[j] = ScalarL2Squared(a, ys + (size_t) j * n, n);
}

static void
ScalarDotMany(const float *a, const float *ys, int n, int count, float *out)
{
	for (int j = 0; j < count; j++)
		out[j] = ScalarDot(a, ys + (size_t) j * n, n);
}

const VsKernelTable vs_kernel_scalar = {
	"scalar", ScalarL2Squared, ScalarDot, ScalarL1, ScalarCosineParts,
	ScalarL2SquaredMany, ScalarDotMany
};

/* ---------- shared helpers ---------- */

/*
 * VsCosineDistance computes 1 - cos(a, b) with the active kernels.  The
 * quotient is formed in double, clamped to [-1, 1] against rounding, and is
 * NaN when a norm is zero (the direction of a zero vector is undefined).
 * Elements beyond about 1.8e19 make the float4 sums overflow to infinity
 * (and the quotient NaN), though the cosine is well defined: the three
 * sums are then formed again in double, which cannot overflow for float4
 * inputs of at most 16,000 dimensions (3.4e38 squared times 16,000 is
 * about 1.8e81).
 */
double
VsCosineDistance(const float *a, const float *b, int n)
{
	float		dot,
				aa,
				bb;
	double		similarity;

	vs_kernel->cosine_parts(a, b, n, &dot, &aa, &bb);
	if (unlikely(isinf(dot) || isinf(aa) || isinf(bb) || isnan(dot)))
	{
		double		d = 0.0,
					x = 0.0,
					y = 0.0;

		for (int i = 0; i < n; i++)
		{
			d += (double) a[i] * b[i];
			x += (double) a[i] * a[i];
			y += (double) b[i] * b[i];
		}
		similarity = d / sqrt(x * y);
	}
	else
		similarity = (double) dot / sqrt((double) aa * (double) bb);
	if (isnan(similarity))
		return NAN;
	if (similarity > 1.0)
		similarity = 1.0;
	else if (similarity < -1.0)
		similarity = -1.0;
	return 1.0 - similarity;
}

/* ---------- CPU detection and the setting ---------- */

/*
 * DetectKernels lists the kernels the CPU and OS support.  GCC's
 * __builtin_cpu_supports reports AVX and AVX-512 only when the OS saves
 * their registers (XCR0), so a feature it reports is usable.
 */
static void
DetectKernels(void)
{
	available_count = 0;
	available_names[available_count] = "scalar";
	available_tables[available_count++] = &vs_kernel_scalar;
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
	{
		available_names[available_count] = "avx2";
		available_tables[available_count++] = &vs_kernel_avx2;
		if (__builtin_cpu_supports("avx512f") &&
			__builtin_cpu_supports("avx512bw") &&
			__builtin_cpu_supports("avx512vl") &&
			__builtin_cpu_supports("avx512dq"))
		{
			available_names[available_count] = "avx512";
			available_tables[available_count++] = &vs_kernel_avx512;
		}
	}
#endif
}

/* FindKernel returns the table for a choice, or NULL if the CPU lacks it. */
static const VsKernelTable *
FindKernel(int choice)
{
	const char *name;

	if (choice == VS_KERNEL_AUTO)
		return available_tables[available_count - 1];
	name = kernel_options[choice].name;
	for (int i = 0; i < available_count; i++)
		if (strcmp(available_names[i], name) == 0)
			return available_tables[i];
	return NULL;
}

static bool
CheckKernel(int *newval, void **extra, GucSource source)
{
	if (FindKernel(*newval) == NULL)
	{
		GUC_check_errdetail("This CPU cannot run the \"%s\" kernels.",
							kernel_options[*newval].name);
		return false;
	}
	return true;
}

static void
AssignKernel(int newval, void *extra)
{
	vs_kernel = FindKernel(newval);
}

/*
 * vs_kernels returns, one row each, the kernels this CPU can run, best
 * last: the values vsearch.kernel accepts besides "auto".
 */
VS_FUNCTION(vs_kernels);
Datum
vs_kernels(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;

	/* the first call sets up the context; every call, the first too, fetches it */
	if (SRF_IS_FIRSTCALL())
		(void) SRF_FIRSTCALL_INIT();
	funcctx = SRF_PERCALL_SETUP();
	if (funcctx->call_cntr < (uint64) available_count)
	{
		/* SRF_RETURN_NEXT advances call_cntr before using its argument */
		Datum		name = CStringGetTextDatum(available_names[funcctx->call_cntr]);

		SRF_RETURN_NEXT(funcctx, name);
	}
	SRF_RETURN_DONE(funcctx);
}

/*
 * vs_kernels_many_check counts the results of the "many" kernels that
 * differ in any bit from the one-pair kernels' (the contract in
 * distance.h), over every kernel this CPU can run, squared L2 and dot, for
 * one vector against count others of dims dimensions (pseudo-random, the
 * seed fixed by dims and count, magnitudes spread over six decades).  0
 * when they all agree.
 */
VS_FUNCTION(vs_kernels_many_check);
Datum
vs_kernels_many_check(PG_FUNCTION_ARGS)
{
	int32		dims = PG_GETARG_INT32(0);
	int32		count = PG_GETARG_INT32(1);
	pg_prng_state rng;
	float	   *a;
	float	   *ys;
	float	   *out;
	int64		mismatches = 0;

	if (dims < 1 || dims > 16000 || count < 1 || count > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dims must be between 1 and 16000 and count between 1 and 1000")));
	pg_prng_seed(&rng, (uint64) dims * 1000 + count);
	a = palloc(sizeof(float) * dims);
	ys = palloc(sizeof(float) * dims * count);
	out = palloc(sizeof(float) * count);
	for (int i = 0; i < dims; i++)
		a[i] = (float) ((pg_prng_double(&rng) * 2 - 1) * pow(10, i % 7 - 3));
	for (int i = 0; i < dims * count; i++)
		ys[i] = (float) ((pg_prng_double(&rng) * 2 - 1) * pow(10, i % 5 - 2));

	for (int k = 0; k < available_count; k++)
	{
		const VsKernelTable *t = available_tables[k];

		t->l2sq_many(a, ys, dims, count, out);
		for (int j = 0; j < count; j++)
		{
			float		one = t->l2sq(a, ys + (size_t) j * dims, dims);

			mismatches += memcmp(&one, &out[j], sizeof(float)) != 0;
		}
		t->dot_many(a, ys, dims, count, out);
		for (int j = 0; j < count; j++)
		{
			float		one = t->dot(a, ys + (size_t) j * dims, dims);

			mismatches += memcmp(&one, &out[j], sizeof(float)) != 0;
		}
	}
	pfree(a);
	pfree(ys);
	pfree(out);
	PG_RETURN_INT64(mismatches);
}

/*
 * VsDistanceInit must be called once from _PG_init, before any distance is
 * computed.
 */
void
VsDistanceInit(void)
{
	DetectKernels();
	DefineCustomEnumVariable("vsearch.kernel",
							 "Selects the distance kernels.",
							 "\"auto\" picks the fastest kernels this CPU supports.",
							 &kernel_choice,
							 VS_KERNEL_AUTO,
							 kernel_options,
							 PGC_USERSET,
							 0,
							 CheckKernel, AssignKernel, NULL);
}
