/*
 * leaderboard_top.c — salesperf.leaderboard_top(board, n, at): the top n of
 * a board for the period containing `at`, with each participant's rank at
 * the end of the previous period and the movement since.
 *
 * The common read is a rep board whose first n standings all score above
 * zero: then nobody who is not materialized (a rep who recorded nothing
 * scores 0) can rank among them, and the top is one probe of the standings
 * index plus the previous ranks (previous_ranks.c).  That path is here, one
 * prepared statement, because a board screen calls it on every refresh.  Any
 * other case (a unit board, scores at or below zero, fewer than n
 * standings, bad arguments) is answered by leaderboard_top_ranked(), which
 * ranks every participant and raises the errors.
 *
 * SQL here runs under the caller's search_path: every name and operator is
 * schema-qualified.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "board_facts.h"
#include "board_head.h"
#include "kept_plan.h"
#include "previous_ranks.h"

/* Longer heads are read by the ranked path. */
#define MAX_HEAD 1000

PG_FUNCTION_INFO_V1(salesperf_leaderboard_top);

/*
 * In one statement: the board, the starts of the period containing $2 and
 * of the one before, and on a rep board the first $3 standings of active
 * reps in board order, scores shown as display_score() shows them.  One
 * row with NULL standing columns when there are none (or the board ranks
 * units); no row for an unknown board.
 */
static const char *const top_sql =
"SELECT bb.board_id, bb.rep_board, bb.previous_start,"
"       h.participant_id, h.name, h.score, h.positive, h.sort_score"
"  FROM (SELECT b.board_id, b.participant OPERATOR(pg_catalog.=) 'rep' AS rep_board,"
"               k.unit OPERATOR(pg_catalog.=) 'currency' AS money, k.den_measure IS NOT NULL AS ratio,"
"               s.currency_scale, p.ps,"
"               CASE WHEN b.period OPERATOR(pg_catalog.<>) 'all'"
"                    THEN salesperf.calendar_start(p.ps OPERATOR(pg_catalog.-) '1 microsecond'::pg_catalog.interval,"
"                                                  b.period, s.time_zone, s.week_start,"
"                                                  s.fiscal_year_start_month, s.calendar) END AS previous_start"
"          FROM salesperf.leaderboard b"
"          JOIN salesperf.kpi k ON k.name OPERATOR(pg_catalog.=) b.metric"
"         CROSS JOIN salesperf.settings s"
"         CROSS JOIN LATERAL (SELECT salesperf.calendar_start($2, b.period, s.time_zone, s.week_start,"
"                                                            s.fiscal_year_start_month, s.calendar) AS ps) p"
"         WHERE b.name OPERATOR(pg_catalog.=) $1) bb"
"  LEFT JOIN LATERAL ("
"       SELECT st.participant_id, r.name,"
"              CASE WHEN bb.money THEN pg_catalog.round(st.score, bb.currency_scale)"
"                   WHEN bb.ratio THEN pg_catalog.trim_scale(pg_catalog.round(st.score, 4))"
"                   ELSE pg_catalog.trim_scale(st.score) END AS score,"
"              st.sort_score OPERATOR(pg_catalog.>) 0 AS positive, st.sort_score"
"         FROM salesperf.standing st"
"         JOIN salesperf.rep r ON r.rep_id OPERATOR(pg_catalog.=) st.participant_id AND r.active"
"        WHERE bb.rep_board"
"          AND st.board_id OPERATOR(pg_catalog.=) bb.board_id AND st.period_start OPERATOR(pg_catalog.=) bb.ps"
"        ORDER BY st.sort_score DESC NULLS LAST, st.reached_at, st.participant_id"
"        LIMIT $3) h ON true";

static const char *const ranked_sql =
"SELECT t.rank, t.participant_id, t.name, t.score, t.previous_rank, t.movement"
"  FROM salesperf.leaderboard_top_ranked($1, $2, $3) t";

static SPIPlanPtr top_plan = NULL;
static SPIPlanPtr ranked_plan = NULL;

/* Previous ranks land in the head's slots, found by participant id. */
typedef struct HeadSlots
{
	int64	   *ids;			/* participant of each head row */
	int64	   *previous;		/* rank at the end of the previous period */
	bool	   *known;
	int			n;
	int			next;			/* where the search for the next id starts */
} HeadSlots;

/*
 * Ranks mostly arrive in the head's order (the kept ranking answers id by
 * id), so the search starts after the last slot filled: one step each.
 */
static void
note_previous_rank(void *arg, int64 participant, int64 rank)
{
	HeadSlots  *slots = (HeadSlots *) arg;

	for (int k = 0; k < slots->n; k++)
	{
		int			i = (slots->next + k) % slots->n;

		if (slots->ids[i] == participant)
		{
			slots->previous[i] = rank;
			slots->known[i] = true;
			slots->next = i + 1;
			return;
		}
	}
}

