/*
 * bulk_delta.h — a bulk insert's counter deltas, computed in C.
 */
#ifndef SALESPERF_BULK_DELTA_H
#define SALESPERF_BULK_DELTA_H

#include "commands/trigger.h"
#include "executor/spi.h"

#include "new_rows_scan.h"
#include "point_rules.h"

/*
 * Group the new rows (but those of the late triples `late`: rep_id[],
 * day[], kind[], NULL for none) by (rep, unit, local day, kind), scored by
 * the active point `rules` plus what `awards` (activity_id, points rows)
 * gave them, and register the groups as the ephemeral relation
 * salesperf_delta of the current SPI connection, and what they add to the
 * boards' standings as salesperf_bulk_standings (bulk_standings.h).
 */
extern void salesperf_register_bulk_delta(TriggerData *trigdata, const NewRowsSummary *rows,
										  const RuleSet *rules,
										  const Datum *late, const char *late_nulls,
										  SPITupleTable *awards, uint64 award_count);

#endif
