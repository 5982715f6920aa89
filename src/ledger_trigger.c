/*
 * ledger_trigger.c — keeps derived state in step with salesperf.activity.
 *
 * One statement-level AFTER trigger per event, with transition tables.
 * Each statement locks the reps it touches (see lock_reps) and validates
 * its new rows, then
 *   INSERT of one row (record(), a CRM's single-row INSERT): prepared,
 *                   parameterized statements that touch only the keys the
 *                   row changes (one_row_inserted; its counter and
 *                   standings: one_row_delta.c);
 *   INSERT of more: the same steps, set-based, over the transition table
 *     (its reps, kinds and bad rows found in one pass: new_rows_scan.c):
 *     1. capped rules: a (rep, local day, kind) whose new rows all come
 *        after its last activity so far (occurred_at later than the
 *        counters' last_at) earns from the day's running total: what the
 *        rule already awarded that day (capped_award) plus the new rows
 *        before it, in (occurred_at, activity_id) order (computed in C:
 *        bulk_awards.c).  Other (rep, day, kind) -- back-dated rows,
 *        ties -- are re-derived from the ledger (rederive);
 *     2. adds the other rows to the KPI counters and to every board's
 *        standings: grouped in C (bulk_delta.c, bulk_standings.c), then
 *        one upsert per touched key, keys in order;
 *     3. awards badges and announces podium entries (after_change; one
 *        row: salesperf_after_one_write, write_notifications.c);
 *   UPDATE, DELETE: re-derives every (rep, local day) its old and new rows
 *                   touch from the ledger and refreshes the standings fed.
 * Re-derivation is the same SQL that recompute() runs; the randomized tests
 * check that both insert paths agree with it.
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"

#include "bulk_awards.h"
#include "bulk_delta.h"
#include "bulk_standings.h"
#include "new_rows_scan.h"
#include "one_row_delta.h"
#include "one_row_probe.h"
#include "point_rules.h"
#include "rep_locks.h"
#include "write_notifications.h"

PG_FUNCTION_INFO_V1(salesperf_ledger_changed);

/* Transition table names, as declared by the triggers in the install script. */
#define NEW_ROWS "salesperf_new"
#define OLD_ROWS "salesperf_old"

/* Local day of an activity row `x`, joined with settings `s` (one definition: salesperf.local_day). */
#define LOCAL_DAY(x) "salesperf.local_day(" x ".occurred_at, s.time_zone)"

/* Unknown reps are refused by lock_reps(), which locks the reps' rows. */
static const char *const validate_sql =
"SELECT n.kind, n.amount::text, n.occurred_at::text, k.kind IS NULL AS unknown_kind"
"  FROM " NEW_ROWS " n"
"  LEFT JOIN salesperf.activity_kind k ON k.kind = n.kind"
" WHERE k.kind IS NULL"
"    OR n.amount < 0 OR n.amount = 'NaN'::numeric OR n.amount = 'Infinity'::numeric"
"    OR NOT pg_catalog.isfinite(n.occurred_at)";

/* How many of the kinds $1 are known (the bulk path's check of its new rows' kinds). */
static const char *const known_kinds_sql =
"SELECT pg_catalog.count(*) FROM salesperf.activity_kind k WHERE k.kind = ANY ($1::text[])";

/*
 * An UPDATE may move activities to another rep: lock the old and the new
 * reps together, in one ordered pass, before re-deriving either.  Locking
 * the new ones first and the old ones later would take locks out of order.
 */
static const char *const lock_both_sql =
"SELECT salesperf.lock_reps(pg_catalog.array_agg(DISTINCT x.rep_id))"
"  FROM (SELECT rep_id FROM " NEW_ROWS " UNION ALL SELECT rep_id FROM " OLD_ROWS ") x";


/*
 * Capped rows of a bulk insert: the new rows of a kind with a capped rule
 * in force, with their local day.
 */
#define CAPPED_NEW \
"SELECT n.activity_id, n.rep_id, n.kind, n.amount, n.occurred_at, " LOCAL_DAY("n") " AS day" \
"  FROM " NEW_ROWS " n CROSS JOIN salesperf.settings s" \
" WHERE salesperf.has_capped_rule(n.kind, n.occurred_at)"

/*
 * The (rep, local day, kind) of capped rows that do not all come after the
 * last activity of that rep, day and kind so far (counters' last_at; a tie
 * counts as before): these are re-derived from the ledger.  Three parallel
 * arrays, NULL when there are none.
 */
