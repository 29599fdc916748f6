/*-------------------------------------------------------------------------
 *
 * fuzz_vector_text.c
 *	  libFuzzer harness for the vector text parser (src/types/vectorparse.c).
 *
 * Design: the parser is plain C, so the harness links it alone, built with
 * AddressSanitizer and UBSan; any crash, sanitizer report or broken
 * invariant aborts: a parsed vector has 1..16000 finite elements, an
 * out-of-range token lies inside the input, and the input is never
 * modified.  Run by scripts/fuzz.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_vector_text.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "types/vectorparse.h"

#define MAX_DIM 16000

static float *
Grow(float *old, int newcap, void *arg)
{
	float	   *p = realloc(old, sizeof(float) * (size_t) newcap);

	if (p == NULL)
		abort();
	return p;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *str = malloc(size + 1);
	char	   *copy = malloc(size + 1);
	float	   *values = malloc(sizeof(float) * 16);
	VsParseResult res;

	if (str == NULL || copy == NULL || values == NULL)
		abort();
	memcpy(str, data, size);
	str[size] = '\0';
	memcpy(copy, str, size + 1);

	VsParseVectorText(str, MAX_DIM, &values, 16, Grow, NULL, &res);

	if (res.status == VS_PARSE_OK)
	{
		if (res.dim < 1 || res.dim > MAX_DIM)
			abort();
		for (int i = 0; i < res.dim; i++)
			if (!isfinite(values[i]))
				abort();
	}
	if (res.status == VS_PARSE_SYNTAX && res.detail == NULL)
		abort();
	if (res.status == VS_PARSE_OUT_OF_RANGE &&
		(res.token < str || res.toklen < 1 || res.token + res.toklen > str + size))
		abort();
	if (memcmp(str, copy, size + 1) != 0)
		abort();

	free(str);
	free(copy);
	free(values);
	return 0;
}
