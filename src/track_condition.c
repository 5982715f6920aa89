/*
 * track_condition.c — validates the condition of salesperf.track().
 *
 * A condition is one SQL boolean expression over the columns of the tracked
 * table, such as  status = 'won' AND amount > 0.  It is parsed as the only
 * item of "SELECT <condition>", the parse tree is checked to be exactly that
 * (no second statement, no FROM, WHERE, alias, ...), and the expression is
 * analysed with the table as the only range-table entry.  What is refused
 * (SQLSTATE 42601): subqueries, parameters, aggregates, window functions,
 * set-returning functions, volatile functions, references to other tables,
 * the whole row or system columns, and anything not boolean.
 *
 * Names are resolved under a fixed search_path (pg_catalog, pg_temp), and
 * the analysed expression is deparsed back to text under that same path, so
 * every object outside pg_catalog comes out schema-qualified.  That
 * normalized text is what salesperf.tracked_source stores and what the sync
 * trigger runs: the user's text is never spliced into a statement.  The
 * trigger normalizes the stored text again before each use, so an edited
 * registration cannot smuggle in anything this file would refuse.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "track.h"

PG_FUNCTION_INFO_V1(salesperf_check_track);

/* The parser sees the condition behind this prefix. */
#define CONDITION_PREFIX "SELECT "

typedef struct ConditionCheck
{
	Relation	rel;
	const char *condition;		/* as written by the user */
	const char *query;			/* CONDITION_PREFIX || condition */
	const char *table;			/* the table's qualified name, for messages */
	bool		own_error;		/* the error being raised names the condition */
} ConditionCheck;

static void invalid_condition(ConditionCheck *check, const char *detail) pg_attribute_noreturn();

static void
invalid_condition(ConditionCheck *check, const char *detail)
{
	check->own_error = true;
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("invalid track condition \"%s\"", check->condition),
			 errdetail("%s", detail),
			 errhint("A condition is one boolean expression over the columns of table %s, such as status = 'won'.",
					 check->table)));
}

int
track_pin_search_path(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", TRACK_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
track_check_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
	{
		char	   *relname = get_rel_name(relid);
		Oid			nsp = get_rel_namespace(relid);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to change how salesperf tracks it",
						quote_qualified_identifier(get_namespace_name(nsp), relname))));
	}
}

/*
 * Errors raised by the parser point into CONDITION_PREFIX || condition;
 * report them against the condition itself, and say what was being checked.
 */
static void
condition_error_context(void *arg)
{
	ConditionCheck *check = (ConditionCheck *) arg;
	int			pos = geterrposition();

	if (pos > 0)
	{
		int			shifted = pos - (int) strlen(CONDITION_PREFIX);

		errposition(0);
		internalerrposition(shifted > 0 ? shifted : 1);
		internalerrquery(check->condition);
	}
	if (!check->own_error)
		errcontext("track condition \"%s\" on table %s", check->condition, check->table);
}

/* Refuse what analysis would either run (subqueries) or misreport. */
static bool
reject_raw_nodes(Node *node, void *context)
{
	ConditionCheck *check = (ConditionCheck *) context;

	if (node == NULL)
		return false;
	if (IsA(node, SubLink))
		invalid_condition(check, "A condition cannot contain subqueries.");
	if (IsA(node, ParamRef))
		invalid_condition(check, "A condition cannot contain parameters.");
	if (IsA(node, ColumnRef) && IsA(llast(((ColumnRef *) node)->fields), A_Star))
		invalid_condition(check, "A condition must name the columns it uses; * is not allowed.");
	return raw_expression_tree_walker(node, reject_raw_nodes, context);
}

/*
 * Called by the analyser for every column reference; `var` is NULL when it
 * found nothing.  A reference qualified by anything but the tracked table
 * (or one of its columns, for a composite field) names another table.
 */
static Node *
column_not_found(ParseState *pstate, ColumnRef *cref, Node *var)
{
	ConditionCheck *check = (ConditionCheck *) pstate->p_ref_hook_state;
	Relation	rel = check->rel;
	const char *first;
	int			nfields = list_length(cref->fields);

	if (var != NULL)
		return NULL;
	first = strVal(linitial(cref->fields));

	if (nfields == 1)
	{
		check->own_error = true;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table %s does not exist", first, check->table),
				 errdetail("The track condition is \"%s\".", check->condition),
				 parser_errposition(pstate, cref->location)));
	}
	if (strcmp(first, RelationGetRelationName(rel)) == 0 ||
		get_attnum(RelationGetRelid(rel), first) != InvalidAttrNumber)
		return NULL;			/* the analyser's own error says it best */
	if (nfields >= 3 &&
		strcmp(strVal(lsecond(cref->fields)), RelationGetRelationName(rel)) == 0 &&
		strcmp(first, get_namespace_name(RelationGetNamespace(rel))) == 0)
		return NULL;

	{
		List	   *qualifier = list_copy_head(cref->fields, nfields - 1);
		char	   *detail = psprintf("A condition may only use columns of table %s, not of \"%s\".",
									  check->table, NameListToString(qualifier));

		invalid_condition(check, detail);
	}
	return NULL;				/* not reached */
}