static const char *const late_sql =
"SELECT pg_catalog.array_agg(p.rep_id), pg_catalog.array_agg(p.day), pg_catalog.array_agg(p.kind)"
"  FROM (SELECT c.rep_id, c.day, c.kind, pg_catalog.min(c.occurred_at) AS first_at"
"          FROM (" CAPPED_NEW ") c GROUP BY 1, 2, 3) p"
" WHERE EXISTS (SELECT 1 FROM salesperf.kpi_counter k"
"                WHERE k.rep_id = p.rep_id AND k.day = p.day AND k.kind = p.kind"
"                  AND k.last_at >= p.first_at)";

/*
 * The capped awards of a bulk insert, computed in C (bulk_awards.c) and
 * read from the ephemeral relation BULK_AWARDS_RELATION, in key order.
 */
static const char *const insert_awards_sql =
"INSERT INTO salesperf.capped_award (activity_id, rule_id, rep_id, day, kind, points)"
"SELECT a.activity_id, a.rule_id, a.rep_id, a.day, a.kind, a.points"
"  FROM " BULK_AWARDS_RELATION " a";

/*
 * The bulk insert path's merge.  bulk_delta.c has grouped the new rows but
 * the late ones into counter deltas (rep x unit x local day x kind,
 * BULK_DELTA_RELATION) and summed what they add to every board's
 * standings (BULK_STANDINGS_RELATION), both in key order: one upsert per touched key, keys in
 * order.  Returns the (rep, local day) pairs of all new rows, late ones
 * included ($1, $2), as two arrays (none: no row).
 */
static const char *const merge_sql =
"WITH counters AS ("
"   INSERT INTO salesperf.kpi_counter AS c (rep_id, unit_id, day, kind, activities, amount,"
"                                           points, last_at, last_amount_at, last_point_at)"
"   SELECT d.rep_id, d.unit_id, d.day, d.kind, d.activities, d.amount, d.points,"
"          d.last_at, d.last_amount_at, d.last_point_at"
"     FROM " BULK_DELTA_RELATION " d"
"    ORDER BY d.rep_id, d.day, d.kind, d.unit_id"
"   ON CONFLICT (rep_id, day, kind, unit_id) DO UPDATE SET"
"          activities = c.activities + EXCLUDED.activities,"
"          amount = c.amount + EXCLUDED.amount,"
"          points = c.points + EXCLUDED.points,"
"          last_at = GREATEST(c.last_at, EXCLUDED.last_at),"
"          last_amount_at = GREATEST(c.last_amount_at, EXCLUDED.last_amount_at),"
"          last_point_at = GREATEST(c.last_point_at, EXCLUDED.last_point_at)),"
" standings AS ("
"   INSERT INTO salesperf.standing AS st (board_id, period_start, participant_id, contributor_id,"
"                                         num, den, direction, reached_at)"
"   SELECT g.board_id, g.period_start, g.participant_id, g.contributor_id, g.num, g.den,"
"          g.direction, g.reached_at"
"     FROM " BULK_STANDINGS_RELATION " g"
"    ORDER BY 1, 2, 4, 3"
"   ON CONFLICT (board_id, period_start, contributor_id, participant_id) DO UPDATE SET"
"          num = st.num + EXCLUDED.num,"
"          den = st.den + EXCLUDED.den,"
"          reached_at = GREATEST(st.reached_at, EXCLUDED.reached_at))"
" SELECT pg_catalog.array_agg(k.rep_id), pg_catalog.array_agg(k.day)"
"   FROM (SELECT d.rep_id, d.day FROM " BULK_DELTA_RELATION " d"
"          UNION"
"         SELECT l.rep_id, l.day"
"           FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::date[])) AS l(rep_id, day)) k"
"  HAVING pg_catalog.count(*) > 0";

/* Late capped rows: their (rep, day) pairs' counters of those kinds are re-derived. */
static const char *const rederive_late_sql =
"SELECT salesperf.rederive($1, $2, (SELECT pg_catalog.array_agg(DISTINCT k) FROM pg_catalog.unnest($3::text[]) k),"
"                          false)";

/*
 * Badges earned and podium entries (salesperf.after_change) of the new
 * rows: $1, $2 their (rep, local day) pairs, $3 their kinds (NULL: any).
 */
static const char *const after_new_sql =
"SELECT salesperf.after_change($1, $2, $3)";

