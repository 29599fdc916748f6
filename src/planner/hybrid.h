/*-------------------------------------------------------------------------
 *
 * hybrid.h
 *	  Private declarations of the hybrid scan, shared by its path and
 *	  executor files.
 *
 * Design: the plan carries everything the executor needs in two lists:
 * custom_private holds constants (index OID, flags, plan-time estimates),
 * custom_exprs holds expressions the setrefs pass must fix up (distance,
 * query vector, LIMIT, OFFSET, the relation's quals, a distance threshold).  The HYBRID_*
 * positions below are the only place that layout is written down.
 *
 * IDENTIFICATION
 *	  src/planner/hybrid.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_HYBRID_H
#define VSEARCH_HYBRID_H

#include "nodes/extensible.h"

#define HYBRID_NAME "VSearch Hybrid"

/* custom_private positions */
#define HYBRID_PRIV_INDEX		0	/* Integer: index OID */
#define HYBRID_PRIV_FLAGS		1	/* Integer: HYBRID_FLAG_* */
#define HYBRID_PRIV_TUPLES		2	/* Float: heap tuples at plan time */
#define HYBRID_PRIV_ROWS		3	/* Float: rows passing the quals, estimated */
#define HYBRID_PRIV_KEYCOLS		4	/* IntList: index column of each key qual */
#define HYBRID_PRIV_COUNT		5

/* custom_exprs positions */
#define HYBRID_EXPR_DIST		0	/* column <op> query: the ORDER BY distance */
#define HYBRID_EXPR_QUERY		1	/* the query vector */
#define HYBRID_EXPR_LIMIT		2	/* LIMIT expression, or NULL */
#define HYBRID_EXPR_OFFSET		3	/* OFFSET expression, or NULL */
#define HYBRID_EXPR_QUALS		4	/* List: the relation's quals but the threshold */
#define HYBRID_EXPR_THRESHOLD	5	/* List: distance < c (from the quals), or empty */
#define HYBRID_EXPR_KEYS		6	/* List: quals the index tests on key columns,
									 * column on the left; also in QUALS */

#define HYBRID_FLAG_SIMILARITY	0x01	/* ORDER BY c - distance DESC */
#define HYBRID_FLAG_BITMAP		0x02	/* custom_plans holds a bitmap of matches */
#define HYBRID_FLAG_HNSW		0x04	/* the vector index is a vsearch_hnsw index */
#define HYBRID_FLAG_EXTPARAMS	0x08	/* the quals compare with $n: a generic
										 * plan, estimated without their values */

/* Strategies, also the values of vsearch.hybrid_strategy */
typedef enum HybridStrategy
{
	HYBRID_AUTO = 0,			/* GUC only: choose at run time */
	HYBRID_INDEX,				/* traverse the vector index, filter candidates */
	HYBRID_EXACT				/* exact distances over the matching rows */
} HybridStrategy;

extern bool vs_hybrid_enabled;
extern int	vs_hybrid_strategy;
extern bool vs_hybrid_learn;

/* hybridlearn.c: probes counted per shape before the counts are halved */
#define HYBRID_LEARN_CAP	32

extern CustomScanMethods VsHybridScanMethods;

/* hybridpath.c: is am vsearch_hnsw or vsearch_ivf */
extern bool VsIsVectorIndexAm(Oid am);

/* hybridlearn.c: what the probes of each filter shape found */
extern uint64 VsHybridShape(Oid relid, List *quals);
extern double VsHybridNearRate(uint64 shape, double *probes);
extern bool VsHybridExplore(uint64 shape);
extern void VsHybridProbeOutcome(uint64 shape, bool near);

/* orderjunk.c: the planner_hook that skips the unread ORDER BY column */
extern void VsOrderJunkInit(void);

#endif							/* VSEARCH_HYBRID_H */
