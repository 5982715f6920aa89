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
	DirectProbe p;
	int64		version = 0;

	salesperf_direct_read_begin();
	salesperf_probe_begin(&p, "notify_config_version", "notify_config_version_pkey", 0, NULL);
	if (salesperf_probe_next(&p, BackwardScanDirection))
	{
		bool		isnull;
		Datum		v = slot_getattr(p.row, 1, &isnull);

		if (!isnull)
			version = DatumGetInt64(v);
	}
	salesperf_probe_end(&p);
	salesperf_direct_read_end();
	return version;
}
