/*
 * bulk_standings.c — what a bulk insert's counter deltas add to the
 * standings of every board, computed in C.
 *
 * A counter delta of a rep, unit and local day adds kpi_contribution() of
 * the board's KPI (the rule refresh_standings() and recompute() apply
 * through salesperf.board_contribution) to a standing in the board's
 * period of that day, for whom the board says: the rep itself on a rep
 * board; on a scoped board the rep, once for each board_unit row of its
 * unit (none: nothing); on a unit board each participant board_unit names
 * for its unit.  The contributions to one (board, period, contributor,
 * participant) are summed (num and den added, the latest reached_at; none
 * reached: no row).  The standings go to the merge statement as the
 * ephemeral relation salesperf_bulk_standings, in key order.
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

#include "bulk_delta.h"
#include "bulk_standings.h"

extern Datum salesperf_calendar_start(PG_FUNCTION_ARGS);
extern Datum salesperf_local_day_start(PG_FUNCTION_ARGS);

static const char *const settings_sql =
"SELECT s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar FROM salesperf.settings s";

static const char *const boards_sql =
"SELECT b.board_id, b.period, k.num_kind, k.num_measure, k.den_kind, k.den_measure,"
"       k.higher_is_better, b.participant OPERATOR(pg_catalog.=) 'unit', b.unit_scope IS NOT NULL"
"  FROM salesperf.leaderboard b JOIN salesperf.kpi k ON k.name OPERATOR(pg_catalog.=) b.metric"
" ORDER BY b.board_id";

static const char *const board_units_sql =
"SELECT bu.board_id, bu.unit_id, bu.participant_id FROM salesperf.board_unit bu";

typedef struct Board
{
	int32		board_id;
	Datum		period;			/* text */
	KpiParts	parts;
	int16		direction;
	bool		unit_participants;	/* a unit board */
	bool		scoped;			/* a rep board with a unit scope */
} Board;

/* The board_unit rows of a (board, unit): their participants (0: NULL). */
typedef struct BoardUnitKey
{
	int64		unit_id;
	int32		board_id;
	int32		zero;			/* padding, always 0 */
} BoardUnitKey;

typedef struct BoardUnitEntry
{
	BoardUnitKey key;
	int			count;
	int			allocated;
	int64	   *participants;
	bool	   *participant_null;
} BoardUnitEntry;

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
	int64		contributor_id;
	int64		participant_id;
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

