/*-------------------------------------------------------------------------
 *
 * hybridpath.c
 *	  Planner side of the hybrid scan: recognise WHERE ... ORDER BY
 *	  distance LIMIT k on a table with a vsearch index, and offer a custom
 *	  path that decides at run time how to answer it.
 *
 * Design: the core planner can only pick one fixed shape for such a
 * query: an ordered index scan with a Filter (slow, or short of rows when
 * the filter is selective, unless the scan streams) or an exact top-N
 * sort over the matching rows (slow when many rows match).  Which one is
 * right depends on how many rows match, which the planner only guesses,
 * and not at all for a generic plan.  The hybrid path therefore carries
 * both: the vector index, and (when ordinary indexes serve the quals) a
 * bitmap of the matching rows as a child plan; the executor
 * (hybridexec.c) counts, measures and chooses.  Its cost is 0.9 times that
 * of the cheaper of the two shapes, so the planner prefers it to either.
 * Quals on key columns of the vector index (common/vskeys.h) also become
 * its scan keys, so the index rejects failing candidates itself.
 *
 * IDENTIFICATION
 *	  src/planner/hybridpath.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "planner/hybrid.h"
#include "planner/planner.h"
#include "utils/fmgroids.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include <math.h>

bool		vs_hybrid_enabled = true;
int			vs_hybrid_strategy = HYBRID_AUTO;

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;

static const struct config_enum_entry hybrid_strategy_options[] = {
	{"auto", HYBRID_AUTO, false},
	{"index", HYBRID_INDEX, false},
	{"exact", HYBRID_EXACT, false},
	{NULL, 0, false}
};

/* What the ORDER BY clause asks for, once recognised. */
typedef struct HybridOrder
{
	Expr	   *dist;			/* column <op> query */
	Var		   *column;			/* the vector column */
	Expr	   *query;			/* the other operand */
	bool		similarity;		/* ORDER BY c - dist DESC */
	bool		nullsfirst;
} HybridOrder;

static Plan *HybridPlanPath(PlannerInfo *root, RelOptInfo *rel,
							struct CustomPath *best_path, List *tlist,
							List *clauses, List *custom_plans);

static const CustomPathMethods HybridPathMethods = {
	.CustomName = HYBRID_NAME,
	.PlanCustomPath = HybridPlanPath,
};

/*
 * StripRelabel removes binary-compatible casts around an expression.
 */
