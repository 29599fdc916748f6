/*-------------------------------------------------------------------------
 *
 * ivfhandler.c
 *	  The vsearch_ivf access method handler, its reloptions and settings.
 *
 * Design: the index supports exactly one thing, ordering by a distance
 * operator (amcanorderbyop), with no search operators and no bitmap scans:
 * a k-NN query either runs as an ordered index scan or not at all.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfhandler.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "commands/vacuum.h"
#include "common/vsfmgr.h"
#include "ivf/ivf.h"
#include "utils/guc.h"

int			ivf_probes = IVF_DEFAULT_PROBES;

static relopt_kind ivf_relopt_kind;

/*
 * VsIvfInit registers the reloption kind with its "lists" option and the
 * GUC vsearch.probes.  Called once per backend from _PG_init.
 */
void
VsIvfInit(void)
{
	ivf_relopt_kind = add_reloption_kind();
	add_int_reloption(ivf_relopt_kind, "lists",
					  "Number of inverted lists (0 chooses from the row count)",
					  IVF_DEFAULT_LISTS, IVF_MIN_LISTS, IVF_MAX_LISTS,
					  AccessExclusiveLock);

	DefineCustomIntVariable("vsearch.probes",
							"Lists of a vsearch_ivf index read before the first row is returned.",
							"0 reads the square root of the number of lists, rounded up. "
							"A scan reads further lists when more rows are needed.",
							&ivf_probes,
							IVF_DEFAULT_PROBES, IVF_MIN_PROBES, IVF_MAX_PROBES,
							PGC_USERSET, 0, NULL, NULL, NULL);
}

/*
 * ivfoptions parses and validates the WITH (...) options of an index;
 * the result is palloc'd in the caller's context.
 */
bytea *
ivfoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfOptions, lists)},
	};

	return (bytea *) build_reloptions(reloptions, validate, ivf_relopt_kind,
									  sizeof(IvfOptions), tab, lengthof(tab));
}

/*
 * vsearch_ivf_handler returns the IndexAmRoutine of vsearch_ivf, allocated
 * in the caller's context.
 */
VS_FUNCTION(vsearch_ivf_handler);
Datum
vsearch_ivf_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = IVF_NPROC;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = true;
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = true;
	amroutine->amsearchnulls = false;
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = true;
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = ivfbuild;
	amroutine->ambuildempty = ivfbuildempty;
	amroutine->aminsert = ivfinsert;
	amroutine->ambulkdelete = ivfbulkdelete;
	amroutine->amvacuumcleanup = ivfvacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = ivfcostestimate;
	amroutine->amoptions = ivfoptions;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = ivfbuildphasename;
	amroutine->amvalidate = ivfvalidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = ivfbeginscan;
	amroutine->amrescan = ivfrescan;
	amroutine->amgettuple = ivfgettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = ivfendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}
