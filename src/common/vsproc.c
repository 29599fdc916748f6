/*-------------------------------------------------------------------------
 *
 * vsproc.c
 *	  Recognising vsearch's own SQL functions by their C symbol.
 *
 * Design: reads pg_proc through the syscache: prolang must be C and probin
 * the vsearch library; prosrc is then the symbol.
 *
 * IDENTIFICATION
 *	  src/common/vsproc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "common/vsproc.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

char *
VsProcSymbol(Oid proc)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(proc));
	char	   *symbol = NULL;

	if (!HeapTupleIsValid(tup))
		return NULL;
	if (((Form_pg_proc) GETSTRUCT(tup))->prolang == ClanguageId)
	{
		bool		srcnull,
					binnull;
		Datum		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &srcnull);
		Datum		bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin, &binnull);

		if (!srcnull && !binnull)
		{
			char	   *library = TextDatumGetCString(bin);
			const char *base = strrchr(library, '/');

			/* the library file itself: ".../vsearch" or ".../vsearch.so" */
			base = base ? base + 1 : library;
			if (strcmp(base, "vsearch") == 0 || strcmp(base, "vsearch" DLSUFFIX) == 0)
				symbol = TextDatumGetCString(src);
			pfree(library);
		}
	}
	ReleaseSysCache(tup);
	return symbol;
}
