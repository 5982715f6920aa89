/*
 * bulk_rep_standings.h — what a bulk insert's counter deltas add to the
 * standings of the rep boards without a unit scope (bulk_rep_standings.c).
 */
#ifndef SALESPERF_BULK_REP_STANDINGS_H
#define SALESPERF_BULK_REP_STANDINGS_H

#include "postgres.h"
#include "utils/date.h"

#include "kpi_contribution.h"

typedef struct RepStandings RepStandings;

/* Reads the boards and calendar settings (SPI connected); allocates in cxt. */
extern RepStandings *salesperf_rep_standings_begin(MemoryContext cxt);

/* Adds what one counter delta of rep_id on local day `day` adds to each board. */
extern void salesperf_rep_standings_add(RepStandings *standings, int64 rep_id, DateADT day,
										const KpiCounterRow *counter);

/*
 * Registers the standings rows, in key order, as the ephemeral relation
 * salesperf_rep_standings (board_id, period_start, participant_id,
 * contributor_id, num, den, direction, reached_at) of the current SPI
 * connection.  The rows are copied out of cxt first.
 */
extern void salesperf_rep_standings_register(RepStandings *standings);

#endif
