/*-------------------------------------------------------------------------
 *
 * ivfvalidate.c
 *	  Operator class validator for vsearch_ivf.
 *
 * Design: an operator class of vsearch_ivf is one ordering operator
 * (strategy 1, vector x vector -> float8, sorted by a btree float family)
 * and one support function (number 1, vector x vector -> float8) that
 * orders rows exactly as the operator does.  The checks are common to
 * vsearch's index AMs (common/vsvalidate), which report every deviation as
 * an INFO message, as core's validators do, and return false.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfvalidate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/vsvalidate.h"
#include "ivf/ivf.h"

/*
 * ivfvalidate checks the operator class opclassoid and the members of its
 * family that have its input type; returns true if all is well.  Reads the
 * catalogs only.
 */
bool
ivfvalidate(Oid opclassoid)
{
	static const VsSupportProc procs[] = {
		{IVF_DISTANCE_PROC, 2, true},
	};

	return VsValidateOpclass(opclassoid, "vsearch_ivf", procs, lengthof(procs));
}
