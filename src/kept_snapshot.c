/*
 * kept_snapshot.c — answers a backend keeps between statements, checked
 * against the transactions that could have changed them.
 *
 * Some reads are costly to compute and rarely change: how many reps a board
 * period has, the final ranks of a period that has ended.  Every
 * transaction that can change them adds its id to salesperf.org_change
 * (once per transaction).  An answer is kept with the snapshot it was
 * computed under, and reused by a later snapshot when both see the same
 * such transactions:
 *   - the later snapshot sees every transaction the kept one saw (an older
 *     one -- SET TRANSACTION SNAPSHOT -- may not); and
 *   - no org_change row the later snapshot sees belongs to a transaction
 *     the kept one did not see.
 * Callers keep only answers computed by a transaction without an id of its
 * own: its own later changes then get an id the kept snapshot cannot have
 * seen, and its earlier ones cannot outlive a rollback in the cache.
 * Checking reads an index range of org_change and writes nothing; when no
 * transaction has ended since the kept snapshot (the active one lists the
 * same running transactions up to the same horizon) and this transaction
 * has written nothing, both see the same and nothing is read.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "kept_plan.h"
#include "kept_snapshot.h"

/* The changes at or after a kept snapshot's xmin (operators qualified: callers' search_path). */
static const char *const changes_sql =
"SELECT c.txid FROM salesperf.org_change c WHERE c.txid OPERATOR(pg_catalog.>=) $1";

static SPIPlanPtr changes_plan = NULL;

static uint64
widen(TransactionId xid, FullTransactionId next)
{
	/* A snapshot's xids are at most 2^31 transactions behind next. */
	return U64FromFullTransactionId(next) - (uint32) (XidFromFullTransactionId(next) - xid);
}

/*
 * May this transaction keep an answer for later transactions?  Not under
 * SERIALIZABLE (conflict tracking would not see the reuse), not on a
 * standby (its next transaction id lags the primary's), not once it has
 * written (see the header comment).
 */
bool
salesperf_kept_snapshot_may_keep(void)
{
	return XactIsoLevel != XACT_SERIALIZABLE && !RecoveryInProgress()
		&& !TransactionIdIsValid(GetTopTransactionIdIfAny());
}

void
salesperf_kept_snapshot_take(KeptSnapshot *kept, Snapshot snap, MemoryContext cxt)
{
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		i;

	/* A snapshot taken during recovery lists every running xid in subxip. */
	int32		nsub = snap->takenDuringRecovery ? snap->subxcnt : 0;
	int			n = 0;

	kept->xmin = FullTransactionIdFromU64(widen(snap->xmin, next));
	kept->xmax = FullTransactionIdFromU64(widen(snap->xmax, next));
	kept->xip = snap->xcnt + nsub > 0 ? MemoryContextAlloc(cxt, sizeof(uint64) * (snap->xcnt + nsub)) : NULL;
	for (i = 0; i < snap->xcnt; i++)
		kept->xip[n++] = widen(snap->xip[i], next);
	for (i = 0; i < (uint32) nsub; i++)
		kept->xip[n++] = widen(snap->subxip[i], next);
	kept->nxip = n;
}

void
salesperf_kept_snapshot_free(KeptSnapshot *kept)
{
	if (kept->xip)
		pfree(kept->xip);
	kept->xip = NULL;
	kept->nxip = 0;
}

/* Did the kept snapshot see transaction fxid as committed (or aborted)? */
static bool
kept_saw(const KeptSnapshot *kept, uint64 fxid)
{
	int			i;

	if (fxid < U64FromFullTransactionId(kept->xmin))
		return true;
	if (fxid >= U64FromFullTransactionId(kept->xmax))
		return false;
	for (i = 0; i < kept->nxip; i++)
		if (kept->xip[i] == fxid)
			return false;
	return true;
}

/*
 * Does the active snapshot see every transaction the kept one saw?  It must
 * reach as far (xmax), and no transaction it holds as running may be one
 * the kept snapshot held as ended.
 */
static bool
sees_all_it_saw(const KeptSnapshot *kept)
{
	Snapshot	now = GetActiveSnapshot();
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		i;

	if (now == NULL || widen(now->xmax, next) < U64FromFullTransactionId(kept->xmax))
		return false;
	for (i = 0; i < now->xcnt; i++)
	{
		uint64		running = widen(now->xip[i], next);

		if (running < U64FromFullTransactionId(kept->xmax) && kept_saw(kept, running))
			return false;
	}
	if (now->takenDuringRecovery)
		for (i = 0; i < (uint32) now->subxcnt; i++)
		{
			uint64		running = widen(now->subxip[i], next);

			if (running < U64FromFullTransactionId(kept->xmax) && kept_saw(kept, running))
				return false;
		}
	return true;
}

/*
 * With sees_all_it_saw(): does the active snapshot see exactly what the kept
 * one saw?  Same horizon, and as many transactions running (those it holds
 * running are a subset of the kept ones), and no writes of our own.
 */
static bool
sees_the_same(const KeptSnapshot *kept)
{
	Snapshot	now = GetActiveSnapshot();
	int32		nsub = now->takenDuringRecovery ? now->subxcnt : 0;

	return !TransactionIdIsValid(GetTopTransactionIdIfAny()) &&
		widen(now->xmax, ReadNextFullTransactionId()) == U64FromFullTransactionId(kept->xmax) &&
		(int) now->xcnt + nsub == kept->nxip;
}

bool
salesperf_kept_snapshot_still_exact(const KeptSnapshot *kept)
{
	Oid			types[1] = {XID8OID};
	Datum		args[1];
	uint64		i;

	if (!sees_all_it_saw(kept))
		return false;
	if (sees_the_same(kept))
		return true;
	args[0] = FullTransactionIdGetDatum(kept->xmin);
	if (SPI_execute_plan(salesperf_kept_plan(&changes_plan, changes_sql, 1, types),
						 args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read salesperf.org_change");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		FullTransactionId txid = DatumGetFullTransactionId(
			SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		if (!kept_saw(kept, U64FromFullTransactionId(txid)))
			return false;
	}
	return true;
}
