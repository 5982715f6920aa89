/*
 * rep_locks.c — salesperf.lock_reps(bigint[]): serialize derived-state
 * changes per rep, never per team.
 *
 * Every writer of the ledger (the C triggers, re-derivation after rule and
 * membership changes) calls this before it reads counters or standings, so
 * its next statements see what an earlier writer of the same rep committed.
 * Up to 64 reps: a shared "ledger" lock plus one exclusive lock per rep,
 * taken in a fixed order (by hash) so two writers never deadlock.  More
 * reps (a bulk load): the ledger lock alone, exclusively, which keeps the
 * lock table bounded however many reps a statement touches.  Transaction
 * level: released at commit or rollback.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

PG_FUNCTION_INFO_V1(salesperf_lock_reps);

#define LEDGER_LOCK_SPACE	1936483696	/* the whole ledger */
#define REP_LOCK_SPACE		1936483697	/* one rep (by hash) */
#define MAX_REP_LOCKS		64

static int
compare_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

Datum
salesperf_lock_reps(PG_FUNCTION_ARGS)
{
	ArrayType  *reps;
	Datum	   *ids;
	bool	   *nulls;
	int			count;
	int32	   *hashes;
	int			distinct = 0;

	/*
	 * A REPEATABLE READ snapshot is older than these locks: it would miss
	 * what the previous holder wrote.  SERIALIZABLE is safe (conflicts end
	 * in 40001).
	 */
	if (XactIsoLevel == XACT_REPEATABLE_READ)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("salesperf cannot record activities in a REPEATABLE READ transaction"),
				 errhint("Write activities under READ COMMITTED (the default) or SERIALIZABLE.")));

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	reps = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(reps, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &ids, &nulls, &count);

	hashes = palloc(sizeof(int32) * Max(count, 1));
	for (int i = 0; i < count; i++)
	{
		if (!nulls[i])
			hashes[distinct++] = DatumGetInt32(DirectFunctionCall1(hashint8, ids[i]));
	}
	qsort(hashes, distinct, sizeof(int32), compare_int32);
	{
		int			kept = 0;

		for (int i = 0; i < distinct; i++)
			if (kept == 0 || hashes[kept - 1] != hashes[i])
				hashes[kept++] = hashes[i];
		distinct = kept;
	}

	if (distinct > MAX_REP_LOCKS)
	{
		DirectFunctionCall2(pg_advisory_xact_lock_int4,
							Int32GetDatum(LEDGER_LOCK_SPACE), Int32GetDatum(0));
		PG_RETURN_VOID();
	}
	DirectFunctionCall2(pg_advisory_xact_lock_shared_int4,
						Int32GetDatum(LEDGER_LOCK_SPACE), Int32GetDatum(0));
	for (int i = 0; i < distinct; i++)
		DirectFunctionCall2(pg_advisory_xact_lock_int4,
							Int32GetDatum(REP_LOCK_SPACE), Int32GetDatum(hashes[i]));
	PG_RETURN_VOID();
}
