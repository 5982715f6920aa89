/*
 * bulk_delta.h — a bulk insert's counter deltas, computed in C.
 */
#ifndef SALESPERF_BULK_DELTA_H
#define SALESPERF_BULK_DELTA_H

#include "commands/trigger.h"
#include "executor/spi.h"
#include "pgtime.h"
#include "utils/date.h"

#include "bulk_awards.h"
#include "new_rows_scan.h"
#include "point_rules.h"

/*
 * Group the new rows (but those of the late triples) by (rep, unit, local
 * day in `zone`, kind), scored by the active point `rules` plus what the
 * capped rules' `awards` (NULL: none) gave them, and register the groups
 * as the ephemeral relation salesperf_delta of the current SPI connection,
 * and what they add to the boards' standings as salesperf_bulk_standings
 * (bulk_standings.h).
 */
/* The name the merge statement reads the counter deltas under. */
#define BULK_DELTA_RELATION "salesperf_delta"

/* The stores behind the two ephemeral relations. */
typedef struct BulkDelta
{
	Tuplestorestate *delta;
	Tuplestorestate *standings;
} BulkDelta;

extern void salesperf_register_bulk_delta(TriggerData *trigdata, const NewRowsSummary *rows,
										  const RuleSet *rules, HTAB *late_triples, pg_tz *zone,
										  const BulkAwards *awards, BulkDelta *registered);

/*
 * The late (rep, local day, kind) triples `late` (rep_id[], day[], kind[];
 * late_nulls[0] 'n': none) as a set of the kinds' numbers; NULL for none.
 */
extern HTAB *salesperf_late_triples(const NewRowsSummary *rows, const Datum *late,
									const char *late_nulls, MemoryContext cxt);
extern bool salesperf_is_late_triple(HTAB *late_triples, int64 rep_id, DateADT day, int kind);

/* The zone of salesperf.settings (read by SPI). */
extern pg_tz *salesperf_settings_zone(void);

/* Register store (rows of desc) as an ephemeral relation of the current SPI connection. */
extern void salesperf_register_store(const char *name, TupleDesc desc, Tuplestorestate *store);

/*
 * Unregister the relations and end their stores, once the merge has read
 * them: a store that spilled to a temporary file closes it here (left
 * open, the file would outlive the statement).
 */
extern void salesperf_end_bulk_delta(BulkDelta *registered);

#endif
