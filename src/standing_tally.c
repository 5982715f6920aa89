/*
 * standing_tally.c — how many standings of a board period fall in each
 * score band, kept beside salesperf.standing.
 *
 * A rank is 1 + the number of participants scoring more.  Counting them in
 * standing_rank_idx costs one index entry each: half the company for a rep
 * in the middle.  salesperf.standing_tally holds, per (board, period,
 * bucket), how many standing rows whose participant is its own contributor
 * (every row of a rep board) have a sort_score in that bucket.  A rank then
 * sums the buckets above the score and counts exactly only inside the
 * score's own bucket (leaderboard_rank(), 52_standing_tally.sql).
 *
 * A bucket is the score cut to two significant digits: floored for a
 * positive score, the negative of the ceiling for a negative one, 0 for 0.
 * That keeps the order (a higher score never has a lower bucket), a bucket
 * key is its own bucket, and there are at most 90 buckets per power of ten
 * of the scores present.
 *
 * The tally is written only here, by AFTER ... FOR EACH STATEMENT triggers
 * on salesperf.standing, so every path that writes standings (the one-row
 * path, the bulk merge, rederive, refresh, recompute) keeps it exact.  A
 * statement nets its rows per bucket first; a row moving within its bucket
 * (most single activities on larger scores) writes nothing.  Rows are
 * only ever added: concurrent writers never wait on one another's tally
 * rows.  Now and then (one tally write in MERGE_EVERY per backend, READ
 * COMMITTED only) the rows of the buckets a statement touches that no
 * other transaction holds (SKIP LOCKED) are merged into one, which keeps a
 * busy bucket to a few rows.  In stricter isolation levels a merge could
 * fail on a row another transaction merged, so the statement only adds.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "kept_plan.h"
#include "one_row_delta.h"
#include "standing_tally.h"

PG_FUNCTION_INFO_V1(salesperf_score_bucket);
PG_FUNCTION_INFO_V1(salesperf_standing_tally_sync);

/*
 * Add netted counts, merging the touched buckets' free rows (READ
 * COMMITTED).  A board being dropped takes its standings with it (ON DELETE
 * CASCADE): their counts are not written back, its bands go with it too.
 */
static const char *const merge_sql =
"WITH d AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::integer[]), pg_catalog.unnest($2::timestamptz[]),"
"                      pg_catalog.unnest($3::numeric[]), pg_catalog.unnest($4::bigint[]))"
"             AS d(board_id, period_start, bucket, participants)"
"           WHERE EXISTS (SELECT 1 FROM salesperf.leaderboard b WHERE b.board_id OPERATOR(pg_catalog.=) d.board_id)),"
" free AS (SELECT f.row_id FROM d CROSS JOIN LATERAL ("
"            SELECT t.ctid AS row_id FROM salesperf.standing_tally t"
"             WHERE t.board_id OPERATOR(pg_catalog.=) d.board_id"
"               AND t.period_start OPERATOR(pg_catalog.=) d.period_start"
"               AND t.bucket OPERATOR(pg_catalog.=) d.bucket"
"               FOR UPDATE OF t SKIP LOCKED) f),"
" gone AS (DELETE FROM salesperf.standing_tally t USING free f"
"           WHERE t.ctid OPERATOR(pg_catalog.=) f.row_id"
"          RETURNING t.board_id, t.period_start, t.bucket, t.participants)"
"INSERT INTO salesperf.standing_tally (board_id, period_start, bucket, participants)"
"SELECT x.board_id, x.period_start, x.bucket, pg_catalog.sum(x.participants)"
"  FROM (SELECT * FROM d UNION ALL SELECT * FROM gone) x"
" GROUP BY x.board_id, x.period_start, x.bucket "
"HAVING pg_catalog.sum(x.participants) <> 0";

/* Add netted counts only (REPEATABLE READ, SERIALIZABLE). */
static const char *const add_sql =
"INSERT INTO salesperf.standing_tally (board_id, period_start, bucket, participants)"
"SELECT * FROM ROWS FROM (pg_catalog.unnest($1::integer[]), pg_catalog.unnest($2::timestamptz[]),"
"                      pg_catalog.unnest($3::numeric[]), pg_catalog.unnest($4::bigint[]))"
"                AS d(board_id, period_start, bucket, participants)"
" WHERE EXISTS (SELECT 1 FROM salesperf.leaderboard b WHERE b.board_id OPERATOR(pg_catalog.=) d.board_id)";

