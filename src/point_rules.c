/*
 * point_rules.c — what an activity earns from the uncapped point rules.
 *
 *   salesperf.rule_points(kind, amount, occurred_at) → numeric
 *       Σ points + points_per_amount × amount over the active, uncapped
 *       rules of that kind whose `valid` contains occurred_at, plus the
 *       amount itself for a bonus.  Exact numeric.
 *   salesperf.has_capped_rule(kind, occurred_at) → boolean
 *       whether an active capped rule of that kind is in force then (such
 *       activities earn in order within their day; see rederive_days).
 *
 * Both run once per activity on the write path, so the active rules are
 * read once per query (cached in fn_extra for the life of the calling
 * query node) and matched in C instead of by a subquery per row.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/lsyscache.h"
#include "utils/rangetypes.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "point_rules.h"

PG_FUNCTION_INFO_V1(salesperf_rule_points);
PG_FUNCTION_INFO_V1(salesperf_has_capped_rule);

static const char *const load_sql =
"SELECT r.kind, r.points, r.points_per_amount, r.daily_cap IS NOT NULL,"
"       pg_catalog.lower_inf(r.valid), pg_catalog.upper_inf(r.valid),"
"       pg_catalog.lower_inc(r.valid), pg_catalog.upper_inc(r.valid),"
"       pg_catalog.lower(r.valid), pg_catalog.upper(r.valid), r.rule_id, r.daily_cap"
"  FROM salesperf.point_rule r WHERE r.active";

/* A copy of a numeric column of the current row, in the cache's context. */
static Numeric
copy_numeric(HeapTuple row, TupleDesc desc, int column, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, column, &isnull);
	MemoryContext old;
	Numeric		result;

	if (isnull)
		elog(ERROR, "salesperf: unexpected NULL in salesperf.point_rule");
	old = MemoryContextSwitchTo(cxt);
	result = DatumGetNumericCopy(d);
	MemoryContextSwitchTo(old);
	return result;
}

