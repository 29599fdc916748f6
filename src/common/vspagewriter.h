/*-------------------------------------------------------------------------
 *
 * vspagewriter.h
 *	  VsPageWriter: an index build's new pages, assembled in local memory
 *	  and handed to shared buffers a batch at a time.
 *
 * IDENTIFICATION
 *	  src/common/vspagewriter.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSPAGEWRITER_H
#define VSEARCH_VSPAGEWRITER_H

#include "c.h"
#include "storage/block.h"
#include "storage/bufpage.h"
#include "utils/relcache.h"

#define VS_WRITE_BATCH 64

typedef struct VsPageWriter
{
	Relation	index;
	BlockNumber first;			/* block number of pages[0] */
	int			npages;			/* pages in the batch; the last one is open */
	PGAlignedBlock *pages;		/* VS_WRITE_BATCH pages */
} VsPageWriter;

/* Starts writing right after the index's last block. */
extern void VsPageWriterInit(VsPageWriter *w, Relation index);

/*
 * Opens a new page right after the open one (flushing a full batch first)
 * and returns it, uninitialized: the caller formats it (PageInit).
 */
extern Page VsPageWriterNewPage(VsPageWriter *w);

/* Writes the batch to shared buffers (dirty, no WAL) and empties it. */
extern void VsPageWriterFlush(VsPageWriter *w);

/* Flushes and frees the batch memory. */
extern void VsPageWriterEnd(VsPageWriter *w);

/* The open page and its block number. */
static inline Page
VsPageWriterPage(VsPageWriter *w)
{
	Assert(w->npages > 0);
	return (Page) w->pages[w->npages - 1].data;
}

static inline BlockNumber
VsPageWriterBlock(VsPageWriter *w)
{
	Assert(w->npages > 0);
	return w->first + w->npages - 1;
}

#endif							/* VSEARCH_VSPAGEWRITER_H */
