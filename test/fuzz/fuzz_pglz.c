/*-------------------------------------------------------------------------
 *
 * fuzz_pglz.c
 *	  libFuzzer harness for the pglz decoder (src/types/vectorparse.c).
 *
 * Design: the first two bytes of the input give the decoded length the
 * stream claims (what a compressed varlena's header says, up to 65,535
 * bytes), the rest is the stream.  The decoder runs on an exact-size copy
 * into a buffer of exactly that length plus VS_PGLZ_SLACK, under
 * AddressSanitizer and UBSan: any read or write out of bounds, from a
 * corrupt stream or a lying length, is a crash.  Run by scripts/fuzz.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_pglz.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "types/vectorparse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		dstlen;
	unsigned char *src;
	unsigned char *dst;

	if (size < 2)
		return 0;
	dstlen = (size_t) data[0] << 8 | data[1];
	/* exact sizes, so ASan sees any access past either buffer */
	src = malloc(size - 2 ? size - 2 : 1);
	dst = malloc(dstlen + VS_PGLZ_SLACK);
	if (src == NULL || dst == NULL)
		abort();
	memcpy(src, data + 2, size - 2);
	(void) VsPglzDecode(src, size - 2, dst, dstlen);
	free(src);
	free(dst);
	return 0;
}