/* The active rules, read now, allocated in cxt. */
RuleSet *
salesperf_load_point_rules(MemoryContext cxt)
{
	RuleSet    *set;

	set = MemoryContextAllocZero(cxt, sizeof(RuleSet));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");
	if (SPI_execute(load_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read salesperf.point_rule");

	set->count = (int) SPI_processed;
	set->rules = MemoryContextAllocZero(cxt, sizeof(PointRule) * Max(set->count, 1));
	for (int i = 0; i < set->count; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		PointRule  *r = &set->rules[i];
		bool		isnull;
		Datum		d;

		r->kind = MemoryContextStrdup(cxt, SPI_getvalue(row, desc, 1));
		r->points = copy_numeric(row, desc, 2, cxt);
		r->points_per_amount = copy_numeric(row, desc, 3, cxt);
		r->capped = DatumGetBool(SPI_getbinval(row, desc, 4, &isnull));
		r->lower_inf = DatumGetBool(SPI_getbinval(row, desc, 5, &isnull));
		r->upper_inf = DatumGetBool(SPI_getbinval(row, desc, 6, &isnull));
		r->lower_inc = DatumGetBool(SPI_getbinval(row, desc, 7, &isnull));
		r->upper_inc = DatumGetBool(SPI_getbinval(row, desc, 8, &isnull));
		d = SPI_getbinval(row, desc, 9, &isnull);
		r->lower = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(row, desc, 10, &isnull);
		r->upper = isnull ? 0 : DatumGetTimestampTz(d);
		r->rule_id = DatumGetInt32(SPI_getbinval(row, desc, 11, &isnull));
		r->daily_cap = r->capped ? copy_numeric(row, desc, 12, cxt) : NULL;
	}
	SPI_finish();
	return set;
}

/* The column `name` of point_rule's tuple descriptor. */
static int
rule_column(TupleDesc desc, const char *name)
{
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return a;
	}
	elog(ERROR, "salesperf: salesperf.point_rule has no column \"%s\"", name);
	return -1;					/* keep compiler quiet */
}

RuleSet *
salesperf_scan_point_rules(MemoryContext cxt)
{
	Relation	rel = relation_open(get_relname_relid("point_rule",
													  get_namespace_oid("salesperf", false)),
									AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			kind = rule_column(desc, "kind"),
				points = rule_column(desc, "points"),
				per_amount = rule_column(desc, "points_per_amount"),
				cap = rule_column(desc, "daily_cap"),
				valid = rule_column(desc, "valid"),
				active = rule_column(desc, "active"),
				rule_id = rule_column(desc, "rule_id");
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	RuleSet    *set = MemoryContextAllocZero(cxt, sizeof(RuleSet));
	int			size = 8;
	TypeCacheEntry *range_type = NULL;

	set->rules = MemoryContextAllocZero(cxt, sizeof(PointRule) * size);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		PointRule  *r;
		RangeType  *range;
		RangeBound	lower,
					upper;
		bool		empty;
		MemoryContext old;

		slot_getallattrs(slot);
		if (slot->tts_isnull[active] || !DatumGetBool(slot->tts_values[active]))
			continue;
		if (set->count == size)
		{
			size *= 2;
			set->rules = repalloc(set->rules, sizeof(PointRule) * size);
		}
		r = &set->rules[set->count++];
		memset(r, 0, sizeof(*r));
		old = MemoryContextSwitchTo(cxt);
		r->kind = TextDatumGetCString(slot->tts_values[kind]);
		r->points = DatumGetNumericCopy(slot->tts_values[points]);
		r->points_per_amount = DatumGetNumericCopy(slot->tts_values[per_amount]);
		r->capped = !slot->tts_isnull[cap];
		r->daily_cap = r->capped ? DatumGetNumericCopy(slot->tts_values[cap]) : NULL;
		MemoryContextSwitchTo(old);
		r->rule_id = DatumGetInt32(slot->tts_values[rule_id]);
		range = DatumGetRangeTypeP(slot->tts_values[valid]);
		if (range_type == NULL)
			range_type = lookup_type_cache(RangeTypeGetOid(range), TYPECACHE_RANGE_INFO);
		range_deserialize(range_type, range, &lower, &upper, &empty);
		/* As SQL's lower_inf() .. upper() read them (an empty range matches nothing). */
		r->lower_inf = !empty && lower.infinite;
		r->upper_inf = !empty && upper.infinite;
		r->lower_inc = !empty && lower.inclusive;
		r->upper_inc = !empty && upper.inclusive;
		r->lower = empty || lower.infinite ? 0 : DatumGetTimestampTz(lower.val);
		r->upper = empty || upper.infinite ? 0 : DatumGetTimestampTz(upper.val);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	relation_close(rel, NoLock);
	return set;
}

static RuleSet *
load_rules(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = salesperf_load_point_rules(fcinfo->flinfo->fn_mcxt);
	return (RuleSet *) fcinfo->flinfo->fn_extra;
}

/* Same containment as tstzrange @> timestamptz. */
bool
salesperf_point_rule_in_force(const PointRule *r, TimestampTz at)
{
	if (!r->lower_inf && (r->lower_inc ? at < r->lower : at <= r->lower))
		return false;
	if (!r->upper_inf && (r->upper_inc ? at > r->upper : at >= r->upper))
		return false;
	return true;
}

/* The rules of one kind, in the same order (allocated in cxt). */
RuleSet *
salesperf_point_rules_of_kind(const RuleSet *set, const char *kind, MemoryContext cxt)
{
	RuleSet    *subset = MemoryContextAllocZero(cxt, sizeof(RuleSet));

	subset->rules = MemoryContextAllocZero(cxt, sizeof(PointRule) * Max(set->count, 1));
	for (int i = 0; i < set->count; i++)
		if (strcmp(set->rules[i].kind, kind) == 0)
			subset->rules[subset->count++] = set->rules[i];
	return subset;
}

/* Whether any of the rules is capped. */
bool
salesperf_point_rules_capped(const RuleSet *set)
{
	for (int i = 0; i < set->count; i++)
		if (set->rules[i].capped)
			return true;
	return false;
}

/* rule_points() for a kind given as a C string. */
Numeric
salesperf_uncapped_points(const RuleSet *set, const char *kind, Numeric amount, TimestampTz at)
{
	Datum		total = NumericGetDatum(int64_to_numeric(0));

	for (int i = 0; i < set->count; i++)
	{
		const PointRule *r = &set->rules[i];

		if (r->capped || strcmp(r->kind, kind) != 0 || !salesperf_point_rule_in_force(r, at))
			continue;
		total = DirectFunctionCall2(numeric_add, total, NumericGetDatum(r->points));
		total = DirectFunctionCall2(numeric_add, total,
									DirectFunctionCall2(numeric_mul,
														NumericGetDatum(r->points_per_amount),
														NumericGetDatum(amount)));
	}
	if (strcmp(kind, "bonus") == 0)
		total = DirectFunctionCall2(numeric_add, total, NumericGetDatum(amount));
	return DatumGetNumeric(total);
}

/* has_capped_rule() for a kind given as a C string. */
bool
salesperf_capped_rule_in_force(const RuleSet *set, const char *kind, TimestampTz at)
{
	for (int i = 0; i < set->count; i++)
	{
		const PointRule *r = &set->rules[i];

		if (r->capped && strcmp(r->kind, kind) == 0 && salesperf_point_rule_in_force(r, at))
			return true;
	}
	return false;
}

Datum
salesperf_rule_points(PG_FUNCTION_ARGS)
{
	RuleSet    *set = load_rules(fcinfo);
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_NUMERIC(salesperf_uncapped_points(set, kind, PG_GETARG_NUMERIC(1),
												PG_GETARG_TIMESTAMPTZ(2)));
}

Datum
salesperf_has_capped_rule(PG_FUNCTION_ARGS)
{
	RuleSet    *set = load_rules(fcinfo);
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(salesperf_capped_rule_in_force(set, kind, PG_GETARG_TIMESTAMPTZ(1)));
}