struct BulkStandings
{
	MemoryContext cxt;
	Datum		time_zone;
	Datum		week_start;
	Datum		fiscal_year_start_month;
	Datum		calendar;
	int			nboards;
	Board	   *boards;
	HTAB	   *board_units;
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

BulkStandings *
salesperf_bulk_standings_begin(MemoryContext cxt)
{
	MemoryContext old;
	BulkStandings *s = MemoryContextAllocZero(cxt, sizeof(BulkStandings));
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

	if (SPI_execute(boards_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read the leaderboards");
	old = MemoryContextSwitchTo(cxt);
	s->nboards = (int) SPI_processed;
	s->boards = palloc0(sizeof(Board) * Max(s->nboards, 1));
	for (int i = 0; i < s->nboards; i++)
	{
		Board   *b = &s->boards[i];

		row = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		b->board_id = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
		b->period = PointerGetDatum(text_copy_or_null(row, desc, 2));
		b->parts.num_kind = text_copy_or_null(row, desc, 3);
		b->parts.num_measure = salesperf_kpi_measure(text_copy_or_null(row, desc, 4));
		b->parts.den_kind = text_copy_or_null(row, desc, 5);
		b->parts.den_measure = salesperf_kpi_measure(text_copy_or_null(row, desc, 6));
		b->direction = DatumGetBool(SPI_getbinval(row, desc, 7, &isnull)) ? 1 : -1;
		b->unit_participants = DatumGetBool(SPI_getbinval(row, desc, 8, &isnull));
		b->scoped = DatumGetBool(SPI_getbinval(row, desc, 9, &isnull));
	}
	MemoryContextSwitchTo(old);

	s->board_units = blob_table("salesperf bulk board units", sizeof(BoardUnitKey),
								sizeof(BoardUnitEntry), cxt);
	if (SPI_execute(board_units_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read salesperf.board_unit");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		BoardUnitKey key;
		BoardUnitEntry *entry;
		bool		found;
		Datum		participant;

		row = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		memset(&key, 0, sizeof(key));
		key.board_id = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
		key.unit_id = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
		participant = SPI_getbinval(row, desc, 3, &isnull);
		entry = hash_search(s->board_units, &key, HASH_ENTER, &found);
		if (!found)
		{
			entry->count = 0;
			entry->allocated = 4;
			entry->participants = MemoryContextAlloc(cxt, sizeof(int64) * entry->allocated);
			entry->participant_null = MemoryContextAlloc(cxt, sizeof(bool) * entry->allocated);
		}
		else if (entry->count == entry->allocated)
		{
			entry->allocated *= 2;
			entry->participants = repalloc(entry->participants, sizeof(int64) * entry->allocated);
			entry->participant_null = repalloc(entry->participant_null,
											   sizeof(bool) * entry->allocated);
		}
		entry->participants[entry->count] = isnull ? 0 : DatumGetInt64(participant);
		entry->participant_null[entry->count] = isnull;
		entry->count++;
	}
	s->periods = blob_table("salesperf bulk periods", sizeof(PeriodKey), sizeof(PeriodEntry), cxt);
	s->standings = blob_table("salesperf bulk rep standings", sizeof(StandingKey),
							  sizeof(StandingEntry), cxt);
	return s;
}

/* The start of board b's period that contains local day `day`, computed once. */
static TimestampTz
period_start(BulkStandings *s, int board, DateADT day)
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
add_kept(BulkStandings *s, Numeric a, Datum b)
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

/* Add contribution c of contributor rep_id to participant's standing on board i. */
static void
add_contribution(BulkStandings *s, int i, TimestampTz ps, int64 participant_id, int64 rep_id,
				 const KpiContribution *c)
{
	StandingKey key;
	StandingEntry *entry;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.contributor_id = rep_id;
	key.participant_id = participant_id;
	key.period_start = ps;
	key.board = i;
	entry = hash_search(s->standings, &key, HASH_ENTER, &found);
	if (!found)
	{
		entry->num = NULL;
		entry->den = NULL;
		entry->reached = false;
	}
	entry->num = add_kept(s, entry->num, c->num);
	if (!c->den_null)
		entry->den = add_kept(s, entry->den, c->den);
	if (!c->reached_at_null)
	{
		entry->reached_at = entry->reached ? Max(entry->reached_at, c->reached_at) : c->reached_at;
		entry->reached = true;
	}
}

void
salesperf_bulk_standings_add(BulkStandings *s, int64 rep_id, bool unit_null, int64 unit_id,
							 DateADT day, const KpiCounterRow *counter)
{
	for (int i = 0; i < s->nboards; i++)
	{
		const Board *b = &s->boards[i];
		KpiContribution c;
		BoardUnitKey key;
		BoardUnitEntry *units;
		TimestampTz ps;

		if (!salesperf_kpi_contribution_of(&b->parts, counter, &c))
			continue;
		if (!b->unit_participants && !b->scoped)
		{
			add_contribution(s, i, period_start(s, i, day), rep_id, rep_id, &c);
			continue;
		}
		/* A rep outside every unit counts on neither a unit board nor a scoped one. */
		if (unit_null)
			continue;
		memset(&key, 0, sizeof(key));
		key.board_id = b->board_id;
		key.unit_id = unit_id;
		units = hash_search(s->board_units, &key, HASH_FIND, NULL);
		if (units == NULL)
			continue;
		ps = period_start(s, i, day);
		for (int j = 0; j < units->count; j++)
		{
			if (!b->unit_participants)
				add_contribution(s, i, ps, rep_id, rep_id, &c);
			else if (!units->participant_null[j])
				add_contribution(s, i, ps, units->participants[j], rep_id, &c);
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
	if (x->key.contributor_id != y->key.contributor_id)
		return x->key.contributor_id < y->key.contributor_id ? -1 : 1;
	if (x->key.participant_id != y->key.participant_id)
		return x->key.participant_id < y->key.participant_id ? -1 : 1;
	return 0;
}

Tuplestorestate *
salesperf_bulk_standings_register(BulkStandings *s)
{
	long		count = hash_get_num_entries(s->standings);
	StandingEntry **sorted = MemoryContextAlloc(s->cxt, sizeof(StandingEntry *) * Max(count, 1));
	long		n = 0;
	HASH_SEQ_STATUS seq;
	StandingEntry *entry;
	TupleDesc	desc = CreateTemplateTupleDesc(8);
	Tuplestorestate *rows = tuplestore_begin_heap(false, false, work_mem);

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
		const Board *b = &s->boards[sorted[i]->key.board];
		Datum		values[8];
		bool		nulls[8] = {false};

		values[0] = Int32GetDatum(b->board_id);
		values[1] = TimestampTzGetDatum(sorted[i]->key.period_start);
		values[2] = Int64GetDatum(sorted[i]->key.participant_id);
		values[3] = Int64GetDatum(sorted[i]->key.contributor_id);
		values[4] = NumericGetDatum(sorted[i]->num);
		values[5] = NumericGetDatum(sorted[i]->den);
		nulls[5] = sorted[i]->den == NULL;
		values[6] = Int16GetDatum(b->direction);
		values[7] = TimestampTzGetDatum(sorted[i]->reached_at);
		tuplestore_putvalues(rows, desc, values, nulls);
	}

	salesperf_register_store(BULK_STANDINGS_RELATION, desc, rows);
	return rows;
}
