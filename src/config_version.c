/*
 * config_version.c — the newest salesperf.notify_config_version.
 *
 * Every statement that changes the settings, KPIs, badge rules,
 * leaderboards or targets adds a row from a sequence (78_notifications.sql);
 * the one-row write path keeps copies of that configuration per backend and
 * checks them against the newest number on every write.  That check is one
 * backward step in the table's primary key: read in C, it costs a
 * fraction of the statement it used to be.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "config_version.h"
#include "direct_rows.h"

int64
salesperf_config_version(void)
{
	Oid			schema = get_namespace_oid("salesperf", false);
	Oid			table = get_relname_relid("notify_config_version", schema);
	Oid			key = get_relname_relid("notify_config_version_pkey", schema);
	Relation	rel;
	Relation	index;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	int64		version = 0;

	if (!OidIsValid(table) || !OidIsValid(key))
		elog(ERROR, "salesperf: salesperf.notify_config_version or its key is missing");
	salesperf_direct_read_begin();
	rel = relation_open(table, AccessShareLock);
	index = relation_open(key, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = salesperf_direct_scan(rel, index, 0, NULL);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;
		Datum		v = slot_getattr(slot, 1, &isnull);

		if (!isnull)
			version = DatumGetInt64(v);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	relation_close(index, NoLock);
	relation_close(rel, NoLock);
	salesperf_direct_read_end();
	return version;
}