/* The analysed expression may read columns of the row and nothing else. */
static bool
reject_analysed_nodes(Node *node, void *context)
{
	ConditionCheck *check = (ConditionCheck *) context;

	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		if (var->varattno <= 0 || var->varlevelsup != 0)
			invalid_condition(check,
							  psprintf("A condition may only use columns of table %s, not its whole row or system columns.",
									   check->table));
		return false;
	}
	if (IsA(node, Param))
		invalid_condition(check, "A condition cannot contain parameters.");
	return expression_tree_walker(node, reject_analysed_nodes, context);
}

char *
track_normalize_condition(Relation rel, const char *condition)
{
	ConditionCheck check;
	ErrorContextCallback errcb;
	List	   *statements;
	SelectStmt *select;
	ResTarget  *target;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	Node	   *expr;
	Oid			type;
	char	   *normalized;

	check.rel = rel;
	check.condition = condition;
	check.query = psprintf(CONDITION_PREFIX "%s", condition);
	check.own_error = false;
	check.table = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											 RelationGetRelationName(rel));

	errcb.callback = condition_error_context;
	errcb.arg = &check;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	/* Exactly one SELECT of exactly one unnamed item, with no clauses. */
	statements = raw_parser(check.query, RAW_PARSE_DEFAULT);
	if (list_length(statements) != 1 ||
		!IsA(linitial_node(RawStmt, statements)->stmt, SelectStmt))
		invalid_condition(&check, "A condition must be a single expression, not several statements.");
	select = (SelectStmt *) linitial_node(RawStmt, statements)->stmt;
	if (select->op != SETOP_NONE || select->intoClause != NULL ||
		select->fromClause != NIL || select->whereClause != NULL ||
		select->groupClause != NIL || select->groupDistinct ||
		select->havingClause != NULL || select->windowClause != NIL ||
		select->valuesLists != NIL || select->sortClause != NIL ||
		select->limitOffset != NULL || select->limitCount != NULL ||
		select->lockingClause != NIL || select->withClause != NULL ||
		select->distinctClause != NIL)
		invalid_condition(&check, "A condition must be a single expression, without FROM, WHERE or other clauses.");
	if (list_length(select->targetList) != 1)
		invalid_condition(&check, "A condition must be exactly one expression.");
	target = linitial_node(ResTarget, select->targetList);
	if (target->name != NULL || target->indirection != NIL)
		invalid_condition(&check, "A condition must be a single expression, without an alias.");
	reject_raw_nodes(target->val, &check);

	/* Analyse it against the table, the only thing it may see. */
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = check.query;
	pstate->p_post_columnref_hook = column_not_found;
	pstate->p_ref_hook_state = &check;
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock,
										   NULL, false, true);
	addNSItemToQuery(pstate, nsitem, true, true, true);
	expr = transformExpr(pstate, target->val, EXPR_KIND_SELECT_TARGET);

	if (pstate->p_hasSubLinks)
		invalid_condition(&check, "A condition cannot contain subqueries.");
	if (pstate->p_hasAggs)
		invalid_condition(&check, "A condition cannot contain aggregate functions.");
	if (pstate->p_hasWindowFuncs)
		invalid_condition(&check, "A condition cannot contain window functions.");
	if (pstate->p_hasTargetSRFs)
		invalid_condition(&check, "A condition cannot contain set-returning functions.");

	type = exprType(expr);
	if (type != UNKNOWNOID && getBaseType(type) != BOOLOID)
		invalid_condition(&check, psprintf("A condition must be of type boolean, not %s.",
										   format_type_be(type)));
	expr = coerce_to_boolean(pstate, expr, "salesperf.track() condition");
	assign_expr_collations(pstate, expr);

	reject_analysed_nodes(expr, &check);
	if (contain_volatile_functions(expr))
		invalid_condition(&check, "A condition cannot call volatile functions: it must give the same answer each time a row is checked.");

	normalized = deparse_expression(expr,
									deparse_context_for(RelationGetRelationName(rel),
														RelationGetRelid(rel)),
									false, false);
	free_parsestate(pstate);
	error_context_stack = errcb.previous;
	return normalized;
}

/*
 * salesperf.check_track(source regclass, condition text DEFAULT NULL) → text
 *
 * Raises 42501 unless the caller owns the table; then, given a condition,
 * returns its normalized text (NULL for no condition).
 */
Datum
salesperf_check_track(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	int			level;
	char	   *normalized;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source table must not be NULL")));
	relid = PG_GETARG_OID(0);
	track_check_owner(relid);
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();

	rel = table_open(relid, AccessShareLock);
	level = track_pin_search_path();
	normalized = track_normalize_condition(rel, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	AtEOXact_GUC(true, level);
	table_close(rel, NoLock);
	PG_RETURN_TEXT_P(cstring_to_text(normalized));
}
