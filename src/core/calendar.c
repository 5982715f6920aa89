/*
 * calendar.c — period boundaries on local day numbers.
 *
 * Gregorian calendar: fiscal months, quarters and years are calendar
 * months shifted by fiscal_year_start_month.
 *
 * Retail calendars (4-4-5, 4-5-4, 5-4-4): a fiscal year is 52 or 53 whole
 * weeks starting on week_start; it begins on the week_start day nearest to
 * the 1st of fiscal_year_start_month.  Each quarter is 13 weeks split by
 * the pattern; in a 53-week year the extra week goes to the last period.
 */
#include "calendar.h"

#include <string.h>

static const char *const period_names[] = {
	"day", "week", "month", "quarter", "year", "all"
};

bool
sp_period_parse(const char *name, sp_period *out)
{
	for (int i = 0; i <= SP_PERIOD_ALL; i++)
	{
		if (strcmp(name, period_names[i]) == 0)
		{
			*out = (sp_period) i;
			return true;
		}
	}
	return false;
}

const char *
sp_period_name(sp_period period)
{
	return period_names[period];
}

bool
sp_calendar_kind_parse(const char *name, sp_calendar_kind *out)
{
	if (strcmp(name, "gregorian") == 0)
		*out = SP_CAL_GREGORIAN;
	else if (strcmp(name, "4-4-5") == 0)
		*out = SP_CAL_445;
	else if (strcmp(name, "4-5-4") == 0)
		*out = SP_CAL_454;
	else if (strcmp(name, "5-4-4") == 0)
		*out = SP_CAL_544;
	else
		return false;
	return true;
}