static Expr *
StripRelabel(Expr *expr)
{
	while (expr && IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	return expr;
}

/*
 * MatchDistance recognises column <op> query with a Var of rel on the
 * left and, on the right, an expression that does not reference rel and
 * is not volatile (a constant, a parameter, an outer reference).
 */
static bool
MatchDistance(PlannerInfo *root, RelOptInfo *rel, Expr *expr, HybridOrder *order)
{
	OpExpr	   *op;
	Expr	   *left;
	Expr	   *right;

	expr = StripRelabel(expr);
	if (expr == NULL || !IsA(expr, OpExpr))
		return false;
	op = (OpExpr *) expr;
	if (list_length(op->args) != 2)
		return false;
	left = StripRelabel(linitial(op->args));
	right = lsecond(op->args);
	if (!IsA(left, Var) || ((Var *) left)->varno != rel->relid ||
		((Var *) left)->varlevelsup != 0 || ((Var *) left)->varattno <= 0)
		return false;
	if (bms_is_member(rel->relid, pull_varnos(root, (Node *) right)) ||
		contain_volatile_functions((Node *) right))
		return false;
	order->dist = expr;
	order->column = (Var *) left;
	order->query = right;
	return true;
}

/*
 * SimilarityOperand returns x when expr is the similarity form c - x with c
 * a non-null constant (1 - (emb <=> q)), NULL otherwise.
 */
static Expr *
SimilarityOperand(Expr *expr)
{
	OpExpr	   *op;
	Expr	   *c;

	expr = StripRelabel(expr);
	if (expr == NULL || !IsA(expr, OpExpr))
		return NULL;
	op = (OpExpr *) expr;
	if (op->opfuncid != F_FLOAT8MI || list_length(op->args) != 2)
		return NULL;
	c = StripRelabel(linitial(op->args));
	if (!IsA(c, Const) || ((Const *) c)->constisnull)
		return NULL;
	return lsecond(op->args);
}

/*
 * MatchOrder recognises the query's single ORDER BY item for rel:
 * "dist" ascending with NULLS LAST, or "c - dist" descending with c a
 * constant (similarity written as 1 - (emb <=> q)).
 */
static bool
MatchOrder(PlannerInfo *root, RelOptInfo *rel, HybridOrder *order)
{
	PathKey    *pk;
	ListCell   *lc;

	if (list_length(root->query_pathkeys) != 1)
		return false;
	pk = linitial(root->query_pathkeys);
	if (pk->pk_eclass->ec_has_volatile)
		return false;

	foreach(lc, pk->pk_eclass->ec_members)
	{
		EquivalenceMember *em = lfirst(lc);
		Expr	   *expr = StripRelabel(em->em_expr);

		if (!bms_equal(em->em_relids, rel->relids))
			continue;
		memset(order, 0, sizeof(*order));
		order->nullsfirst = pk->pk_nulls_first;
		if (pk->pk_strategy == BTLessStrategyNumber)
		{
			if (!pk->pk_nulls_first && MatchDistance(root, rel, expr, order))
				return true;
		}
		else if (pk->pk_strategy == BTGreaterStrategyNumber)
		{
			Expr	   *dist = SimilarityOperand(expr);

			if (dist != NULL && MatchDistance(root, rel, dist, order))
			{
				order->similarity = true;
				return true;
			}
		}
	}
	return false;
}

/*
 * VsIsVectorIndexAm says whether am is one of vsearch's index access
 * methods (vsearch_hnsw, vsearch_ivf).
 */
bool
VsIsVectorIndexAm(Oid am)
{
	return OidIsValid(am) &&
		(am == get_am_oid("vsearch_hnsw", true) || am == get_am_oid("vsearch_ivf", true));
}

/*
 * FindVectorIndex returns a vsearch index on the ORDER BY column whose
 * operator class orders by the ORDER BY operator, preferring the one
 * whose ordered index path is cheapest (HNSW when none was costed).
 */
static IndexOptInfo *
FindVectorIndex(RelOptInfo *rel, HybridOrder *order)
{
	Oid			hnsw = get_am_oid("vsearch_hnsw", true);
	Oid			opno = ((OpExpr *) order->dist)->opno;
	IndexOptInfo *best = NULL;
	Cost		bestcost = 0;
	ListCell   *lc;

	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = lfirst(lc);
		Cost		cost = disable_cost;
		ListCell   *pc;

		if (!VsIsVectorIndexAm(index->relam))
			continue;
		if (index->indpred != NIL || index->indexkeys[0] != order->column->varattno)
			continue;
		if (!SearchSysCacheExists3(AMOPOPID, ObjectIdGetDatum(opno),
								   CharGetDatum(AMOP_ORDER),
								   ObjectIdGetDatum(index->opfamily[0])))
			continue;			/* not the index's ordering operator */
		foreach(pc, rel->pathlist)
		{
			Path	   *p = lfirst(pc);

			if (IsA(p, IndexPath) && ((IndexPath *) p)->indexinfo == index)
				cost = Min(cost, p->total_cost);
		}
		if (index->relam == hnsw)
			cost *= 0.999;		/* ties go to the graph */
		if (best == NULL || cost < bestcost)
		{
			best = index;
			bestcost = cost;
		}
	}
	return best;
}

/*
 * IsKeyColumn says whether expr is (a binary-compatible relabelling of)
 * column attno of rel.
 */
