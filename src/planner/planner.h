/*-------------------------------------------------------------------------
 *
 * planner.h
 *	  Public API of the planner room: the hybrid (filter + ANN) scan.
 *
 * Design: the room registers a set_rel_pathlist_hook (chained after any
 * previous one) that offers a custom scan for WHERE ... ORDER BY distance
 * LIMIT k queries; everything else stays private to the room.
 *
 * IDENTIFICATION
 *	  src/planner/planner.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSEARCH_PLANNER_H
#define VSEARCH_PLANNER_H

/* Registers the GUCs, the custom scan methods and the planner hook. */
extern void VsPlannerInit(void);

#endif							/* VSEARCH_PLANNER_H */
