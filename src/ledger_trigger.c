/*
 * ledger_trigger.c — keeps derived state in step with salesperf.activity.
 *
 * One statement-level AFTER trigger per event, with transition tables, so a
 * CRM's single-row INSERT and a bulk INSERT ... SELECT / COPY take the same
 * path.  Each statement validates its new rows and locks the reps it
 * touches (see lock_reps), then
 *   INSERT:         adds its rows to the KPI counters and to every board's
 *                   standings (one upsert per touched key, keys in order),
 *                   re-derives the days that capped rules touch, then awards
 *                   badges and announces podium entries (after_change);
 *   UPDATE, DELETE: re-derives every (rep, local day) its old and new rows
 *                   touch from the ledger and refreshes the standings fed.
 * Re-derivation is the same SQL that recompute() runs; the randomized tests
 * check that the insert path's deltas agree with it.
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"

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

static const char *const lock_new_sql =
"SELECT salesperf.lock_reps(pg_catalog.array_agg(DISTINCT n.rep_id)) FROM " NEW_ROWS " n";

/*
 * An UPDATE may move activities to another rep: lock the old and the new
 * reps together, in one ordered pass, before re-deriving either.  Locking
 * the new ones first and the old ones later would take locks out of order.
 */
static const char *const lock_both_sql =
"SELECT salesperf.lock_reps(pg_catalog.array_agg(DISTINCT x.rep_id))"
"  FROM (SELECT rep_id FROM " NEW_ROWS " UNION ALL SELECT rep_id FROM " OLD_ROWS ") x";


/*
 * The insert path: score the new rows whose kind has no capped rule in force
 * (rule_points(), as salesperf.scored_activity does), group them into
 * counter deltas (rep x unit x local day x kind), then add those to the
 * counters and to every board's standings, one upsert per touched key, keys
 * in order.  A delta adds to a standing what kpi_contribution() says a
 * counter row adds (the rule refresh_standings() and recompute() apply
 * through salesperf.board_contribution).
 */
static const char *const merge_sql =
"WITH s AS (SELECT * FROM salesperf.settings),"
" delta AS MATERIALIZED ("
"   SELECT x.rep_id, x.unit_id, x.day, x.kind,"
"          pg_catalog.count(*) AS activities, pg_catalog.sum(x.amount) AS amount,"
"          pg_catalog.sum(x.points) AS points,"
"          pg_catalog.max(x.occurred_at) AS last_at,"
"          pg_catalog.max(x.occurred_at) FILTER (WHERE x.amount <> 0) AS last_amount_at,"
"          pg_catalog.max(x.occurred_at) FILTER (WHERE x.points <> 0) AS last_point_at"
"     FROM (SELECT n.rep_id, m.unit_id, n.kind, n.amount, n.occurred_at,"
"                  " LOCAL_DAY("n") " AS day,"
"                  salesperf.rule_points(n.kind, n.amount, n.occurred_at) AS points"
"             FROM " NEW_ROWS " n"
"            CROSS JOIN s"
"             LEFT JOIN salesperf.membership m"
"                    ON m.rep_id = n.rep_id AND m.during @> n.occurred_at"
"            WHERE NOT salesperf.has_capped_rule(n.kind, n.occurred_at)) x"
"    GROUP BY x.rep_id, x.day, x.kind, x.unit_id),"
" counters AS ("
"   INSERT INTO salesperf.kpi_counter AS c (rep_id, unit_id, day, kind, activities, amount,"
"                                           points, last_at, last_amount_at, last_point_at)"
"   SELECT d.rep_id, d.unit_id, d.day, d.kind, d.activities, d.amount, d.points,"
"          d.last_at, d.last_amount_at, d.last_point_at"
"     FROM delta d"
"    ORDER BY d.rep_id, d.day, d.kind, d.unit_id"
"   ON CONFLICT (rep_id, day, kind, unit_id) DO UPDATE SET"
"          activities = c.activities + EXCLUDED.activities,"
"          amount = c.amount + EXCLUDED.amount,"
"          points = c.points + EXCLUDED.points,"
"          last_at = GREATEST(c.last_at, EXCLUDED.last_at),"
"          last_amount_at = GREATEST(c.last_amount_at, EXCLUDED.last_amount_at),"
"          last_point_at = GREATEST(c.last_point_at, EXCLUDED.last_point_at))"
"INSERT INTO salesperf.standing AS st (board_id, period_start, participant_id, contributor_id,"
"                                      num, den, direction, reached_at)"
"SELECT g.board_id, g.ps, g.participant_id, g.rep_id, g.num, g.den, g.direction, g.reached_at"
"  FROM (SELECT b.board_id,"
"               salesperf.calendar_start(salesperf.local_day_start(d.day, s.time_zone), b.period,"
"                                        s.time_zone, s.week_start, s.fiscal_year_start_month,"
"                                        s.calendar) AS ps,"
"               p.participant_id, d.rep_id,"
"               pg_catalog.sum(v.num) AS num, pg_catalog.sum(v.den) AS den,"
"               CASE WHEN k.higher_is_better THEN 1 ELSE -1 END AS direction,"
"               pg_catalog.max(v.reached_at) AS reached_at"
"          FROM salesperf.leaderboard b"
"          JOIN salesperf.kpi k ON k.name = b.metric"
"         CROSS JOIN s"
"         CROSS JOIN delta d"
"         CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind,"
"                          k.den_measure, d.kind, d.activities, d.amount, d.points,"
"                          d.last_at, d.last_amount_at, d.last_point_at) v"
"          LEFT JOIN salesperf.board_unit bu ON bu.board_id = b.board_id AND bu.unit_id = d.unit_id"
"         CROSS JOIN LATERAL ("
"               SELECT CASE WHEN b.participant = 'unit' THEN bu.participant_id"
"                           WHEN b.unit_scope IS NULL OR bu.unit_id IS NOT NULL THEN d.rep_id"
"                      END AS participant_id) p"
"         WHERE v.num IS NOT NULL AND p.participant_id IS NOT NULL"
"         GROUP BY 1, 2, 3, 4, 7) g"
" WHERE g.reached_at IS NOT NULL"
" ORDER BY 1, 2, 4, 3"
" ON CONFLICT (board_id, period_start, contributor_id, participant_id) DO UPDATE SET"
"       num = st.num + EXCLUDED.num,"
"       den = st.den + EXCLUDED.den,"
"       reached_at = GREATEST(st.reached_at, EXCLUDED.reached_at)";