static bool
IsKeyColumn(RelOptInfo *rel, Node *expr, AttrNumber attno)
{
	Expr	   *e = StripRelabel((Expr *) expr);

	return e && IsA(e, Var) && ((Var *) e)->varno == rel->relid &&
		((Var *) e)->varattno == attno && ((Var *) e)->varlevelsup == 0;
}

/* IsComparisonValue: no column of the query level, nothing volatile. */
static bool
IsComparisonValue(Node *expr)
{
	return !contain_var_clause(expr) && !contain_volatile_functions(expr) &&
		!contain_subplans(expr);
}

/*
 * MatchKeyClause returns clause in a form the index can test on its key
 * column col (0-based), with the column on the left (commuted if need be):
 * column op value with op in the column's operator family, or column op
 * ANY (array); NULL when the clause does not fit.
 */
static Expr *
MatchKeyClause(RelOptInfo *rel, IndexOptInfo *index, int col, Expr *clause)
{
	AttrNumber	attno = index->indexkeys[col];
	Oid			collation = index->indexcollations[col];

	if (attno == 0)
		return NULL;			/* expression columns are not matched */
	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;
		Node	   *left = linitial(op->args);
		Node	   *right = lsecond(op->args);
		Oid			opno = op->opno;

		if (OidIsValid(collation) && collation != op->inputcollid)
			return NULL;
		if (IsKeyColumn(rel, right, attno) && IsComparisonValue(left))
		{
			Node	   *tmp = left;

			opno = get_commutator(opno);
			left = right;
			right = tmp;
		}
		else if (!IsKeyColumn(rel, left, attno) || !IsComparisonValue(right))
			return NULL;
		if (!OidIsValid(opno) || !op_in_opfamily(opno, index->opfamily[col]))
			return NULL;
		return make_opclause(opno, BOOLOID, false, (Expr *) left, (Expr *) right,
							 InvalidOid, op->inputcollid);
	}
	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;

		if (!saop->useOr || list_length(saop->args) != 2 ||
			(OidIsValid(collation) && collation != saop->inputcollid) ||
			!IsKeyColumn(rel, linitial(saop->args), attno) ||
			!IsComparisonValue(lsecond(saop->args)) ||
			!op_in_opfamily(saop->opno, index->opfamily[col]))
			return NULL;
		return (Expr *) copyObject(saop);
	}
	return NULL;
}

/*
 * MatchKeyQuals finds rel's quals that key columns of index can test:
 * *keyquals gets each in index form (MatchKeyClause), *keycols the
 * matching 1-based index column numbers.
 */
static void
MatchKeyQuals(RelOptInfo *rel, IndexOptInfo *index, List **keyquals, List **keycols)
{
	ListCell   *lc;

	*keyquals = NIL;
	*keycols = NIL;
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst(lc);

		if (ri->pseudoconstant)
			continue;
		for (int col = 1; col < index->nkeycolumns; col++)
		{
			Expr	   *q = MatchKeyClause(rel, index, col, ri->clause);

			if (q != NULL)
			{
				*keyquals = lappend(*keyquals, q);
				*keycols = lappend_int(*keycols, col + 1);
				break;
			}
		}
	}
}

/*
 * FindBitmapPath returns a new bitmap heap path over ordinary indexes
 * that serve some of rel's quals: over the bitmap tree of the cheapest one
 * in the pathlist, or over the cheapest plain index path.  NULL when there
 * is none.
 */
static Path *
FindBitmapPath(PlannerInfo *root, RelOptInfo *rel)
{
	Path	   *best = NULL;
	ListCell   *lc;

	foreach(lc, rel->pathlist)
	{
		Path	   *p = lfirst(lc);

		if (IsA(p, BitmapHeapPath) && p->param_info == NULL &&
			(best == NULL || p->total_cost < best->total_cost))
			best = p;
	}
	/*
	 * A path of our own around the same bitmap tree: add_path frees the
	 * paths it discards (ours may discard that one), but never index paths,
	 * so the tree under it stays valid.
	 */
	if (best)
		return (Path *) create_bitmap_heap_path(root, rel, ((BitmapHeapPath *) best)->bitmapqual,
												NULL, 1.0, 0);

	foreach(lc, rel->pathlist)
	{
		IndexPath  *ip = lfirst(lc);
		Path	   *p;

		if (!IsA(ip, IndexPath) || ip->path.param_info != NULL ||
			ip->indexclauses == NIL || !ip->indexinfo->amhasgetbitmap)
			continue;
		p = (Path *) create_bitmap_heap_path(root, rel, (Path *) ip, NULL, 1.0, 0);
		if (best == NULL || p->total_cost < best->total_cost)
			best = p;
	}
	return best;
}

