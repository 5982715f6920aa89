/*
 * direct_rows.c — derived rows found by key and written through the table
 * access method, without SQL statements.
 *
 * A one-row ledger insert changes a handful of derived rows (its counter,
 * a standing per board, a score band or two).  As SQL statements each
 * costs an executor start and end, plan revalidation and locks on every
 * relation of the plan, many times the work of the row itself.  Here the
 * same rows are found with one probe of the table's unique index and
 * inserted or updated in place, the way PostgreSQL's logical replication
 * applies a row: indexes maintained, AFTER row triggers (the foreign-key
 * checks) queued and fired at the end of the batch.
 *
 * What SQL would add is left out on purpose, and only salesperf's own
 * code calls this, always for the tables it derives:
 *   - privileges and row-level security: the caller is the ledger trigger,
 *     which a permitted write into salesperf.activity fired;
 *   - statement triggers: the standings' score-band tally is kept by the
 *     caller (standing_tally.c) in the same batch;
 *   - generated columns and CHECK constraints: the caller computes and
 *     checks those values itself.
 * Every write is made visible to the next find of the batch (a command
 * counter increment), so a key written twice is found the second time.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "direct_rows.h"

bool
salesperf_direct_writes_allowed(void)
{
	return XactIsoLevel == XACT_READ_COMMITTED;
}

static Oid
salesperf_relation(const char *name)
{
	Oid			schema = get_namespace_oid("salesperf", false);
	Oid			relid = get_relname_relid(name, schema);

	if (!OidIsValid(relid))
		elog(ERROR, "salesperf: relation salesperf.%s does not exist", name);
	return relid;
}

static void
open_key(DirectTable *t, const char *key_index)
{
	Relation	index = index_open(salesperf_relation(key_index), RowExclusiveLock);

	if (index->rd_index->indrelid != RelationGetRelid(t->rel) || !index->rd_index->indisunique)
		elog(ERROR, "salesperf: %s is not a unique index of %s", key_index, RelationGetRelationName(t->rel));
	t->key_index = index;
	t->nkeys = IndexRelationGetNumberOfKeyAttributes(index);
	for (int i = 0; i < t->nkeys; i++)
	{
		Oid			type = index->rd_opcintype[i];
		Oid			eq = get_opfamily_member(index->rd_opfamily[i], type, type, BTEqualStrategyNumber);

		if (!OidIsValid(eq))
			elog(ERROR, "salesperf: no equality operator for column %d of %s", i + 1, key_index);
		t->key_eq[i] = get_opcode(eq);
	}
}

void
salesperf_direct_begin(DirectWrites *w, int ntables, const char *const *tables,
					   const char *const *key_indexes)
{
	List	   *range_table = NIL;
	Oid			relids[lengthof(w->tables)];

	if (ntables > (int) lengthof(w->tables))
		elog(ERROR, "salesperf: too many tables in one batch of direct writes");
	memset(w, 0, sizeof(*w));
	for (int i = 0; i < ntables; i++)
	{
		RangeTblEntry *rte = makeNode(RangeTblEntry);

		relids[i] = salesperf_relation(tables[i]);
		rte->rtekind = RTE_RELATION;
		rte->relid = relids[i];
		rte->relkind = RELKIND_RELATION;
		rte->rellockmode = RowExclusiveLock;
		range_table = lappend(range_table, rte);
	}

	/* See what the statements before saw and wrote, as SPI would. */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();

	w->estate = CreateExecutorState();
	ExecInitRangeTable(w->estate, range_table);
	w->estate->es_snapshot = GetActiveSnapshot();
	w->estate->es_output_cid = GetCurrentCommandId(true);
	w->ntables = ntables;
	for (int i = 0; i < ntables; i++)
	{
		DirectTable *t = &w->tables[i];

		t->rel = table_open(relids[i], RowExclusiveLock);
		t->rri = makeNode(ResultRelInfo);
		InitResultRelInfo(t->rri, t->rel, i + 1, NULL, 0);
		ExecOpenIndices(t->rri, false);
		w->estate->es_opened_result_relations = lappend(w->estate->es_opened_result_relations, t->rri);
		if (key_indexes[i] != NULL)
			open_key(t, key_indexes[i]);
		t->found = table_slot_create(t->rel, &w->estate->es_tupleTable);
		t->row = table_slot_create(t->rel, &w->estate->es_tupleTable);
	}
	AfterTriggerBeginQuery();
}

void
salesperf_direct_columns(DirectTable *t, int ncolumns, const char *const *names, AttrNumber *attnums)
{
	TupleDesc	desc = RelationGetDescr(t->rel);
	int			named = 0;

	for (int c = 0; c < ncolumns; c++)
		attnums[c] = InvalidAttrNumber;
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		int			c;

		if (att->attisdropped)
			continue;
		for (c = 0; c < ncolumns; c++)
			if (strcmp(NameStr(att->attname), names[c]) == 0)
				break;
		if (c == ncolumns)
			elog(ERROR, "salesperf: column \"%s\" of %s is not written by this build",
				 NameStr(att->attname), RelationGetRelationName(t->rel));
		attnums[c] = att->attnum;
		named++;
	}
	if (named != ncolumns)
		elog(ERROR, "salesperf: %s lacks a column this build writes", RelationGetRelationName(t->rel));
}

/* Every attribute NULL (dropped ones stay so); the caller sets the rest. */
void
salesperf_direct_clear_row(DirectTable *t)
{
	TupleTableSlot *row = t->row;

	ExecClearTuple(row);
	for (int a = 0; a < row->tts_tupleDescriptor->natts; a++)
	{
		row->tts_values[a] = (Datum) 0;
		row->tts_isnull[a] = true;
	}
}

