/*
 * one_row_probe.h — what the one-row insert path needs to know about its
 * row before writing anything (see one_row_probe.c).
 */
#ifndef SALESPERF_ONE_ROW_PROBE_H
#define SALESPERF_ONE_ROW_PROBE_H

#include "postgres.h"
#include "datatype/timestamp.h"

typedef struct OneRowProbe
{
	bool		known;			/* the kind is in salesperf.activity_kind */
	Datum		day;			/* date: the local day */
	bool		capped;			/* an active capped rule of the kind is in force */
	bool		late;			/* the rep's counter of that day and kind has an activity at or after it */
	Datum		unit_id;		/* int8: the rep's unit at that moment */
	bool		unit_null;		/* no unit */
	Datum		uncapped_points;	/* numeric: rule_points() of the row */
} OneRowProbe;

/* Inside the ledger trigger, with the rep locked. */
extern void salesperf_probe_one_row(int64 rep_id, Datum kind, Datum amount, TimestampTz at,
									Datum time_zone, OneRowProbe *probe);

#endif