/*
 * The one-row path.  Parameters: $1 activity_id, $2 rep_id, $3 kind,
 * $4 amount, $5 occurred_at, $6 its local day.  What the row needs to know
 * first (its kind known, local day, unit, uncapped points, a capped rule in
 * force, late or not) is read in C (one_row_probe.c); the capped awards it
 * earns are added to its points (one_award_sql returns them).  Counters
 * and standings are then written by salesperf_add_one_row
 * (one_row_delta.c).
 */

/* A capped row after its day's last activity earns the cap's remainder. */
static const char *const one_award_sql =
"INSERT INTO salesperf.capped_award (activity_id, rule_id, rep_id, day, kind, points)"
"SELECT $1, r.rule_id, $2, $6, $3, e.earned"
"  FROM salesperf.point_rule r"
" CROSS JOIN LATERAL ("
"       SELECT LEAST(r.points + r.points_per_amount * $4,"
"                    GREATEST(0, r.daily_cap - COALESCE((SELECT pg_catalog.sum(a.points)"
"                                                          FROM salesperf.capped_award a"
"                                                         WHERE a.rep_id = $2 AND a.day = $6"
"                                                           AND a.rule_id = r.rule_id), 0))) AS earned) e"
" WHERE r.kind = $3 AND r.active AND r.daily_cap IS NOT NULL AND r.valid @> $5 AND e.earned <> 0"
" ORDER BY r.rule_id"
" RETURNING points";

static const char *const one_rederive_sql =
"SELECT salesperf.rederive(ARRAY[$2::bigint], ARRAY[$6::date], ARRAY[$3::text], false)";

/* Every (rep, local day) pair a statement touched, as two arrays. */
#define TOUCHED_DAYS(rows) \
"  FROM (SELECT DISTINCT x.rep_id, " LOCAL_DAY("x") " AS day" \
"          FROM (" rows ") x CROSS JOIN salesperf.settings s) k" \
" HAVING pg_catalog.count(*) > 0"

#define NEW_ONLY  "SELECT rep_id, occurred_at FROM " NEW_ROWS
#define OLD_ONLY  "SELECT rep_id, occurred_at FROM " OLD_ROWS
#define OLD_AND_NEW OLD_ONLY " UNION " NEW_ONLY

/* rederive() locks the reps, rebuilds their days and refreshes standings. */
#define REDERIVE(rows) \
"SELECT salesperf.rederive(pg_catalog.array_agg(k.rep_id), pg_catalog.array_agg(k.day))" \
TOUCHED_DAYS(rows)

static const char *const rederive_old_sql = REDERIVE(OLD_ONLY);
static const char *const rederive_both_sql = REDERIVE(OLD_AND_NEW);

static const char *const truncate_sql =
"TRUNCATE salesperf.capped_award, salesperf.kpi_counter, salesperf.standing, salesperf.standing_tally";

/* Plans are prepared once per backend and kept. */
/* What a cached statement's parameters are. */
typedef enum
{
	ARGS_NONE,					/* reads the transition tables only */
	ARGS_LATE,					/* $1 bigint[], $2 date[], $3 text[]: late triples,
								 * or the (rep, day) pairs and kinds of new rows */
	ARGS_KINDS,					/* $1 text[] */
	ARGS_ROW					/* $1..$6: one new row and its local day */
} StatementArgs;

#define LATE_NARGS 3
#define ROW_NARGS 6

/* Plans are prepared once per backend and kept. */
typedef struct CachedStatement
{
	const char *const *sql;
	StatementArgs args;
	SPIPlanPtr	plan;
} CachedStatement;

static CachedStatement statements[] = {
	{&validate_sql}, {&known_kinds_sql, ARGS_KINDS}, {&lock_both_sql},
	{&late_sql}, {&insert_awards_sql}, {&merge_sql, ARGS_LATE},
	{&rederive_late_sql, ARGS_LATE}, {&after_new_sql, ARGS_LATE},
	{&one_award_sql, ARGS_ROW},
	{&one_rederive_sql, ARGS_ROW},
	{&rederive_old_sql}, {&rederive_both_sql}, {&truncate_sql}
};