bool
salesperf_direct_find(DirectWrites *w, DirectTable *t, const Datum *key, const bool *key_null)
{
	ScanKeyData keys[INDEX_MAX_KEYS];
	IndexScanDesc scan;
	bool		found;

	Assert(t->key_index != NULL);
	for (int i = 0; i < t->nkeys; i++)
	{
		if (key_null[i])
			ScanKeyEntryInitialize(&keys[i], SK_ISNULL | SK_SEARCHNULL, i + 1, InvalidStrategy,
								   InvalidOid, InvalidOid, InvalidOid, (Datum) 0);
		else
			ScanKeyEntryInitialize(&keys[i], 0, i + 1, BTEqualStrategyNumber, InvalidOid,
								   t->key_index->rd_indcollation[i], t->key_eq[i], key[i]);
	}
	scan = index_beginscan(t->rel, t->key_index, w->estate->es_snapshot, t->nkeys, 0);
	index_rescan(scan, keys, t->nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, t->found);
	index_endscan(scan);
	if (found)
		slot_getallattrs(t->found);
	return found;
}

/* The next find of the batch sees this write. */
static void
written(DirectWrites *w)
{
	CommandCounterIncrement();
	UpdateActiveSnapshotCommandId();
	w->estate->es_output_cid = GetCurrentCommandId(true);
}

void
salesperf_direct_insert(DirectWrites *w, DirectTable *t)
{
	List	   *recheck = NIL;

	ExecStoreVirtualTuple(t->row);
	table_tuple_insert(t->rel, t->row, w->estate->es_output_cid, 0, NULL);
	if (t->rri->ri_NumIndices > 0)
		recheck = ExecInsertIndexTuples(t->rri, t->row, w->estate, false, false, NULL, NIL);
	ExecARInsertTriggers(w->estate, t->rri, t->row, recheck, NULL);
	list_free(recheck);
	ExecClearTuple(t->row);
	written(w);
}

void
salesperf_direct_update(DirectWrites *w, DirectTable *t)
{
	ItemPointerData tid = t->found->tts_tid;
	TM_FailureData failure;
	LockTupleMode lockmode;
	bool		update_indexes;
	List	   *recheck = NIL;
	TM_Result	result;

	ExecStoreVirtualTuple(t->row);
	result = table_tuple_update(t->rel, &tid, t->row, w->estate->es_output_cid,
								w->estate->es_snapshot, InvalidSnapshot, true,
								&failure, &lockmode, &update_indexes);
	/*
	 * The caller holds the rep's lock, which every writer of these rows
	 * takes first: another transaction cannot have changed the row since
	 * the snapshot.  Should it all the same, fail as SQL would.
	 */
	if (result != TM_Ok)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update of %s",
						RelationGetRelationName(t->rel))));
	if (update_indexes && t->rri->ri_NumIndices > 0)
		recheck = ExecInsertIndexTuples(t->rri, t->row, w->estate, true, false, NULL, NIL);
	if (t->rri->ri_TrigDesc != NULL)
		ExecARUpdateTriggers(w->estate, t->rri, NULL, NULL, &tid, NULL, t->row, recheck, NULL, false);
	list_free(recheck);
	ExecClearTuple(t->row);
	written(w);
}

void
salesperf_direct_end(DirectWrites *w)
{
	AfterTriggerEndQuery(w->estate);
	for (int i = 0; i < w->ntables; i++)
	{
		DirectTable *t = &w->tables[i];

		ExecCloseIndices(t->rri);
		if (t->key_index != NULL)
			index_close(t->key_index, NoLock);
		table_close(t->rel, NoLock);
	}
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	ExecCloseTrigTargetRelations(w->estate);
	FreeExecutorState(w->estate);
	PopActiveSnapshot();
	w->estate = NULL;
}

void
salesperf_direct_read_begin(void)
{
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
}

void
salesperf_direct_read_end(void)
{
	PopActiveSnapshot();
}

IndexScanDesc
salesperf_direct_scan(Relation heap, Relation index, int nkeys, const DirectKey *keys)
{
	IndexScanDesc scan = index_beginscan(heap, index, GetActiveSnapshot(), nkeys, 0);

	salesperf_direct_rescan(scan, nkeys, keys);
	return scan;
}

void
salesperf_direct_rescan(IndexScanDesc scan, int nkeys, const DirectKey *keys)
{
	ScanKeyData scankeys[INDEX_MAX_KEYS];

	for (int i = 0; i < nkeys; i++)
	{
		AttrNumber	column = keys[i].column != 0 ? keys[i].column : i + 1;

		ScanKeyEntryInitialize(&scankeys[i], 0, column, keys[i].op, InvalidOid,
							   scan->indexRelation->rd_indcollation[column - 1], keys[i].proc,
							   keys[i].value);
	}
	index_rescan(scan, scankeys, nkeys, NULL, 0);
}

Relation
salesperf_open_relation(const char *name)
{
	return relation_open(salesperf_relation(name), AccessShareLock);
}

void
salesperf_probe_begin(DirectProbe *p, const char *table, const char *index, int nkeys,
					  const DirectKey *keys)
{
	p->rel = salesperf_open_relation(table);
	p->index = salesperf_open_relation(index);
	p->row = table_slot_create(p->rel, NULL);
	p->scan = salesperf_direct_scan(p->rel, p->index, nkeys, keys);
}

bool
salesperf_probe_next(DirectProbe *p, ScanDirection direction)
{
	return index_getnext_slot(p->scan, direction, p->row);
}

void
salesperf_probe_end(DirectProbe *p)
{
	index_endscan(p->scan);
	ExecDropSingleTupleTableSlot(p->row);
	relation_close(p->index, NoLock);
	relation_close(p->rel, NoLock);
}
