/*
 * calendar.h — pure calendar arithmetic for salesperf (no PostgreSQL headers).
 *
 * Days are counted from 1970-01-01 (day 0) on the proleptic Gregorian
 * calendar, in *local* civil time: the caller converts a timestamptz to a
 * local date in the configured time zone and converts period boundaries
 * back to local midnights.  Keeping the arithmetic on plain day numbers
 * makes it testable without a server.
 */
#ifndef SALESPERF_CALENDAR_H
#define SALESPERF_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

typedef enum sp_period
{
	SP_PERIOD_DAY,
	SP_PERIOD_WEEK,
	SP_PERIOD_MONTH,
	SP_PERIOD_QUARTER,
	SP_PERIOD_YEAR,
	SP_PERIOD_ALL
} sp_period;

typedef enum sp_calendar_kind
{
	SP_CAL_GREGORIAN,
	SP_CAL_445,
	SP_CAL_454,
	SP_CAL_544
} sp_calendar_kind;

typedef struct sp_calendar
{
	int			week_start;		/* 1 = Monday ... 7 = Sunday */
	int			fiscal_year_start_month;	/* 1..12 */
	sp_calendar_kind kind;
} sp_calendar;

/* Parse names; return false for an unknown name. */
bool		sp_period_parse(const char *name, sp_period *out);
bool		sp_calendar_kind_parse(const char *name, sp_calendar_kind *out);
const char *sp_period_name(sp_period period);

/* Civil date <-> day number. Month 1..12, day 1..31. */
int32_t		sp_days_from_civil(int32_t year, int month, int day);
void		sp_civil_from_days(int32_t days, int32_t *year, int *month, int *day);

/* ISO weekday of a day number: 1 = Monday ... 7 = Sunday. */
int			sp_iso_weekday(int32_t days);

/* True when the configuration is valid (week_start 1..7, month 1..12). */
bool		sp_calendar_valid(const sp_calendar *cal);

/*
 * First day of the retail (4-4-5 family) fiscal year that is named after
 * civil year `year`: the week_start day nearest to the 1st of the fiscal
 * start month of that year.
 */
int32_t		sp_retail_year_start(const sp_calendar *cal, int32_t year);

/*
 * The period of kind `period` that contains local day `day`:
 * *start is its first day, *end the first day after it (half-open).
 * Not defined for SP_PERIOD_ALL (returns false).
 */
bool		sp_period_bounds(const sp_calendar *cal, sp_period period,
							 int32_t day, int32_t *start, int32_t *end);

#endif
