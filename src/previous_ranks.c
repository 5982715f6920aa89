/*
 * previous_ranks.c — the final ranks of a board period that has ended,
 * computed once per backend and reused while they are exact: the movement
 * arrows of leaderboard_top().
 *
 * A top of ten needs ten previous ranks.  Counting each one costs a pass
 * over the period's score bands and a count inside one of them; keeping
 * the whole final ranking of the period makes them ten hash probes.
 *
 * A period's standings still change after it has ended: back-dated
 * activities, edits, rule and org-chart changes.  The ranking is kept with
 * the snapshot it was computed under and reused while that is still exact
 * (kept_snapshot.c): every transaction that changes the standings of an
 * ended period adds its id to salesperf.org_change (the standing triggers,
 * standing_tally.c, look at the clock when they fire), as does every change
 * to the org chart, the boards and the configuration.
 *
 * A transaction that wrote a period's standings while the period was
 * still running did not mark it.  Such a transaction got its id before the
 * period ended, so ranks are first computed only under a snapshot whose
 * xmin is at or above the next transaction id read after the period ended
 * (the fence): every such writer has then ended and is seen.  Until then,
 * and in the cases below, the ranks are counted for the call alone
 * (previous_ranks_now()):
 *   - SERIALIZABLE transactions (the ranking is read under another snapshot,
 *     which serializable conflict tracking would not see);
 *   - standbys (their next transaction id lags the primary's);
 *   - a transaction that has written (see kept_snapshot.c);
 *   - a period that has not ended.
 * After a change, the ranking is recomputed once the counts made meanwhile
 * have cost as much as computing it did: a busy org chart does not make
 * every read pay for a full ranking.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "kept_plan.h"
#include "kept_snapshot.h"
#include "previous_ranks.h"

PG_FUNCTION_INFO_V1(salesperf_previous_ranks);

/* Has the period ended by the clock? (operators qualified: callers' search_path) */
static const char *const ended_sql =
"SELECT CASE WHEN pg_catalog.isfinite($2)"
"            THEN salesperf.calendar_end($2, b.period, s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar)"
"                 OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp() END"
"  FROM salesperf.leaderboard b CROSS JOIN salesperf.settings s"
" WHERE b.board_id OPERATOR(pg_catalog.=) $1";

static const char *const final_sql =
"SELECT f.participant_id, f.rank FROM salesperf.final_ranks($1, $2) f";

static const char *const now_sql =
"SELECT p.participant_id, p.rank FROM salesperf.previous_ranks_now($1, $2, $3) p";

typedef struct FinalKey
{
	int32		board_id;
	TimestampTz period_start;
} FinalKey;

typedef struct RankEntry
{
	int64		participant_id;
	int64		rank;
} RankEntry;

typedef struct FinalEntry
{
	FinalKey	key;
	bool		fenced;			/* fence read (after the period ended) */
	FullTransactionId fence;
	HTAB	   *ranks;			/* participant -> rank; NULL when not kept */
	KeptSnapshot taken_in;		/* the snapshot ranks were computed under */
	MemoryContext cxt;			/* holds ranks */
	double		build_ms;		/* what computing the ranks cost */
	double		counted_ms;		/* what counting without them has cost since */
} FinalEntry;

/* Rankings kept per backend (a few boards, this period and the last). */
#define MAX_ENTRIES 32

static HTAB *final_cache = NULL;
static SPIPlanPtr ended_plan = NULL;
static SPIPlanPtr final_plan = NULL;
static SPIPlanPtr now_plan = NULL;

static void
drop_ranks(FinalEntry *entry)
{
	if (entry->ranks != NULL)
	{
		MemoryContextDelete(entry->cxt);
		salesperf_kept_snapshot_free(&entry->taken_in);
	}
	entry->ranks = NULL;
	entry->cxt = NULL;
}