/*
 * The transaction changed the standings of a period that had ended by the
 * clock: note it in salesperf.org_change, which kept final ranks are
 * checked against (previous_ranks.c).  A board being dropped is noted by
 * its own trigger.
 */
static const char *const ended_sql =
"INSERT INTO salesperf.org_change (txid)"
" SELECT pg_catalog.pg_current_xact_id()"
"  WHERE EXISTS (SELECT 1"
"                  FROM ROWS FROM (pg_catalog.unnest($1::integer[]), pg_catalog.unnest($2::timestamptz[]))"
"                       AS p(board_id, period_start)"
"                  JOIN salesperf.leaderboard b ON b.board_id OPERATOR(pg_catalog.=) p.board_id"
"                 CROSS JOIN salesperf.settings s"
"                 WHERE CASE WHEN pg_catalog.isfinite(p.period_start)"  /* 'all' never ends */
"                            THEN salesperf.calendar_end(p.period_start, b.period, s.time_zone, s.week_start,"
"                                                        s.fiscal_year_start_month, s.calendar)"
"                                 OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp() END)"
" ON CONFLICT DO NOTHING";

/*
 * Merging costs a locking probe and a delete per band; adding is one insert.
 * A backend merges on one tally write in MERGE_EVERY: a band busy enough
 * to grow rows is merged often, and a read sums a few rows more at most.
 */
#define MERGE_EVERY 8
static int	statements_since_merge = 0;

static SPIPlanPtr merge_plan = NULL;
static SPIPlanPtr ended_plan = NULL;
static SPIPlanPtr add_plan = NULL;

/* 10^e as a numeric. */
static Numeric
power_of_ten(int e)
{
	char		text[32];

	snprintf(text, sizeof(text), "1e%d", e);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/*
 * The exponent e of a positive finite numeric (10^e <= a < 10^(e+1)), read
 * off its decimal text: exact, whatever the magnitude.
 */
static int
decimal_exponent(Numeric a)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(a)));
	char	   *point = strchr(text, '.');
	int			int_digits = point ? (int) (point - text) : (int) strlen(text);
	int			e;

	if (!(int_digits == 1 && text[0] == '0'))
		e = int_digits - 1;
	else
	{
		const char *p = point + 1;

		e = -1;
		while (*p == '0')
		{
			e--;
			p++;
		}
	}
	pfree(text);
	return e;
}

/* The bucket of a score (see the header). */
static Numeric
bucket_of(Numeric score)
{
	Numeric		zero = int64_to_numeric(0);
	int			sign;
	Numeric		magnitude;
	Numeric		cut;
	int			e;

	if (numeric_is_nan(score) || numeric_is_inf(score))
		return DatumGetNumericCopy(NumericGetDatum(score));
	sign = DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(score), NumericGetDatum(zero)));
	if (sign == 0)
		return zero;
	magnitude = DatumGetNumeric(DirectFunctionCall1(numeric_abs, NumericGetDatum(score)));
	e = decimal_exponent(magnitude);
	cut = DatumGetNumeric(DirectFunctionCall2(numeric_trunc, NumericGetDatum(magnitude),
											  Int32GetDatum(1 - e)));
	if (sign > 0)
		return cut;
	/* Negative: minus the ceiling, so that the bucket stays at or below the score. */
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(cut), NumericGetDatum(magnitude))) != 0)
		cut = DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(cut),
												  NumericGetDatum(power_of_ten(e - 1))));
	return DatumGetNumeric(DirectFunctionCall1(numeric_uminus, NumericGetDatum(cut)));
}

Datum
salesperf_score_bucket(PG_FUNCTION_ARGS)
{
	PG_RETURN_NUMERIC(bucket_of(PG_GETARG_NUMERIC(0)));
}

/* One standing row's effect on one bucket. */
typedef struct TallyEntry
{
	int32		board_id;
	TimestampTz period_start;
	Numeric		bucket;
	int64		participants;
} TallyEntry;

