/*
 * one_row_delta.c — what one new activity adds to the KPI counters and to
 * the standings of every board it counts on: the one-row insert path's
 * share of the work (record(), a CRM's single-row INSERT).
 *
 * The bulk path joins its deltas with every board in one statement
 * (merge_sql in ledger_trigger.c, with bulk_delta.c).  For one row that setup
 * costs more than the row's work, so here the boards, their KPIs' parts
 * and the calendar settings are kept per backend, keyed by the newest
 * salesperf.notify_config_version (a row added, from a sequence, by every
 * statement that changes the configuration, KPIs or leaderboards), and the
 * row becomes two statements: an upsert of its counter and one upsert of
 * the standings it feeds, keys in order.  What a board takes from the row
 * is kpi_contribution()'s rule, called in C; which participant it counts
 * for is board_unit's answer for the row's unit, read per write (the org
 * chart is not versioned).  The standings triggers ask this copy too
 * whether a period written has ended (standing_tally.c): the one-row path
 * writes running periods, and reading that from SQL cost more than the
 * upsert.  The property tests hold this path, the bulk path and
 * recompute() to the same state.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "config_version.h"
#include "direct_rows.h"
#include "kept_plan.h"
#include "kpi_contribution.h"
#include "one_row_delta.h"
#include "standing_tally.h"

extern Datum salesperf_calendar_start(PG_FUNCTION_ARGS);
extern Datum salesperf_calendar_end(PG_FUNCTION_ARGS);
extern Datum salesperf_local_day_start(PG_FUNCTION_ARGS);

static const char *const settings_sql =
"SELECT s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar FROM salesperf.settings s";

static const char *const boards_sql =
"SELECT b.board_id, b.period, b.participant OPERATOR(pg_catalog.=) 'unit', b.unit_scope IS NOT NULL,"
"       k.num_kind, k.num_measure, k.den_kind, k.den_measure, k.higher_is_better"
"  FROM salesperf.leaderboard b JOIN salesperf.kpi k ON k.name OPERATOR(pg_catalog.=) b.metric"
" ORDER BY b.board_id";

/* The participants a unit's activities count for on a board (NULL: the rep). */
static const char *const board_unit_sql =
"SELECT bu.participant_id FROM salesperf.board_unit bu"
" WHERE bu.board_id OPERATOR(pg_catalog.=) $1 AND bu.unit_id OPERATOR(pg_catalog.=) $2"
" ORDER BY bu.participant_id";

static const char *const counter_sql =
"INSERT INTO salesperf.kpi_counter AS c (rep_id, unit_id, day, kind, activities, amount,"
"                                        points, last_at, last_amount_at, last_point_at)"
"VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9)"
"ON CONFLICT (rep_id, day, kind, unit_id) DO UPDATE SET"
"       activities = c.activities OPERATOR(pg_catalog.+) EXCLUDED.activities,"
"       amount = c.amount OPERATOR(pg_catalog.+) EXCLUDED.amount,"
"       points = c.points OPERATOR(pg_catalog.+) EXCLUDED.points,"
"       last_at = GREATEST(c.last_at, EXCLUDED.last_at),"
"       last_amount_at = GREATEST(c.last_amount_at, EXCLUDED.last_amount_at),"
"       last_point_at = GREATEST(c.last_point_at, EXCLUDED.last_point_at)";

/* Rows arrive in key order (board, period, contributor, participant). */
static const char *const standings_sql =
"INSERT INTO salesperf.standing AS st (board_id, period_start, participant_id, contributor_id,"
"                                      num, den, direction, reached_at)"
"SELECT * FROM ROWS FROM (pg_catalog.unnest($1::integer[]), pg_catalog.unnest($2::timestamptz[]),"
"                         pg_catalog.unnest($3::bigint[]), pg_catalog.unnest($4::bigint[]),"
"                         pg_catalog.unnest($5::numeric[]), pg_catalog.unnest($6::numeric[]),"
"                         pg_catalog.unnest($7::smallint[]), pg_catalog.unnest($8::timestamptz[]))"
"ON CONFLICT (board_id, period_start, contributor_id, participant_id) DO UPDATE SET"
"       num = st.num OPERATOR(pg_catalog.+) EXCLUDED.num,"
"       den = st.den OPERATOR(pg_catalog.+) EXCLUDED.den,"
"       reached_at = GREATEST(st.reached_at, EXCLUDED.reached_at)";