static void
reset_cache(void)
{
	HASHCTL		ctl;

	if (final_cache != NULL)
	{
		HASH_SEQ_STATUS status;
		FinalEntry *entry;

		hash_seq_init(&status, final_cache);
		while ((entry = hash_seq_search(&status)) != NULL)
			drop_ranks(entry);
		hash_destroy(final_cache);
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(FinalKey);
	ctl.entrysize = sizeof(FinalEntry);
	ctl.hcxt = CacheMemoryContext;
	final_cache = hash_create("salesperf final ranks", MAX_ENTRIES, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static uint64
widen(TransactionId xid, FullTransactionId next)
{
	return U64FromFullTransactionId(next) - (uint32) (XidFromFullTransactionId(next) - xid);
}

static double
elapsed_ms(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_MILLISEC(now);
}

static bool
period_ended(FinalKey *key)
{
	Oid			types[2] = {INT4OID, TIMESTAMPTZOID};
	Datum		args[2];
	bool		isnull;
	bool		ended;

	args[0] = Int32GetDatum(key->board_id);
	args[1] = TimestampTzGetDatum(key->period_start);
	if (SPI_execute_plan(salesperf_kept_plan(&ended_plan, ended_sql, 2, types),
						 args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read the board's period");
	if (SPI_processed != 1)
		return false;
	ended = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return !isnull && ended;
}

/*
 * Computes the final ranks of the entry's period under the latest snapshot
 * if every transaction that may have written them unmarked is seen by it.
 */
static void
compute_ranks(FinalEntry *entry)
{
	Snapshot	snap;
	Oid			types[2] = {INT4OID, TIMESTAMPTZOID};
	Datum		args[2];
	HASHCTL		ctl;
	HTAB	   *ranks;
	instr_time	start;
	uint64		i;

	if (!entry->fenced)
	{
		/*
		 * Read after the clock said the period has ended; kept across
		 * recomputations (once every transaction below it has ended, none
		 * can run again).
		 */
		entry->fence = ReadNextFullTransactionId();
		entry->fenced = true;
	}
	snap = RegisterSnapshot(GetLatestSnapshot());
	if (widen(snap->xmin, ReadNextFullTransactionId()) < U64FromFullTransactionId(entry->fence))
	{
		UnregisterSnapshot(snap);
		return;					/* a writer from before the end may still run */
	}

	INSTR_TIME_SET_CURRENT(start);
	args[0] = Int32GetDatum(entry->key.board_id);
	args[1] = TimestampTzGetDatum(entry->key.period_start);
	if (SPI_execute_snapshot(salesperf_kept_plan(&final_plan, final_sql, 2, types),
							 args, NULL, snap, InvalidSnapshot, true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not rank the board period");

	entry->cxt = AllocSetContextCreate(CacheMemoryContext, "salesperf final ranks",
									   ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(RankEntry);
	ctl.hcxt = entry->cxt;
	ranks = hash_create("salesperf final ranks of a period", Max(SPI_processed, 16), &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		participant = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
															   SPI_tuptable->tupdesc, 1, &isnull));
		RankEntry  *r = hash_search(ranks, &participant, HASH_ENTER, NULL);

		r->rank = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	}
	salesperf_kept_snapshot_take(&entry->taken_in, snap, entry->cxt);
	UnregisterSnapshot(snap);
	entry->ranks = ranks;
	entry->build_ms = elapsed_ms(start);
	entry->counted_ms = 0;
	elog(DEBUG1, "salesperf: final ranking of board %d kept (%ld participants, %.1f ms)",
		 entry->key.board_id, (long) hash_get_num_entries(ranks), entry->build_ms);
}

/*
 * The previous ranks of the participants ids[0..n) on board_id at the end
 * of the period starting prev: sink(arg, participant, rank) once for each
 * that ranked then (one that recorded nothing that counts gets no call).
 */
void
salesperf_previous_ranks_emit(int32 board_id, TimestampTz prev, const int64 *ids, int n,
							  PreviousRankSink sink, void *arg)
{
	FinalKey	key;
	FinalEntry *entry;
	bool		found;
	bool		usable = false;
	int			i;

	memset(&key, 0, sizeof(key));
	key.board_id = board_id;
	key.period_start = prev;

	if (final_cache == NULL || hash_get_num_entries(final_cache) >= MAX_ENTRIES)
		reset_cache();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");

	entry = hash_search(final_cache, &key, HASH_FIND, NULL);
	if (entry != NULL && entry->ranks != NULL)
	{
		usable = XactIsoLevel != XACT_SERIALIZABLE && salesperf_kept_snapshot_still_exact(&entry->taken_in);
		/* Changed, or another snapshot: count until recomputing pays. */
		if (!usable && entry->counted_ms >= entry->build_ms && salesperf_kept_snapshot_may_keep() && period_ended(&key))
		{
			drop_ranks(entry);
			compute_ranks(entry);
			usable = entry->ranks != NULL && salesperf_kept_snapshot_still_exact(&entry->taken_in);
		}
	}
	else if (salesperf_kept_snapshot_may_keep() && period_ended(&key))
	{
		if (entry == NULL)
		{
			entry = hash_search(final_cache, &key, HASH_ENTER, &found);
			entry->fenced = false;
			entry->ranks = NULL;
			entry->cxt = NULL;
			entry->build_ms = entry->counted_ms = 0;
		}
		compute_ranks(entry);
		usable = entry->ranks != NULL && salesperf_kept_snapshot_still_exact(&entry->taken_in);
	}

	if (usable)
	{
		elog(DEBUG1, "salesperf: previous ranks of board %d read from the kept final ranking", key.board_id);
		for (i = 0; i < n; i++)
		{
			int64		participant = ids[i];
			RankEntry  *r = hash_search(entry->ranks, &participant, HASH_FIND, NULL);

			if (r != NULL)
				sink(arg, participant, r->rank);
		}
	}
	else
	{
		Oid			types[3] = {INT4OID, TIMESTAMPTZOID, INT8ARRAYOID};
		Datum		args[3];
		Datum	   *items = palloc(sizeof(Datum) * Max(n, 1));
		instr_time	start;
		uint64		j;

		elog(DEBUG1, "salesperf: previous ranks of board %d counted for this call", key.board_id);
		INSTR_TIME_SET_CURRENT(start);
		for (i = 0; i < n; i++)
			items[i] = Int64GetDatum(ids[i]);
		args[0] = Int32GetDatum(key.board_id);
		args[1] = TimestampTzGetDatum(key.period_start);
		args[2] = PointerGetDatum(construct_array(items, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		if (SPI_execute_plan(salesperf_kept_plan(&now_plan, now_sql, 3, types),
							 args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "salesperf: could not count previous ranks");
		for (j = 0; j < SPI_processed; j++)
		{
			bool		null_id;
			bool		null_rank;
			Datum		participant = SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 1, &null_id);
			Datum		rank = SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 2, &null_rank);

			if (!null_id && !null_rank)
				sink(arg, DatumGetInt64(participant), DatumGetInt64(rank));
		}
		if (entry != NULL)
			entry->counted_ms += elapsed_ms(start);
	}
	SPI_finish();
}

/* previous_ranks() hands each rank to the result set. */
static void
put_rank_row(void *arg, int64 participant, int64 rank)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	Datum		values[2] = {Int64GetDatum(participant), Int64GetDatum(rank)};
	bool		isnull[2] = {false, false};

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
}

Datum
salesperf_previous_ranks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *items;
	bool	   *nulls;
	int			count;
	int64	   *ids;
	int			n = 0;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return (Datum) 0;
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &items, &nulls, &count);
	ids = palloc(sizeof(int64) * Max(count, 1));
	for (i = 0; i < count; i++)
		if (!nulls[i])
			ids[n++] = DatumGetInt64(items[i]);
	salesperf_previous_ranks_emit(PG_GETARG_INT32(0), PG_GETARG_TIMESTAMPTZ(1), ids, n,
								  put_rank_row, rsinfo);
	return (Datum) 0;
}