typedef struct TallyEntries
{
	TallyEntry *items;
	int			count;
	int			capacity;
} TallyEntries;

static int
compare_entries(const void *a, const void *b)
{
	const TallyEntry *x = (const TallyEntry *) a;
	const TallyEntry *y = (const TallyEntry *) b;

	if (x->board_id != y->board_id)
		return x->board_id < y->board_id ? -1 : 1;
	if (x->period_start != y->period_start)
		return x->period_start < y->period_start ? -1 : 1;
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(x->bucket),
											 NumericGetDatum(y->bucket)));
}

/* The distinct (board, period) pairs a statement's rows belong to. */
typedef struct PeriodSet
{
	int32	   *boards;
	TimestampTz *periods;
	int			count;
	int			capacity;
} PeriodSet;

static void
add_period(PeriodSet *set, int32 board, TimestampTz period)
{
	/* Most statements touch a handful of pairs: the last ones first. */
	for (int i = set->count - 1; i >= 0; i--)
		if (set->boards[i] == board && set->periods[i] == period)
			return;
	if (set->count == set->capacity)
	{
		set->capacity = set->capacity ? set->capacity * 2 : 8;
		set->boards = set->boards ? repalloc_huge(set->boards, sizeof(int32) * set->capacity)
			: palloc(sizeof(int32) * set->capacity);
		set->periods = set->periods ? repalloc_huge(set->periods, sizeof(TimestampTz) * set->capacity)
			: palloc(sizeof(TimestampTz) * set->capacity);
	}
	set->boards[set->count] = board;
	set->periods[set->count] = period;
	set->count++;
}

/* Adds `sign` standings to the band of `score`. */
static void
add_entry(TallyEntries *entries, int32 board, TimestampTz period, Numeric score, int sign)
{
	TallyEntry *entry;

	if (entries->count == entries->capacity)
	{
		entries->capacity = entries->capacity ? entries->capacity * 2 : 16;
		entries->items = entries->items
			? repalloc_huge(entries->items, sizeof(TallyEntry) * entries->capacity)
			: palloc(sizeof(TallyEntry) * entries->capacity);
	}
	entry = &entries->items[entries->count++];
	entry->board_id = board;
	entry->period_start = period;
	entry->bucket = bucket_of(score);
	entry->participants = sign;
}

/*
 * Adds +sign for each row of `rows` that is its own contributor's and has a
 * score, and every row's (board, period) to `periods`.
 */
static void
collect(TallyEntries *entries, PeriodSet *periods, Tuplestorestate *rows, Relation rel, int sign)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			board_att = SPI_fnumber(desc, "board_id");
	int			period_att = SPI_fnumber(desc, "period_start");
	int			participant_att = SPI_fnumber(desc, "participant_id");
	int			contributor_att = SPI_fnumber(desc, "contributor_id");
	int			score_att = SPI_fnumber(desc, "sort_score");
	TupleTableSlot *slot;

	if (rows == NULL)
		return;
	if (board_att <= 0 || period_att <= 0 || participant_att <= 0 || contributor_att <= 0 || score_att <= 0)
		elog(ERROR, "salesperf: standing_tally_sync() must be a trigger on salesperf.standing");
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		score;
		int32		board = DatumGetInt32(slot_getattr(slot, board_att, &isnull));
		TimestampTz period = DatumGetTimestampTz(slot_getattr(slot, period_att, &isnull));

		add_period(periods, board, period);
		if (DatumGetInt64(slot_getattr(slot, participant_att, &isnull)) !=
			DatumGetInt64(slot_getattr(slot, contributor_att, &isnull)))
			continue;
		score = slot_getattr(slot, score_att, &isnull);
		if (isnull)
			continue;			/* a ratio over nothing ranks last, apart */
		add_entry(entries, board, period, DatumGetNumeric(score), sign);
	}
	ExecDropSingleTupleTableSlot(slot);
}

/* The parameters of both statements: the netted entries as four arrays. */
static Oid	entry_types[4] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID, NUMERICARRAYOID, INT8ARRAYOID};

/*
 * Whether this tally write is the one in MERGE_EVERY that merges bands
 * (READ COMMITTED only; see the header).
 */
