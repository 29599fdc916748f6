/*-------------------------------------------------------------------------
 *
 * vectorparse.h
 *	  The text form of a vector, parsed without any PostgreSQL dependency.
 *
 * Design: the parser is plain C (libc only), so the same code runs inside
 * vector_in and in a libFuzzer harness (test/fuzz); vector_in turns its
 * result into the user-facing errors.  Private to the types room and the
 * fuzz harness.
 *
 * IDENTIFICATION
 *	  src/types/vectorparse.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VECTORPARSE_H
#define VSEARCH_VECTORPARSE_H

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

#endif							/* VSEARCH_VECTORPARSE_H */
