/*-------------------------------------------------------------------------
 *
 * vsbuffer.h
 *	  VsReadBuffer: ReadBuffer for hot pages (index pages, and the heap
 *	  pages an exact ranking reads), skipping the shared buffer mapping
 *	  lookup when the backend knows the buffer.
 *
 * IDENTIFICATION
 *	  src/common/vsbuffer.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSBUFFER_H
#define VSEARCH_VSBUFFER_H

#include "storage/block.h"
#include "storage/buf.h"
#include "storage/off.h"
#include "utils/relcache.h"

/*
 * Pins block blkno of rel's main fork, as ReadBuffer(rel, blkno) does
 * (same statistics); the caller locks and releases it as usual.
 */
extern Buffer VsReadBuffer(Relation rel, BlockNumber blkno);
extern void VsPrefetchBuffer(Relation rel, BlockNumber blkno, OffsetNumber off);
extern void VsPrefetchTuple(Relation rel, BlockNumber blkno, OffsetNumber off);

#endif							/* VSEARCH_VSBUFFER_H */
