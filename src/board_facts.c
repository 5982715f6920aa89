/*
 * board_facts.c — a board's id, kind, display rules and calendar, kept per
 * backend for the board screens that ask for them on every refresh.
 *
 * Reading them is a join of leaderboard, kpi and settings: cheap, but it
 * costs more than the read of a board's top that needs them.  They change
 * only with the leaderboard, kpi and configuration tables, whose writers
 * add their transaction to salesperf.org_change, so the facts are kept with
 * the snapshot they were read under and reused while that is still exact
 * (kept_snapshot.c), like the kept final ranks (previous_ranks.c).  The
 * names and active flags of the reps a board's top has shown are kept
 * beside them on the same terms: salesperf.rep's writers add their
 * transaction to org_change too.
 *
 * SQL here runs under the caller's search_path: every name and operator is
 * schema-qualified.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "board_facts.h"
#include "board_head.h"
#include "kept_plan.h"
#include "kept_snapshot.h"

extern Datum salesperf_calendar_start(PG_FUNCTION_ARGS);

static const char *const facts_sql =
"SELECT b.board_id, b.participant OPERATOR(pg_catalog.=) 'rep',"
"       COALESCE(k.unit OPERATOR(pg_catalog.=) 'currency', false), k.den_measure IS NOT NULL,"
"       s.currency_scale, b.period, s.time_zone, s.week_start,"
"       s.fiscal_year_start_month, s.calendar"
"  FROM salesperf.leaderboard b"
"  JOIN salesperf.kpi k ON k.name OPERATOR(pg_catalog.=) b.metric"
" CROSS JOIN salesperf.settings s"
" WHERE b.name OPERATOR(pg_catalog.=) $1";

/* Board names longer than this are read every time. */
#define KEY_BYTES 64
/* Boards kept per backend; a backend that reads more starts over. */
#define MAX_BOARDS 64

typedef struct FactsEntry
{
	char		name[KEY_BYTES];
	bool		kept;			/* facts and taken_in are valid */
	BoardFacts	facts;			/* period starts are filled per call */
	Datum		period;			/* text datums in cxt */
	Datum		time_zone;
	Datum		calendar;
	int32		week_start;
	int32		fiscal_year_start_month;
	KeptSnapshot taken_in;
	MemoryContext cxt;
	HTAB	   *participants;	/* in cxt, filled by board_head.c */
} FactsEntry;

static HTAB *facts_cache = NULL;
static SPIPlanPtr facts_plan = NULL;

static void
forget(FactsEntry *entry)
{
	if (entry->kept)
		salesperf_kept_snapshot_free(&entry->taken_in);
	if (entry->cxt != NULL)
		MemoryContextDelete(entry->cxt);
	entry->kept = false;
	entry->cxt = NULL;
}

static void
reset_cache(void)
{
	HASHCTL		ctl;

	if (facts_cache != NULL)
	{
		HASH_SEQ_STATUS status;
		FactsEntry *entry;

		hash_seq_init(&status, facts_cache);
		while ((entry = hash_seq_search(&status)) != NULL)
			forget(entry);
		hash_destroy(facts_cache);
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = KEY_BYTES;
	ctl.entrysize = sizeof(FactsEntry);
	ctl.hcxt = CacheMemoryContext;
	facts_cache = hash_create("salesperf board facts", MAX_BOARDS, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/*
 * Reads the facts into entry (its cxt holds the texts); false: no such
 * board.  Inside the caller's SPI connection.
 */
static bool
read_facts(text *name, FactsEntry *entry)
{
	Oid			argtype = TEXTOID;
	Datum		arg = PointerGetDatum(name);
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	MemoryContext old;

	if (SPI_execute_plan(salesperf_kept_generic_plan(&facts_plan, facts_sql, 1, &argtype),
						 &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read the board");
	if (SPI_processed != 1)
		return false;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	entry->facts.board_id = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
	entry->facts.rep_board = DatumGetBool(SPI_getbinval(row, desc, 2, &isnull));
	entry->facts.money = DatumGetBool(SPI_getbinval(row, desc, 3, &isnull));
	entry->facts.ratio = DatumGetBool(SPI_getbinval(row, desc, 4, &isnull));
	entry->facts.currency_scale = DatumGetInt32(SPI_getbinval(row, desc, 5, &isnull));
	entry->week_start = DatumGetInt32(SPI_getbinval(row, desc, 8, &isnull));
	entry->fiscal_year_start_month = DatumGetInt32(SPI_getbinval(row, desc, 9, &isnull));
	old = MemoryContextSwitchTo(entry->cxt);
	entry->period = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(row, desc, 6, &isnull)));
	entry->time_zone = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(row, desc, 7, &isnull)));
	entry->calendar = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(row, desc, 10, &isnull)));
	MemoryContextSwitchTo(old);
	entry->facts.all_time = strcmp(TextDatumGetCString(entry->period), "all") == 0;
	return true;
}

