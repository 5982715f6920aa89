/*
 * membership_trigger.c — salesperf.membership_inserted(): the statement
 * trigger after an INSERT into salesperf.membership.
 *
 * An org import inserts one membership per rep, often one statement per
 * rep (assign() in a SELECT over the reps), so this runs once per row and
 * is kept to index probes: lock the new rows' reps (as their ledger
 * writers do), refuse overlapping memberships of those reps (23P01), and
 * only if an activity falls in a new membership re-derive through
 * salesperf.membership_check() and membership_rederive(), as UPDATE and
 * DELETE do (membership_changed(), 55_maintenance.sql).  Reps without
 * activities in the new ranges -- every rep of an import into an empty
 * ledger -- never reach SQL.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "parser/parse_relation.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rangetypes.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "direct_rows.h"
#include "rep_locks.h"

PG_FUNCTION_INFO_V1(salesperf_membership_inserted);

/* The SQL path when activities change unit (membership_changed()'s last steps). */
static const char *const rederive_sql =
"SELECT salesperf.membership_rederive(c.reps, c.days)"
"  FROM salesperf.membership_check($1, $2, $1) c"
" WHERE c.reps IS NOT NULL";

static char *
range_text(Datum range, Oid range_type)
{
	Oid			output;
	bool		varlena;

	getTypeOutputInfo(range_type, &output, &varlena);
	return OidOutputFunctionCall(output, range);
}

/*
 * Refuse overlapping memberships of the rep: sorted by start (the index
 * order of membership_rep_idx), they overlap if and only if two neighbours
 * do -- the same pair membership_check() reports.
 */
static void
check_overlaps(Relation membership_rel, int64 rep_id, TypeCacheEntry **range_type)
{
	DirectKey	k = {BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rep_id)};
	DirectProbe p;
	AttrNumber	during;
	Datum		previous = (Datum) 0;
	bool		has_previous = false;

	salesperf_probe_begin(&p, "membership", "membership_rep_idx", 1, &k);
	during = attnameAttNum(p.rel, "during", false);
	while (salesperf_probe_next(&p, ForwardScanDirection))
	{
		bool		isnull;
		Datum		current = slot_getattr(p.row, during, &isnull);
		RangeType  *range = DatumGetRangeTypeP(current);

		if (*range_type == NULL)
			*range_type = lookup_type_cache(RangeTypeGetOid(range), TYPECACHE_RANGE_INFO);
		if (has_previous &&
			range_overlaps_internal(*range_type, DatumGetRangeTypeP(previous), range))
			ereport(ERROR,
					(errcode(ERRCODE_EXCLUSION_VIOLATION),
					 errmsg("memberships of rep " INT64_FORMAT " overlap: %s and %s", rep_id,
							range_text(previous, (*range_type)->type_id),
							range_text(current, (*range_type)->type_id)),
					 errhint("A rep belongs to one unit at a time: end the earlier membership first, or use salesperf.assign()."),
					 errtableconstraint(membership_rel, "membership_no_overlap")));
		previous = datumCopy(current, false, -1);
		has_previous = true;
	}
	salesperf_probe_end(&p);
}

/*
 * How many of the rep's activities fall in `range` (half-open, finite
 * start), read with the active snapshot; counting stops at `enough`.
 */
static int64
activities_in(int64 rep_id, RangeType *range, TypeCacheEntry *range_type, int64 enough)
{
	RangeBound	lower,
				upper;
	bool		empty;
	DirectKey	k[2];
	DirectProbe p;
	int64		found = 0;

	range_deserialize(range_type, range, &lower, &upper, &empty);
	if (empty)
		return 0;
	k[0] = (DirectKey) {BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rep_id)};
	k[1] = (DirectKey) {lower.inclusive ? BTGreaterEqualStrategyNumber : BTGreaterStrategyNumber,
		lower.inclusive ? F_TIMESTAMPTZ_GE : F_TIMESTAMPTZ_GT, lower.val};
	salesperf_probe_begin(&p, "activity", "activity_rep_time_idx", lower.infinite ? 1 : 2, k);
	while (found < enough && salesperf_probe_next(&p, ForwardScanDirection))
	{
		bool		isnull;
		Datum		at = slot_getattr(p.row, attnameAttNum(p.rel, "occurred_at", false), &isnull);

		if (!upper.infinite &&
			!DatumGetBool(DirectFunctionCall2(upper.inclusive ? timestamp_le : timestamp_lt,
											  at, upper.val)))
			break;
		found++;
	}
	salesperf_probe_end(&p);
	return found;
}

/*
 * Under SERIALIZABLE the transaction's snapshot is older than the rep
 * locks: a READ COMMITTED ledger writer that held a lock before (and is
 * invisible to serializable conflict detection) may have committed an
 * activity in the new range, counted for the rep's unit then.  Unless the
 * range holds as many activities now as in the snapshot, 40001, as for a
 * concurrent change of the memberships (rep_locks.c).
 */
