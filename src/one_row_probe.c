/*
 * one_row_probe.c — what the one-row insert path needs to know about its
 * row before it writes: whether the kind exists, the row's local day, the
 * rep's unit at that moment, what the uncapped rules of the kind award it,
 * whether a capped rule is in force, and whether the rep's counter of
 * that day and kind already holds an activity at or after it (a late row,
 * re-derived rather than added).
 *
 * Each is an index probe or, for the handful of point rules, a scan of
 * their table, read in C under the snapshot a new statement would take:
 * planning and starting one statement for them cost several times their
 * work.  rule_points() and has_capped_rule() (point_rules.c) answer the
 * same questions for SQL; the property tests hold this path to
 * recompute().
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "parser/parse_relation.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rangetypes.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "direct_rows.h"
#include "one_row_probe.h"
#include "point_rules.h"

extern Datum salesperf_local_day(PG_FUNCTION_ARGS);

/* Whether salesperf.activity_kind has `kind`. */
static bool
kind_known(Datum kind)
{
	DirectKey	k = {BTEqualStrategyNumber, F_TEXTEQ, kind};
	DirectProbe p;
	bool		found;

	salesperf_probe_begin(&p, "activity_kind", "activity_kind_pkey", 1, &k);
	found = salesperf_probe_next(&p, ForwardScanDirection);
	salesperf_probe_end(&p);
	return found;
}

/* Whether a counter row of (rep, day, kind), any unit, has last_at >= at. */
static bool
counter_has_later(int64 rep_id, Datum day, Datum kind, TimestampTz at)
{
	DirectKey	k[3] = {
		{BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rep_id)},
		{BTEqualStrategyNumber, F_DATE_EQ, day},
		{BTEqualStrategyNumber, F_TEXTEQ, kind}
	};
	DirectProbe p;
	AttrNumber	last_at;
	bool		late = false;

	salesperf_probe_begin(&p, "kpi_counter", "kpi_counter_key", 3, k);
	last_at = attnameAttNum(p.rel, "last_at", false);
	while (!late && salesperf_probe_next(&p, ForwardScanDirection))
	{
		bool		isnull;
		Datum		v = slot_getattr(p.row, last_at, &isnull);

		late = !isnull && DatumGetTimestampTz(v) >= at;
	}
	salesperf_probe_end(&p);
	return late;
}

/* The rep's unit at `at` (memberships of a rep never overlap). */
static void
unit_at(int64 rep_id, TimestampTz at, Datum *unit_id, bool *unit_null)
{
	DirectKey	k = {BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rep_id)};
	DirectProbe p;
	AttrNumber	during;
	AttrNumber	unit;
	TypeCacheEntry *range_type = NULL;

	salesperf_probe_begin(&p, "membership", "membership_rep_idx", 1, &k);
	during = attnameAttNum(p.rel, "during", false);
	unit = attnameAttNum(p.rel, "unit_id", false);
	*unit_null = true;
	*unit_id = (Datum) 0;
	while (salesperf_probe_next(&p, ForwardScanDirection))
	{
		bool		isnull;
		RangeType  *range = DatumGetRangeTypeP(slot_getattr(p.row, during, &isnull));

		if (range_type == NULL)
			range_type = lookup_type_cache(RangeTypeGetOid(range), TYPECACHE_RANGE_INFO);
		if (!range_contains_elem_internal(range_type, range, TimestampTzGetDatum(at)))
			continue;
		*unit_id = slot_getattr(p.row, unit, unit_null);
		break;
	}
	salesperf_probe_end(&p);
}

void
salesperf_probe_one_row(int64 rep_id, Datum kind, Datum amount, TimestampTz at,
						Datum time_zone, OneRowProbe *probe)
{
	char	   *kind_name = TextDatumGetCString(kind);
	RuleSet    *rules;

	salesperf_direct_read_begin();
	probe->known = kind_known(kind);
	if (probe->known)
	{
		probe->day = DirectFunctionCall2(salesperf_local_day, TimestampTzGetDatum(at), time_zone);
		rules = salesperf_scan_point_rules(CurrentMemoryContext);
		probe->capped = salesperf_capped_rule_in_force(rules, kind_name, at);
		probe->late = probe->capped && counter_has_later(rep_id, probe->day, kind, at);
		unit_at(rep_id, at, &probe->unit_id, &probe->unit_null);
		probe->uncapped_points = NumericGetDatum(salesperf_uncapped_points(rules, kind_name,
																		   DatumGetNumeric(amount), at));
	}
	salesperf_direct_read_end();
}
