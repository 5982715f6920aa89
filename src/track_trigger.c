/*
 * track_trigger.c — keeps the activities of a tracked CRM table in step
 * with its rows (salesperf.track(), SPEC §5).
 *
 * salesperf.track() gives the table four statement-level AFTER triggers
 * (INSERT, UPDATE, DELETE with transition tables, and TRUNCATE), all
 * running salesperf.tracked_row_changed() with the registration's id as
 * argument.  A row is an activity when the registration's condition holds
 * and its rep, time and key are not NULL; its activity is keyed by
 * (kind, source, source_key = the key column as text).  Each statement on
 * the table becomes at most two set-based statements on the ledger, so the
 * ledger's own statement triggers see one batch, however many rows changed:
 *
 *   INSERT   upsert the new rows that are activities;
 *   UPDATE   delete the activities of old keys that are no longer
 *            activities (condition now false, key changed), then upsert
 *            the new rows that are — an activity whose rep, amount and time
 *            did not change is left alone;
 *   DELETE   delete the activities of the old keys;
 *   TRUNCATE delete every activity of the registration.
 *
 * salesperf.track_backfill() runs the same upsert over the whole table.
 * Every statement is built from quoted identifiers and the condition as
 * normalized by track_condition.c (normalized again here, before each use),
 * and runs with search_path pinned to pg_catalog, pg_temp.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "track.h"

PG_FUNCTION_INFO_V1(salesperf_tracked_row_changed);
PG_FUNCTION_INFO_V1(salesperf_track_backfill);

/* One row of salesperf.tracked_source. */
typedef struct Registration
{
	int32		id;
	Oid			relid;
	char	   *kind;
	char	   *source_name;
	char	   *rep_column;
	char	   *occurred_column;
	char	   *amount_column;	/* NULL: every activity counts 1 */
	char	   *key_column;
	char	   *condition;		/* NULL: every row */
} Registration;

static const char *const registration_sql =
"SELECT t.source::pg_catalog.oid, t.kind, t.source_name, t.rep_column::pg_catalog.text,"
"       t.occurred_column::pg_catalog.text, t.amount_column::pg_catalog.text,"
"       t.key_column::pg_catalog.text, t.condition"
"  FROM salesperf.tracked_source t"
" WHERE t.tracked_id = $1";

/* Read a registration (inside an SPI connection); NULL fields stay NULL. */
static bool
load_registration(int32 id, Registration *reg)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	int			rc;

	args[0] = Int32GetDatum(id);
	rc = SPI_execute_with_args(registration_sql, 1, argtypes, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "salesperf: reading salesperf.tracked_source failed: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	reg->id = id;
	reg->relid = DatumGetObjectId(SPI_getbinval(row, desc, 1, &isnull));
	reg->kind = SPI_getvalue(row, desc, 2);
	reg->source_name = SPI_getvalue(row, desc, 3);
	reg->rep_column = SPI_getvalue(row, desc, 4);
	reg->occurred_column = SPI_getvalue(row, desc, 5);
	reg->amount_column = SPI_getvalue(row, desc, 6);
	reg->key_column = SPI_getvalue(row, desc, 7);
	reg->condition = SPI_getvalue(row, desc, 8);
	return true;
}

/*
 * The rows of `from` that are activities, as (rep_id, amount, occurred_at,
 * source_key) of an alias t.  A NULL amount counts as 0.
 */
