/*
 * period_functions.h — the calendar functions of period_functions.c that
 * other C code calls directly.
 */
#ifndef SALESPERF_PERIOD_FUNCTIONS_H
#define SALESPERF_PERIOD_FUNCTIONS_H

#include "pgtime.h"
#include "utils/date.h"
#include "utils/timestamp.h"

/* The zone of that name; 22023 when there is none. */
extern pg_tz *salesperf_zone_named(text *name);

/* salesperf.local_day() of a finite moment. */
extern DateADT salesperf_local_date(TimestampTz ts, pg_tz *tz);

#endif
