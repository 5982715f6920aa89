/*
 * bulk_rep_standings.c — what a bulk insert's counter deltas add to the
 * standings of the rep boards that have no unit scope, computed in C.
 *
 * These boards count every rep for itself, so a counter delta of a rep on
 * a local day adds kpi_contribution() of the board's KPI to the rep's
 * standing in the board's period of that day.  The deltas of one (board,
 * period, rep) are summed as the merge statement sums them (num and den
 * added, the latest reached_at; none reached: no row).  Unit boards and
 * scoped boards, which need the org chart, stay in the merge statement.
 * The standings go to that statement as the ephemeral relation
 * salesperf_rep_standings, in key order.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "bulk_rep_standings.h"

extern Datum salesperf_calendar_start(PG_FUNCTION_ARGS);
extern Datum salesperf_local_day_start(PG_FUNCTION_ARGS);

#define REP_STANDINGS_RELATION "salesperf_rep_standings"

static const char *const settings_sql =
"SELECT s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar FROM salesperf.settings s";

static const char *const rep_boards_sql =
"SELECT b.board_id, b.period, k.num_kind, k.num_measure, k.den_kind, k.den_measure,"
"       k.higher_is_better"
"  FROM salesperf.leaderboard b JOIN salesperf.kpi k ON k.name OPERATOR(pg_catalog.=) b.metric"
" WHERE b.participant OPERATOR(pg_catalog.=) 'rep' AND b.unit_scope IS NULL"
" ORDER BY b.board_id";

typedef struct RepBoard
{
	int32		board_id;
	Datum		period;			/* text */
	KpiParts	parts;
	int16		direction;
} RepBoard;

typedef struct PeriodKey
{
	int32		board;			/* index into boards */
	DateADT		day;
} PeriodKey;

typedef struct PeriodEntry
{
	PeriodKey	key;
	TimestampTz period_start;
} PeriodEntry;

typedef struct StandingKey
{
	int64		rep_id;
	TimestampTz period_start;
	int32		board;			/* index into boards */
	int32		zero;			/* padding, always 0 */
} StandingKey;

typedef struct StandingEntry
{
	StandingKey key;
	Numeric		num;
	Numeric		den;			/* NULL: no denominator yet */
	TimestampTz reached_at;
	bool		reached;
} StandingEntry;

struct RepStandings
{
	MemoryContext cxt;
	Datum		time_zone;
	Datum		week_start;
	Datum		fiscal_year_start_month;
	Datum		calendar;
	int			nboards;
	RepBoard   *boards;
	HTAB	   *periods;
	HTAB	   *standings;
};

static text *
text_copy_or_null(HeapTuple row, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, col, &isnull);

	return isnull ? NULL : DatumGetTextPCopy(d);
}