static void
check_activities_unchanged(int64 rep_id, RangeType *range, TypeCacheEntry *range_type)
{
	int64		seen = activities_in(rep_id, range, range_type, PG_INT64_MAX);
	int64		now;

	PushActiveSnapshot(GetLatestSnapshot());
	now = activities_in(rep_id, range, range_type, PG_INT64_MAX);
	PopActiveSnapshot();
	if (seen != now)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of the activities of rep " INT64_FORMAT,
						rep_id),
				 errdetail("Another transaction committed activities of the rep in the new membership's range after this transaction took its snapshot."),
				 errhint("The transaction might succeed if retried.")));
}

Datum
salesperf_membership_inserted(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata;
	Tuplestorestate *rows;
	TupleDesc	desc;
	TupleTableSlot *slot;
	int			rep_col,
				during_col;
	int64		n,
				size = 16,
				distinct;
	int64	   *reps,
			   *sorted;
	Datum	   *ranges;
	TypeCacheEntry *range_type = NULL;
	bool		moved = false;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf_membership_inserted() must be called as a trigger")));
	trigdata = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) || !TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || trigdata->tg_newtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf_membership_inserted() must be an AFTER INSERT ... FOR EACH STATEMENT trigger with a NEW TABLE")));
	if (strcmp(RelationGetRelationName(trigdata->tg_relation), "membership") != 0 ||
		strcmp(get_namespace_name(RelationGetNamespace(trigdata->tg_relation)), "salesperf") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf_membership_inserted() fired by table \"%s\"",
						RelationGetRelationName(trigdata->tg_relation)),
				 errdetail("It maintains derived state after writes of salesperf.membership only.")));

	rows = trigdata->tg_newtable;
	desc = RelationGetDescr(trigdata->tg_relation);
	rep_col = attnameAttNum(trigdata->tg_relation, "rep_id", false);
	during_col = attnameAttNum(trigdata->tg_relation, "during", false);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	reps = palloc(sizeof(int64) * size);
	ranges = palloc(sizeof(Datum) * size);
	n = 0;
	tuplestore_select_read_pointer(rows, 0);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;

		if (n == size)
		{
			size *= 2;
			reps = repalloc_huge(reps, sizeof(int64) * size);
			ranges = repalloc_huge(ranges, sizeof(Datum) * size);
		}
		reps[n] = DatumGetInt64(slot_getattr(slot, rep_col, &isnull));
		ranges[n] = datumCopy(slot_getattr(slot, during_col, &isnull), false, -1);
		n++;
	}
	ExecDropSingleTupleTableSlot(slot);
	if (n == 0)
		return PointerGetDatum(NULL);

	/* The new rows' reps exist: their foreign key was checked first. */
	sorted = palloc(sizeof(int64) * n);
	memcpy(sorted, reps, sizeof(int64) * n);
	distinct = salesperf_sort_distinct_ids(sorted, n);
	salesperf_lock_rep_ids(sorted, (int) distinct);

	/* With the reps locked: read as a new statement would. */
	salesperf_direct_read_begin();
	for (int64 i = 0; i < distinct; i++)
		check_overlaps(trigdata->tg_relation, sorted[i], &range_type);
	for (int64 i = 0; i < n; i++)
	{
		RangeType  *range = DatumGetRangeTypeP(ranges[i]);

		if (range_type == NULL)
			range_type = lookup_type_cache(RangeTypeGetOid(range), TYPECACHE_RANGE_INFO);
		if (IsolationIsSerializable())
			check_activities_unchanged(reps[i], range, range_type);
		if (!moved)
			moved = activities_in(reps[i], range, range_type, 1) > 0;
	}
	salesperf_direct_read_end();

	/* Activities change unit: the days they count on are re-derived. */
	if (moved)
	{
		Oid			types[2] = {INT8ARRAYOID, get_array_type(range_type->type_id)};
		Datum		args[2];
		Datum	   *rep_datums = palloc(sizeof(Datum) * n);

		for (int64 i = 0; i < n; i++)
			rep_datums[i] = Int64GetDatum(reps[i]);
		args[0] = PointerGetDatum(construct_array(rep_datums, (int) n, INT8OID, 8, FLOAT8PASSBYVAL,
												  TYPALIGN_DOUBLE));
		args[1] = PointerGetDatum(construct_array(ranges, (int) n, range_type->type_id,
												  range_type->typlen, range_type->typbyval,
												  range_type->typalign));
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "salesperf: SPI_connect failed");
		if (SPI_execute_with_args(rederive_sql, 2, types, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "salesperf: could not re-derive the activities of new memberships");
		SPI_finish();
	}
	return PointerGetDatum(NULL);
}
