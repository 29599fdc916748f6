/*-------------------------------------------------------------------------
 *
 * fuzz_vector_binary.c
 *	  libFuzzer harness for the vector binary form (src/types/vectorparse.c).
 *
 * Design: the input is a whole binary value as a client sends it; the
 * harness checks the header and, when it is accepted, decodes the floats,
 * under AddressSanitizer and UBSan.  Invariants: an accepted value has
 * 1..16000 dimensions and exactly 4 + 4 * dim bytes; no read past the
 * input.  Run by scripts/fuzz.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_vector_binary.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "types/vectorparse.h"

#define MAX_DIM 16000

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so ASan sees any read past the value */
	unsigned char *copy = malloc(size ? size : 1);
	VsBinaryHeader h;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	VsParseVectorBinaryHeader(copy, (long) size, MAX_DIM, &h);
	if (h.status == VS_BINARY_OK)
	{
		float	   *out;

		if (h.dim < 1 || h.dim > MAX_DIM || (long) size != 4L + 4L * h.dim)
			abort();
		out = malloc(sizeof(float) * (size_t) h.dim);
		if (out == NULL)
			abort();
		VsDecodeFloats(copy + 4, h.dim, out);
		free(out);
	}
	else if (h.status == VS_BINARY_SHORT_HEADER && size >= 4)
		abort();
	free(copy);
	return 0;
}
