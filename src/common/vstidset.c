/*-------------------------------------------------------------------------
 *
 * vstidset.c
 *	  Hash set of 64-bit keys on PostgreSQL's simplehash.
 *
 * Design: keys are hashed with murmurhash64; the table lives in the memory
 * context given at creation and grows there.
 *
 * IDENTIFICATION
 *	  src/common/vstidset.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/vstidset.h"

/* MixKey is the splitmix64 finaliser, folded to 32 bits. */
static inline uint32
MixKey(uint64 k)
{
	k ^= k >> 30;
	k *= UINT64CONST(0xbf58476d1ce4e5b9);
	k ^= k >> 27;
	k *= UINT64CONST(0x94d049bb133111eb);
	k ^= k >> 31;
	return (uint32) k;
}

typedef struct VsTidEntry
{
	uint64		key;
	char		status;
} VsTidEntry;

#define SH_PREFIX vstidhash
#define SH_ELEMENT_TYPE VsTidEntry
#define SH_KEY_TYPE uint64
#define SH_KEY key
#define SH_HASH_KEY(tb, k) MixKey(k)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

struct VsTidSet
{
	vstidhash_hash *hash;
};

VsTidSet *
VsTidSetCreate(MemoryContext cxt, uint32 initial_size)
{
	VsTidSet   *set = MemoryContextAlloc(cxt, sizeof(VsTidSet));

	set->hash = vstidhash_create(cxt, Max(initial_size, 64), NULL);
	return set;
}

bool
VsTidSetAdd(VsTidSet *set, uint64 key)
{
	bool		found;

	/*
	 * (cppcheck's whole-program pass reads MarkReached in hnswvacuum.c as
	 * adding to its multi set, passed NULL; it does so only when its linked
	 * set, passed NULL with it, is not NULL.)
	 */
	/* cppcheck-suppress ctunullpointer ; see above */
	vstidhash_insert(set->hash, key, &found);
	return !found;
}

bool
VsTidSetContains(VsTidSet *set, uint64 key)
{
	return vstidhash_lookup(set->hash, key) != NULL;
}

uint64
VsTidSetCount(VsTidSet *set)
{
	return set->hash->members;
}

void
VsTidSetReset(VsTidSet *set)
{
	vstidhash_reset(set->hash);
}