static TimestampTz
period_start_of(const FactsEntry *entry, TimestampTz at)
{
	return DatumGetTimestampTz(DirectFunctionCall6(salesperf_calendar_start,
												   TimestampTzGetDatum(at), entry->period,
												   entry->time_zone,
												   Int32GetDatum(entry->week_start),
												   Int32GetDatum(entry->fiscal_year_start_month),
												   entry->calendar));
}

bool
salesperf_board_facts(text *name, TimestampTz at, BoardFacts *facts)
{
	char	   *key = text_to_cstring(name);
	FactsEntry *entry = NULL;
	FactsEntry	scratch;

	if (strlen(key) < KEY_BYTES && salesperf_kept_snapshot_may_keep())
	{
		bool		found;

		if (facts_cache == NULL || hash_get_num_entries(facts_cache) >= MAX_BOARDS)
			reset_cache();
		entry = hash_search(facts_cache, key, HASH_ENTER, &found);
		if (!found)
		{
			entry->kept = false;
			entry->cxt = NULL;
		}
		if (entry->kept && !salesperf_kept_snapshot_still_exact(&entry->taken_in))
			forget(entry);
		if (!entry->kept)
		{
			Snapshot	snap = GetActiveSnapshot();

			/* Left by a read that failed half-way. */
			if (entry->cxt != NULL)
				MemoryContextDelete(entry->cxt);
			entry->cxt = AllocSetContextCreate(CacheMemoryContext, "salesperf board facts",
											   ALLOCSET_SMALL_SIZES);
			if (!read_facts(name, entry))
			{
				MemoryContextDelete(entry->cxt);
				entry->cxt = NULL;
				hash_search(facts_cache, key, HASH_REMOVE, NULL);
				return false;
			}
			salesperf_kept_snapshot_take(&entry->taken_in, snap, entry->cxt);
			entry->participants = NULL;
			entry->kept = true;
		}
	}
	else
	{
		entry = &scratch;
		entry->cxt = CurrentMemoryContext;
		if (!read_facts(name, entry))
			return false;
	}

	*facts = entry->facts;
	facts->participants = NULL;
	facts->kept_in = NULL;
	if (entry != &scratch)
	{
		/*
		 * Reps change only with an org_change row too: what was read of
		 * them since the facts were kept is still what they are.
		 */
		if (entry->participants == NULL)
		{
			HASHCTL		ctl;

			memset(&ctl, 0, sizeof(ctl));
			ctl.keysize = sizeof(int64);
			ctl.entrysize = sizeof(KeptParticipant);
			ctl.hcxt = entry->cxt;
			entry->participants = hash_create("salesperf board participants", 64, &ctl,
											  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		}
		facts->participants = entry->participants;
		facts->kept_in = entry->cxt;
	}
	facts->period_start = period_start_of(entry, at);
	facts->previous_start = facts->all_time ? 0
		: period_start_of(entry, facts->period_start - 1);
	return true;
}
