/*-------------------------------------------------------------------------
 *
 * vskeys.c
 *	  Scalar key columns stored next to the vector in an index tuple.
 *
 * Design: see vskeys.h.  The filter evaluates each ScanKey with the
 * function PostgreSQL already looked up for it (sk_func), so any operator
 * of a key column's operator family works, cross-type ones included, and
 * the collation is the scan key's.
 *
 * IDENTIFICATION
 *	  src/common/vskeys.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/vskeys.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* One scan key, with an = ANY array already taken apart. */
typedef struct VsKeyTest
{
	ScanKey		key;
	Datum	   *elems;			/* SK_SEARCHARRAY: the non-null elements */
	int			nelems;
} VsKeyTest;

struct VsKeyFilter
{
	TupleDesc	desc;			/* the index's descriptor */
	MemoryContext tmpCtx;		/* what the operators allocate, per match */
	int			ntests;
	VsKeyTest  *tests;
};

void
VsCheckKeyColumns(Relation index, const char *amname, int distproc)
{
	int			natts = RelationGetNumberOfAttributes(index);

	if (!OidIsValid(index_getprocid(index, 1, distproc)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("first column of a %s index must be a vector column", amname),
				 errhint("List the vector column first, for example (embedding, tenant_id).")));
	for (int attno = 2; attno <= natts; attno++)
		if (OidIsValid(index_getprocid(index, attno, distproc)))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a %s index can have only one vector column", amname),
					 errdetail("Column %d of the index is a vector column.", attno)));
}

IndexTuple
VsKeysForm(Relation index, Datum *values, bool *isnull)
{
	int			natts = RelationGetNumberOfAttributes(index);
	Datum		v[INDEX_MAX_KEYS];
	bool		n[INDEX_MAX_KEYS];

	if (natts <= 1)
		return NULL;
	memcpy(v, values, sizeof(Datum) * natts);
	memcpy(n, isnull, sizeof(bool) * natts);
	v[0] = (Datum) 0;
	n[0] = true;
	return index_form_tuple(RelationGetDescr(index), v, n);
}

bool
VsKeysEqual(IndexTuple a, IndexTuple b)
{
	if (a == NULL || b == NULL)
		return a == b;
	/* the TID field is never set in a key tuple; compare what follows */
	return IndexTupleSize(a) == IndexTupleSize(b) &&
		memcmp((char *) a + sizeof(ItemPointerData), (char *) b + sizeof(ItemPointerData),
			   IndexTupleSize(a) - sizeof(ItemPointerData)) == 0;
}

uint32
VsKeysHash(IndexTuple keys)
{
	if (keys == NULL)
		return 0;
	return hash_bytes((const unsigned char *) keys + sizeof(ItemPointerData),
					  IndexTupleSize(keys) - sizeof(ItemPointerData));
}

VsKeyFilter *
VsKeyFilterCreate(Relation index, ScanKey keys, int nkeys, bool *never)
{
	VsKeyFilter *filter;

	*never = false;
	if (nkeys <= 0)
		return NULL;
	filter = palloc0(sizeof(VsKeyFilter));
	filter->desc = RelationGetDescr(index);
	filter->tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "vsearch key filter",
										   ALLOCSET_SMALL_SIZES);
	filter->tests = palloc0(sizeof(VsKeyTest) * nkeys);
	for (int i = 0; i < nkeys; i++)
	{
		ScanKey		key = &keys[i];
		VsKeyTest  *test = &filter->tests[filter->ntests++];

		if (key->sk_attno < 2 || key->sk_attno > filter->desc->natts)
			elog(ERROR, "scan key on column %d of index \"%s\" is not a key column",
				 key->sk_attno, RelationGetRelationName(index));
		if (key->sk_flags & (SK_SEARCHNULL | SK_SEARCHNOTNULL | SK_ROW_HEADER))
			elog(ERROR, "unsupported scan key flags %d", key->sk_flags);
		test->key = key;
		/* the operators are strict: comparing with NULL keeps no row */
		if (key->sk_flags & SK_ISNULL)
		{
			*never = true;
			continue;
		}
		if (key->sk_flags & SK_SEARCHARRAY)
		{
			ArrayType  *arr = DatumGetArrayTypeP(key->sk_argument);
			int16		typlen;
			bool		typbyval;
			char		typalign;
			Datum	   *elems;
			bool	   *nulls;
			int			nelems;

			get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
			deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign,
							  &elems, &nulls, &nelems);
			test->elems = palloc(sizeof(Datum) * Max(nelems, 1));
			for (int e = 0; e < nelems; e++)
				if (!nulls[e])
					test->elems[test->nelems++] = elems[e];
			if (test->nelems == 0)
				*never = true;
		}
	}
	return filter;
}

bool
VsKeyFilterMatch(VsKeyFilter *filter, IndexTuple keys)
{
	MemoryContext old;
	bool		pass = true;

	if (filter == NULL)
		return true;
	if (keys == NULL)
		return false;
	old = MemoryContextSwitchTo(filter->tmpCtx);
	for (int i = 0; i < filter->ntests && pass; i++)
	{
		VsKeyTest  *test = &filter->tests[i];
		ScanKey		key = test->key;
		bool		isnull;
		Datum		value = index_getattr(keys, key->sk_attno, filter->desc, &isnull);

		if (isnull)
			pass = false;
		else if (key->sk_flags & SK_SEARCHARRAY)
		{
			pass = false;
			for (int e = 0; e < test->nelems && !pass; e++)
				pass = DatumGetBool(FunctionCall2Coll(&key->sk_func, key->sk_collation,
													  value, test->elems[e]));
		}
		else
			pass = DatumGetBool(FunctionCall2Coll(&key->sk_func, key->sk_collation,
												  value, key->sk_argument));
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(filter->tmpCtx);
	return pass;
}