static void
append_activities(StringInfo sql, const Registration *reg, const char *from)
{
	appendStringInfo(sql,
					 "SELECT t.rep_id, t.amount, t.occurred_at, t.source_key"
					 "  FROM (SELECT CAST(%s AS pg_catalog.int8) AS rep_id,",
					 quote_identifier(reg->rep_column));
	if (reg->amount_column != NULL)
		appendStringInfo(sql, " COALESCE(CAST(%s AS pg_catalog.numeric), 0) AS amount,",
						 quote_identifier(reg->amount_column));
	else
		appendStringInfoString(sql, " CAST(1 AS pg_catalog.numeric) AS amount,");
	appendStringInfo(sql,
					 " CAST(%s AS pg_catalog.timestamptz) AS occurred_at,"
					 " CAST(%s AS pg_catalog.text) AS source_key"
					 " FROM %s",
					 quote_identifier(reg->occurred_column),
					 quote_identifier(reg->key_column), from);
	if (reg->condition != NULL)
		appendStringInfo(sql, " WHERE (%s)", reg->condition);
	appendStringInfoString(sql,
						   ") t WHERE t.rep_id IS NOT NULL AND t.occurred_at IS NOT NULL"
						   " AND t.source_key IS NOT NULL");
}

/* Run a statement with $1 = kind and $2 = source; returns rows processed. */
static uint64
run(const Registration *reg, const char *sql, int expected)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	int			rc;

	args[0] = CStringGetTextDatum(reg->kind);
	args[1] = CStringGetTextDatum(reg->source_name);
	rc = SPI_execute_with_args(sql, 2, argtypes, args, NULL, false, 0);
	if (rc != expected)
		elog(ERROR, "salesperf: tracking statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/* Insert or refresh the activities of the rows of `from`. */
static uint64
upsert_activities(const Registration *reg, const char *from)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql,
						   "INSERT INTO salesperf.activity AS a"
						   " (rep_id, kind, amount, occurred_at, source, source_key)"
						   " SELECT n.rep_id, $1, n.amount, n.occurred_at, $2, n.source_key FROM (");
	append_activities(&sql, reg, from);
	appendStringInfoString(&sql,
						   ") n ORDER BY n.source_key"
						   " ON CONFLICT (kind, source, source_key) WHERE source_key IS NOT NULL"
						   " DO UPDATE SET rep_id = EXCLUDED.rep_id, amount = EXCLUDED.amount,"
						   "               occurred_at = EXCLUDED.occurred_at"
						   " WHERE (a.rep_id, a.amount, a.occurred_at)"
						   "       IS DISTINCT FROM (EXCLUDED.rep_id, EXCLUDED.amount, EXCLUDED.occurred_at)");
	return run(reg, sql.data, SPI_OK_INSERT);
}

/*
 * Delete the activities of the keys of `old_rows`; with `new_rows`, only of
 * those keys that are not activities among the new rows.
 */
static void
delete_activities(const Registration *reg, const char *old_rows, const char *new_rows)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "DELETE FROM salesperf.activity a"
					 " USING (SELECT CAST(%s AS pg_catalog.text) AS source_key FROM %s",
					 quote_identifier(reg->key_column), old_rows);
	if (new_rows != NULL)
	{
		appendStringInfoString(&sql, " EXCEPT SELECT n.source_key FROM (");
		append_activities(&sql, reg, new_rows);
		appendStringInfoString(&sql, ") n");
	}
	appendStringInfoString(&sql,
						   ") g WHERE a.kind = $1 AND a.source = $2"
						   " AND a.source_key = g.source_key AND a.source_key IS NOT NULL");
	run(reg, sql.data, SPI_OK_DELETE);
}

static bool
is_empty(Tuplestorestate *rows)
{
	return rows == NULL || tuplestore_tuple_count(rows) == 0;
}

static const char *
transition_table(TriggerData *trigdata, const char *name, const char *which)
{
	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table %s must declare REFERENCING %s TABLE",
						trigdata->tg_trigger->tgname,
						RelationGetRelationName(trigdata->tg_relation), which),
				 errhint("Create the triggers with salesperf.track().")));
	return quote_identifier(name);
}

/*
 * salesperf.tracked_row_changed() — the statement trigger installed by
 * salesperf.track(); its one argument is the salesperf.tracked_source id.
 */
