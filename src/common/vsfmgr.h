/*-------------------------------------------------------------------------
 *
 * vsfmgr.h
 *	  Declaring SQL-callable functions in a library built with hidden
 *	  symbol visibility.
 *
 * Design: vsearch is compiled with -fvisibility=hidden and PGDLLEXPORT set
 * to default visibility, so only the entry points PostgreSQL looks up
 * (magic block, _PG_init, pg_finfo_* and the V1 functions) are exported.
 * PostgreSQL loads libraries with RTLD_GLOBAL; without this, a function of
 * another extension with the same name (pgvector's vector_in, say) could
 * bind in place of ours when both are loaded into one backend.
 *
 * IDENTIFICATION
 *	  src/common/vsfmgr.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSFMGR_H
#define VSEARCH_VSFMGR_H

#include "fmgr.h"

/* Declares and registers a version-1 SQL-callable function. */
#define VS_FUNCTION(fn) \
	extern PGDLLEXPORT Datum fn(PG_FUNCTION_ARGS); \
	PG_FUNCTION_INFO_V1(fn)

#endif							/* VSEARCH_VSFMGR_H */
