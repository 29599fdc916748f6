/*-------------------------------------------------------------------------
 *
 * vectorparse.c
 *	  The text and binary forms of a vector, parsed without any PostgreSQL
 *	  dependency.
 *
 * Design: only libc is used, so the file compiles unchanged into the
 * extension and into the libFuzzer harness; white space is the set
 * PostgreSQL's scanner_isspace accepts, so behaviour matches the rest of
 * the server.
 *
 * IDENTIFICATION
 *	  src/types/vectorparse.c
 *
 *-------------------------------------------------------------------------
 */
#ifndef VS_STANDALONE
#include "postgres.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "types/vectorparse.h"

/* White space as scanner_isspace defines it. */
static inline const char *
SkipSpace(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
		p++;
	return p;
}

/* Sets a syntax error with its detail sentence. */
static void
Syntax(VsParseResult *result, const char *detail)
{
	result->status = VS_PARSE_SYNTAX;
	result->detail = detail;
}

void
VsParseVectorText(const char *str, int max, float **values, int capacity,
				  VsParseGrow grow, void *arg, VsParseResult *result)
{
	const char *p = SkipSpace(str);

	result->status = VS_PARSE_OK;
	result->dim = 0;
	result->detail = NULL;
	result->token = NULL;
	result->toklen = 0;

	if (*p != '[')
	{
		Syntax(result, "Vector contents must start with \"[\".");
		return;
	}
	p = SkipSpace(p + 1);
	if (*p == ']')
	{
		result->status = VS_PARSE_EMPTY;
		return;
	}

	for (;;)
	{
		char	   *end;
		float		value;

		if (result->dim == max)
		{
			result->status = VS_PARSE_TOO_MANY;
			return;
		}
		if (*p == '\0')
		{
			Syntax(result, "Unexpected end of input.");
			return;
		}

		errno = 0;
		value = strtof(p, &end);
		if (end == p)
		{
			Syntax(result, "Each element must be a number.");
			return;
		}
		if (errno == ERANGE && (value == 0.0f || isinf(value)))
		{
			result->status = VS_PARSE_OUT_OF_RANGE;
			result->token = p;
			result->toklen = (int) (end - p);
			return;
		}
		if (isnan(value))
		{
			result->status = VS_PARSE_NAN;
			return;
		}
		if (isinf(value))
		{
			result->status = VS_PARSE_INFINITE;
			return;
		}

		if (result->dim == capacity)
		{
			capacity *= 2;
			*values = grow(*values, capacity, arg);
		}
		(*values)[result->dim++] = value;

		p = SkipSpace(end);
		if (*p == ',')
			p = SkipSpace(p + 1);
		else if (*p == ']')
			break;
		else if (*p == '\0')
		{
			Syntax(result, "Unexpected end of input.");
			return;
		}
		else
		{
			Syntax(result, "Elements must be separated by \",\".");
			return;
		}
	}

	p = SkipSpace(p + 1);
	if (*p != '\0')
		Syntax(result, "Junk after closing right bracket.");
}

/* Reads a big-endian 16-bit signed integer. */
static inline int
ReadInt16(const unsigned char *p)
{
	return (int) (int16_t) (((uint16_t) p[0] << 8) | p[1]);
}

void
VsParseVectorBinaryHeader(const unsigned char *data, long len, int max,
						  VsBinaryHeader *header)
{
	header->status = VS_BINARY_OK;
	header->dim = 0;
	header->reserved = 0;
	header->payload = 0;
	if (len < 4)
	{
		header->status = VS_BINARY_SHORT_HEADER;
		return;
	}
	header->dim = ReadInt16(data);
	header->reserved = ReadInt16(data + 2);
	header->payload = len - 4;
	if (header->dim < 1 || header->dim > max)
		header->status = VS_BINARY_BAD_DIM;
	else if (header->reserved != 0)
		header->status = VS_BINARY_RESERVED;
	else if (header->payload != 4L * header->dim)
		header->status = VS_BINARY_LENGTH;
}

void
VsDecodeFloats(const unsigned char *data, int dim, float *out)
{
	for (int i = 0; i < dim; i++)
	{
		const unsigned char *p = data + 4 * i;
		uint32_t	bits = ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
			((uint32_t) p[2] << 8) | p[3];

		memcpy(&out[i], &bits, sizeof(float));
	}
}