static HTAB *
blob_table(const char *name, Size keysize, Size entrysize, MemoryContext cxt)
{
	HASHCTL		ctl;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

RepStandings *
salesperf_rep_standings_begin(MemoryContext cxt)
{
	MemoryContext old;
	RepStandings *s = MemoryContextAllocZero(cxt, sizeof(RepStandings));
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;

	s->cxt = cxt;
	if (SPI_execute(settings_sql, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "salesperf: salesperf.settings must have one row");
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(cxt);
	s->time_zone = PointerGetDatum(text_copy_or_null(row, desc, 1));
	s->week_start = SPI_getbinval(row, desc, 2, &isnull);
	s->fiscal_year_start_month = SPI_getbinval(row, desc, 3, &isnull);
	s->calendar = PointerGetDatum(text_copy_or_null(row, desc, 4));
	MemoryContextSwitchTo(old);

	if (SPI_execute(rep_boards_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read the leaderboards");
	old = MemoryContextSwitchTo(cxt);
	s->nboards = (int) SPI_processed;
	s->boards = palloc0(sizeof(RepBoard) * Max(s->nboards, 1));
	for (int i = 0; i < s->nboards; i++)
	{
		RepBoard   *b = &s->boards[i];

		row = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		b->board_id = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
		b->period = PointerGetDatum(text_copy_or_null(row, desc, 2));
		b->parts.num_kind = text_copy_or_null(row, desc, 3);
		b->parts.num_measure = salesperf_kpi_measure(text_copy_or_null(row, desc, 4));
		b->parts.den_kind = text_copy_or_null(row, desc, 5);
		b->parts.den_measure = salesperf_kpi_measure(text_copy_or_null(row, desc, 6));
		b->direction = DatumGetBool(SPI_getbinval(row, desc, 7, &isnull)) ? 1 : -1;
	}
	MemoryContextSwitchTo(old);
	s->periods = blob_table("salesperf bulk periods", sizeof(PeriodKey), sizeof(PeriodEntry), cxt);
	s->standings = blob_table("salesperf bulk rep standings", sizeof(StandingKey),
							  sizeof(StandingEntry), cxt);
	return s;
}

/* The start of board b's period that contains local day `day`, computed once. */
static TimestampTz
period_start(RepStandings *s, int board, DateADT day)
{
	PeriodKey	key;
	PeriodEntry *entry;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.board = board;
	key.day = day;
	entry = hash_search(s->periods, &key, HASH_ENTER, &found);
	if (!found)
	{
		Datum		day_start = DirectFunctionCall2(salesperf_local_day_start,
													DateADTGetDatum(day), s->time_zone);

		entry->period_start =
			DatumGetTimestampTz(DirectFunctionCall6(salesperf_calendar_start, day_start,
													s->boards[board].period, s->time_zone,
													s->week_start, s->fiscal_year_start_month,
													s->calendar));
	}
	return entry->period_start;
}

/* a + b in the standings' context (a NULL: b). */
static Numeric
add_kept(RepStandings *s, Numeric a, Datum b)
{
	MemoryContext old = MemoryContextSwitchTo(s->cxt);
	Numeric		sum;

	if (a == NULL)
		sum = DatumGetNumericCopy(b);
	else
	{
		sum = DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(a), b));
		pfree(a);
	}
	MemoryContextSwitchTo(old);
	return sum;
}

void
salesperf_rep_standings_add(RepStandings *s, int64 rep_id, DateADT day,
							const KpiCounterRow *counter)
{
	for (int i = 0; i < s->nboards; i++)
	{
		KpiContribution c;
		StandingKey key;
		StandingEntry *entry;
		bool		found;

		if (!salesperf_kpi_contribution_of(&s->boards[i].parts, counter, &c))
			continue;
		memset(&key, 0, sizeof(key));
		key.rep_id = rep_id;
		key.period_start = period_start(s, i, day);
		key.board = i;
		entry = hash_search(s->standings, &key, HASH_ENTER, &found);
		if (!found)
		{
			entry->num = NULL;
			entry->den = NULL;
			entry->reached = false;
		}
		entry->num = add_kept(s, entry->num, c.num);
		if (!c.den_null)
			entry->den = add_kept(s, entry->den, c.den);
		if (!c.reached_at_null)
		{
			entry->reached_at = entry->reached ? Max(entry->reached_at, c.reached_at) : c.reached_at;
			entry->reached = true;
		}
	}
}

static int
standing_order(const void *a, const void *b)
{
	const StandingEntry *x = *(StandingEntry *const *) a;
	const StandingEntry *y = *(StandingEntry *const *) b;
	int32		bx = x->key.board,
				by = y->key.board;

	/* Boards are numbered in board_id order. */
	if (bx != by)
		return bx < by ? -1 : 1;
	if (x->key.period_start != y->key.period_start)
		return x->key.period_start < y->key.period_start ? -1 : 1;
	if (x->key.rep_id != y->key.rep_id)
		return x->key.rep_id < y->key.rep_id ? -1 : 1;
	return 0;
}

void
salesperf_rep_standings_register(RepStandings *s)
{
	long		count = hash_get_num_entries(s->standings);
	StandingEntry **sorted = MemoryContextAlloc(s->cxt, sizeof(StandingEntry *) * Max(count, 1));
	long		n = 0;
	HASH_SEQ_STATUS seq;
	StandingEntry *entry;
	TupleDesc	desc = CreateTemplateTupleDesc(8);
	Tuplestorestate *rows = tuplestore_begin_heap(false, false, work_mem);
	EphemeralNamedRelation enr;

	hash_seq_init(&seq, s->standings);
	while ((entry = hash_seq_search(&seq)) != NULL)
		if (entry->reached)
			sorted[n++] = entry;
	qsort(sorted, n, sizeof(StandingEntry *), standing_order);

	TupleDescInitEntry(desc, 1, "board_id", INT4OID, -1, 0);
	TupleDescInitEntry(desc, 2, "period_start", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(desc, 3, "participant_id", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 4, "contributor_id", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 5, "num", NUMERICOID, -1, 0);
	TupleDescInitEntry(desc, 6, "den", NUMERICOID, -1, 0);
	TupleDescInitEntry(desc, 7, "direction", INT2OID, -1, 0);
	TupleDescInitEntry(desc, 8, "reached_at", TIMESTAMPTZOID, -1, 0);
	for (long i = 0; i < n; i++)
	{
		const RepBoard *b = &s->boards[sorted[i]->key.board];
		Datum		values[8];
		bool		nulls[8] = {false};

		values[0] = Int32GetDatum(b->board_id);
		values[1] = TimestampTzGetDatum(sorted[i]->key.period_start);
		values[2] = Int64GetDatum(sorted[i]->key.rep_id);
		values[3] = Int64GetDatum(sorted[i]->key.rep_id);
		values[4] = NumericGetDatum(sorted[i]->num);
		values[5] = NumericGetDatum(sorted[i]->den);
		nulls[5] = sorted[i]->den == NULL;
		values[6] = Int16GetDatum(b->direction);
		values[7] = TimestampTzGetDatum(sorted[i]->reached_at);
		tuplestore_putvalues(rows, desc, values, nulls);
	}

	enr = palloc0(sizeof(EphemeralNamedRelationData));
	enr->md.name = REP_STANDINGS_RELATION;
	enr->md.reliddesc = InvalidOid;
	enr->md.tupdesc = desc;
	enr->md.enrtype = ENR_NAMED_TUPLESTORE;
	enr->md.enrtuples = tuplestore_tuple_count(rows);
	enr->reldata = rows;
	if (SPI_register_relation(enr) != SPI_OK_REL_REGISTER)
		elog(ERROR, "salesperf: could not register the bulk standings");
}
