/*-------------------------------------------------------------------------
 *
 * vsvalidate.c
 *	  amvalidate for the operator classes of vsearch's index AMs.
 *
 * Design: checks the members of the operator class's family that have its
 * input type, as core's validators do, and reports every deviation as an
 * INFO message before returning false.  Two kinds of operator class are
 * valid: a vector class (one ORDER BY operator, the AM's support
 * functions) for the first index column, and a key-column class (the five
 * B-tree comparison operators of a scalar type, cross-type ones allowed,
 * no support function) for the columns after it (common/vskeys.h).  A
 * family without support functions is taken for a key-column family.
 *
 * IDENTIFICATION
 *	  src/common/vsvalidate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/stratnum.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "common/vsvalidate.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

/* Reports one problem of the family or class called name. */
#define PROBLEM(...) \
	do { \
		ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION), errmsg(__VA_ARGS__))); \
		result = false; \
	} while (0)

/*
 * ValidateKeyOpclass checks a key-column operator class: every operator of
 * its family is a search operator returning boolean with strategy 1-5 (as
 * in B-tree: <, <=, =, >=, >), and the class's own type has all five.
 */
static bool
ValidateKeyOpclass(Oid opfamilyoid, Oid opcintype, const char *amname,
				   const char *opclassname, const char *opfamilyname)
{
	bool		result = true;
	bool		have[BTMaxStrategyNumber + 1] = {false};
	CatCList   *oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));

	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (oprform->amopstrategy < 1 || oprform->amopstrategy > BTMaxStrategyNumber)
		{
			PROBLEM("%s operator family %s contains operator %s with invalid strategy number %d",
					amname, opfamilyname, format_operator(oprform->amopopr),
					oprform->amopstrategy);
			continue;
		}
		if (oprform->amoppurpose != AMOP_SEARCH ||
			!check_amop_signature(oprform->amopopr, BOOLOID,
								  oprform->amoplefttype, oprform->amoprighttype))
		{
			PROBLEM("%s operator family %s contains operator %s that is not a boolean search operator",
					amname, opfamilyname, format_operator(oprform->amopopr));
			continue;
		}
		if (oprform->amoplefttype == opcintype && oprform->amoprighttype == opcintype)
			have[oprform->amopstrategy] = true;
	}
	for (int s = 1; s <= BTMaxStrategyNumber; s++)
		if (!have[s])
			PROBLEM("%s operator class %s is missing operator for strategy %d",
					amname, opclassname, s);
	ReleaseCatCacheList(oprlist);
	return result;
}

bool
VsValidateOpclass(Oid opclassoid, const char *amname,
				  const VsSupportProc *procs, int nprocs)
{
	bool		result = true;
	HeapTuple	classtup;
	HeapTuple	familytup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	char	   *opfamilyname;
	CatCList   *proclist;
	CatCList   *oprlist;
	bool		have[32] = {false};
	bool		haveOp = false;

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

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
	if (proclist->n_members == 0)
	{
		result = ValidateKeyOpclass(opfamilyoid, opcintype, amname, opclassname, opfamilyname);
		ReleaseCatCacheList(proclist);
		ReleaseSysCache(familytup);
		ReleaseSysCache(classtup);
		return result;
	}
	for (int i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);
		const VsSupportProc *spec = NULL;

		if (procform->amproclefttype != procform->amprocrighttype)
		{
			PROBLEM("%s operator family %s contains support function %s with cross-type registration",
					amname, opfamilyname, format_procedure(procform->amproc));
			continue;
		}
		if (procform->amproclefttype != opcintype)
			continue;
		for (int s = 0; s < nprocs; s++)
			if (procs[s].number == procform->amprocnum)
				spec = &procs[s];
		if (spec == NULL)
		{
			PROBLEM("%s operator family %s contains function %s with invalid support number %d",
					amname, opfamilyname, format_procedure(procform->amproc),
					procform->amprocnum);
			continue;
		}
		if (!check_amproc_signature(procform->amproc, FLOAT8OID, true,
									spec->nargs, spec->nargs, opcintype, opcintype))
		{
			PROBLEM("%s operator family %s contains function %s with wrong signature for support number %d",
					amname, opfamilyname, format_procedure(procform->amproc),
					procform->amprocnum);
			continue;
		}
		if (spec->number >= 0 && spec->number < (int) lengthof(have))
			have[spec->number] = true;
	}

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (oprform->amopstrategy != 1)
		{
			PROBLEM("%s operator family %s contains operator %s with invalid strategy number %d",
					amname, opfamilyname, format_operator(oprform->amopopr),
					oprform->amopstrategy);
			continue;
		}
		if (oprform->amoppurpose != AMOP_ORDER ||
			!OidIsValid(oprform->amopsortfamily) ||
			!opfamily_can_sort_type(oprform->amopsortfamily, FLOAT8OID))
		{
			PROBLEM("%s operator family %s contains operator %s that is not an ORDER BY operator sorted as float8",
					amname, opfamilyname, format_operator(oprform->amopopr));
			continue;
		}
		if (!check_amop_signature(oprform->amopopr, FLOAT8OID,
								  oprform->amoplefttype, oprform->amoprighttype) ||
			oprform->amoplefttype != oprform->amoprighttype)
		{
			PROBLEM("%s operator family %s contains operator %s with wrong signature",
					amname, opfamilyname, format_operator(oprform->amopopr));
			continue;
		}
		if (oprform->amoplefttype == opcintype)
			haveOp = true;
	}

	for (int s = 0; s < nprocs; s++)
		if (procs[s].required && !have[procs[s].number])
			PROBLEM("%s operator class %s is missing support function %d",
					amname, opclassname, procs[s].number);
	if (!haveOp)
		PROBLEM("%s operator class %s is missing its ORDER BY operator (strategy 1)",
				amname, opclassname);

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(familytup);
	ReleaseSysCache(classtup);
	return result;
}
