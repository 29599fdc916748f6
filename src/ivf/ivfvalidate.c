/*-------------------------------------------------------------------------
 *
 * ivfvalidate.c
 *	  Operator class validator for vsearch_ivf.
 *
 * Design: an operator class of vsearch_ivf is one ordering operator
 * (strategy 1, vector x vector -> float8, sorted by a btree float family)
 * and one support function (number 1, vector x vector -> float8) that
 * orders rows exactly as the operator does.  The validator reports every
 * deviation as an INFO message, as core's validators do, and returns false.
 *
 * IDENTIFICATION
 *	  src/ivf/ivfvalidate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "ivf/ivf.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

/*
 * ivfvalidate checks the operator class opclassoid and the members of its
 * family that have its input type; returns true if all is well.  Reads the
 * catalogs only.
 */
bool
ivfvalidate(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	HeapTuple	familytup;
	char	   *opfamilyname;
	CatCList   *proclist,
			   *oprlist;
	bool		haveProc = false;
	bool		haveOp = false;
	int			i;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);

	familytup = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(opfamilyoid));
	if (!HeapTupleIsValid(familytup))
		elog(ERROR, "cache lookup failed for operator family %u", opfamilyoid);
	opfamilyname = NameStr(((Form_pg_opfamily) GETSTRUCT(familytup))->opfname);

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));

	for (i = 0; i < proclist->n_members; i++)
	{
		HeapTuple	proctup = &proclist->members[i]->tuple;
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(proctup);

		if (procform->amproclefttype != procform->amprocrighttype)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("vsearch_ivf operator family %s contains support function %s with cross-type registration",
							opfamilyname, format_procedure(procform->amproc))));
			result = false;
			continue;
		}
		if (procform->amproclefttype != opcintype)
			continue;
		if (procform->amprocnum != IVF_DISTANCE_PROC)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("vsearch_ivf operator family %s contains function %s with invalid support number %d",
							opfamilyname, format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
			continue;
		}
		if (!check_amproc_signature(procform->amproc, FLOAT8OID, true, 2, 2,
									opcintype, opcintype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("vsearch_ivf operator family %s contains function %s with wrong signature for support number %d",
							opfamilyname, format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
			continue;
		}
		haveProc = true;
	}

	for (i = 0; i < oprlist->n_members; i++)
	{
		HeapTuple	oprtup = &oprlist->members[i]->tuple;
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(oprtup);

		if (oprform->amopstrategy != 1)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("vsearch_ivf operator family %s contains operator %s with invalid strategy number %d",
							opfamilyname, format_operator(oprform->amopopr),
							oprform->amopstrategy)));
			result = false;
			continue;
		}
		if (oprform->amoppurpose != AMOP_ORDER ||
			!OidIsValid(oprform->amopsortfamily) ||
			!opfamily_can_sort_type(oprform->amopsortfamily, FLOAT8OID))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("vsearch_ivf operator family %s contains operator %s that is not an ORDER BY operator sorted as float8",
							opfamilyname, format_operator(oprform->amopopr))));
			result = false;
			continue;
		}
		if (!check_amop_signature(oprform->amopopr, FLOAT8OID,
								  oprform->amoplefttype, oprform->amoprighttype) ||
			oprform->amoplefttype != oprform->amoprighttype)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("vsearch_ivf operator family %s contains operator %s with wrong signature",
							opfamilyname, format_operator(oprform->amopopr))));
			result = false;
			continue;
		}
		if (oprform->amoplefttype == opcintype)
			haveOp = true;
	}

	if (!haveProc)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("vsearch_ivf operator class %s is missing support function %d",
						opclassname, IVF_DISTANCE_PROC)));
		result = false;
	}
	if (!haveOp)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("vsearch_ivf operator class %s is missing its ORDER BY operator (strategy 1)",
						opclassname)));
		result = false;
	}

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(familytup);
	ReleaseSysCache(classtup);
	return result;
}
