/*-------------------------------------------------------------------------
 *
 * vsproc.h
 *	  Recognising vsearch's own SQL functions by their C symbol.
 *
 * Design: an index AM whose operator class names one of vsearch's distance
 * functions calls the distance kernel directly instead of going through
 * fmgr; it recognises the function by its C symbol and library, not by its
 * SQL name, which a user may shadow or rename.
 *
 * IDENTIFICATION
 *	  src/common/vsproc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSPROC_H
#define VSEARCH_VSPROC_H

/*
 * Returns the C symbol of function proc, palloc'd in CurrentMemoryContext,
 * when it is a C function of the vsearch library; otherwise NULL.
 */
extern char *VsProcSymbol(Oid proc);

#endif							/* VSEARCH_VSPROC_H */
