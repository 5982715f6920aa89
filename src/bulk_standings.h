/*
 * bulk_standings.h — what a bulk insert's counter deltas add to the
 * standings of every board (bulk_standings.c).
 */
#ifndef SALESPERF_BULK_STANDINGS_H
#define SALESPERF_BULK_STANDINGS_H

#include "postgres.h"
#include "utils/date.h"
#include "utils/tuplestore.h"

#include "kpi_contribution.h"

/* The name the merge statement reads the standings under. */
#define BULK_STANDINGS_RELATION "salesperf_bulk_standings"

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
 * memory context.  Returns their store, for the caller to end.
 */
extern Tuplestorestate *salesperf_bulk_standings_register(BulkStandings *standings);

#endif