static bool
merge_due(void)
{
	if (XactIsoLevel != XACT_READ_COMMITTED || ++statements_since_merge < MERGE_EVERY)
		return false;
	statements_since_merge = 0;
	return true;
}

/* Writes the netted entries (sorted, nonzero) to the tally, merging or adding only. */
static void
write_entries(TallyEntry *items, int count, bool merge)
{
	Datum	   *boards = palloc(sizeof(Datum) * count);
	Datum	   *periods = palloc(sizeof(Datum) * count);
	Datum	   *buckets = palloc(sizeof(Datum) * count);
	Datum	   *deltas = palloc(sizeof(Datum) * count);
	Datum		args[4];
	int16		typlen;
	bool		typbyval;
	char		typalign;
	SPIPlanPtr	plan;
	int			guc_nest_level;
	int			i;

	for (i = 0; i < count; i++)
	{
		boards[i] = Int32GetDatum(items[i].board_id);
		periods[i] = TimestampTzGetDatum(items[i].period_start);
		buckets[i] = NumericGetDatum(items[i].bucket);
		deltas[i] = Int64GetDatum(items[i].participants);
	}
	args[0] = PointerGetDatum(construct_array(boards, count, INT4OID, 4, true, TYPALIGN_INT));
	get_typlenbyvalalign(TIMESTAMPTZOID, &typlen, &typbyval, &typalign);
	args[1] = PointerGetDatum(construct_array(periods, count, TIMESTAMPTZOID, typlen, typbyval, typalign));
	args[2] = PointerGetDatum(construct_array(buckets, count, NUMERICOID, -1, false, TYPALIGN_INT));
	get_typlenbyvalalign(INT8OID, &typlen, &typbyval, &typalign);
	args[3] = PointerGetDatum(construct_array(deltas, count, INT8OID, typlen, typbyval, typalign));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");
	/*
	 * Plan as the trigger function is declared (SET enable_seqscan = off),
	 * also when the one-row path writes its bands directly: a plan made
	 * while the tally was small must never read it whole later.
	 */
	guc_nest_level = NewGUCNestLevel();
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	plan = merge
		? salesperf_kept_plan(&merge_plan, merge_sql, 4, entry_types)
		: salesperf_kept_plan(&add_plan, add_sql, 4, entry_types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "salesperf: could not write salesperf.standing_tally");
	AtEOXact_GUC(true, guc_nest_level);
	SPI_finish();
}

/* Notes the transaction if the statement changed a period that has ended. */
static void
note_ended_periods(PeriodSet *set)
{
	Oid			types[2] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID};
	Datum	   *boards;
	Datum	   *periods;
	Datum		args[2];
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			i;

	if (set->count == 0)
		return;

	/* The one-row path knows its boards: no statement unless one ended. */
	{
		bool		known = true;
		bool		any_ended = false;

		for (i = 0; known && i < set->count; i++)
		{
			bool		ended;

			known = salesperf_one_row_period_ended(set->boards[i], set->periods[i], &ended);
			any_ended |= known && ended;
		}
		if (known && !any_ended)
			return;
	}

	boards = palloc(sizeof(Datum) * set->count);
	periods = palloc(sizeof(Datum) * set->count);
	for (i = 0; i < set->count; i++)
	{
		boards[i] = Int32GetDatum(set->boards[i]);
		periods[i] = TimestampTzGetDatum(set->periods[i]);
	}
	args[0] = PointerGetDatum(construct_array(boards, set->count, INT4OID, 4, true, TYPALIGN_INT));
	get_typlenbyvalalign(TIMESTAMPTZOID, &typlen, &typbyval, &typalign);
	args[1] = PointerGetDatum(construct_array(periods, set->count, TIMESTAMPTZOID, typlen, typbyval, typalign));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");
	if (SPI_execute_plan(salesperf_kept_plan(&ended_plan, ended_sql, 2, types), args, NULL, false, 0)
		!= SPI_OK_INSERT)
		elog(ERROR, "salesperf: could not write salesperf.org_change");
	SPI_finish();
}

/*
 * Nets the entries per (board, period, bucket), sorted, and keeps those that
 * do not cancel out at the front; returns how many.
 */
