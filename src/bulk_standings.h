/*
 * bulk_standings.h — what a bulk insert's counter deltas add to the
 * standings of every board (bulk_standings.c).
 */
#ifndef SALESPERF_BULK_STANDINGS_H
#define SALESPERF_BULK_STANDINGS_H

#include "postgres.h"
#include "utils/date.h"

#include "kpi_contribution.h"

typedef struct BulkStandings BulkStandings;

/* Reads the boards, board_unit and calendar settings (SPI connected); allocates in cxt. */
extern BulkStandings *salesperf_bulk_standings_begin(MemoryContext cxt);

/*
 * Adds what one counter delta of rep_id, in unit unit_id (unit_null: in
 * none) on local day `day`, adds to each board.
 */
extern void salesperf_bulk_standings_add(BulkStandings *standings, int64 rep_id, bool unit_null,
										 int64 unit_id, DateADT day,
										 const KpiCounterRow *counter);

/*
 * Registers the standings rows, in key order (board, period, contributor,
 * participant), as the ephemeral relation salesperf_bulk_standings
 * (board_id, period_start, participant_id, contributor_id, num, den,
 * direction, reached_at) of the current SPI connection, in the current
 * memory context.
 */
extern void salesperf_bulk_standings_register(BulkStandings *standings);

#endif
