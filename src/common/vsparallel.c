/*-------------------------------------------------------------------------
 *
 * vsparallel.c
 *	  The parallel context of a parallel index build (see vsparallel.h).
 *
 * Design: the steps nbtree's _bt_begin_parallel and _bt_parallel_build_main
 * take around their own work, once for both AMs.
 *
 * IDENTIFICATION
 *	  src/common/vsparallel.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/vsparallel.h"
#include "pgstat.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/snapmgr.h"

void
VsParallelCreate(VsParallelBuild *pb, const char *entry, int request, bool isconcurrent)
{
	memset(pb, 0, sizeof(*pb));
	EnterParallelMode();
	pb->pcxt = CreateParallelContext("$libdir/vsearch", entry, request);
	pb->snapshot = isconcurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
	shm_toc_estimate_chunk(&pb->pcxt->estimator, mul_size(sizeof(BufferUsage), pb->pcxt->nworkers));
	shm_toc_estimate_chunk(&pb->pcxt->estimator, mul_size(sizeof(WalUsage), pb->pcxt->nworkers));
	shm_toc_estimate_keys(&pb->pcxt->estimator, 2);
	if (debug_query_string)
	{
		shm_toc_estimate_chunk(&pb->pcxt->estimator, strlen(debug_query_string) + 1);
		shm_toc_estimate_keys(&pb->pcxt->estimator, 1);
	}
}

bool
VsParallelInitialize(VsParallelBuild *pb)
{
	ParallelContext *pcxt = pb->pcxt;

	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		VsParallelEnd(pb);
		return false;
	}
	if (debug_query_string)
	{
		Size		len = strlen(debug_query_string) + 1;
		char	   *query = shm_toc_allocate(pcxt->toc, len);

		memcpy(query, debug_query_string, len);
		shm_toc_insert(pcxt->toc, VS_PARALLEL_KEY_QUERY_TEXT, query);
	}
	pb->bufferusage = shm_toc_allocate(pcxt->toc, mul_size(sizeof(BufferUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, VS_PARALLEL_KEY_BUFFER_USAGE, pb->bufferusage);
	pb->walusage = shm_toc_allocate(pcxt->toc, mul_size(sizeof(WalUsage), pcxt->nworkers));
	shm_toc_insert(pcxt->toc, VS_PARALLEL_KEY_WAL_USAGE, pb->walusage);
	return true;
}

void
VsParallelWaitWorkers(VsParallelBuild *pb)
{
	WaitForParallelWorkersToFinish(pb->pcxt);
	for (int i = 0; i < pb->pcxt->nworkers_launched; i++)
		InstrAccumParallelQuery(&pb->bufferusage[i], &pb->walusage[i]);
}

void
VsParallelEnd(VsParallelBuild *pb)
{
	if (IsMVCCSnapshot(pb->snapshot))
		UnregisterSnapshot(pb->snapshot);
	DestroyParallelContext(pb->pcxt);
	ExitParallelMode();
	pb->pcxt = NULL;
}

void
VsParallelWorkerBegin(shm_toc *toc, bool isconcurrent, LOCKMODE *heaplock, LOCKMODE *indexlock)
{
	debug_query_string = shm_toc_lookup(toc, VS_PARALLEL_KEY_QUERY_TEXT, true);
	pgstat_report_activity(STATE_RUNNING, debug_query_string);
	*heaplock = isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	*indexlock = isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	InstrStartParallelQuery();
}

void
VsParallelWorkerEnd(shm_toc *toc)
{
	BufferUsage *bufferusage = shm_toc_lookup(toc, VS_PARALLEL_KEY_BUFFER_USAGE, false);
	WalUsage   *walusage = shm_toc_lookup(toc, VS_PARALLEL_KEY_WAL_USAGE, false);

	InstrEndParallelQuery(&bufferusage[ParallelWorkerNumber], &walusage[ParallelWorkerNumber]);
}