/*
 * Rows of kinds with a capped rule in force earn in order within their day,
 * so those kinds' counters for the days touched are re-derived from the
 * ledger instead (the other kinds' counters are already right).
 */
static const char *const rederive_capped_sql =
"SELECT salesperf.rederive(pg_catalog.array_agg(k.rep_id), pg_catalog.array_agg(k.day),"
"                          pg_catalog.array_agg(DISTINCT k.kind), false)"
"  FROM (SELECT DISTINCT n.rep_id, " LOCAL_DAY("n") " AS day, n.kind"
"          FROM " NEW_ROWS " n CROSS JOIN salesperf.settings s"
"         WHERE salesperf.has_capped_rule(n.kind, n.occurred_at)) k"
" HAVING pg_catalog.count(*) > 0";

/* Badges earned and podium entries (salesperf.after_change) of the new rows. */
static const char *const after_new_sql =
"SELECT salesperf.after_change(pg_catalog.array_agg(k.rep_id), pg_catalog.array_agg(k.day),"
"                              (SELECT pg_catalog.array_agg(DISTINCT x.kind) FROM " NEW_ROWS " x))"
"  FROM (SELECT DISTINCT n.rep_id, " LOCAL_DAY("n") " AS day"
"          FROM " NEW_ROWS " n CROSS JOIN salesperf.settings s) k"
" HAVING pg_catalog.count(*) > 0";

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
"TRUNCATE salesperf.capped_award, salesperf.kpi_counter, salesperf.standing";

/* Plans are prepared once per backend and kept. */
typedef struct CachedStatement
{
	const char *const *sql;
	SPIPlanPtr	plan;
} CachedStatement;

static CachedStatement statements[] = {
	{&validate_sql}, {&lock_new_sql}, {&lock_both_sql}, {&merge_sql}, {&after_new_sql}, {&rederive_capped_sql},
	{&rederive_old_sql}, {&rederive_both_sql}, {&truncate_sql}
};

/*
 * Run a cached statement; stop after max_rows rows (0: all).  Limiting rows
 * here rather than with LIMIT keeps the planner on its bulk (hash join) plan.
 */
static void
run_limited(const char *const *sql, long max_rows)
{
	CachedStatement *cs = NULL;
	int			rc;

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
		SPIPlanPtr	plan = SPI_prepare(*sql, 0, NULL);

		if (plan == NULL)
			elog(ERROR, "salesperf: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "salesperf: SPI_keepplan failed");
		cs->plan = plan;
	}
	rc = SPI_execute_plan(cs->plan, NULL, NULL, false, max_rows);
	if (rc < 0)
		elog(ERROR, "salesperf: ledger maintenance statement failed: %s", SPI_result_code_string(rc));
}

static void
run(const char *const *sql)
{
	run_limited(sql, 0);
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

	if (DatumGetBool(SPI_getbinval(row, desc, 4, &isnull)))
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

	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "salesperf: could not register transition tables");

	if (TRIGGER_FIRED_BY_INSERT(event))
	{
		if (!is_empty(trigdata->tg_newtable))
		{
			run(&lock_new_sql);
			validate_new_rows();
			run(&merge_sql);
			run(&rederive_capped_sql);
			run(&after_new_sql);
		}
	}
	else if (TRIGGER_FIRED_BY_UPDATE(event))
	{
		if (!is_empty(trigdata->tg_newtable))
		{
			run(&lock_both_sql);
			validate_new_rows();
			run(&rederive_both_sql);
		}
	}
	else if (TRIGGER_FIRED_BY_DELETE(event))
	{
		if (!is_empty(trigdata->tg_oldtable))
		{
			run(&rederive_old_sql);
		}
	}

	AtEOXact_GUC(true, guc_nest_level);
	SPI_finish();
	return PointerGetDatum(NULL);
}