/* Answers from leaderboard_top_ranked(): every participant ranked. */
static void
put_ranked(ReturnSetInfo *rsinfo, Datum *args, char *nulls)
{
	Oid			types[3] = {TEXTOID, INT4OID, TIMESTAMPTZOID};

	if (SPI_execute_plan(salesperf_kept_plan(&ranked_plan, ranked_sql, 3, types), args, nulls, true, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not rank the board");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[6];
		bool		isnull[6];

		for (int c = 0; c < 6; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &isnull[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
}

/* Whether two head rows (sort scores, both above zero) tie. */
static bool
same_score(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b)) == 0;
}

/*
 * The head through SQL (top_sql): under SERIALIZABLE, row-level security
 * or missing privileges, where a plain query must do the reading.  Fills
 * facts' board id and previous start; the count of head rows, or -1 when
 * the ranked path must answer (unknown board, a unit board).
 */
static int
head_by_query(Datum *args, int32 n, BoardFacts *facts, HeadRow *rows)
{
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, INT4OID};
	Datum		top_args[3] = {args[0], args[2], Int32GetDatum(n)};
	SPITupleTable *head;
	bool		isnull;
	bool		no_previous;
	int			count = 0;

	if (SPI_execute_plan(salesperf_kept_generic_plan(&top_plan, top_sql, 3, types),
						 top_args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read the board");
	head = SPI_tuptable;
	if (SPI_processed == 0 ||
		!DatumGetBool(SPI_getbinval(head->vals[0], head->tupdesc, 2, &isnull)))
		return -1;
	facts->board_id = DatumGetInt32(SPI_getbinval(head->vals[0], head->tupdesc, 1, &isnull));
	facts->previous_start = DatumGetTimestampTz(SPI_getbinval(head->vals[0], head->tupdesc, 3, &no_previous));
	facts->all_time = no_previous;
	(void) SPI_getbinval(head->vals[0], head->tupdesc, 4, &isnull);
	if (isnull)
		return 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = head->vals[i];
		HeadRow    *row = &rows[count++];
		Datum		positive = SPI_getbinval(t, head->tupdesc, 7, &isnull);

		row->positive = !isnull && DatumGetBool(positive);
		row->participant_id = DatumGetInt64(SPI_getbinval(t, head->tupdesc, 4, &isnull));
		row->name = SPI_getbinval(t, head->tupdesc, 5, &isnull);
		row->score = SPI_getbinval(t, head->tupdesc, 6, &isnull);
		row->sort_score = SPI_getbinval(t, head->tupdesc, 8, &isnull);
	}
	return count;
}

Datum
salesperf_leaderboard_top(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		args[3];
	char		nulls[3];
	int32		n;
	int			rows = -1;
	bool		fast;
	BoardFacts	facts;
	HeadRow    *head = NULL;
	HeadSlots	slots;
	int64		rank = 0;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < 3; i++)
	{
		args[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");

	/*
	 * NULLs, n of zero or less (or more than a screen shows): the ranked
	 * path answers or says why.
	 */
	n = PG_ARGISNULL(1) ? -1 : PG_GETARG_INT32(1);
	fast = !PG_ARGISNULL(0) && !PG_ARGISNULL(2) && n > 0 && n <= MAX_HEAD;
	if (fast)
	{
		head = palloc(sizeof(HeadRow) * n);
		if (!salesperf_board_facts(PG_GETARG_TEXT_PP(0), PG_GETARG_TIMESTAMPTZ(2), &facts)
			|| !facts.rep_board)
			rows = -1;
		else
		{
			rows = salesperf_board_head_read(&facts, n, head);
			if (rows < 0)
				rows = head_by_query(args, n, &facts, head);
		}
	}

	/*
	 * An unknown board, a unit board, fewer than n standings, one at or
	 * below zero: rank everyone.
	 */
	fast = rows > 0 && rows == n;
	for (int i = 0; fast && i < rows; i++)
		fast = head[i].positive;
	if (!fast)
	{
		put_ranked(rsinfo, args, nulls);
		SPI_finish();
		return (Datum) 0;
	}

	slots.n = rows;
	slots.next = 0;
	slots.ids = palloc(sizeof(int64) * rows);
	slots.previous = palloc0(sizeof(int64) * rows);
	slots.known = palloc0(sizeof(bool) * rows);
	for (int i = 0; i < rows; i++)
		slots.ids[i] = head[i].participant_id;
	if (!facts.all_time)
		salesperf_previous_ranks_emit(facts.board_id, facts.previous_start, slots.ids, slots.n,
									  note_previous_rank, &slots);

	for (int i = 0; i < rows; i++)
	{
		Datum		values[6];
		bool		isnull_out[6] = {false, false, false, false, false, false};

		/* Competition rank: ties share the rank of the first of them. */
		if (i == 0 || !same_score(head[i].sort_score, head[i - 1].sort_score))
			rank = (int64) i + 1;
		values[0] = Int64GetDatum(rank);
		values[1] = Int64GetDatum(head[i].participant_id);
		values[2] = head[i].name;
		values[3] = head[i].score;
		if (slots.known[i])
		{
			values[4] = Int64GetDatum(slots.previous[i]);
			values[5] = Int32GetDatum((int32) (slots.previous[i] - rank));
		}
		else
			isnull_out[4] = isnull_out[5] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull_out);
	}
	SPI_finish();
	return (Datum) 0;
}