static SPIPlanPtr
prepared(const char *const *sql)
{
	CachedStatement *cs = NULL;

	for (size_t i = 0; i < lengthof(statements); i++)
	{
		if (statements[i].sql == sql)
		{
			cs = &statements[i];
			break;
		}
	}
	Assert(cs != NULL);
	if (cs->plan == NULL)
	{
		static Oid	late_types[LATE_NARGS] = {INT8ARRAYOID, DATEARRAYOID, TEXTARRAYOID};
		static Oid	row_types[ROW_NARGS] = {INT8OID, INT8OID, TEXTOID, NUMERICOID,
		TIMESTAMPTZOID, DATEOID};
		SPIPlanPtr	plan;

		switch (cs->args)
		{
			case ARGS_LATE:
				plan = SPI_prepare(*sql, LATE_NARGS, late_types);
				break;
			case ARGS_KINDS:
				plan = SPI_prepare(*sql, 1, &late_types[2]);
				break;
			case ARGS_ROW:
				/*
				 * One row's keys: the same plan suits every row, and the
				 * plan cache would otherwise plan these again on every
				 * write (a custom plan's estimate, with the row's values
				 * folded in, always looks cheaper).
				 */
				plan = SPI_prepare_cursor(*sql, ROW_NARGS, row_types, CURSOR_OPT_GENERIC_PLAN);
				break;
			default:
				plan = SPI_prepare(*sql, 0, NULL);
				break;
		}
		if (plan == NULL)
			elog(ERROR, "salesperf: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "salesperf: SPI_keepplan failed");
		cs->plan = plan;
	}
	return cs->plan;
}

/*
 * Run a cached statement with its parameters (NULL for none; nulls as
 * SPI_execute_plan takes them); stop after max_rows rows (0: all).
 * Limiting rows here rather than with LIMIT keeps the planner on its bulk
 * (hash join) plan.
 */
static void
run_with(const char *const *sql, Datum *values, const char *nulls, long max_rows)
{
	int			rc = SPI_execute_plan(prepared(sql), values, nulls, false, max_rows);

	if (rc < 0)
		elog(ERROR, "salesperf: ledger maintenance statement failed: %s", SPI_result_code_string(rc));
}

static void
run_limited(const char *const *sql, long max_rows)
{
	run_with(sql, NULL, NULL, max_rows);
}

static void
run(const char *const *sql)
{
	run_limited(sql, 0);
}

static void report_bad_row(bool unknown_kind, const char *kind, const char *amount,
						   const char *occurred_at) pg_attribute_noreturn();

/* The error for a bad new row (see validate_sql for which comes first). */
static void
report_bad_row(bool unknown_kind, const char *kind, const char *amount, const char *occurred_at)
{
	if (unknown_kind)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown activity kind \"%s\"", kind),
				 errhint("See salesperf.activity_kind.")));
	if (occurred_at != NULL && (strcmp(occurred_at, "infinity") == 0 ||
								strcmp(occurred_at, "-infinity") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("occurred_at must be finite, not %s", occurred_at)));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("invalid amount %s for an activity of kind \"%s\"", amount, kind),
			 errdetail("Activity amounts must be finite and not negative.")));
}

/* Raise the error for the first bad row of the statement, if any. */
static void
validate_new_rows(void)
{
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	char	   *kind,
			   *amount,
			   *occurred_at;

	run_limited(&validate_sql, 1);
	if (SPI_processed == 0)
		return;

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	kind = SPI_getvalue(row, desc, 1);
	amount = SPI_getvalue(row, desc, 2);
	occurred_at = SPI_getvalue(row, desc, 3);

	report_bad_row(DatumGetBool(SPI_getbinval(row, desc, 4, &isnull)), kind, amount, occurred_at);
}

/*
 * This function maintains salesperf's own derived tables: refuse to run as
 * a trigger of any other table, whose rows would forge counters.
 */
static void
require_ledger(Relation rel)
{
	Oid			schema = get_namespace_oid("salesperf", true);

	if (!OidIsValid(schema) ||
		RelationGetRelid(rel) != get_relname_relid("activity", schema))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf_ledger_changed() fired by table \"%s\"", RelationGetRelationName(rel)),
				 errdetail("It maintains derived state from salesperf.activity only.")));
}

static bool
is_empty(Tuplestorestate *rows)
{
	return rows == NULL || tuplestore_tuple_count(rows) == 0;
}

/* A column of the ledger row in `slot`, by name (never NULL: NOT NULL columns). */
static Datum
ledger_column(TupleTableSlot *slot, const char *name)
{
	int			attnum = SPI_fnumber(slot->tts_tupleDescriptor, name);
	bool		isnull;
	Datum		value;

	if (attnum <= 0)
		elog(ERROR, "salesperf: salesperf.activity has no column \"%s\"", name);
	value = slot_getattr(slot, attnum, &isnull);
	if (isnull)
		elog(ERROR, "salesperf: NULL %s in salesperf.activity", name);
	return value;
}

