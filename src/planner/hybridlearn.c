/*-------------------------------------------------------------------------
 *
 * hybridlearn.c
 *	  What the hybrid scan's probes found, remembered per filter by each
 *	  backend.
 *
 * Design: when the bitmap counts few matches but ranking them costs more
 * than a probe (traversal's first look, hybridexec.c), the scan cannot
 * tell from the count whether the matches sit around the query (then
 * traversal finds k of them at once) or anywhere (then the probe is
 * wasted and the rows are ranked anyway).  Probing pays off when q * E >
 * P, q the chance that the matches are near, E the ranking's cost and P
 * the probe's.  Nothing at plan time knows q, but the same filter keeps
 * its habit from one execution to the next: a filter independent of the
 * vectors, or on a category that is not the query's, never is near; the
 * query's own category always is.  So each backend counts, per filter
 * shape (the relation and the filter's expression tree with its constants
 * and parameters blanked, so that a prepared statement, its generic plan
 * and the same query written with other values share an entry), how many probes ran and how many found
 * the matches near.  q is (near + 1) / (probes + 2): 1/2 before any probe
 * (probe when E > 2P), 1/3 after one that failed, 2/3 after one that
 * found them.  Counts are halved past HYBRID_LEARN_CAP probes, so the
 * estimate follows a change of habit; and a filter whose estimate alone
 * keeps it from probing probes anyway every HYBRID_EXPLORE_EVERY
 * executions, or it could never learn otherwise.
 *
 * Entries live in a hash table in TopMemoryContext, private to the
 * backend and lost at its exit; the table is emptied past
 * HYBRID_LEARN_MAX_ENTRIES.  vsearch.hybrid_learn = off uses q = 1/2
 * always (tests that read strategies pin it so).
 *
 * IDENTIFICATION
 *	  src/planner/hybridlearn.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "planner/hybrid.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#define HYBRID_EXPLORE_EVERY		16	/* probe anyway once in this many */
#define HYBRID_LEARN_MAX_ENTRIES	4096

bool		vs_hybrid_learn = true;

typedef struct LearnEntry
{
	uint64		shape;			/* hash key: first */
	double		probes;
	double		near;
	int			skipped;		/* probes skipped since the last one */
} LearnEntry;

static HTAB *learned = NULL;

/*
 * BlankConsts replaces every constant and parameter by a NULL of its type,
 * and numbers the scanned relation 1 in every column reference (its range
 * table index differs from query to query: a LATERAL subquery, a join).
 */
static Node *
BlankConsts(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Const))
	{
		Const	   *c = (Const *) node;

		return (Node *) makeNullConst(c->consttype, c->consttypmod, c->constcollid);
	}
	if (IsA(node, Param))
	{
		Param	   *p = (Param *) node;

		return (Node *) makeNullConst(p->paramtype, p->paramtypmod, p->paramcollid);
	}
	if (IsA(node, Var) && ((Var *) node)->varlevelsup == 0)
	{
		Var		   *v = copyObject((Var *) node);

		v->varno = 1;
		v->varnosyn = 1;
		return (Node *) v;
	}
	return expression_tree_mutator(node, BlankConsts, context);
}

/*
 * VsHybridShape is the shape of a filter: a hash of the relation and of
 * the quals' expression tree with constants and parameters blanked, the
 * relation numbered 1 and source locations left out.  Called once per scan, in its per-query memory.
 */
uint64
VsHybridShape(Oid relid, List *quals)
{
	char	   *s = nodeToString(BlankConsts((Node *) quals, NULL));
	char	   *out = palloc(strlen(s) + 1);
	char	   *o = out;
	uint64		h;

	/* drop every " :location N" */
	for (char *p = s;;)
	{
		char	   *loc = strstr(p, " :location ");
		size_t		n = loc ? (size_t) (loc - p) : strlen(p);

		memcpy(o, p, n);
		o += n;
		if (loc == NULL)
			break;
		p = loc + 11;
		while (*p == '-' || (*p >= '0' && *p <= '9'))
			p++;
	}
	*o = '\0';
	h = hash_bytes_extended((const unsigned char *) out, (int) (o - out), (uint64) relid);
	pfree(out);
	pfree(s);
	return h;
}

/* Lookup returns the entry of shape, entered if create, or NULL. */
static LearnEntry *
Lookup(uint64 shape, bool create)
{
	bool		found;
	LearnEntry *e;

	if (learned == NULL)
	{
		HASHCTL		ctl;

		if (!create)
			return NULL;
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(LearnEntry);
		ctl.hcxt = TopMemoryContext;
		learned = hash_create("vsearch hybrid probes", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	else if (create && hash_get_num_entries(learned) >= HYBRID_LEARN_MAX_ENTRIES)
	{
		hash_destroy(learned);
		learned = NULL;
		return Lookup(shape, create);
	}
	e = hash_search(learned, &shape, create ? HASH_ENTER : HASH_FIND, &found);
	if (create && !found)
	{
		e->probes = 0;
		e->near = 0;
		e->skipped = 0;
	}
	return e;
}

/*
 * VsHybridNearRate is q for filter shape (1/2 when nothing was learned or
 * learning is off), and in *probes the probes it was learned from.
 */
double
VsHybridNearRate(uint64 shape, double *probes)
{
	LearnEntry *e = vs_hybrid_learn ? Lookup(shape, false) : NULL;

	*probes = e ? e->probes : 0;
	return e ? (e->near + 1) / (e->probes + 2) : 0.5;
}

/*
 * VsHybridExplore is called when only the learned q kept shape from
 * probing: true once every HYBRID_EXPLORE_EVERY calls, when the scan
 * should probe anyway.
 */
bool
VsHybridExplore(uint64 shape)
{
	LearnEntry *e;

	if (!vs_hybrid_learn || (e = Lookup(shape, false)) == NULL)
		return false;
	if (++e->skipped < HYBRID_EXPLORE_EVERY)
		return false;
	e->skipped = 0;
	return true;
}

/* VsHybridProbeOutcome records whether a probe of shape found the matches near. */
void
VsHybridProbeOutcome(uint64 shape, bool near)
{
	LearnEntry *e;

	if (!vs_hybrid_learn)
		return;
	e = Lookup(shape, true);
	if (e->probes >= HYBRID_LEARN_CAP)
	{
		e->probes /= 2;
		e->near /= 2;
	}
	e->probes += 1;
	e->near += near ? 1 : 0;
	e->skipped = 0;
}
