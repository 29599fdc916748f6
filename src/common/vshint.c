/*-------------------------------------------------------------------------
 *
 * vshint.c
 *	  Storage for the search-depth hint (see vshint.h).
 *
 * Design: one backend-local integer; a scan reads it synchronously inside
 * index_rescan, so no other state is needed.
 *
 * IDENTIFICATION
 *	  src/common/vshint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/vshint.h"

int			VsScanRowsHint = 0;
