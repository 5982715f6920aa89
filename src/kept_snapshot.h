/*
 * kept_snapshot.h — remembering which transactions an answer was computed
 * from, so that a backend can tell later whether the answer still holds.
 */
#ifndef SALESPERF_KEPT_SNAPSHOT_H
#define SALESPERF_KEPT_SNAPSHOT_H

#include "postgres.h"
#include "access/transam.h"
#include "utils/snapshot.h"

typedef struct KeptSnapshot
{
	FullTransactionId xmin;		/* every transaction below had ended */
	FullTransactionId xmax;		/* none at or above had been seen */
	int			nxip;			/* those between that had not ended */
	uint64	   *xip;
} KeptSnapshot;

/* May this transaction keep an answer for later ones (see kept_snapshot.c)? */
extern bool salesperf_kept_snapshot_may_keep(void);
/* Copies snap into *kept (xip allocated in cxt; free with salesperf_kept_snapshot_free). */
extern void salesperf_kept_snapshot_take(KeptSnapshot *kept, Snapshot snap, MemoryContext cxt);
extern void salesperf_kept_snapshot_free(KeptSnapshot *kept);

/*
 * Is what was computed under *kept still what the active snapshot would
 * compute?  True when the active snapshot sees every transaction *kept saw
 * and no row of salesperf.org_change it sees belongs to a transaction *kept
 * did not see.  Needs an SPI connection.
 */
extern bool salesperf_kept_snapshot_still_exact(const KeptSnapshot *kept);

#endif
