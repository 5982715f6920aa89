/*
 * one_row_delta.h — counters and standings of one new activity (see
 * one_row_delta.c).
 */
#ifndef SALESPERF_ONE_ROW_DELTA_H
#define SALESPERF_ONE_ROW_DELTA_H

#include "postgres.h"
#include "datatype/timestamp.h"

typedef struct OneRowDelta
{
	int64		rep_id;
	Datum		unit_id;		/* int8: the rep's unit when the activity occurred */
	bool		unit_null;		/* the rep belonged to no unit then */
	Datum		day;			/* date: the activity's local day */
	Datum		kind;			/* text */
	Datum		amount;			/* numeric */
	Datum		points;			/* numeric: every rule's points, capped awards included */
	TimestampTz occurred_at;
} OneRowDelta;

/* The configured time zone (text), from the kept configuration. */
extern Datum salesperf_one_row_time_zone(void);

/* Inside the ledger trigger's SPI connection, with the rep locked. */
extern void salesperf_add_one_row(const OneRowDelta *row);

/*
 * While salesperf_add_one_row writes standings: has the period of the board
 * starting at period_start ended by the clock?  false when this path cannot
 * tell (not its statement, an unknown board): ask SQL.
 */
extern bool salesperf_one_row_period_ended(int32 board_id, TimestampTz period_start, bool *ended);

#endif
