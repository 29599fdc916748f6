/*-------------------------------------------------------------------------
 *
 * vskeys.h
 *	  Scalar key columns stored next to the vector in an index tuple.
 *
 * Design: a vsearch index may list ordinary scalar columns after its
 * vector column, as in (embedding vector_cosine_ops, tenant_id).  Their
 * values are kept, per indexed vector, as one IndexTuple formed over the
 * whole index descriptor with the vector column left null, so the usual
 * index_getattr reads them back and nothing here knows a key's type.  A
 * scan tests WHERE clauses on those columns (its ScanKeys, whose sk_func
 * is the operator's own function) on the stored values, without visiting
 * the heap.  Both index access methods use this file; each decides where
 * in its own tuples the key tuple lives.
 *
 * IDENTIFICATION
 *	  src/common/vskeys.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSKEYS_H
#define VSEARCH_VSKEYS_H

#include "access/itup.h"
#include "access/skey.h"
#include "utils/relcache.h"

typedef struct VsKeyFilter VsKeyFilter;

/*
 * Checks that column 1 of index is the vector column (its operator class
 * has support function distproc) and no other column is; raises an error
 * naming amname otherwise.  Called by ambuild.
 */
extern void VsCheckKeyColumns(Relation index, const char *amname, int distproc);

/* True if index has key columns after its vector column. */
#define VsIndexHasKeys(index) (RelationGetNumberOfAttributes(index) > 1)

/*
 * Forms the key tuple of one row from the values and nulls aminsert or
 * the build callback received (palloc'd in CurrentMemoryContext), or
 * returns NULL when the index has no key columns.
 */
extern IndexTuple VsKeysForm(Relation index, Datum *values, bool *isnull);

/* Size of a key tuple in bytes, 0 for NULL. */
#define VsKeysSize(keys) ((keys) == NULL ? (Size) 0 : IndexTupleSize(keys))

/*
 * True if two key tuples (either may be NULL) are byte for byte equal, so
 * two rows may share one index entry.  Equal values with different
 * representations count as different, which only costs sharing.
 */
extern bool VsKeysEqual(IndexTuple a, IndexTuple b);

/* Hash of a key tuple's bytes (0 for NULL), combined into duplicate maps. */
extern uint32 VsKeysHash(IndexTuple keys);

/*
 * Prepares the scan keys of a scan for testing stored key tuples: arrays
 * (= ANY) are deconstructed once.  Allocates in CurrentMemoryContext,
 * which must live as long as the scan keys (the scan's context).  Sets
 * *never when no row can pass (a NULL comparison value, an empty array).
 * Returns NULL when there are no keys to test.
 */
extern VsKeyFilter *VsKeyFilterCreate(Relation index, ScanKey keys, int nkeys, bool *never);

/*
 * True if the key tuple passes every scan key of filter (a NULL filter
 * passes everything).  A NULL stored value never passes, as the operators
 * are strict.  Memory the operators allocate is freed before returning.
 */
extern bool VsKeyFilterMatch(VsKeyFilter *filter, IndexTuple keys);

#endif							/* VSEARCH_VSKEYS_H */
