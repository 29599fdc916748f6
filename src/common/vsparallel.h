/*-------------------------------------------------------------------------
 *
 * vsparallel.h
 *	  The parallel context of a parallel index build, shared by both AMs.
 *
 * Design: PostgreSQL 15 gives index AMs no parallel build (no
 * amcanbuildparallel), so each AM starts its own parallel context from
 * ambuild as nbtree does.  What every such build needs is here: parallel
 * mode, the context for an exported worker entry point, the heap scan's
 * snapshot (SnapshotAny, or a registered MVCC snapshot for a concurrent
 * build), the query text and the per-worker buffer and WAL usage, and the
 * locks a worker takes.  The AM adds its own chunks between
 * VsParallelCreate and VsParallelInitialize, under its own shm_toc keys
 * (the keys below are taken).
 *
 * IDENTIFICATION
 *	  src/common/vsparallel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_VSPARALLEL_H
#define VSEARCH_VSPARALLEL_H

#include "access/parallel.h"
#include "executor/instrument.h"
#include "storage/lockdefs.h"
#include "utils/snapshot.h"

/* shm_toc keys of the common chunks */
#define VS_PARALLEL_KEY_QUERY_TEXT		UINT64CONST(0x5653500000000001)
#define VS_PARALLEL_KEY_BUFFER_USAGE	UINT64CONST(0x5653500000000002)
#define VS_PARALLEL_KEY_WAL_USAGE		UINT64CONST(0x5653500000000003)

/* The leader's side of a parallel build. */
typedef struct VsParallelBuild
{
	ParallelContext *pcxt;
	Snapshot	snapshot;		/* of the parallel heap scan */
	BufferUsage *bufferusage;	/* per worker, in the segment */
	WalUsage   *walusage;
} VsParallelBuild;

/*
 * Enters parallel mode, creates the context for worker entry point entry
 * (exported from this library) with up to request workers, takes the
 * scan's snapshot and estimates the common chunks.  The caller then
 * estimates its own chunks in pb->pcxt->estimator.
 */
extern void VsParallelCreate(VsParallelBuild *pb, const char *entry, int request,
							 bool isconcurrent);

/*
 * Creates the segment and stores the common chunks; false (everything
 * undone, as by VsParallelEnd) when no segment could be had.  The caller
 * then allocates its own chunks and launches the workers.
 */
extern bool VsParallelInitialize(VsParallelBuild *pb);

/*
 * Waits for the workers to exit (raising their errors) and adds their
 * buffer and WAL usage to the leader's.
 */
extern void VsParallelWaitWorkers(VsParallelBuild *pb);

/* Releases the snapshot and the context and leaves parallel mode. */
extern void VsParallelEnd(VsParallelBuild *pb);

/*
 * In a worker: takes the leader's query text for pg_stat_activity and
 * starts counting buffer and WAL usage; *heaplock and *indexlock get the
 * modes the leader holds (a concurrent build's or a plain one's).
 */
extern void VsParallelWorkerBegin(shm_toc *toc, bool isconcurrent,
								  LOCKMODE *heaplock, LOCKMODE *indexlock);

/* In a worker: reports its buffer and WAL usage to the leader. */
extern void VsParallelWorkerEnd(shm_toc *toc);

#endif							/* VSEARCH_VSPARALLEL_H */
