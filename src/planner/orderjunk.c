/*-------------------------------------------------------------------------
 *
 * orderjunk.c
 *	  Planner hook: a top-k query that does not select its distance does
 *	  not compute it again for every row it returns.
 *
 * Design: for SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 10 the
 * core planner puts the ORDER BY expression in the scan's target list as a
 * hidden (resjunk) column, and the scan evaluates it for each row it
 * returns, although the vsearch index (or the hybrid scan) has already put
 * the rows in that order and nothing above the LIMIT reads the column.
 * Evaluating it detoasts the row's vector (a pglz decompression when the
 * vector compressed, a TOAST fetch when it is stored out of line) and
 * computes one more distance: on fashion-mnist about a tenth of an HNSW
 * top-10 query.  After the standard planner, this hook finds the one plan
 * shape where the column is provably unread and replaces its expression
 * with a NULL constant of the same type:
 *
 *   Limit (a row count, not WITH TIES)      <- the statement's top node
 *     -> Index Scan using a vsearch index, with ORDER BY operators
 *        or Custom Scan (VSearch Hybrid)
 *
 * A Limit returns its child's rows unchanged and compares no sort keys
 * (WITH TIES does, and is left alone), and the executor drops resjunk
 * columns from what a SELECT returns.  A single-copy Gather on top (what
 * force_parallel_mode adds) only forwards the rows of one process running
 * the Limit, so the shape under it counts too.  Any other node above the scan
 * (Sort, Incremental Sort, Merge Append, Gather Merge, LockRows, Unique,
 * ModifyTable) may read the column, so every other shape is untouched.  A
 * distance the query selects is not resjunk and is computed as before.
 * EXPLAIN VERBOSE shows the column as NULL::double precision.
 *
 * IDENTIFICATION
 *	  src/planner/orderjunk.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "planner/hybrid.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

static planner_hook_type prev_planner_hook = NULL;

/*
 * IsVsearchIndex says whether indexoid is an index of vsearch's access
 * methods (an index of another extension's method keeps its plan as the
 * core made it).
 */
static bool
IsVsearchIndex(Oid indexoid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
	Oid			am;

	if (!HeapTupleIsValid(tup))
		return false;
	am = ((Form_pg_class) GETSTRUCT(tup))->relam;
	ReleaseSysCache(tup);
	return VsIsVectorIndexAm(am);
}

/*
 * NullJunk replaces, in the scan's target list, the expression of every
 * hidden sort column that ordering names (ordering NIL: every hidden sort
 * column) with a NULL constant of its type.
 */
static void
NullJunk(Plan *scan, List *ordering)
{
	ListCell   *lc;

	foreach(lc, scan->targetlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Expr	   *expr = tle->expr;

		if (!tle->resjunk || tle->ressortgroupref == 0 || IsA(expr, Const))
			continue;
		if (ordering != NIL && !list_member(ordering, expr))
			continue;
		tle->expr = (Expr *) makeNullConst(exprType((Node *) expr),
										   exprTypmod((Node *) expr),
										   exprCollation((Node *) expr));
	}
}

/*
 * DropOrderJunk applies the rewrite described in the file header to stmt,
 * when its plan has that shape.
 */
static void
DropOrderJunk(PlannedStmt *stmt)
{
	Plan	   *top = stmt->planTree;
	Plan	   *child;

	if (stmt->commandType != CMD_SELECT || top == NULL)
		return;
	/* force_parallel_mode's Gather runs its child whole in one process */
	if (IsA(top, Gather) && ((Gather *) top)->single_copy)
		top = outerPlan(top);
	if (top == NULL || !IsA(top, Limit))
		return;
	if (((Limit *) top)->limitOption == LIMIT_OPTION_WITH_TIES)
		return;
	child = outerPlan(top);
	if (child == NULL)
		return;
	if (IsA(child, IndexScan))
	{
		IndexScan  *iscan = (IndexScan *) child;

		if (iscan->indexorderbyorig != NIL && IsVsearchIndex(iscan->indexid))
			NullJunk(child, iscan->indexorderbyorig);
	}
	else if (IsA(child, CustomScan) &&
			 ((CustomScan *) child)->methods == &VsHybridScanMethods)
		NullJunk(child, NIL);
}

/*
 * VsPlannerHook is the planner_hook: the previous hook (or the standard
 * planner) plans, then DropOrderJunk looks at the result.
 */
static PlannedStmt *
VsPlannerHook(Query *parse, const char *query_string, int cursorOptions,
			  ParamListInfo boundParams)
{
	PlannedStmt *stmt;

	if (prev_planner_hook)
		stmt = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	else
		stmt = standard_planner(parse, query_string, cursorOptions, boundParams);
	if (vs_hybrid_enabled)
		DropOrderJunk(stmt);
	return stmt;
}

/* VsOrderJunkInit installs the hook, chained after any hook installed before. */
void
VsOrderJunkInit(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = VsPlannerHook;
}