static SPIPlanPtr settings_plan = NULL;
static SPIPlanPtr boards_plan = NULL;
static SPIPlanPtr board_unit_plan = NULL;
static SPIPlanPtr counter_plan = NULL;
static SPIPlanPtr standings_plan = NULL;

typedef struct Board
{
	int32		board_id;
	Datum		period;			/* text */
	bool		unit_participants;	/* a unit board */
	bool		scoped;			/* only units under unit_scope count */
	KpiParts	parts;
	int16		direction;
} Board;

/* The kept copy, read at `version` (valid: read at all). */
static struct
{
	bool		valid;
	int64		version;
	Datum		time_zone;
	Datum		week_start;
	Datum		fiscal_year_start_month;
	Datum		calendar;
	int			nboards;
	Board	   *boards;
} config;

static MemoryContext config_context = NULL;

/* Set while this path's standings upsert runs (its triggers read config). */
static bool writing_standings = false;

static void
run(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_plan(plan, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "salesperf: one-row ledger statement failed: %s", SPI_result_code_string(rc));
}

static text *
text_or_null(HeapTuple row, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, col, &isnull);

	return isnull ? NULL : DatumGetTextPCopy(d);
}

static void
load_config(int64 version)
{
	MemoryContext old;
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;

	if (config_context == NULL)
		config_context = AllocSetContextCreate(TopMemoryContext, "salesperf one-row delta boards",
											   ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(config_context);
	config.valid = false;

	run(salesperf_kept_generic_plan(&settings_plan, settings_sql, 0, NULL), NULL, NULL);
	if (SPI_processed != 1)
		elog(ERROR, "salesperf: salesperf.settings must have one row");
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(config_context);
	config.time_zone = PointerGetDatum(text_or_null(row, desc, 1));
	config.week_start = SPI_getbinval(row, desc, 2, &isnull);
	config.fiscal_year_start_month = SPI_getbinval(row, desc, 3, &isnull);
	config.calendar = PointerGetDatum(text_or_null(row, desc, 4));
	MemoryContextSwitchTo(old);

	run(salesperf_kept_generic_plan(&boards_plan, boards_sql, 0, NULL), NULL, NULL);
	old = MemoryContextSwitchTo(config_context);
	config.nboards = (int) SPI_processed;
	config.boards = palloc0(sizeof(Board) * Max(config.nboards, 1));
	for (int i = 0; i < config.nboards; i++)
	{
		Board	   *b = &config.boards[i];

		row = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		b->board_id = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
		b->period = PointerGetDatum(text_or_null(row, desc, 2));
		b->unit_participants = DatumGetBool(SPI_getbinval(row, desc, 3, &isnull));
		b->scoped = DatumGetBool(SPI_getbinval(row, desc, 4, &isnull));
		b->parts.num_kind = text_or_null(row, desc, 5);
		b->parts.num_measure = salesperf_kpi_measure(text_or_null(row, desc, 6));
		b->parts.den_kind = text_or_null(row, desc, 7);
		b->parts.den_measure = salesperf_kpi_measure(text_or_null(row, desc, 8));
		b->direction = DatumGetBool(SPI_getbinval(row, desc, 9, &isnull)) ? 1 : -1;
	}
	MemoryContextSwitchTo(old);
	config.version = version;
	config.valid = true;
}

/* Make the kept copy the configuration this statement sees. */
static void
current_config(void)
{
	int64		version = salesperf_config_version();

	if (!config.valid || config.version != version)
		load_config(version);
}

Datum
salesperf_one_row_time_zone(void)
{
	current_config();
	return config.time_zone;
}

/* Growing arrays of the standings rows, in key order. */
typedef struct StandingRows
{
	int			n;
	int			size;
	Datum	   *board_id;
	Datum	   *period_start;
	Datum	   *participant_id;
	Datum	   *contributor_id;
	Datum	   *num;
	Datum	   *den;
	bool	   *den_null;
	Datum	   *direction;
	Datum	   *reached_at;
} StandingRows;

static void *
grown(void *old, Size element, int old_count, int new_count)
{
	void	   *p = palloc0(element * new_count);

	if (old != NULL)
		memcpy(p, old, element * old_count);
	return p;
}

static void
add_standing(StandingRows *rows, const Board *b, Datum ps, int64 participant, int64 rep,
			 const KpiContribution *c)
{
	int			i;

	if (rows->n == rows->size)
	{
		int			size = Max(8, rows->size * 2);

		rows->board_id = grown(rows->board_id, sizeof(Datum), rows->size, size);
		rows->period_start = grown(rows->period_start, sizeof(Datum), rows->size, size);
		rows->participant_id = grown(rows->participant_id, sizeof(Datum), rows->size, size);
		rows->contributor_id = grown(rows->contributor_id, sizeof(Datum), rows->size, size);
		rows->num = grown(rows->num, sizeof(Datum), rows->size, size);
		rows->den = grown(rows->den, sizeof(Datum), rows->size, size);
		rows->direction = grown(rows->direction, sizeof(Datum), rows->size, size);
		rows->reached_at = grown(rows->reached_at, sizeof(Datum), rows->size, size);
		rows->den_null = grown(rows->den_null, sizeof(bool), rows->size, size);
		rows->size = size;
	}
	i = rows->n++;
	rows->board_id[i] = Int32GetDatum(b->board_id);
	rows->period_start[i] = ps;
	rows->participant_id[i] = Int64GetDatum(participant);
	rows->contributor_id[i] = Int64GetDatum(rep);
	rows->num[i] = c->num;
	rows->den[i] = c->den;
	rows->den_null[i] = c->den_null;
	rows->direction[i] = Int16GetDatum(b->direction);
	rows->reached_at[i] = TimestampTzGetDatum(c->reached_at);
}

static Datum
array_of(Datum *elements, bool *nulls, int n, Oid type, int16 len, bool byval, char align)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(elements, nulls, 1, dims, lbs, type, len, byval, align));
}