/* Copy of column `col` of the first result row (NULL: `*null` set). */
static Datum
result_value(int col, char *null)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	*null = isnull ? 'n' : ' ';
	return isnull ? (Datum) 0 : datumCopy(d, false, -1);
}

/*
 * The new rows' reps are locked, then their rows checked: a bad row or an
 * unknown kind is named by validate_new_rows(), as it always was.
 */
static void
lock_and_check_new_rows(const NewRowsSummary *rows)
{
	salesperf_lock_rep_ids(rows->reps, rows->rep_count);
	if (rows->bad_row)
	{
		validate_new_rows();
		return;
	}
	{
		Datum		kinds = rows->kinds;
		bool		isnull;

		run_with(&known_kinds_sql, &kinds, NULL, 0);
		if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull))
			!= rows->kind_count)
			validate_new_rows();
	}
}

/*
 * INSERT of more than one row: the set-based path over the transition
 * table (see the file's header).
 */
static void
rows_inserted(TriggerData *trigdata)
{
	NewRowsSummary new_rows;
	Datum		late[LATE_NARGS];
	char		late_nulls[LATE_NARGS];
	Datum		after[LATE_NARGS];
	char		after_nulls[LATE_NARGS];
	RuleSet    *rules;
	HTAB	   *late_triples = NULL;
	pg_tz	   *zone;
	BulkAwards	awards;
	bool		capped;
	BulkDelta	registered;

	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "salesperf: could not register transition tables");
	salesperf_scan_new_rows(trigdata, &new_rows);
	lock_and_check_new_rows(&new_rows);

	/* Without a capped rule there are neither late rows nor capped awards. */
	rules = salesperf_load_point_rules(CurrentMemoryContext);
	zone = salesperf_settings_zone();
	capped = salesperf_point_rules_capped(rules);
	if (capped)
	{
		run(&late_sql);
		for (int i = 0; i < LATE_NARGS; i++)
			late[i] = result_value(i + 1, &late_nulls[i]);
		late_triples = salesperf_late_triples(&new_rows, late, late_nulls, CurrentMemoryContext);
		salesperf_register_bulk_awards(trigdata, &new_rows, rules, late_triples, zone, &awards);
		if (awards.count > 0)
			run(&insert_awards_sql);
		salesperf_end_bulk_awards(&awards);
	}
	else
		late_nulls[0] = late_nulls[1] = late_nulls[2] = 'n';

	salesperf_register_bulk_delta(trigdata, &new_rows, rules, late_triples, zone,
								  capped ? &awards : NULL, &registered);
	run_with(&merge_sql, late, late_nulls, 0);
	after[0] = result_value(1, &after_nulls[0]);
	after[1] = result_value(2, &after_nulls[1]);
	salesperf_end_bulk_delta(&registered);
	after[2] = new_rows.kinds;
	after_nulls[2] = ' ';
	if (late_nulls[0] != 'n')
		run_with(&rederive_late_sql, late, late_nulls, 0);
	if (after_nulls[0] != 'n')
		run_with(&after_new_sql, after, after_nulls, 0);
}

/*
 * INSERT of one row (record(), a CRM's single-row INSERT): prepared,
 * parameterized statements over the row's own keys, none of which reads
 * the transition table.  Same state as rows_inserted(): the property tests
 * hold both to recompute().
 */