/*
 * UsableLimitExpr says whether a LIMIT/OFFSET expression can be evaluated
 * by the scan itself: no Vars, no subplans, nothing volatile.
 */
static bool
UsableLimitExpr(Node *expr)
{
	return expr == NULL ||
		(!contain_var_clause(expr) && !contain_subplans(expr) &&
		 !contain_volatile_functions(expr));
}

/*
 * ColumnKnownNotNull says whether no matching row can have a NULL vector:
 * the column is NOT NULL, or a strict qual on it rejects NULLs.
 */
static bool
ColumnKnownNotNull(PlannerInfo *root, RelOptInfo *rel, Var *column, List *quals)
{
	RangeTblEntry *rte = planner_rt_fetch(rel->relid, root);
	Relation	heap = table_open(rte->relid, NoLock);
	bool		notnull = TupleDescAttr(RelationGetDescr(heap), column->varattno - 1)->attnotnull;
	ListCell   *lc;

	table_close(heap, NoLock);
	if (notnull)
		return true;
	foreach(lc, find_nonnullable_vars((Node *) quals))
	{
		Var		   *v = lfirst(lc);

		if (v->varno == column->varno && v->varattno == column->varattno)
			return true;
	}
	return false;
}

/*
 * DistanceSide says how expr moves with the ORDER BY distance: 1 when it
 * is the distance itself, -1 when it is the similarity form c - dist with
 * c a constant, 0 otherwise.
 */
static int
DistanceSide(Expr *expr, HybridOrder *order)
{
	Expr	   *dist;

	if (equal(StripRelabel(expr), order->dist))
		return 1;
	dist = SimilarityOperand(expr);
	if (dist != NULL && equal(StripRelabel(dist), order->dist))
		return -1;
	return 0;
}

/*
 * FindThreshold returns a qual among quals that only rows closer than a
 * bound pass, where the bound does not depend on the row; NULL when there
 * is none.  The scan then stops once candidates are past the threshold.
 * Recognised, with dist the ORDER BY distance, s = c - dist (c a
 * constant) and b the bound: dist < b, dist <= b, b > dist, b >= dist,
 * s > b, s >= b, b < s, b <= s.
 */
static Expr *
FindThreshold(PlannerInfo *root, RelOptInfo *rel, List *quals, HybridOrder *order)
{
	ListCell   *lc;

	foreach(lc, quals)
	{
		Expr	   *q = lfirst(lc);
		OpExpr	   *op;
		int			less;		/* 1: the operator is < or <=, -1: > or >= */
		int			left;
		int			right;
		Node	   *bound;

		if (!IsA(q, OpExpr) || list_length(((OpExpr *) q)->args) != 2)
			continue;
		op = (OpExpr *) q;
		if (op->opfuncid == F_FLOAT8LT || op->opfuncid == F_FLOAT8LE)
			less = 1;
		else if (op->opfuncid == F_FLOAT8GT || op->opfuncid == F_FLOAT8GE)
			less = -1;
		else
			continue;
		left = DistanceSide(linitial(op->args), order);
		right = DistanceSide(lsecond(op->args), order);
		/* the side holding the distance must be bounded from above */
		if (left != 0 && right == 0 && left == less)
			bound = lsecond(op->args);
		else if (right != 0 && left == 0 && right == -less)
			bound = linitial(op->args);
		else
			continue;
		if (bms_is_member(rel->relid, pull_varnos(root, bound)) ||
			contain_volatile_functions(bound))
			continue;
		return q;
	}
	return NULL;
}