Datum
salesperf_tracked_row_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata;
	TriggerEvent event;
	Trigger    *trigger;
	Relation	rel;
	Registration reg;
	int			level;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf.tracked_row_changed() must be called as a trigger")));
	trigdata = (TriggerData *) fcinfo->context;
	event = trigdata->tg_event;
	trigger = trigdata->tg_trigger;
	rel = trigdata->tg_relation;
	if (!TRIGGER_FIRED_AFTER(event) || !TRIGGER_FIRED_FOR_STATEMENT(event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf.tracked_row_changed() must be an AFTER ... FOR EACH STATEMENT trigger")));
	if (trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table %s must pass one salesperf.tracked_source id",
						trigger->tgname, RelationGetRelationName(rel)),
				 errhint("Create the triggers with salesperf.track().")));

	/* Nothing changed: nothing to do (and no empty ledger statements). */
	if ((TRIGGER_FIRED_BY_INSERT(event) && is_empty(trigdata->tg_newtable)) ||
		(TRIGGER_FIRED_BY_UPDATE(event) && is_empty(trigdata->tg_newtable) &&
		 is_empty(trigdata->tg_oldtable)) ||
		(TRIGGER_FIRED_BY_DELETE(event) && is_empty(trigdata->tg_oldtable)))
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");
	level = track_pin_search_path();

	if (!load_registration(pg_strtoint32(trigger->tgargs[0]), &reg) ||
		reg.relid != RelationGetRelid(rel))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("trigger \"%s\" on table %s has no salesperf.tracked_source registration %s",
						trigger->tgname, RelationGetRelationName(rel), trigger->tgargs[0]),
				 errhint("Drop the trigger, or call salesperf.untrack() and salesperf.track() again.")));
	/* Only inserts and updates evaluate the condition. */
	if (reg.condition != NULL &&
		(TRIGGER_FIRED_BY_INSERT(event) || TRIGGER_FIRED_BY_UPDATE(event)))
		reg.condition = track_normalize_condition(rel, reg.condition);

	if (TRIGGER_FIRED_BY_TRUNCATE(event))
	{
		run(&reg,
			"DELETE FROM salesperf.activity a"
			" WHERE a.kind = $1 AND a.source = $2 AND a.source_key IS NOT NULL",
			SPI_OK_DELETE);
	}
	else
	{
		if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
			elog(ERROR, "salesperf: could not register transition tables");

		if (TRIGGER_FIRED_BY_INSERT(event))
			upsert_activities(&reg, transition_table(trigdata, trigger->tgnewtable, "NEW"));
		else if (TRIGGER_FIRED_BY_UPDATE(event))
		{
			const char *old_rows = transition_table(trigdata, trigger->tgoldtable, "OLD");
			const char *new_rows = transition_table(trigdata, trigger->tgnewtable, "NEW");

			delete_activities(&reg, old_rows, new_rows);
			upsert_activities(&reg, new_rows);
		}
		else if (TRIGGER_FIRED_BY_DELETE(event))
			delete_activities(&reg, transition_table(trigdata, trigger->tgoldtable, "OLD"), NULL);
	}

	AtEOXact_GUC(true, level);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * salesperf.track_backfill(tracked_id integer) → bigint
 *
 * Records (or refreshes) the activities of every row of a tracked table
 * that is one, in one INSERT ... SELECT; returns how many it wrote.  Only
 * the table's owner may run it.
 */
Datum
salesperf_track_backfill(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	Registration reg;
	Relation	rel;
	int			level;
	uint64		written;
	char	   *from;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");
	level = track_pin_search_path();

	if (!load_registration(id, &reg))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown salesperf.tracked_source registration %d", id)));
	track_check_owner(reg.relid);
	rel = table_open(reg.relid, AccessShareLock);
	if (reg.condition != NULL)
		reg.condition = track_normalize_condition(rel, reg.condition);
	from = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));
	written = upsert_activities(&reg, from);
	table_close(rel, NoLock);

	AtEOXact_GUC(true, level);
	SPI_finish();
	PG_RETURN_INT64((int64) written);
}