static int
net_entries(TallyEntries *entries)
{
	int			kept = 0;

	if (entries->count == 0)
		return 0;
	qsort(entries->items, entries->count, sizeof(TallyEntry), compare_entries);
	for (int i = 0; i < entries->count; i++)
	{
		if (kept > 0 && compare_entries(&entries->items[kept - 1], &entries->items[i]) == 0)
			entries->items[kept - 1].participants += entries->items[i].participants;
		else
		{
			if (kept > 0 && entries->items[kept - 1].participants == 0)
				kept--;
			entries->items[kept++] = entries->items[i];
		}
	}
	if (kept > 0 && entries->items[kept - 1].participants == 0)
		kept--;
	return kept;
}

Datum
salesperf_standing_tally_sync(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata;
	TriggerEvent event;
	TallyEntries entries = {NULL, 0, 0};
	PeriodSet	periods = {NULL, NULL, 0, 0};
	int			kept = 0;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf_standing_tally_sync() must be called as a trigger")));
	trigdata = (TriggerData *) fcinfo->context;
	event = trigdata->tg_event;
	if (!TRIGGER_FIRED_AFTER(event) || !TRIGGER_FIRED_FOR_STATEMENT(event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("salesperf_standing_tally_sync() must be an AFTER ... FOR EACH STATEMENT trigger")));

	if (TRIGGER_FIRED_BY_DELETE(event) || TRIGGER_FIRED_BY_UPDATE(event))
		collect(&entries, &periods, trigdata->tg_oldtable, trigdata->tg_relation, -1);
	if (TRIGGER_FIRED_BY_INSERT(event) || TRIGGER_FIRED_BY_UPDATE(event))
		collect(&entries, &periods, trigdata->tg_newtable, trigdata->tg_relation, 1);

	/* Any row counts here, a unit board's too: they all move final ranks. */
	note_ended_periods(&periods);

	if (entries.count == 0)
		return PointerGetDatum(NULL);

	kept = net_entries(&entries);
	if (kept > 0)
		write_entries(entries.items, kept, merge_due());
	pfree(entries.items);
	return PointerGetDatum(NULL);
}

/* The changes of a batch of direct writes (see standing_tally.h). */
struct TallyChanges
{
	TallyEntries entries;
	PeriodSet	periods;
	int			kept;			/* after netting: entries.items[0 .. kept) */
};

TallyChanges *
salesperf_tally_changes(void)
{
	return palloc0(sizeof(TallyChanges));
}

void
salesperf_tally_change(TallyChanges *c, int32 board, TimestampTz ps, bool own,
					   Datum old_score, bool old_null, Datum new_score, bool new_null)
{
	add_period(&c->periods, board, ps);
	if (!own)
		return;
	if (!old_null)
		add_entry(&c->entries, board, ps, DatumGetNumeric(old_score), -1);
	if (!new_null)
		add_entry(&c->entries, board, ps, DatumGetNumeric(new_score), 1);
}

bool
salesperf_tally_changes_direct(TallyChanges *c, DirectWrites *w, DirectTable *tally)
{
	static const char *const columns[] = {"board_id", "period_start", "bucket", "participants"};
	AttrNumber	att[lengthof(columns)];

	salesperf_direct_columns(tally, lengthof(columns), columns, att);
	c->kept = net_entries(&c->entries);
	if (c->kept == 0)
		return true;
	if (merge_due())
		return false;
	for (int i = 0; i < c->kept; i++)
	{
		TupleTableSlot *row = tally->row;
		const TallyEntry *e = &c->entries.items[i];
		Datum		values[lengthof(columns)] = {Int32GetDatum(e->board_id),
			TimestampTzGetDatum(e->period_start), NumericGetDatum(e->bucket),
		Int64GetDatum(e->participants)};

		salesperf_direct_clear_row(tally);
		for (int k = 0; k < (int) lengthof(columns); k++)
		{
			row->tts_values[att[k] - 1] = values[k];
			row->tts_isnull[att[k] - 1] = false;
		}
		salesperf_direct_insert(w, tally);
	}
	return true;
}

void
salesperf_tally_changes_by_sql(TallyChanges *c, bool write_bands)
{
	note_ended_periods(&c->periods);
	if (write_bands && c->kept > 0)
		write_entries(c->entries.items, c->kept, true);
}
