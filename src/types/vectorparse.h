/*-------------------------------------------------------------------------
 *
 * vectorparse.h
 *	  The text and binary forms of a vector, parsed without any PostgreSQL
 *	  dependency, and the decoder of pglz-compressed values.
 *
 * Design: the parsers are plain C (libc only), so the same code runs inside
 * vector_in / vector_recv and in libFuzzer harnesses (test/fuzz); the SQL
 * functions turn their results into the user-facing errors.  Private to the types room and the
 * fuzz harness.
 *
 * IDENTIFICATION
 *	  src/types/vectorparse.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VECTORPARSE_H
#define VSEARCH_VECTORPARSE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum VsParseStatus
{
	VS_PARSE_OK,
	VS_PARSE_SYNTAX,			/* detail says why */
	VS_PARSE_EMPTY,				/* "[]" */
	VS_PARSE_TOO_MANY,			/* more than max elements */
	VS_PARSE_NAN,
	VS_PARSE_INFINITE,
	VS_PARSE_OUT_OF_RANGE		/* token/toklen name the element */
} VsParseStatus;

typedef struct VsParseResult
{
	VsParseStatus status;
	int			dim;			/* elements stored in *values */
	const char *detail;			/* VS_PARSE_SYNTAX: a full sentence */
	const char *token;			/* VS_PARSE_OUT_OF_RANGE: the element text */
	int			toklen;
} VsParseResult;

/*
 * Grows the element buffer: returns a buffer of at least newcap floats
 * holding the old contents (like realloc); arg is passed through.
 */
typedef float *(*VsParseGrow) (float *old, int newcap, void *arg);

/*
 * VsParseVectorText parses '[x1, x2, ...]' (white space around every token;
 * elements as strtof reads them) into *values, growing it with grow, and
 * stops at the first problem.  At most max elements are accepted.  str is
 * only read.
 */
extern void VsParseVectorText(const char *str, int max, float **values, int capacity,
							  VsParseGrow grow, void *arg, VsParseResult *result);

/* The binary form: int16 dim, int16 reserved (0), dim big-endian float4s. */
typedef enum VsBinaryStatus
{
	VS_BINARY_OK,
	VS_BINARY_SHORT_HEADER,		/* fewer than 4 bytes */
	VS_BINARY_BAD_DIM,			/* dim < 1 or > max */
	VS_BINARY_RESERVED,			/* reserved field not 0 */
	VS_BINARY_LENGTH			/* payload is not 4 * dim bytes */
} VsBinaryStatus;

typedef struct VsBinaryHeader
{
	VsBinaryStatus status;
	int			dim;
	int			reserved;
	long		payload;		/* bytes after the header */
} VsBinaryHeader;

/*
 * VsParseVectorBinaryHeader checks the header and length of a binary value
 * of len bytes, in the order the errors are reported; reads nothing past
 * len.
 */
extern void VsParseVectorBinaryHeader(const unsigned char *data, long len, int max,
									  VsBinaryHeader *header);

/* VsDecodeFloats decodes dim big-endian float4s from data into out. */
extern void VsDecodeFloats(const unsigned char *data, int dim, float *out);

/* Bytes past the decoded value that VsPglzDecode may overwrite. */
#define VS_PGLZ_SLACK 16

/*
 * VsPglzDecode decodes the pglz stream src[0 .. srclen) (the data of an
 * inline compressed varlena, after its header) into dst, which must hold
 * dstlen bytes followed by VS_PGLZ_SLACK writable bytes.  Returns false,
 * having read and written nothing out of those bounds, if the stream is
 * corrupt or does not decode to exactly dstlen bytes.
 */
extern bool VsPglzDecode(const unsigned char *src, size_t srclen, unsigned char *dst,
						 size_t dstlen);

#endif							/* VSEARCH_VECTORPARSE_H */
