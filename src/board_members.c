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
 * A count is kept with the snapshot it was taken in, and reused by a later
 * snapshot when both see the same org-changing transactions:
 *   - the later snapshot sees every transaction the count's snapshot saw
 *     (sees_all_it_saw()); and
 *   - no org_change row the later snapshot sees belongs to a transaction the
 *     count's snapshot did not see.
 * Otherwise the count is taken again.  Reading the cache writes nothing, so
 * it works in read-only transactions and on standbys.
 */
#include "postgres.h"

#include "access/transam.h"
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

PG_FUNCTION_INFO_V1(salesperf_board_members);

/*
 * Does this snapshot see an org change the count's snapshot ($2, whose xmin
 * is $1) did not?  Operators are schema-qualified: the function runs with
 * the caller's search_path.
 */
static const char *const unseen_change_sql =
"SELECT EXISTS (SELECT 1 FROM salesperf.org_change c"
"                WHERE c.txid OPERATOR(pg_catalog.>=) $1"
"                  AND NOT pg_catalog.pg_visible_in_snapshot(c.txid, $2))";

/*
 * The count, the snapshot it is taken in, and whether this transaction has
 * changed the org chart itself (then the count is not kept: others must not
 * see it, and it would outlive a rollback).
 */
static const char *const count_sql =
"SELECT salesperf.board_members_now($1, $2), x.s, pg_catalog.pg_snapshot_xmin(x.s), pg_catalog.pg_snapshot_xmax(x.s),"
"       ARRAY(SELECT pg_catalog.pg_snapshot_xip(x.s)::text::bigint),"
"       EXISTS (SELECT 1 FROM salesperf.org_change c"
"                WHERE c.txid OPERATOR(pg_catalog.=) pg_catalog.pg_current_xact_id_if_assigned())"
"  FROM (SELECT pg_catalog.pg_current_snapshot() AS s) x";

typedef struct MembersKey
{
	int32		board_id;
	TimestampTz period_start;
} MembersKey;

typedef struct MembersEntry
{
	MembersKey	key;
	int64		members;
	Datum		taken_in;		/* pg_snapshot, in CacheMemoryContext */
	Datum		taken_xmin;		/* its xmin and xmax (xid8) */
	FullTransactionId taken_xmax;
	int			taken_nxip;		/* the transactions running then */
	uint64	   *taken_xip;		/* in CacheMemoryContext */
} MembersEntry;

#define MAX_ENTRIES 1024

static HTAB *members_cache = NULL;
static SPIPlanPtr unseen_change_plan = NULL;
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
		{
			pfree(DatumGetPointer(entry->taken_in));
			if (entry->taken_xip)
				pfree(entry->taken_xip);
		}
		hash_destroy(members_cache);
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(MembersKey);
	ctl.entrysize = sizeof(MembersEntry);
	ctl.hcxt = CacheMemoryContext;
	members_cache = hash_create("salesperf board members", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static uint64
widen(TransactionId xid, FullTransactionId next)
{
	/* A snapshot's xids are at most 2^31 transactions behind next. */
	return U64FromFullTransactionId(next) - (uint32) (XidFromFullTransactionId(next) - xid);
}

/*
 * Does this snapshot see every transaction the count's snapshot saw?  It
 * must reach as far (xmax), and no transaction it holds as running may be
 * one the count's snapshot held as finished.  (A later snapshot always
 * does; an older one -- SET TRANSACTION SNAPSHOT -- may not.)
 */
static bool
sees_all_it_saw(MembersEntry *entry)
{
	Snapshot	now = GetActiveSnapshot();
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		i;
	int			j;

	if (now == NULL || widen(now->xmax, next) < U64FromFullTransactionId(entry->taken_xmax))
		return false;
	for (i = 0; i < now->xcnt; i++)
	{
		uint64		running = widen(now->xip[i], next);
		bool		running_then = false;

		if (running >= U64FromFullTransactionId(entry->taken_xmax))
			continue;
		for (j = 0; j < entry->taken_nxip; j++)
			if (entry->taken_xip[j] == running)
				running_then = true;
		if (!running_then)
			return false;
	}
	return true;
}

Datum
salesperf_board_members(PG_FUNCTION_ARGS)
{
	MembersKey	key;
	MembersEntry *entry;
	bool		found;
	int64		members;
	Datum		args[2];
	bool		isnull;

	memset(&key, 0, sizeof(key));
	key.board_id = PG_GETARG_INT32(0);
	key.period_start = PG_GETARG_TIMESTAMPTZ(1);

	if (members_cache == NULL || hash_get_num_entries(members_cache) >= MAX_ENTRIES)
		reset_cache();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");

	entry = hash_search(members_cache, &key, HASH_FIND, NULL);
	if (entry != NULL && sees_all_it_saw(entry))
	{
		Oid			types[2] = {XID8OID, PG_SNAPSHOTOID};

		args[0] = entry->taken_xmin;
		args[1] = entry->taken_in;
		if (SPI_execute_plan(salesperf_kept_plan(&unseen_change_plan, unseen_change_sql, 2, types),
							 args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "salesperf: could not check the board member count");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		{
			members = entry->members;
			SPI_finish();
			PG_RETURN_INT64(members);
		}
	}

	{
		Oid			types[2] = {INT4OID, TIMESTAMPTZOID};
		HeapTuple	row;
		TupleDesc	desc;
		Datum		taken_in;
		MemoryContext old;

		args[0] = Int32GetDatum(key.board_id);
		args[1] = TimestampTzGetDatum(key.period_start);
		if (SPI_execute_plan(salesperf_kept_plan(&count_plan, count_sql, 2, types),
							 args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "salesperf: could not count the board members");
		row = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
		members = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		if (DatumGetBool(SPI_getbinval(row, desc, 6, &isnull)))
		{
			SPI_finish();
			PG_RETURN_INT64(members);
		}
		old = MemoryContextSwitchTo(CacheMemoryContext);
		taken_in = datumCopy(SPI_getbinval(row, desc, 2, &isnull), false, -1);
		MemoryContextSwitchTo(old);
		entry = hash_search(members_cache, &key, HASH_ENTER, &found);
		if (found)
		{
			pfree(DatumGetPointer(entry->taken_in));
			if (entry->taken_xip)
				pfree(entry->taken_xip);
		}
		entry->members = members;
		entry->taken_in = taken_in;
		entry->taken_xmin = SPI_getbinval(row, desc, 3, &isnull);
		entry->taken_xmax = FullTransactionIdFromU64(DatumGetUInt64(SPI_getbinval(row, desc, 4, &isnull)));
		{
			ArrayType  *xip = DatumGetArrayTypeP(SPI_getbinval(row, desc, 5, &isnull));
			Datum	   *items;
			int			n;
			int			i;

			deconstruct_array(xip, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &items, NULL, &n);
			entry->taken_nxip = n;
			entry->taken_xip = n > 0 ? MemoryContextAlloc(CacheMemoryContext, sizeof(uint64) * n) : NULL;
			for (i = 0; i < n; i++)
				entry->taken_xip[i] = (uint64) DatumGetInt64(items[i]);
		}
	}
	SPI_finish();
	PG_RETURN_INT64(members);
}