static void
one_row_inserted(TriggerData *trigdata)
{
	Tuplestorestate *rows = trigdata->tg_newtable;
	TupleTableSlot *slot;
	Datum		values[ROW_NARGS];
	char		nulls[ROW_NARGS] = {' ', ' ', ' ', ' ', ' ', 'n'};
	int64		rep_id;
	Numeric		amount;
	TimestampTz occurred_at;
	OneRowProbe probe;
	bool		isnull;
	bool		capped,
				late;
	OneRowDelta delta;

	slot = MakeSingleTupleTableSlot(RelationGetDescr(trigdata->tg_relation), &TTSOpsMinimalTuple);
	tuplestore_select_read_pointer(rows, 0);
	tuplestore_rescan(rows);
	if (!tuplestore_gettupleslot(rows, true, false, slot))
		elog(ERROR, "salesperf: the inserted row is missing from the transition table");

	values[0] = ledger_column(slot, "activity_id");
	values[1] = ledger_column(slot, "rep_id");
	values[2] = ledger_column(slot, "kind");
	values[3] = ledger_column(slot, "amount");
	values[4] = ledger_column(slot, "occurred_at");
	rep_id = DatumGetInt64(values[1]);
	amount = DatumGetNumeric(values[3]);
	occurred_at = DatumGetTimestampTz(values[4]);

	salesperf_lock_one_rep(rep_id);

	/* A bad row: let the set-based check name the error, as for many rows. */
	if (TIMESTAMP_NOT_FINITE(occurred_at) || numeric_is_nan(amount) || numeric_is_inf(amount) ||
		DatumGetBool(DirectFunctionCall2(numeric_lt, values[3],
										 NumericGetDatum(int64_to_numeric(0)))))
	{
		if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
			elog(ERROR, "salesperf: could not register transition tables");
		validate_new_rows();
		elog(ERROR, "salesperf: invalid activity row not reported");
	}

	salesperf_probe_one_row(rep_id, values[2], values[3], occurred_at, salesperf_one_row_time_zone(),
							&probe);
	if (!probe.known)
		report_bad_row(true, TextDatumGetCString(values[2]), NULL, NULL);
	values[5] = probe.day;
	nulls[5] = ' ';
	capped = probe.capped;
	late = probe.late;

	delta.rep_id = rep_id;
	delta.unit_id = probe.unit_id;
	delta.unit_null = probe.unit_null;
	delta.day = values[5];
	delta.kind = values[2];
	delta.amount = values[3];
	delta.points = probe.uncapped_points;
	delta.occurred_at = occurred_at;

	if (capped && late)
		run_with(&one_rederive_sql, values, nulls, 0);
	else
	{
		/* What the capped rules award the row, added to the rest. */
		if (capped)
		{
			run_with(&one_award_sql, values, nulls, 0);
			for (uint64 i = 0; i < SPI_processed; i++)
				delta.points = DirectFunctionCall2(numeric_add, delta.points,
												   SPI_getbinval(SPI_tuptable->vals[i],
																 SPI_tuptable->tupdesc, 1, &isnull));
		}
		salesperf_add_one_row(&delta);
	}
	/* Badges, podium, targets: after_change() for one row, in C. */
	salesperf_after_one_write(rep_id, values[5], values[2]);
	ExecDropSingleTupleTableSlot(slot);
}

Datum
salesperf_ledger_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata;
	TriggerEvent event;
	int			guc_nest_level;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf_ledger_changed() must be called as a trigger")));
	trigdata = (TriggerData *) fcinfo->context;
	event = trigdata->tg_event;
	if (!TRIGGER_FIRED_AFTER(event) || !TRIGGER_FIRED_FOR_STATEMENT(event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf_ledger_changed() must be an AFTER ... FOR EACH STATEMENT trigger")));

	require_ledger(trigdata->tg_relation);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");

	/*
	 * These statements are short and run once per write: compiling them
	 * with JIT would cost more than they do.  Restored when we return.
	 */
	guc_nest_level = NewGUCNestLevel();
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	if (TRIGGER_FIRED_BY_TRUNCATE(event))
	{
		run(&truncate_sql);
		AtEOXact_GUC(true, guc_nest_level);
		SPI_finish();
		return PointerGetDatum(NULL);
	}

	if (TRIGGER_FIRED_BY_INSERT(event))
	{
		Tuplestorestate *rows = trigdata->tg_newtable;

		if (rows != NULL && tuplestore_tuple_count(rows) == 1)
			one_row_inserted(trigdata);
		else if (!is_empty(rows))
			rows_inserted(trigdata);
	}
	else if (TRIGGER_FIRED_BY_UPDATE(event))
	{
		if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
			elog(ERROR, "salesperf: could not register transition tables");
		if (!is_empty(trigdata->tg_newtable))
		{
			run(&lock_both_sql);
			validate_new_rows();
			run(&rederive_both_sql);
		}
	}
	else if (TRIGGER_FIRED_BY_DELETE(event))
	{
		if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
			elog(ERROR, "salesperf: could not register transition tables");
		if (!is_empty(trigdata->tg_oldtable))
		{
			run(&rederive_old_sql);
		}
	}

	AtEOXact_GUC(true, guc_nest_level);
	SPI_finish();
	return PointerGetDatum(NULL);
}