/*
 * LimitTuples returns the rows the query reads from rel when LIMIT and
 * OFFSET are constants, or 10 when they are parameters (the executor
 * learns the real value).
 */
static double
LimitTuples(Query *parse, double rows)
{
	double		k = parse->limitCount ? 10 : Max(rows, 1);

	if (parse->limitCount && IsA(parse->limitCount, Const) &&
		!((Const *) parse->limitCount)->constisnull)
	{
		k = (double) DatumGetInt64(((Const *) parse->limitCount)->constvalue);
		if (parse->limitOffset && IsA(parse->limitOffset, Const) &&
			!((Const *) parse->limitOffset)->constisnull)
			k += (double) DatumGetInt64(((Const *) parse->limitOffset)->constvalue);
	}
	return Max(k, 1);
}

/*
 * HybridSetRelPathlist is the set_rel_pathlist_hook: after the core has
 * built rel's paths, it adds the hybrid path when rel is the whole query
 * (or a partition of it), the query ends in ORDER BY distance LIMIT k, a
 * vsearch index serves that ORDER BY, and either WHERE clauses filter the
 * rows or the ORDER BY is the similarity form no index scan can serve.
 * Without LIMIT it is added only for a distance threshold (dist < c).
 */
static void
HybridSetRelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	Query	   *parse = root->parse;
	HybridOrder order;
	IndexOptInfo *index;
	List	   *quals;
	Expr	   *threshold;
	Path	   *bitmap;
	CustomPath *cpath;
	double		k;
	double		sel;
	Cost		exact_cost;
	Cost		index_cost = disable_cost;
	Cost		index_startup = disable_cost;
	Cost		startup;
	double		frac;
	Cost		cost;
	List	   *keyquals;
	List	   *keycols;
	Path		sortpath;
	ListCell   *lc;
	int			flags = 0;

	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);

	if (!vs_hybrid_enabled || rte->rtekind != RTE_RELATION || rte->inh ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW) ||
		rel->indexlist == NIL || IS_DUMMY_REL(rel))
		return;
	/* rel must be the whole join tree: then LIMIT counts its rows */
	if (rel->reloptkind == RELOPT_BASEREL)
	{
		if (!bms_equal(rel->relids, root->all_baserels))
			return;
	}
	else if (rel->reloptkind != RELOPT_OTHER_MEMBER_REL ||
			 !bms_equal(rel->top_parent_relids, root->all_baserels))
		return;
	if (parse->commandType != CMD_SELECT ||
		parse->rowMarks != NIL || parse->hasAggs || parse->groupClause != NIL ||
		parse->groupingSets != NIL || parse->havingQual != NULL ||
		parse->hasWindowFuncs || parse->distinctClause != NIL ||
		parse->setOperations != NULL || parse->hasTargetSRFs ||
		!UsableLimitExpr(parse->limitCount) || !UsableLimitExpr(parse->limitOffset))
		return;
	if (!MatchOrder(root, rel, &order))
		return;
	index = FindVectorIndex(rel, &order);
	if (index == NULL)
		return;

	quals = extract_actual_clauses(rel->baserestrictinfo, false);
	if (contain_volatile_functions((Node *) quals))
		return;					/* volatile quals must run once per returned row */
	threshold = FindThreshold(root, rel, quals, &order);
	if (parse->limitCount == NULL && threshold == NULL)
		return;					/* without LIMIT or a threshold every row is wanted */
	if (quals == NIL && !order.similarity)
		return;					/* a plain ordered index scan is the right plan */
	if (order.similarity && order.nullsfirst &&
		!ColumnKnownNotNull(root, rel, order.column, quals))
		return;					/* NULL vectors would sort first: not from an index */

	/*
	 * Cost: the cheaper of the two shapes the core planner would consider
	 * at LIMIT k: an exact top-k sort over the cheapest unordered path, and
	 * the ordered index scan read to k rows of its filtered output.
	 */
	k = LimitTuples(parse, rel->rows);
	frac = Min(1.0, k / Max(rel->rows, 1.0));
	sel = (rel->tuples > 0) ? Min(1.0, rel->rows / rel->tuples) : 1.0;
	exact_cost = disable_cost;
	foreach(lc, rel->pathlist)
	{
		Path	   *p = lfirst(lc);

		if (p->param_info != NULL)
			continue;
		if (IsA(p, IndexPath) && ((IndexPath *) p)->indexinfo == index)
		{
			index_cost = Min(index_cost,
							 p->startup_cost + (p->total_cost - p->startup_cost) * frac);
			index_startup = Min(index_startup, p->startup_cost);
		}
		else if (p->pathkeys == NIL)
			exact_cost = Min(exact_cost, p->total_cost);
	}
	cost_sort(&sortpath, root, root->query_pathkeys, exact_cost, rel->rows,
			  rel->reltarget->width, 0.0, work_mem, k);
	exact_cost = sortpath.startup_cost;
	cost = Min(exact_cost, index_cost) * 0.9;

	/*
	 * Shaped like the ordered index scan: its startup (or less), and the
	 * rest charged so that reading k rows costs `cost`.  A Limit directly
	 * above sees the same cost as with everything charged to startup, but
	 * a Merge Append over partitions adds up its children's startup costs
	 * and charges only a share of their run costs: charged all at startup,
	 * the per-partition scans lost to the core's ordered index scans
	 * (pgTAP set, IVF partitions, a 2% filter: 375 against 344), whose
	 * plan returned a far cluster's rows in the order of IVF's batches.
	 */
	startup = Min(cost, index_startup * 0.9);

	bitmap = quals ? FindBitmapPath(root, rel) : NULL;
	MatchKeyQuals(rel, index, &keyquals, &keycols);
	if (order.similarity)
		flags |= HYBRID_FLAG_SIMILARITY;
	if (bitmap)
		flags |= HYBRID_FLAG_BITMAP;
	if (index->relam == get_am_oid("vsearch_hnsw", true))
		flags |= HYBRID_FLAG_HNSW;

	cpath = makeNode(CustomPath);
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = rel;
	cpath->path.pathtarget = rel->reltarget;
	cpath->path.param_info = NULL;
	cpath->path.parallel_aware = false;
	cpath->path.parallel_safe = rel->consider_parallel;
	cpath->path.parallel_workers = 0;
	cpath->path.rows = rel->rows;
	cpath->path.startup_cost = startup;
	cpath->path.total_cost = startup + (cost - startup) / frac +
		cpu_tuple_cost * rel->rows * (1.0 - Min(1.0, sel));
	cpath->path.pathkeys = root->query_pathkeys;
	cpath->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	cpath->custom_paths = bitmap ? list_make1(bitmap) : NIL;
	/* cppcheck-suppress unknownEvaluationOrder ; the nodes are independent */
	cpath->custom_private = list_make5(makeInteger((int) index->indexoid),
									   makeInteger(flags),
									   makeFloat(psprintf("%.0f", rel->tuples)),
									   makeFloat(psprintf("%.0f", rel->rows)),
									   keycols);
	/* (cppcheck: list_make4's cells have no side effects to order) */
	cpath->custom_private = lappend(cpath->custom_private,
									list_make4(order.dist, order.query, /* cppcheck-suppress unknownEvaluationOrder */
											   threshold ? list_make1(threshold) : NIL,
											   keyquals));
	cpath->methods = &HybridPathMethods;
	add_path(rel, &cpath->path);
}

