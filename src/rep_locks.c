/*
 * rep_locks.c — salesperf.lock_reps(bigint[]): serialize derived-state
 * changes per rep, never per team.
 *
 * Every writer of a rep's derived state (the ledger triggers, re-derivation
 * after rule, membership and org changes, assign()) locks the rep's row in
 * salesperf.rep first (FOR NO KEY UPDATE, in rep_id order, so two writers
 * never deadlock on it), and its next statements see what an earlier writer
 * of the same rep committed.  Only salesperf's own code and roles allowed to
 * update salesperf.rep can take these locks; a DELETE of the rep waits for
 * them, so no activity outlives its rep.  An id that is not a rep is an
 * error (42704).  One cached query per call: this runs on every write.
 *
 * A SERIALIZABLE writer's snapshot is older than the lock, and a READ
 * COMMITTED writer that held it before is invisible to serializable
 * conflict detection: the unit an activity counts for and the overlap
 * check of memberships would then read memberships that are no longer
 * there.  So under SERIALIZABLE the locked reps' memberships are read
 * twice, as the transaction sees them and as they are now, and any
 * difference ends the transaction with 40001, as a concurrent update of a
 * row does.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "parser/parse_relation.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "direct_rows.h"
#include "kept_plan.h"
#include "rep_locks.h"

PG_FUNCTION_INFO_V1(salesperf_lock_reps);

static SPIPlanPtr lock_plan = NULL;
static SPIPlanPtr lock_one_plan = NULL;
static SPIPlanPtr memberships_plan = NULL;

/*
 * One rep (a single-row write, assign()): a probe of the primary key, with
 * its generic plan kept.  Several: planned for the ids at hand (a generic
 * plan for an array of unknown length may scan the table).
 */
static const char *const lock_one_sql =
"SELECT r.rep_id FROM salesperf.rep r"
" WHERE r.rep_id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE";

static const char *const lock_sql =
"SELECT r.rep_id FROM salesperf.rep r"
" WHERE r.rep_id OPERATOR(pg_catalog.=) ANY ($1)"
" ORDER BY r.rep_id FOR NO KEY UPDATE";

static const char *const memberships_sql =
"SELECT m.rep_id, m.ctid FROM salesperf.membership m"
" WHERE m.rep_id OPERATOR(pg_catalog.=) ANY ($1)"
" ORDER BY m.ctid";

/* The (rep, row version) pairs of the reps' memberships seen by snapshot. */
static SPITupleTable *
memberships_seen(Datum reps, Snapshot snapshot, uint64 *count)
{
	Oid			argtype = INT8ARRAYOID;
	SPITupleTable *seen;

	if (SPI_execute_snapshot(salesperf_kept_plan(&memberships_plan, memberships_sql, 1, &argtype),
							 &reps, NULL, snapshot, InvalidSnapshot, false, false, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read memberships");
	seen = SPI_tuptable;
	*count = SPI_processed;
	return seen;
}

/*
 * Under SERIALIZABLE: 40001 unless the reps' memberships this transaction
 * sees are the ones committed now (see the header comment).  Runs inside
 * the caller's SPI connection, with the reps locked.
 */
static void
check_memberships_unchanged(Datum reps)
{
	uint64		seen_count;
	uint64		now_count;
	SPITupleTable *seen = memberships_seen(reps, GetTransactionSnapshot(), &seen_count);
	SPITupleTable *now = memberships_seen(reps, GetLatestSnapshot(), &now_count);

	for (uint64 i = 0; i < Max(seen_count, now_count); i++)
	{
		bool		isnull;
		SPITupleTable *side = i < seen_count ? seen : now;

		if (i < seen_count && i < now_count &&
			ItemPointerEquals((ItemPointer) DatumGetPointer(SPI_getbinval(seen->vals[i], seen->tupdesc, 2, &isnull)),
							  (ItemPointer) DatumGetPointer(SPI_getbinval(now->vals[i], now->tupdesc, 2, &isnull))))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of the memberships of rep " INT64_FORMAT,
						DatumGetInt64(SPI_getbinval(side->vals[i], side->tupdesc, 1, &isnull))),
				 errdetail("Another transaction committed a change of the rep's memberships after this transaction took its snapshot."),
				 errhint("The transaction might succeed if retried.")));
	}
}

static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Sort ids ascending and drop repeats in place; returns how many remain. */
int64
salesperf_sort_distinct_ids(int64 *ids, int64 count)
{
	int64		kept = 0;

	qsort(ids, count, sizeof(int64), compare_int64);
	for (int64 i = 0; i < count; i++)
		if (kept == 0 || ids[kept - 1] != ids[i])
			ids[kept++] = ids[i];
	return kept;
}

/*
 * Lock the given reps (sorted, distinct) in rep_id order; 42704 for the
 * first id that is not a rep.  Also the entry of the ledger trigger's
 * one-row path, which locks one rep without going through SQL.
 */