/* The counter row of one activity, by SQL (isolation levels above READ COMMITTED). */
static void
counter_by_sql(const OneRowDelta *row, bool amount_moved, bool points_moved)
{
	Oid			counter_types[9] = {INT8OID, INT8OID, DATEOID, TEXTOID, NUMERICOID, NUMERICOID,
	TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(row->rep_id);
	values[1] = row->unit_id;
	nulls[1] = row->unit_null ? 'n' : ' ';
	values[2] = row->day;
	values[3] = row->kind;
	values[4] = row->amount;
	values[5] = row->points;
	values[6] = TimestampTzGetDatum(row->occurred_at);
	values[7] = TimestampTzGetDatum(row->occurred_at);
	nulls[7] = amount_moved ? ' ' : 'n';
	values[8] = TimestampTzGetDatum(row->occurred_at);
	nulls[8] = points_moved ? ' ' : 'n';
	run(salesperf_kept_generic_plan(&counter_plan, counter_sql, 9, counter_types), values, nulls);
}

/* The standings rows, by SQL: one upsert, whose statement triggers keep the bands. */
static void
standings_by_sql(StandingRows *standings)
{
	Oid			types[8] = {INT4ARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
	NUMERICARRAYOID, NUMERICARRAYOID, INT2ARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		arrays[8];
	int			n = standings->n;

	arrays[0] = array_of(standings->board_id, NULL, n, INT4OID, 4, true, TYPALIGN_INT);
	arrays[1] = array_of(standings->period_start, NULL, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	arrays[2] = array_of(standings->participant_id, NULL, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	arrays[3] = array_of(standings->contributor_id, NULL, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	arrays[4] = array_of(standings->num, NULL, n, NUMERICOID, -1, false, TYPALIGN_INT);
	arrays[5] = array_of(standings->den, standings->den_null, n, NUMERICOID, -1, false, TYPALIGN_INT);
	arrays[6] = array_of(standings->direction, NULL, n, INT2OID, 2, true, TYPALIGN_SHORT);
	arrays[7] = array_of(standings->reached_at, NULL, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	writing_standings = true;
	PG_TRY();
	{
		run(salesperf_kept_generic_plan(&standings_plan, standings_sql, 8, types), arrays, NULL);
	}
	PG_FINALLY();
	{
		writing_standings = false;
	}
	PG_END_TRY();
}

/*
 * The direct writes (direct_rows.c) name every column of the tables they
 * write, in these orders; the key columns come first, in the order of the
 * unique index they are found by.
 */
enum
{
	C_REP, C_DAY, C_KIND, C_UNIT, C_ACTIVITIES, C_AMOUNT, C_POINTS, C_LAST, C_LAST_AMOUNT,
	C_LAST_POINT, COUNTER_COLUMNS
};
static const char *const counter_columns[COUNTER_COLUMNS] = {
	"rep_id", "day", "kind", "unit_id", "activities", "amount", "points", "last_at",
	"last_amount_at", "last_point_at"
};

enum
{
	S_BOARD, S_PERIOD, S_CONTRIBUTOR, S_PARTICIPANT, S_NUM, S_DEN, S_DIRECTION, S_REACHED,
	S_SCORE, S_SORT_SCORE, STANDING_COLUMNS
};
static const char *const standing_columns[STANDING_COLUMNS] = {
	"board_id", "period_start", "contributor_id", "participant_id", "num", "den", "direction",
	"reached_at", "score", "sort_score"
};

/* Column c of the row being written (attnums: the table's, in the orders above). */
#define SET(t, attnums, c, value, null) \
	do { \
		(t)->row->tts_values[(attnums)[c] - 1] = (value); \
		(t)->row->tts_isnull[(attnums)[c] - 1] = (null); \
	} while (0)
#define OLD(t, attnums, c) ((t)->found->tts_values[(attnums)[c] - 1])
#define OLD_NULL(t, attnums, c) ((t)->found->tts_isnull[(attnums)[c] - 1])

/* Starts t->row as a copy of the row found, or empty. */
static void
start_row(DirectTable *t, bool found)
{
	int			natts = RelationGetDescr(t->rel)->natts;

	salesperf_direct_clear_row(t);
	if (!found)
		return;
	memcpy(t->row->tts_values, t->found->tts_values, sizeof(Datum) * natts);
	memcpy(t->row->tts_isnull, t->found->tts_isnull, sizeof(bool) * natts);
}

/* GREATEST(a, b) of two timestamps, NULLs ignored as SQL does. */
static Datum
later(Datum a, bool a_null, Datum b, bool b_null, bool *null)
{
	*null = a_null && b_null;
	if (a_null)
		return b;
	if (b_null)
		return a;
	return DatumGetTimestampTz(a) >= DatumGetTimestampTz(b) ? a : b;
}

static bool
numeric_is_zero(Datum a)
{
	return DatumGetBool(DirectFunctionCall2(numeric_eq, a, NumericGetDatum(int64_to_numeric(0))));
}

static Datum
numeric_plus(Datum a, Datum b)
{
	return DirectFunctionCall2(numeric_add, a, b);
}

/* The counter row, upserted in place (what counter_sql does). */
static void
counter_direct(DirectWrites *w, DirectTable *t, const OneRowDelta *row, bool amount_moved,
			   bool points_moved)
{
	AttrNumber	att[COUNTER_COLUMNS];
	Datum		key[4] = {Int64GetDatum(row->rep_id), row->day, row->kind, row->unit_id};
	bool		key_null[4] = {false, false, false, row->unit_null};
	Datum		at = TimestampTzGetDatum(row->occurred_at);
	bool		found;
	bool		null;
	Datum		v;

	salesperf_direct_columns(t, COUNTER_COLUMNS, counter_columns, att);
	found = salesperf_direct_find(w, t, key, key_null);
	start_row(t, found);
	if (!found)
	{
		SET(t, att, C_REP, key[0], false);
		SET(t, att, C_DAY, key[1], false);
		SET(t, att, C_KIND, key[2], false);
		SET(t, att, C_UNIT, key[3], key_null[3]);
		SET(t, att, C_ACTIVITIES, Int64GetDatum(1), false);
		SET(t, att, C_AMOUNT, row->amount, false);
		SET(t, att, C_POINTS, row->points, false);
		SET(t, att, C_LAST, at, false);
		SET(t, att, C_LAST_AMOUNT, at, !amount_moved);
		SET(t, att, C_LAST_POINT, at, !points_moved);
		salesperf_direct_insert(w, t);
		return;
	}
	SET(t, att, C_ACTIVITIES, Int64GetDatum(DatumGetInt64(OLD(t, att, C_ACTIVITIES)) + 1), false);
	SET(t, att, C_AMOUNT, numeric_plus(OLD(t, att, C_AMOUNT), row->amount), false);
	SET(t, att, C_POINTS, numeric_plus(OLD(t, att, C_POINTS), row->points), false);
	v = later(OLD(t, att, C_LAST), OLD_NULL(t, att, C_LAST), at, false, &null);
	SET(t, att, C_LAST, v, null);
	v = later(OLD(t, att, C_LAST_AMOUNT), OLD_NULL(t, att, C_LAST_AMOUNT), at, !amount_moved, &null);
	SET(t, att, C_LAST_AMOUNT, v, null);
	v = later(OLD(t, att, C_LAST_POINT), OLD_NULL(t, att, C_LAST_POINT), at, !points_moved, &null);
	SET(t, att, C_LAST_POINT, v, null);
	salesperf_direct_update(w, t);
}

/*
 * score and sort_score, the generated columns of salesperf.standing:
 * CASE WHEN den IS NULL THEN num ELSE num / NULLIF(den, 0) END, and that
 * times direction::numeric.  The same numeric functions SQL calls.
 */
static void
standing_scores(DirectTable *t, const AttrNumber *att)
{
	TupleTableSlot *r = t->row;
	Datum		num = r->tts_values[att[S_NUM] - 1];
	Datum		den = r->tts_values[att[S_DEN] - 1];
	Datum		score;

	if (r->tts_isnull[att[S_DEN] - 1])
		score = num;
	else if (numeric_is_zero(den))
	{
		SET(t, att, S_SCORE, (Datum) 0, true);
		SET(t, att, S_SORT_SCORE, (Datum) 0, true);
		return;
	}
	else
		score = DirectFunctionCall2(numeric_div, num, den);
	SET(t, att, S_SCORE, score, false);
	SET(t, att, S_SORT_SCORE,
		DirectFunctionCall2(numeric_mul,
							DirectFunctionCall1(int2_numeric, r->tts_values[att[S_DIRECTION] - 1]),
							score),
		false);
}

/*
 * Each standings row, upserted in place (what standings_sql does), and the
 * bands it moves in the tally (what standing_tally_sync does for SQL).
 */
static void
standings_direct(DirectWrites *w, DirectTable *t, const StandingRows *rows, TallyChanges *tally)
{
	AttrNumber	att[STANDING_COLUMNS];

	salesperf_direct_columns(t, STANDING_COLUMNS, standing_columns, att);
	for (int i = 0; i < rows->n; i++)
	{
		Datum		key[4] = {rows->board_id[i], rows->period_start[i], rows->contributor_id[i],
		rows->participant_id[i]};
		bool		key_null[4] = {false, false, false, false};
		bool		found = salesperf_direct_find(w, t, key, key_null);
		Datum		old_score = found ? OLD(t, att, S_SORT_SCORE) : (Datum) 0;
		bool		old_null = !found || OLD_NULL(t, att, S_SORT_SCORE);
		bool		null;
		Datum		v;

		start_row(t, found);
		if (!found)
		{
			SET(t, att, S_BOARD, key[0], false);
			SET(t, att, S_PERIOD, key[1], false);
			SET(t, att, S_CONTRIBUTOR, key[2], false);
			SET(t, att, S_PARTICIPANT, key[3], false);
			SET(t, att, S_NUM, rows->num[i], false);
			SET(t, att, S_DEN, rows->den[i], rows->den_null[i]);
			SET(t, att, S_DIRECTION, rows->direction[i], false);
			SET(t, att, S_REACHED, rows->reached_at[i], false);
		}
		else
		{
			SET(t, att, S_NUM, numeric_plus(OLD(t, att, S_NUM), rows->num[i]), false);
			if (OLD_NULL(t, att, S_DEN) || rows->den_null[i])
				SET(t, att, S_DEN, (Datum) 0, true);
			else
				SET(t, att, S_DEN, numeric_plus(OLD(t, att, S_DEN), rows->den[i]), false);
			v = later(OLD(t, att, S_REACHED), OLD_NULL(t, att, S_REACHED), rows->reached_at[i], false,
					  &null);
			SET(t, att, S_REACHED, v, null);
		}
		standing_scores(t, att);
		salesperf_tally_change(tally, DatumGetInt32(key[0]), DatumGetTimestampTz(key[1]),
							   DatumGetInt64(key[2]) == DatumGetInt64(key[3]),
							   old_score, old_null,
							   t->row->tts_values[att[S_SORT_SCORE] - 1],
							   t->row->tts_isnull[att[S_SORT_SCORE] - 1]);
		if (found)
			salesperf_direct_update(w, t);
		else
			salesperf_direct_insert(w, t);
	}
}

/*
 * READ COMMITTED: the counter, the standings and their bands written in
 * place, in one batch (direct_rows.c).  The bands are merged, now and
 * then, and ended periods noted by SQL after it.
 */
static void
write_directly(const OneRowDelta *row, bool amount_moved, bool points_moved, const StandingRows *standings)
{
	static const char *const tables[] = {"kpi_counter", "standing", "standing_tally"};
	static const char *const keys[] = {"kpi_counter_key", "standing_pkey", NULL};
	DirectWrites w;
	TallyChanges *tally = salesperf_tally_changes();
	bool		bands_written;

	salesperf_direct_begin(&w, standings->n > 0 ? 3 : 1, tables, keys);
	counter_direct(&w, &w.tables[0], row, amount_moved, points_moved);
	if (standings->n == 0)
	{
		salesperf_direct_end(&w);
		return;
	}
	standings_direct(&w, &w.tables[1], standings, tally);
	bands_written = salesperf_tally_changes_direct(tally, &w, &w.tables[2]);
	salesperf_direct_end(&w);

	writing_standings = true;
	PG_TRY();
	{
		salesperf_tally_changes_by_sql(tally, !bands_written);
	}
	PG_FINALLY();
	{
		writing_standings = false;
	}
	PG_END_TRY();
}

/*
 * The direct writes keep the score bands themselves; an installation whose
 * schema predates them (0.1.0, before ALTER EXTENSION UPDATE) has none
 * and writes by SQL.
 */
static bool
has_band_tally(void)
{
	return OidIsValid(get_relname_relid("standing_tally", get_namespace_oid("salesperf", false)));
}

void
salesperf_add_one_row(const OneRowDelta *row)
{
	bool		amount_moved = !numeric_is_zero(row->amount);
	bool		points_moved = !numeric_is_zero(row->points);
	KpiCounterRow counter;
	StandingRows standings;
	Datum		day_start = (Datum) 0;

	/* What the counter row adds to each board, for whom. */
	current_config();
	memset(&counter, 0, sizeof(counter));
	counter.kind = DatumGetTextPP(row->kind);
	counter.activities = 1;
	counter.amount = row->amount;
	counter.points = row->points;
	counter.last[0] = counter.last[1] = counter.last[2] = row->occurred_at;
	counter.last_null[1] = !amount_moved;
	counter.last_null[2] = !points_moved;
	memset(&standings, 0, sizeof(standings));

	for (int i = 0; i < config.nboards; i++)
	{
		const Board *b = &config.boards[i];
		KpiContribution c;
		Datum		ps;

		if (!salesperf_kpi_contribution_of(&b->parts, &counter, &c) || c.reached_at_null)
			continue;
		if (day_start == (Datum) 0)
			day_start = DirectFunctionCall2(salesperf_local_day_start, row->day, config.time_zone);
		ps = DirectFunctionCall6(salesperf_calendar_start, day_start, b->period, config.time_zone,
								 config.week_start, config.fiscal_year_start_month, config.calendar);
		if (!b->unit_participants && !b->scoped)
		{
			add_standing(&standings, b, ps, row->rep_id, row->rep_id, &c);
			continue;
		}
		/* A rep outside every unit counts on neither a unit board nor a scoped one. */
		if (row->unit_null)
			continue;
		{
			Oid			types[2] = {INT4OID, INT8OID};
			Datum		args[2] = {Int32GetDatum(b->board_id), row->unit_id};
			SPITupleTable *found;
			uint64		count;

			run(salesperf_kept_generic_plan(&board_unit_plan, board_unit_sql, 2, types), args, NULL);
			found = SPI_tuptable;
			count = SPI_processed;
			if (!b->unit_participants)
			{
				if (count > 0)
					add_standing(&standings, b, ps, row->rep_id, row->rep_id, &c);
				continue;
			}
			for (uint64 j = 0; j < count; j++)
			{
				bool		isnull;
				Datum		participant = SPI_getbinval(found->vals[j], found->tupdesc, 1, &isnull);

				if (!isnull)
					add_standing(&standings, b, ps, DatumGetInt64(participant), row->rep_id, &c);
			}
		}
	}

	if (salesperf_direct_writes_allowed() && has_band_tally())
		write_directly(row, amount_moved, points_moved, &standings);
	else
	{
		counter_by_sql(row, amount_moved, points_moved);
		if (standings.n > 0)
			standings_by_sql(&standings);
	}
}

bool
salesperf_one_row_period_ended(int32 board_id, TimestampTz period_start, bool *ended)
{
	if (!writing_standings || !config.valid)
		return false;
	for (int i = 0; i < config.nboards; i++)
	{
		const Board *b = &config.boards[i];

		if (b->board_id != board_id)
			continue;
		/* An 'all' period starts at -infinity and never ends. */
		*ended = !TIMESTAMP_NOT_FINITE(period_start) &&
			DatumGetTimestampTz(DirectFunctionCall6(salesperf_calendar_end,
													TimestampTzGetDatum(period_start), b->period,
													config.time_zone, config.week_start,
													config.fiscal_year_start_month,
													config.calendar)) <= GetCurrentTimestamp();
		return true;
	}
	return false;
}