/* Floor division and modulo, correct for negative numerators. */
static int32_t
floor_div(int32_t a, int32_t b)
{
	int32_t		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int32_t
floor_mod(int32_t a, int32_t b)
{
	return a - floor_div(a, b) * b;
}

/*
 * Day number of a civil date.  Counts in 400-year eras of 146097 days,
 * with years starting in March so the leap day is the last day of a year.
 */
int32_t
sp_days_from_civil(int32_t year, int month, int day)
{
	int32_t		y = year - (month <= 2 ? 1 : 0);
	int32_t		era = floor_div(y, 400);
	int32_t		yoe = y - era * 400;	/* 0..399 */
	int32_t		mp = (month + 9) % 12;	/* March = 0 */
	int32_t		doy = (153 * mp + 2) / 5 + day - 1;
	int32_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
sp_civil_from_days(int32_t days, int32_t *year, int *month, int *day)
{
	int32_t		z = days + 719468;
	int32_t		era = floor_div(z, 146097);
	int32_t		doe = z - era * 146097;
	int32_t		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int32_t		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int32_t		mp = (5 * doy + 2) / 153;
	int			m = mp < 10 ? mp + 3 : mp - 9;

	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = m;
	*year = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

int
sp_iso_weekday(int32_t days)
{
	/* 1970-01-01 was a Thursday (4). */
	return (int) floor_mod(days + 3, 7) + 1;
}

bool
sp_calendar_valid(const sp_calendar *cal)
{
	return cal->week_start >= 1 && cal->week_start <= 7 &&
		cal->fiscal_year_start_month >= 1 && cal->fiscal_year_start_month <= 12 &&
		cal->kind >= SP_CAL_GREGORIAN && cal->kind <= SP_CAL_544;
}

static int32_t
week_start_of(const sp_calendar *cal, int32_t day)
{
	return day - floor_mod(sp_iso_weekday(day) - cal->week_start, 7);
}

/* First day of the civil month that is `months` months from year 0. */
static int32_t
month_index_start(int32_t months)
{
	return sp_days_from_civil(floor_div(months, 12), (int) floor_mod(months, 12) + 1, 1);
}

int32_t
sp_retail_year_start(const sp_calendar *cal, int32_t year)
{
	int32_t		anchor = sp_days_from_civil(year, cal->fiscal_year_start_month, 1);
	int32_t		back = floor_mod(sp_iso_weekday(anchor) - cal->week_start, 7);

	/* back = days since the previous week_start day (0..6) */
	return back <= 3 ? anchor - back : anchor + (7 - back);
}

static bool
gregorian_bounds(const sp_calendar *cal, sp_period period, int32_t day,
				 int32_t *start, int32_t *end)
{
	int32_t		y;
	int			m,
				d;
	int32_t		months;
	int32_t		into_year;
	int32_t		first;
	int32_t		span;

	sp_civil_from_days(day, &y, &m, &d);
	months = y * 12 + (m - 1);
	into_year = floor_mod(m - cal->fiscal_year_start_month, 12);

	switch (period)
	{
		case SP_PERIOD_MONTH:
			first = months;
			span = 1;
			break;
		case SP_PERIOD_QUARTER:
			first = months - into_year % 3;
			span = 3;
			break;
		case SP_PERIOD_YEAR:
			first = months - into_year;
			span = 12;
			break;
		default:
			return false;
	}
	*start = month_index_start(first);
	*end = month_index_start(first + span);
	return true;
}

static bool
retail_bounds(const sp_calendar *cal, sp_period period, int32_t day,
			  int32_t *start, int32_t *end)
{
	static const int patterns[3][3] = {{4, 4, 5}, {4, 5, 4}, {5, 4, 4}};
	const int  *pattern = patterns[cal->kind - SP_CAL_445];
	int32_t		cy;
	int			cm,
				cd;
	int32_t		fy;
	int32_t		year_start,
				next_year_start;
	int32_t		week;
	int32_t		quarter;
	int32_t		quarter_start;
	int32_t		quarter_end;
	int32_t		week_in_quarter;

	sp_civil_from_days(day, &cy, &cm, &cd);
	fy = cy + 1;
	while (sp_retail_year_start(cal, fy) > day)
		fy--;
	year_start = sp_retail_year_start(cal, fy);
	next_year_start = sp_retail_year_start(cal, fy + 1);

	if (period == SP_PERIOD_YEAR)
	{
		*start = year_start;
		*end = next_year_start;
		return true;
	}

	week = (day - year_start) / 7;	/* 0..52 */
	quarter = week / 13;
	if (quarter > 3)
		quarter = 3;				/* week 53 belongs to the last quarter */
	quarter_start = year_start + quarter * 91;
	quarter_end = quarter == 3 ? next_year_start : quarter_start + 91;

	if (period == SP_PERIOD_QUARTER)
	{
		*start = quarter_start;
		*end = quarter_end;
		return true;
	}
	if (period != SP_PERIOD_MONTH)
		return false;

	week_in_quarter = week - quarter * 13;
	if (week_in_quarter < pattern[0])
	{
		*start = quarter_start;
		*end = quarter_start + pattern[0] * 7;
	}
	else if (week_in_quarter < pattern[0] + pattern[1])
	{
		*start = quarter_start + pattern[0] * 7;
		*end = quarter_start + (pattern[0] + pattern[1]) * 7;
	}
	else
	{
		*start = quarter_start + (pattern[0] + pattern[1]) * 7;
		*end = quarter_end;			/* includes a 53rd week */
	}
	return true;
}

bool
sp_period_bounds(const sp_calendar *cal, sp_period period, int32_t day,
				 int32_t *start, int32_t *end)
{
	switch (period)
	{
		case SP_PERIOD_DAY:
			*start = day;
			*end = day + 1;
			return true;
		case SP_PERIOD_WEEK:
			*start = week_start_of(cal, day);
			*end = *start + 7;
			return true;
		case SP_PERIOD_MONTH:
		case SP_PERIOD_QUARTER:
		case SP_PERIOD_YEAR:
			if (cal->kind == SP_CAL_GREGORIAN)
				return gregorian_bounds(cal, period, day, start, end);
			return retail_bounds(cal, period, day, start, end);
		case SP_PERIOD_ALL:
			return false;
	}
	return false;
}
