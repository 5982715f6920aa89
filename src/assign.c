/*
 * assign.c — salesperf.assign(rep_id, unit_id, since): move a rep to a unit
 * from `since` on.
 *
 * An org import calls this once per rep in one statement, so each call is
 * a handful of key probes with plans kept for the backend: lock the rep,
 * check the unit, read the rep's latest membership, end or drop it, insert
 * the new one.  The membership triggers (55_maintenance.sql) then refuse
 * overlaps and re-derive the activities that changed unit, as they do for
 * any write of salesperf.membership.
 *
 * It runs under the settings the membership triggers find (and keep):
 *   - search_path pg_catalog, pg_temp, the triggers' own: a kept plan is
 *     planned again whenever it runs under another search_path than
 *     before, and the rep lock's runs both here and in the trigger;
 *   - sequential scans off: the probes' plans are generic and kept, and
 *     one made while the membership table was empty would scan it whole
 *     on every later call of an import;
 *   - generic plans: planning the triggers' statements anew on every call
 *     would cost more than running them.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "kept_plan.h"
#include "rep_locks.h"

PG_FUNCTION_INFO_V1(salesperf_assign);

static SPIPlanPtr unit_plan = NULL;
static SPIPlanPtr latest_plan = NULL;
static SPIPlanPtr later_plan = NULL;
static SPIPlanPtr drop_plan = NULL;
static SPIPlanPtr end_plan = NULL;
static SPIPlanPtr insert_plan = NULL;

static const char *const unit_sql =
"SELECT 1 FROM salesperf.unit u WHERE u.unit_id OPERATOR(pg_catalog.=) $1";

/* Memberships never overlap: the latest one is the only one that can hold $2. */
static const char *const latest_sql =
"SELECT m.unit_id, pg_catalog.lower(m.during),"
"       pg_catalog.lower(m.during) OPERATOR(pg_catalog.>) $2,"
"       m.during OPERATOR(pg_catalog.@>) $2"
"  FROM salesperf.membership m"
" WHERE m.rep_id OPERATOR(pg_catalog.=) $1"
" ORDER BY pg_catalog.lower(m.during) DESC LIMIT 1";

static const char *const later_sql =
"SELECT pg_catalog.min(pg_catalog.lower(m.during)) FROM salesperf.membership m"
" WHERE m.rep_id OPERATOR(pg_catalog.=) $1"
"   AND pg_catalog.lower(m.during) OPERATOR(pg_catalog.>) $2";

static const char *const drop_sql =
"DELETE FROM salesperf.membership m"
" WHERE m.rep_id OPERATOR(pg_catalog.=) $1"
"   AND pg_catalog.lower(m.during) OPERATOR(pg_catalog.=) $2";

static const char *const end_sql =
"UPDATE salesperf.membership m"
"   SET during = pg_catalog.tstzrange(pg_catalog.lower(m.during), $3, '[)')"
" WHERE m.rep_id OPERATOR(pg_catalog.=) $1"
"   AND pg_catalog.lower(m.during) OPERATOR(pg_catalog.=) $2";

static const char *const insert_sql =
"INSERT INTO salesperf.membership (rep_id, unit_id, during)"
" VALUES ($1, $2, pg_catalog.tstzrange($3, NULL, '[)'))";

static void
run(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *values, int expected)
{
	int			rc = SPI_execute_plan(salesperf_kept_generic_plan(plan, sql, nargs, types),
									  values, NULL, false, 0);

	if (rc != expected)
		elog(ERROR, "salesperf: assign() statement failed: %s", SPI_result_code_string(rc));
}

static char *
moment_text(TimestampTz t)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)));
}

Datum
salesperf_assign(PG_FUNCTION_ARGS)
{
	int64		rep_id;
	int64		unit_id;
	TimestampTz since;
	int			guc_level;
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[3];
	bool		isnull;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("assign() needs a rep_id, a unit_id and a since moment")));
	rep_id = PG_GETARG_INT64(0);
	unit_id = PG_GETARG_INT64(1);
	since = PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(since))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
				 errmsg("since must be a finite moment, not %s", moment_text(since))));

	guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("plan_cache_mode", "force_generic_plan", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	/*
	 * The rep row lock serializes changes of one rep's derived state (the
	 * ledger triggers take the same lock); 42704 for an unknown rep.
	 */
	salesperf_lock_rep_ids(&rep_id, 1);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");

	args[0] = Int64GetDatum(unit_id);
	run(&unit_plan, unit_sql, 1, types, args, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown unit " INT64_FORMAT, unit_id),
				 errhint("See salesperf.unit.")));

	args[0] = Int64GetDatum(rep_id);
	args[1] = TimestampTzGetDatum(since);
	run(&latest_plan, latest_sql, 2, types, args, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		HeapTuple	latest = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int64		latest_unit = DatumGetInt64(SPI_getbinval(latest, desc, 1, &isnull));
		Datum		latest_start = SPI_getbinval(latest, desc, 2, &isnull);
		bool		starts_later = DatumGetBool(SPI_getbinval(latest, desc, 3, &isnull));
		bool		holds_since = DatumGetBool(SPI_getbinval(latest, desc, 4, &isnull));

		if (starts_later)
		{
			run(&later_plan, later_sql, 2, types, args, SPI_OK_SELECT);
			ereport(ERROR,
					(errcode(ERRCODE_EXCLUSION_VIOLATION),
					 errmsg("rep " INT64_FORMAT " already has a membership starting at %s, after %s",
							rep_id,
							moment_text(DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
																		  SPI_tuptable->tupdesc,
																		  1, &isnull))),
							moment_text(since)),
					 errhint("Memberships never overlap: change or delete the later membership first.")));
		}
		if (holds_since)
		{
			if (latest_unit == unit_id)
			{
				AtEOXact_GUC(true, guc_level);
				SPI_finish();
				PG_RETURN_VOID();	/* already there */
			}
			args[1] = latest_start;
			args[2] = TimestampTzGetDatum(since);
			if (DatumGetTimestampTz(latest_start) == since)
				run(&drop_plan, drop_sql, 2, types, args, SPI_OK_DELETE);
			else
				run(&end_plan, end_sql, 3, types, args, SPI_OK_UPDATE);
		}
	}

	{
		Oid			insert_types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};

		args[0] = Int64GetDatum(rep_id);
		args[1] = Int64GetDatum(unit_id);
		args[2] = TimestampTzGetDatum(since);
		run(&insert_plan, insert_sql, 3, insert_types, args, SPI_OK_INSERT);
	}

	AtEOXact_GUC(true, guc_level);
	SPI_finish();
	PG_RETURN_VOID();
}
