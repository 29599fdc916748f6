/*-------------------------------------------------------------------------
 *
 * vectorlz.c
 *	  Detoasting vectors, with a faster decoder for inline pglz data.
 *
 * Design: a vector whose row passed ~2 KB is compressed in place by
 * PostgreSQL when it compresses at all (STORAGE main, README.md of this
 * room); data with many repeated bytes, such as integer pixels, does.  An
 * exact ranking then decompresses every row it reads, and PostgreSQL's
 * decoder copies each back-reference with a memcpy call of a few bytes
 * (fashion-mnist, top 10 of 600 matching rows: pglz_decompress and memmove
 * were 47% of the query).  VsDetoastVector decodes inline pglz values
 * itself, copying back-references eight bytes at a time into a buffer with
 * slack at the end; every other form (plain, lz4, out of line) goes to
 * PostgreSQL's detoaster.  The decoder checks every length and offset, so
 * corrupt data raises an error and never reads or writes out of bounds;
 * it is plain C, in vectorparse.c, so test/fuzz runs it on any input.
 *
 * The pglz stream, as PostgreSQL writes it: a control byte, then eight
 * items, one per control bit from the lowest: a clear bit is one literal
 * byte; a set bit is a back-reference of two bytes, length (low nibble
 * of the first) + 3 and offset (high nibble of the first, then the second
 * byte: 12 bits), and a third byte adding to the length when the nibble
 * is 15.  A back-reference copies `length` bytes of the output from
 * `offset` bytes back; it may overlap what it writes (offset < length: a
 * repeated pattern).
 *
 * IDENTIFICATION
 *	  src/types/vectorlz.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/toast_compression.h"
#include "fmgr.h"
#include "types/vector.h"
#include "types/vectorparse.h"

/*
 * VsDetoastVector returns the vector datum d detoasted: d itself when it
 * is neither compressed nor out of line, else a palloc'd copy.  Inline
 * pglz-compressed values are decoded here (see the file comment); corrupt
 * ones raise ERRCODE_DATA_CORRUPTED.
 */
Vector *
VsDetoastVector(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	Size		rawsize;
	Size		srclen;
	struct varlena *result;

	if (!VARATT_IS_COMPRESSED(v) ||
		VARDATA_COMPRESSED_GET_COMPRESS_METHOD(v) != TOAST_PGLZ_COMPRESSION_ID)
		return (Vector *) PG_DETOAST_DATUM(d);

	rawsize = VARDATA_COMPRESSED_GET_EXTSIZE(v);
	srclen = VARSIZE(v) - VARHDRSZ_COMPRESSED;
	result = (struct varlena *) palloc(rawsize + VARHDRSZ + VS_PGLZ_SLACK);
	if (!VsPglzDecode((const unsigned char *) v + VARHDRSZ_COMPRESSED, srclen,
					  (unsigned char *) VARDATA(result), rawsize))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg_internal("compressed pglz data is corrupt")));
	SET_VARSIZE(result, rawsize + VARHDRSZ);
	return (Vector *) result;
}
