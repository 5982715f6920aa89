/*
 * direct_rows.h — derived rows found by key and written through the table
 * access method, without SQL statements (see direct_rows.c).
 */
#ifndef SALESPERF_DIRECT_ROWS_H
#define SALESPERF_DIRECT_ROWS_H

#include "postgres.h"
#include "executor/tuptable.h"
#include "access/genam.h"
#include "access/stratnum.h"
#include "nodes/execnodes.h"

/* One table of salesperf's, opened for a batch of direct writes. */
typedef struct DirectTable
{
	Relation	rel;
	ResultRelInfo *rri;
	Relation	key_index;		/* its unique key (NULL: inserts only) */
	int			nkeys;
	RegProcedure key_eq[INDEX_MAX_KEYS];	/* equality of each key column */
	TupleTableSlot *found;		/* the row the last find returned */
	TupleTableSlot *row;		/* the row being written */
} DirectTable;

/* A batch: one executor state, one snapshot, AFTER triggers fired at the end. */
typedef struct DirectWrites
{
	EState	   *estate;
	int			ntables;
	DirectTable tables[4];
} DirectWrites;

/*
 * Whether this transaction may write directly: READ COMMITTED only.  In a
 * stricter isolation level a row another transaction changed after the
 * snapshot must raise a serialization failure exactly as ON CONFLICT does:
 * those keep the SQL statements.
 */
extern bool salesperf_direct_writes_allowed(void);

/*
 * Begins a batch over salesperf.<tables[i]>, each with the unique index
 * key_indexes[i] it is found by (NULL: inserts only); the tables are
 * w->tables[i].
 */
extern void salesperf_direct_begin(DirectWrites *w, int ntables, const char *const *tables,
								   const char *const *key_indexes);

/*
 * The attribute numbers of the columns `names`, which must be every column
 * of the table: one this build does not know would be written NULL.
 */
extern void salesperf_direct_columns(DirectTable *t, int ncolumns, const char *const *names,
									 AttrNumber *attnums);

/* Sets every attribute of t->row NULL, for the caller to fill. */
extern void salesperf_direct_clear_row(DirectTable *t);

/*
 * Finds the visible row with the key values (in the key index's column
 * order; key_null[i]: that column IS NULL).  Found: true, the row in
 * t->found with every attribute deformed.
 */
extern bool salesperf_direct_find(DirectWrites *w, DirectTable *t, const Datum *key, const bool *key_null);

/*
 * Writes t->row, whose tts_values/tts_isnull the caller has filled for
 * every attribute: a new row, or the new version of t->found.
 */
extern void salesperf_direct_insert(DirectWrites *w, DirectTable *t);
extern void salesperf_direct_update(DirectWrites *w, DirectTable *t);

/* Fires the queued AFTER triggers (foreign-key checks) and closes all. */
extern void salesperf_direct_end(DirectWrites *w);

/*
 * Index probes that read as a new SQL statement would: after the writes
 * before them, with a fresh snapshot under READ COMMITTED.  Between
 * begin and end, the snapshot is the active one.
 */
extern void salesperf_direct_read_begin(void);
/* salesperf.<name> (a table or an index), opened with AccessShareLock. */
extern Relation salesperf_open_relation(const char *name);
extern void salesperf_direct_read_end(void);

/* One key column compared with `op` (a btree strategy) to `value`, by `proc`. */
typedef struct DirectKey
{
	StrategyNumber op;
	RegProcedure proc;
	Datum		value;
	AttrNumber	column;			/* the index column; 0: the key's position + 1 */
} DirectKey;

/*
 * Opens an index scan of salesperf.<index> (over its table `heap`, opened
 * by the caller) on its first nkeys columns; rows come in index order
 * with salesperf_direct_next.
 */
extern IndexScanDesc salesperf_direct_scan(Relation heap, Relation index, int nkeys, const DirectKey *keys);
/* The same scan restarted on new key values (same columns and operators). */
extern void salesperf_direct_rescan(IndexScanDesc scan, int nkeys, const DirectKey *keys);

/*
 * A scan of salesperf.<table> through its index <index>, both opened for
 * it and closed at the end; each row found is in `row`.
 */
typedef struct DirectProbe
{
	Relation	rel;
	Relation	index;
	TupleTableSlot *row;
	IndexScanDesc scan;
} DirectProbe;

extern void salesperf_probe_begin(DirectProbe *p, const char *table, const char *index, int nkeys,
								  const DirectKey *keys);
extern bool salesperf_probe_next(DirectProbe *p, ScanDirection direction);
extern void salesperf_probe_end(DirectProbe *p);

#endif
