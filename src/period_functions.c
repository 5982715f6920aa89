/*
 * period_functions.c — SQL entry points for the calendar (SPEC §3).
 *
 * Converts a timestamptz to a local day in the given time zone, asks the
 * pure calendar core for the period's day range, and converts the bounds
 * back to local midnights.  A period starts at the first instant of its
 * first local day: where clocks jump forward at 00:00 that is the end of
 * the gap (as PostgreSQL's own `AT TIME ZONE` resolves a missing time), and
 * where clocks fall back across midnight, so that 00:00 happens twice, it
 * is the first 00:00.
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "calendar.h"
#include "period_functions.h"


PG_FUNCTION_INFO_V1(salesperf_calendar_start);
PG_FUNCTION_INFO_V1(salesperf_calendar_end);

static sp_period
parse_period(text *period_text)
{
	char	   *name = text_to_cstring(period_text);
	sp_period	period;

	if (!sp_period_parse(name, &period))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown period \"%s\"", name),
				 errhint("Use day, week, month, quarter, year or all.")));
	return period;
}

static void
load_calendar(FunctionCallInfo fcinfo, sp_calendar *cal, pg_tz **tz)
{
	char	   *tz_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *kind_name = text_to_cstring(PG_GETARG_TEXT_PP(5));

	cal->week_start = PG_GETARG_INT32(3);
	cal->fiscal_year_start_month = PG_GETARG_INT32(4);
	if (!sp_calendar_kind_parse(kind_name, &cal->kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown calendar \"%s\"", kind_name),
				 errhint("Use gregorian, 4-4-5, 4-5-4 or 5-4-4.")));
	if (!sp_calendar_valid(cal))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid calendar: week_start %d, fiscal_year_start_month %d",
						cal->week_start, cal->fiscal_year_start_month)));
	*tz = pg_tzset(tz_name);
	if (*tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown time zone \"%s\"", tz_name),
				 errhint("See pg_timezone_names.")));
}

static int32
local_day(TimestampTz ts, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;

	if (timestamp2tm(ts, &tzoff, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - UNIX_EPOCH_JDATE;
}

/*
 * The first instant of local day `day`.
 *
 * DetermineTimeZoneOffset resolves a local time that falls in a
 * spring-forward gap to the first instant after the gap, which is what we
 * want, but resolves an ambiguous local time (clocks falling back) to its
 * *later* occurrence.  When clocks fall back across midnight, 00:00 happens
 * twice and the day begins at the first one: the hour before the second
 * 00:00 already has the new day's date.  So whenever the UTC offset in
 * force just before the candidate differs from the candidate's own, try
 * midnight under that earlier offset and keep it if it is still on `day`.
 */
static TimestampTz
local_midnight(int32 day, pg_tz *tz)
{
	struct pg_tm tm;
	int			tzoff;
	TimestampTz result;

	memset(&tm, 0, sizeof(tm));
	j2date(day + UNIX_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tzoff = DetermineTimeZoneOffset(&tm, tz);
	if (tm2timestamp(&tm, 0, &tzoff, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));

	for (int tries = 0; tries < 2; tries++)
	{
		struct pg_tm before;
		struct pg_tm at;
		fsec_t		fsec;
		int			before_off;
		int			at_off;
		TimestampTz earlier;

		if (timestamp2tm(result - 1, &before_off, &before, &fsec, NULL, tz) != 0 ||
			before_off == tzoff)
			break;
		if (tm2timestamp(&tm, 0, &before_off, &earlier) != 0 || earlier >= result)
			break;
		if (timestamp2tm(earlier, &at_off, &at, &fsec, NULL, tz) != 0 ||
			date2j(at.tm_year, at.tm_mon, at.tm_mday) - UNIX_EPOCH_JDATE != day)
			break;
		result = earlier;
		tzoff = at_off;
	}
	return result;
}

static Datum
period_bound(FunctionCallInfo fcinfo, bool want_end)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	sp_period	period = parse_period(PG_GETARG_TEXT_PP(1));
	sp_calendar cal;
	pg_tz	   *tz;
	int32		start,
				end;
	TimestampTz result;

	load_calendar(fcinfo, &cal, &tz);

	if (period == SP_PERIOD_ALL)
	{
		if (want_end)
			TIMESTAMP_NOEND(result);
		else
			TIMESTAMP_NOBEGIN(result);
		PG_RETURN_TIMESTAMPTZ(result);
	}
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("an infinite timestamp has no %s", sp_period_name(period))));

	if (!sp_period_bounds(&cal, period, local_day(ts, tz), &start, &end))
		elog(ERROR, "no bounds for period %d", (int) period);

	PG_RETURN_TIMESTAMPTZ(local_midnight(want_end ? end : start, tz));
}

Datum
salesperf_calendar_start(PG_FUNCTION_ARGS)
{
	return period_bound(fcinfo, false);
}

Datum
salesperf_calendar_end(PG_FUNCTION_ARGS)
{
	return period_bound(fcinfo, true);
}

/*
 * The local day of a moment, and the first instant of a local day: the one
 * definition of "day" that the ledger triggers, re-derivation, recompute()
 * and the reads share (SQL calls these; C calls local_day/local_midnight).
 */
PG_FUNCTION_INFO_V1(salesperf_local_day);
PG_FUNCTION_INFO_V1(salesperf_local_day_start);

static pg_tz *
zone_named(text *name_text)
{
	char	   *name = text_to_cstring(name_text);
	pg_tz	   *tz = pg_tzset(name);

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown time zone \"%s\"", name),
				 errhint("See pg_timezone_names.")));
	return tz;
}

pg_tz *
salesperf_zone_named(text *name)
{
	return zone_named(name);
}

DateADT
salesperf_local_date(TimestampTz ts, pg_tz *tz)
{
	return local_day(ts, tz) + (UNIX_EPOCH_JDATE - POSTGRES_EPOCH_JDATE);
}

Datum
salesperf_local_day(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);

	DateADT		result;

	/* The bounds of period 'all' are infinite: so are their days. */
	if (TIMESTAMP_IS_NOBEGIN(ts))
	{
		DATE_NOBEGIN(result);
		PG_RETURN_DATEADT(result);
	}
	if (TIMESTAMP_IS_NOEND(ts))
	{
		DATE_NOEND(result);
		PG_RETURN_DATEADT(result);
	}
	PG_RETURN_DATEADT(local_day(ts, zone_named(PG_GETARG_TEXT_PP(1))) +
					  (UNIX_EPOCH_JDATE - POSTGRES_EPOCH_JDATE));
}

Datum
salesperf_local_day_start(PG_FUNCTION_ARGS)
{
	DateADT		day = PG_GETARG_DATEADT(0);
	TimestampTz result;

	if (DATE_IS_NOBEGIN(day))
	{
		TIMESTAMP_NOBEGIN(result);
		PG_RETURN_TIMESTAMPTZ(result);
	}
	if (DATE_IS_NOEND(day))
	{
		TIMESTAMP_NOEND(result);
		PG_RETURN_TIMESTAMPTZ(result);
	}
	PG_RETURN_TIMESTAMPTZ(local_midnight(day + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE),
										 zone_named(PG_GETARG_TEXT_PP(1))));
}
