/*-------------------------------------------------------------------------
 *
 * vstidset.h
 *	  A hash set of 64-bit keys (packed TIDs or element ids).
 *
 * Design: searches over index pages remember every element they visited;
 * PostgreSQL's simplehash gives an open-addressing table with no per-entry
 * allocation, about 16 bytes per key.
 *
 * IDENTIFICATION
 *	  src/common/vstidset.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSTIDSET_H
#define VSEARCH_VSTIDSET_H

#include "storage/itemptr.h"

typedef struct VsTidSet VsTidSet;

/* Creates an empty set in memory context cxt. */
extern VsTidSet *VsTidSetCreate(MemoryContext cxt, uint32 initial_size);

/* Adds key; returns true if it was not there yet. */
extern bool VsTidSetAdd(VsTidSet *set, uint64 key);

/* True if key is in the set. */
extern bool VsTidSetContains(VsTidSet *set, uint64 key);

/* Number of keys in the set. */
extern uint64 VsTidSetCount(VsTidSet *set);

/* Removes every key. */
extern void VsTidSetReset(VsTidSet *set);

/* Packs a TID into a key and back. */
static inline uint64
VsTidToKey(ItemPointer tid)
{
	return ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);
}

static inline void
VsKeyToTid(uint64 key, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (key >> 16), (OffsetNumber) (key & 0xFFFF));
}

#endif							/* VSEARCH_VSTIDSET_H */
