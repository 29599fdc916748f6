/*-------------------------------------------------------------------------
 *
 * vsbuffer.h
 *	  VsReadBuffer: ReadBuffer for hot index pages, skipping the shared
 *	  buffer mapping lookup when the backend knows the buffer.
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
 * Pins block blkno of index's main fork, as ReadBuffer(index, blkno) does
 * (same statistics); the caller locks and releases it as usual.
 */
extern Buffer VsReadBuffer(Relation index, BlockNumber blkno);
extern void VsPrefetchBuffer(Relation index, BlockNumber blkno, OffsetNumber off);

#endif							/* VSEARCH_VSBUFFER_H */
