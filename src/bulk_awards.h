/*
 * bulk_awards.h — what the capped rules award a bulk insert's new rows,
 * computed in C (bulk_awards.c).
 */
#ifndef SALESPERF_BULK_AWARDS_H
#define SALESPERF_BULK_AWARDS_H

#include "commands/trigger.h"
#include "pgtime.h"
#include "utils/hsearch.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "new_rows_scan.h"
#include "point_rules.h"

/* The name the insert into salesperf.capped_award reads the awards under. */
#define BULK_AWARDS_RELATION "salesperf_new_awards"

typedef struct BulkAwards
{
	Tuplestorestate *store;		/* capped_award rows, in (activity_id, rule_id)
								 * order */
	long		count;
	HTAB	   *by_activity;	/* activity_id -> points, its rules summed */
} BulkAwards;

/*
 * The awards of the new rows of kinds with a capped rule in force, but for
 * those of the late (rep, local day, kind) triples (re-derived from the
 * ledger instead): each rule's daily cap less what it already awarded that
 * rep that day, less the raw points of the day's new rows before, in
 * (occurred_at, activity_id) order.  Registered as the ephemeral relation
 * BULK_AWARDS_RELATION of the current SPI connection.
 */
extern void salesperf_register_bulk_awards(TriggerData *trigdata, const NewRowsSummary *rows,
										   const RuleSet *rules, HTAB *late_triples,
										   pg_tz *zone, BulkAwards *awards);

/* What the awards gave one activity (false: nothing). */
extern bool salesperf_bulk_award_of(const BulkAwards *awards, int64 activity_id,
									Numeric *points);

/* Unregister the relation and end its store. */
extern void salesperf_end_bulk_awards(BulkAwards *awards);

#endif
