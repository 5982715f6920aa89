/*
 * rep_locks.h — per-rep locks of derived-state writers (see rep_locks.c).
 */
#ifndef SALESPERF_REP_LOCKS_H
#define SALESPERF_REP_LOCKS_H

/* Lock the rows of the given reps (sorted, distinct) in salesperf.rep. */
extern void salesperf_lock_rep_ids(const int64 *wanted, int distinct);

/*
 * The one-row ledger path's lock of its rep: the same lock, taken under
 * READ COMMITTED by an index probe and a row lock rather than a statement.
 */
extern void salesperf_lock_one_rep(int64 rep_id);

/* Sort ids ascending and drop repeats in place; returns how many remain. */
extern int64 salesperf_sort_distinct_ids(int64 *ids, int64 count);

#endif