void
salesperf_lock_rep_ids(const int64 *wanted, int distinct)
{
	Datum	   *elems;
	ArrayType  *reps;
	Datum		arg;
	Oid			argtype = INT8ARRAYOID;

	/*
	 * A REPEATABLE READ snapshot is older than these locks: it would miss
	 * what the previous holder wrote.  SERIALIZABLE is safe (conflicts end
	 * in 40001).
	 */
	if (XactIsoLevel == XACT_REPEATABLE_READ)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("salesperf cannot maintain derived state in a REPEATABLE READ transaction"),
				 errhint("Write under READ COMMITTED (the default) or SERIALIZABLE.")));
	if (distinct == 0)
		return;

	elems = palloc(sizeof(Datum) * distinct);
	for (int i = 0; i < distinct; i++)
		elems[i] = Int64GetDatum(wanted[i]);
	reps = construct_array(elems, distinct, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "salesperf: SPI_connect failed");
	arg = PointerGetDatum(reps);
	if (distinct == 1)
	{
		Oid			one_type = INT8OID;
		Datum		one = Int64GetDatum(wanted[0]);

		if (SPI_execute_plan(salesperf_kept_generic_plan(&lock_one_plan, lock_one_sql, 1, &one_type),
							 &one, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "salesperf: rep lock failed");
	}
	else if (SPI_execute_plan(salesperf_kept_plan(&lock_plan, lock_sql, 1, &argtype),
							  &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: rep lock failed");

	if (SPI_processed < (uint64) distinct)
	{
		/* Both lists are sorted: the first id not locked is not a rep. */
		uint64		j = 0;

		for (int i = 0; i < distinct; i++)
		{
			bool		isnull;

			if (j < SPI_processed &&
				DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc,
											1, &isnull)) == wanted[i])
			{
				j++;
				continue;
			}
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("unknown rep " INT64_FORMAT, wanted[i]),
					 errhint("Add the rep to salesperf.rep first.")));
		}
	}
	if (IsolationIsSerializable())
		check_memberships_unchanged(arg);
	SPI_finish();
}

void
salesperf_lock_one_rep(int64 rep_id)
{
	Relation	rel;
	Relation	key;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	DirectKey	k = {BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rep_id)};
	ItemPointerData tid;
	bool		found;
	bool		locked = false;

	/* SERIALIZABLE also re-reads the memberships; REPEATABLE READ is refused there. */
	if (XactIsoLevel != XACT_READ_COMMITTED)
	{
		salesperf_lock_rep_ids(&rep_id, 1);
		return;
	}

	salesperf_direct_read_begin();
	/* What SELECT ... FOR NO KEY UPDATE takes on the table. */
	rel = relation_open(get_relname_relid("rep", get_namespace_oid("salesperf", false)), RowShareLock);
	key = salesperf_open_relation("rep_pkey");
	slot = table_slot_create(rel, NULL);
	scan = salesperf_direct_scan(rel, key, 1, &k);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
		tid = slot->tts_tid;
	index_endscan(scan);
	if (found)
	{
		TM_FailureData failure;
		TM_Result	result;

		/* As the executor locks a row under READ COMMITTED: its newest version. */
		result = table_tuple_lock(rel, &tid, GetActiveSnapshot(), slot, GetCurrentCommandId(true),
								  LockTupleNoKeyExclusive, LockWaitBlock,
								  TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &failure);
		if (result == TM_Ok)
		{
			bool		isnull;
			Datum		v = slot_getattr(slot, attnameAttNum(rel, "rep_id", false), &isnull);

			locked = !isnull && DatumGetInt64(v) == rep_id;
		}
		else if (result != TM_Deleted)
			elog(ERROR, "salesperf: could not lock rep " INT64_FORMAT " (%d)", rep_id, (int) result);
	}
	ExecDropSingleTupleTableSlot(slot);
	relation_close(key, NoLock);
	relation_close(rel, NoLock);
	salesperf_direct_read_end();
	if (!locked)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown rep " INT64_FORMAT, rep_id),
				 errhint("Add the rep to salesperf.rep first.")));
}

Datum
salesperf_lock_reps(PG_FUNCTION_ARGS)
{
	ArrayType  *reps;
	Datum	   *ids;
	bool	   *nulls;
	int			count;
	int64	   *wanted;
	int			distinct = 0;

	if (PG_ARGISNULL(0))
	{
		salesperf_lock_rep_ids(NULL, 0);
		PG_RETURN_VOID();
	}

	reps = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(reps, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &ids, &nulls, &count);
	wanted = palloc(sizeof(int64) * Max(count, 1));
	for (int i = 0; i < count; i++)
		if (!nulls[i])
			wanted[distinct++] = DatumGetInt64(ids[i]);
	distinct = (int) salesperf_sort_distinct_ids(wanted, distinct);
	salesperf_lock_rep_ids(wanted, distinct);
	PG_RETURN_VOID();
}
