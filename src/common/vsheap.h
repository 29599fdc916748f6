/*-------------------------------------------------------------------------
 *
 * vsheap.h
 *	  A binary heap of (distance, id) pairs, as a min-heap or a max-heap.
 *
 * Design: nearest-neighbour searches keep two heaps (closest candidate
 * first; farthest result first) of small fixed-size entries, so one flat
 * array with inline sift operations beats a pointer-based heap.  The id is
 * a uint64 that callers use for an array index or a packed TID.
 *
 * IDENTIFICATION
 *	  src/common/vsheap.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSHEAP_H
#define VSEARCH_VSHEAP_H

typedef struct VsHeapEntry
{
	float		dist;
	uint64		id;
} VsHeapEntry;

typedef struct VsHeap
{
	VsHeapEntry *items;
	int			count;
	int			capacity;
	bool		max;			/* true: largest dist on top */
} VsHeap;

/* VsHeapInit allocates an empty heap in CurrentMemoryContext. */
static inline void
VsHeapInit(VsHeap *h, int capacity, bool max)
{
	h->capacity = Max(capacity, 16);
	h->items = (VsHeapEntry *) palloc(sizeof(VsHeapEntry) * h->capacity);
	h->count = 0;
	h->max = max;
}

/* True when a must sit above b. */
static inline bool
VsHeapAbove(const VsHeap *h, const VsHeapEntry *a, const VsHeapEntry *b)
{
	return h->max ? a->dist > b->dist : a->dist < b->dist;
}

/*
 * VsHeapPush adds an entry, growing the array (repalloc, in the context the
 * array was allocated in) when full.
 */
static inline void
VsHeapPush(VsHeap *h, float dist, uint64 id)
{
	int			i;

	if (h->count == h->capacity)
	{
		h->capacity *= 2;
		h->items = (VsHeapEntry *) repalloc(h->items, sizeof(VsHeapEntry) * h->capacity);
	}
	i = h->count++;
	h->items[i].dist = dist;
	h->items[i].id = id;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;
		VsHeapEntry tmp;

		if (!VsHeapAbove(h, &h->items[i], &h->items[parent]))
			break;
		tmp = h->items[i];
		h->items[i] = h->items[parent];
		h->items[parent] = tmp;
		i = parent;
	}
}

/* VsHeapTop returns the top entry; the heap must not be empty. */
static inline VsHeapEntry *
VsHeapTop(VsHeap *h)
{
	return &h->items[0];
}

/* VsHeapPop removes and returns the top entry; the heap must not be empty. */
static inline VsHeapEntry
VsHeapPop(VsHeap *h)
{
	VsHeapEntry top = h->items[0];
	int			i = 0;

	h->items[0] = h->items[--h->count];
	for (;;)
	{
		int			l = 2 * i + 1;
		int			r = l + 1;
		int			best = i;
		VsHeapEntry tmp;

		if (l < h->count && VsHeapAbove(h, &h->items[l], &h->items[best]))
			best = l;
		if (r < h->count && VsHeapAbove(h, &h->items[r], &h->items[best]))
			best = r;
		if (best == i)
			break;
		tmp = h->items[i];
		h->items[i] = h->items[best];
		h->items[best] = tmp;
		i = best;
	}
	return top;
}

#endif							/* VSEARCH_VSHEAP_H */
