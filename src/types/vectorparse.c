/*-------------------------------------------------------------------------
 *
 * vectorparse.c
 *	  The text and binary forms of a vector, parsed without any PostgreSQL
 *	  dependency, and the decoder of pglz-compressed values.
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
#include <float.h>
#include <math.h>
#include <stdbool.h>
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

/*
 * The fast path of FastFloat below relies on double arithmetic being done
 * in double (SSE2 on x86-64, any AArch64); elsewhere every element goes
 * through strtof.
 */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define VS_FAST_FLOAT 1
#endif

#ifdef VS_FAST_FLOAT
/* 10^0 .. 10^22: the powers of ten a double holds exactly. */
static const double ExactPow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* The largest m for which m * 10 + 9 still fits 53 bits. */
#define FAST_MANTISSA_LIMIT UINT64_C(900719925474098)
#endif

/*
 * FastFloat converts the usual element, [+-]digits[.digits] with at most
 * 15-16 significant digits and at most 22 after the point, to the float
 * strtof would return, and sets *end as strtof would; it returns false
 * for anything else (exponents, hexadecimal, inf, nan, long mantissas),
 * which the caller hands to strtof.  Why the result is strtof's, bit for
 * bit: m and 10^scale are exact doubles, so m / 10^scale is the correctly
 * rounded double d of the decimal x; every point where rounding to float
 * changes direction (a float, or the midpoint of two) is itself a double,
 * and rounding to double is monotonic, so x and d round to the same float
 * unless d is such a midpoint, which the low 29 bits of d show (they are
 * then exactly 1 followed by 28 zeros; the test leaves a margin of one
 * unit each side) and which goes to strtof.  All such x lie between 1e-22
 * and 9e15, far inside the range of normal floats.  strtof costs about a
 * twentieth of a top-10 HNSW search on 784-d text input.
 */
static inline bool
FastFloat(const char *p, float *value, const char **end)
{
#ifdef VS_FAST_FLOAT
	const char *s = p;
	bool		negative = false;
	uint64_t	m = 0;
	int			digits = 0;
	int			scale = 0;
	double		d;
	uint64_t	bits;
	uint64_t	low;
	float		f;

	if (*s == '+' || *s == '-')
		negative = (*s++ == '-');
	for (; *s >= '0' && *s <= '9'; s++, digits++)
	{
		if (m > FAST_MANTISSA_LIMIT)
			return false;
		m = m * 10 + (uint64_t) (*s - '0');
	}
	if (*s == '.')
	{
		for (s++; *s >= '0' && *s <= '9'; s++, digits++, scale++)
		{
			if (m > FAST_MANTISSA_LIMIT || scale == 22)
				return false;
			m = m * 10 + (uint64_t) (*s - '0');
		}
	}
	/* no digit, or strtof might read on: an exponent, a hexadecimal form */
	if (digits == 0 || *s == 'e' || *s == 'E' || *s == 'x' || *s == 'X')
		return false;
	d = (double) m / ExactPow10[scale];
	memcpy(&bits, &d, sizeof(bits));
	low = bits & ((UINT64_C(1) << 29) - 1);
	if (m != 0 && low >= (UINT64_C(1) << 28) - 1 && low <= (UINT64_C(1) << 28) + 1)
		return false;
	f = (float) d;
	*value = negative ? -f : f;
	*end = s;
	return true;
#else
	return false;
#endif
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
		const char *end;
		char	   *strtof_end;
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

		if (!FastFloat(p, &value, &end))
		{
			errno = 0;
			value = strtof(p, &strtof_end);
			end = strtof_end;
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

/* ---------- pglz, as PostgreSQL stores compressed values ---------- */

/*
 * Copy8 copies eight bytes from src to dst; the ranges may overlap only
 * when dst - src >= 8.
 */
static inline void
Copy8(unsigned char *dst, const unsigned char *src)
{
	uint64_t	w;

	memcpy(&w, src, sizeof(w));
	memcpy(dst, &w, sizeof(w));
}

/*
 * VsPglzDecode is declared in vectorparse.h.  The stream format and why
 * it copies in chunks: src/types/vectorlz.c.
 */
bool
VsPglzDecode(const unsigned char *src, size_t srclen, unsigned char *dst, size_t dstlen)
{
	const unsigned char *sp = src;
	const unsigned char *srcend = src + srclen;
	unsigned char *dp = dst;
	unsigned char *dstend = dst + dstlen;

	while (sp < srcend && dp < dstend)
	{
		unsigned	ctrl = *sp++;

		/* eight literals in a row, with room to copy them at once */
		if (ctrl == 0 && srcend - sp >= 8 && dstend - dp >= 8)
		{
			Copy8(dp, sp);
			dp += 8;
			sp += 8;
			continue;
		}
		for (int bit = 0; bit < 8 && sp < srcend && dp < dstend; bit++, ctrl >>= 1)
		{
			size_t		len;
			size_t		off;

			if ((ctrl & 1) == 0)
			{
				*dp++ = *sp++;
				continue;
			}
			if (srcend - sp < 2)
				return false;
			len = (sp[0] & 0x0f) + 3;
			off = ((size_t) (sp[0] & 0xf0) << 4) | sp[1];
			sp += 2;
			if (len == 18)
			{
				if (sp >= srcend)
					return false;
				len += *sp++;
			}
			if (off == 0 || off > (size_t) (dp - dst))
				return false;
			len = (len < (size_t) (dstend - dp) ? len : (size_t) (dstend - dp));

			if (off >= 8)
			{
				/* chunks may run past len, into output not yet written or the slack */
				for (size_t i = 0; i < len; i += 8)
					Copy8(dp + i, dp + i - off);
			}
			else
			{
				/*
				 * A pattern of off < 8 bytes: copy byte by byte until a whole
				 * multiple of the pattern, at least 8 bytes long, lies
				 * behind, then copy from that far back in chunks.
				 */
				size_t		period = off * ((8 + off - 1) / off);
				size_t		head = (len < period - off) ? len : period - off;
				size_t		i;

				for (i = 0; i < head; i++)
					dp[i] = *(dp + i - off);
				for (; i < len; i += 8)
					Copy8(dp + i, dp + i - period);
			}
			dp += len;
		}
	}
	return dp == dstend && sp == srcend;
}