/*
 * BitmapSubplan digs the bitmap index tree (BitmapIndexScan, BitmapAnd,
 * BitmapOr) out of the plan made for the bitmap heap path: the hybrid
 * scan runs only that tree, and visits the heap itself.
 */
static Plan *
BitmapSubplan(Plan *plan)
{
	while (plan && IsA(plan, Result) && outerPlan(plan))
		plan = outerPlan(plan);
	if (plan && IsA(plan, BitmapHeapScan))
		return outerPlan(plan);
	return NULL;
}

/* HasExternParam is true when node holds a statement parameter ($n). */
static bool
HasExternParam(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
		return true;
	return expression_tree_walker(node, HasExternParam, context);
}

/*
 * HybridPlanPath is PlanCustomPath: builds the CustomScan.  The quals go
 * to custom_exprs, not to the plan's qual, because the scan evaluates
 * them itself while it searches.
 */
static Plan *
HybridPlanPath(PlannerInfo *root, RelOptInfo *rel, struct CustomPath *best_path,
			   List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *exprs = llast(best_path->custom_private);
	List	   *quals = extract_actual_clauses(clauses, false);
	int			flags = intVal(list_nth(best_path->custom_private, HYBRID_PRIV_FLAGS));
	Plan	   *bitmap = NULL;

	if (custom_plans != NIL)
		bitmap = BitmapSubplan(linitial(custom_plans));
	if (HasExternParam((Node *) quals, NULL))
		flags |= HYBRID_FLAG_EXTPARAMS;
	if (bitmap == NULL)
		flags &= ~HYBRID_FLAG_BITMAP;

	/* the threshold is evaluated apart from the other quals (it ends traversal) */
	quals = list_difference(quals, lthird(exprs));
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = NIL;
	cscan->scan.scanrelid = rel->relid;
	cscan->flags = best_path->flags;
	cscan->custom_plans = bitmap ? list_make1(bitmap) : NIL;
	/* cppcheck-suppress unknownEvaluationOrder ; list_makeN's cells, no side effects */
	cscan->custom_exprs = list_make5(linitial(exprs), lsecond(exprs),
									 root->parse->limitCount, root->parse->limitOffset,
									 quals);
	cscan->custom_exprs = lappend(cscan->custom_exprs, lthird(exprs));
	cscan->custom_exprs = lappend(cscan->custom_exprs, lfourth(exprs));
	/* cppcheck-suppress unknownEvaluationOrder ; the nodes are independent */
	cscan->custom_private = list_make5(list_nth(best_path->custom_private, HYBRID_PRIV_INDEX),
									   makeInteger(flags),
									   list_nth(best_path->custom_private, HYBRID_PRIV_TUPLES),
									   list_nth(best_path->custom_private, HYBRID_PRIV_ROWS),
									   list_nth(best_path->custom_private, HYBRID_PRIV_KEYCOLS));
	cscan->custom_scan_tlist = NIL;
	cscan->methods = &VsHybridScanMethods;
	return &cscan->scan.plan;
}

/*
 * VsPlannerInit registers the room's settings, the custom scan methods
 * (so plans can be copied and sent to parallel workers) and the hook,
 * chained after any hook installed before.
 */
void
VsPlannerInit(void)
{
	DefineCustomBoolVariable("vsearch.hybrid",
							 "Plans filtered nearest-neighbour queries with the hybrid scan.",
							 "When off, WHERE ... ORDER BY distance LIMIT k is planned by the core planner alone.",
							 &vs_hybrid_enabled, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("vsearch.hybrid_strategy",
							 "Forces the strategy of the hybrid scan.",
							 "auto chooses at run time from the rows that match; index and exact force one strategy (for testing and benchmarks).",
							 &vs_hybrid_strategy, HYBRID_AUTO, hybrid_strategy_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("vsearch.hybrid_learn",
							 "Lets the hybrid scan learn, per filter, whether its matches sit around the query.",
							 "When off, every filter is taken to have even odds (see the planner README).",
							 &vs_hybrid_learn, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	RegisterCustomScanMethods(&VsHybridScanMethods);
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = HybridSetRelPathlist;
	VsOrderJunkInit();
}
