/*
 * board_members.c — how many participants a board period has by the org
 * chart alone, counted once per backend and reused while it is exact.
 *
 * "Rank 57 of 60" needs the 60: every active rep who was a member of the
 * board's scope during the period (or every unit of the board's kind under
 * its scope).  Counting that reads a row per rep.  It changes only when the
 * org chart does -- memberships, reps (active), units, the board, the
 * calendar settings -- and every transaction that changes one of those
 * adds its id to salesperf.org_change (statement triggers, once per
 * transaction; 20_organisation.sql).
 *
 * A count is kept with the snapshot it was taken in and reused while it is
 * still exact (kept_snapshot.c).  Reading the cache writes nothing, so it
 * works in read-only transactions and on standbys.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "kept_plan.h"
#include "kept_snapshot.h"

PG_FUNCTION_INFO_V1(salesperf_board_members);

/* The count; taken under the active snapshot. */
static const char *const count_sql = "SELECT salesperf.board_members_now($1, $2)";

typedef struct MembersKey
{
	int32		board_id;
	TimestampTz period_start;
} MembersKey;

typedef struct MembersEntry
{
	MembersKey	key;
	int64		members;
	KeptSnapshot taken_in;
} MembersEntry;

#define MAX_ENTRIES 1024

static HTAB *members_cache = NULL;
static SPIPlanPtr count_plan = NULL;


static void
reset_cache(void)
{
	HASHCTL		ctl;

	if (members_cache != NULL)
	{
		HASH_SEQ_STATUS status;
		MembersEntry *entry;

		hash_seq_init(&status, members_cache);
		while ((entry = hash_seq_search(&status)) != NULL)
			salesperf_kept_snapshot_free(&entry->taken_in);
		hash_destroy(members_cache);
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(MembersKey);
	ctl.entrysize = sizeof(MembersEntry);
	ctl.hcxt = CacheMemoryContext;
	members_cache = hash_create("salesperf board members", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

Datum
salesperf_board_members(PG_FUNCTION_ARGS)
{
	MembersKey	key;
	MembersEntry *entry;
	bool		found;
	int64		members;
	Datum		args[2];
	Oid			types[2] = {INT4OID, TIMESTAMPTZOID};
	bool		isnull;

	memset(&key, 0, sizeof(key));
	key.board_id = PG_GETARG_INT32(0);
	key.period_start = PG_GETARG_TIMESTAMPTZ(1);

	if (members_cache == NULL || hash_get_num_entries(members_cache) >= MAX_ENTRIES)
		reset_cache();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");

	entry = hash_search(members_cache, &key, HASH_FIND, NULL);
	if (entry != NULL && salesperf_kept_snapshot_still_exact(&entry->taken_in))
	{
		members = entry->members;
		SPI_finish();
		PG_RETURN_INT64(members);
	}

	args[0] = Int32GetDatum(key.board_id);
	args[1] = TimestampTzGetDatum(key.period_start);
	if (SPI_execute_plan(salesperf_kept_plan(&count_plan, count_sql, 2, types),
						 args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "salesperf: could not count the board members");
	members = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	/*
	 * Kept only by a transaction that has not written (see kept_snapshot.c):
	 * one that changed the org chart would otherwise keep a count others
	 * must not see and that a rollback would not take back.
	 */
	if (!TransactionIdIsValid(GetTopTransactionIdIfAny()))
	{
		entry = hash_search(members_cache, &key, HASH_ENTER, &found);
		if (found)
			salesperf_kept_snapshot_free(&entry->taken_in);
		entry->members = members;
		salesperf_kept_snapshot_take(&entry->taken_in, GetActiveSnapshot(), CacheMemoryContext);
	}
	SPI_finish();
	PG_RETURN_INT64(members);
}
