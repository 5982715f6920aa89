/*
 * test_calendar.c — cmocka tests of the pure calendar core (src/core/calendar.c).
 *
 * Expected dates below were worked out by hand from the calendar rules
 * (and cross-checked against published calendars: ISO 8601 week years and
 * the NRF 4-5-4 retail calendar), never taken from the code under test.
 * The brute-force tests check invariants every calendar must satisfy:
 * each day lies in exactly one period of each kind, periods tile the time
 * line without gaps, and month ⊆ quarter ⊆ year.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "calendar.h"

/* Day number of a civil date (the conversion is itself tested below). */
static int32_t
D(int32_t y, int m, int d)
{
	return sp_days_from_civil(y, m, d);
}

static sp_calendar
cal_of(sp_calendar_kind kind, int week_start, int fiscal_month)
{
	sp_calendar cal;

	cal.kind = kind;
	cal.week_start = week_start;
	cal.fiscal_year_start_month = fiscal_month;
	return cal;
}

static void
bounds(const sp_calendar *cal, sp_period period, int32_t day,
	   int32_t *start, int32_t *end)
{
	assert_true(sp_period_bounds(cal, period, day, start, end));
}

/* Fails with a readable context (calendar, period, day) on mismatch. */
#define CHECK(cond, cal, period, day) \
	do { \
		if (!(cond)) \
		{ \
			print_error("%s:%d: %s failed: kind %d, week_start %d, fiscal month %d, " \
						"period %s, day %ld\n", __FILE__, __LINE__, #cond, \
						(int) (cal)->kind, (cal)->week_start, \
						(cal)->fiscal_year_start_month, sp_period_name(period), \
						(long) (day)); \
			fail(); \
		} \
	} while (0)

static const sp_calendar_kind all_kinds[] = {
	SP_CAL_GREGORIAN, SP_CAL_445, SP_CAL_454, SP_CAL_544
};

/* ---------------------------------------------------------------------
 * Civil dates <-> day numbers
 * ------------------------------------------------------------------- */

static void
test_days_from_civil_known(void **state)
{
	/* the epoch and its neighbours */
	assert_int_equal(D(1970, 1, 1), 0);
	assert_int_equal(D(1970, 1, 2), 1);
	assert_int_equal(D(1969, 12, 31), -1);
	assert_int_equal(D(1970, 3, 1), 59);	/* 31 + 28 */
	assert_int_equal(D(1971, 1, 1), 365);
	assert_int_equal(D(1972, 3, 1), 790);	/* 365 + 365 + 31 + 29 */

	/* 2000: divisible by 400, a leap year */
	assert_int_equal(D(2000, 1, 1), 10957);
	assert_int_equal(D(2000, 2, 29), 11016);
	assert_int_equal(D(2000, 3, 1), 11017);
	assert_int_equal(D(2000, 12, 31), 11322);
	assert_int_equal(D(2001, 1, 1), 11323);

	/* 2024: an ordinary leap year */
	assert_int_equal(D(2024, 1, 1), 19723);
	assert_int_equal(D(2024, 2, 29), 19782);
	assert_int_equal(D(2024, 3, 1), 19783);
	assert_int_equal(D(2025, 1, 1), 20089);

	/* 1900: divisible by 100 but not 400, not a leap year */
	assert_int_equal(D(1900, 1, 1), -25567);
	assert_int_equal(D(1900, 2, 28), -25509);
	assert_int_equal(D(1900, 3, 1), -25508);
	assert_int_equal(D(1901, 1, 1), -25202);

	/* 2100: not a leap year either */
	assert_int_equal(D(2100, 1, 1), 47482);
	assert_int_equal(D(2100, 2, 28), 47540);
	assert_int_equal(D(2100, 3, 1), 47541);
	assert_int_equal(D(2101, 1, 1), 47847);

	/* far past and future, proleptic Gregorian; year 0 = 1 BC is a leap year */
	assert_int_equal(D(1, 1, 1), -719162);
	assert_int_equal(D(0, 3, 1), -719468);
	assert_int_equal(D(0, 1, 1), -719528);
	assert_int_equal(D(-1, 1, 1), -719893);
	assert_int_equal(D(-4, 1, 1), -720989);
	assert_int_equal(D(-4, 2, 29), -720930);
	assert_int_equal(D(-4, 3, 1), -720929);
	assert_int_equal(D(9999, 12, 31), 2932896);
}

static void
test_civil_from_days_known(void **state)
{
	int32_t		y;
	int			m,
				d;

	sp_civil_from_days(-1, &y, &m, &d);
	assert_int_equal(y, 1969);
	assert_int_equal(m, 12);
	assert_int_equal(d, 31);

	sp_civil_from_days(11016, &y, &m, &d);
	assert_int_equal(y, 2000);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);

	sp_civil_from_days(-25508, &y, &m, &d);
	assert_int_equal(y, 1900);
	assert_int_equal(m, 3);
	assert_int_equal(d, 1);

	sp_civil_from_days(47540, &y, &m, &d);
	assert_int_equal(y, 2100);
	assert_int_equal(m, 2);
	assert_int_equal(d, 28);

	sp_civil_from_days(-719528, &y, &m, &d);
	assert_int_equal(y, 0);
	assert_int_equal(m, 1);
	assert_int_equal(d, 1);

	sp_civil_from_days(-720930, &y, &m, &d);
	assert_int_equal(y, -4);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);
}

static bool
is_leap(int32_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_length(int32_t y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/*
 * Walk every day from 4 BC (year -4) to 9999-12-31, counting the date
 * forward with our own month lengths, and compare both conversions.
 */
static void
test_civil_round_trip(void **state)
{
	int32_t		ey = -4;
	int			em = 1,
				ed = 1;

	for (int32_t day = D(-4, 1, 1); day <= 2932896; day++)
	{
		int32_t		y;
		int			m,
					d;

		sp_civil_from_days(day, &y, &m, &d);
		if (y != ey || m != em || d != ed || D(ey, em, ed) != day)
		{
			print_error("day %ld: got %ld-%02d-%02d, expected %ld-%02d-%02d\n",
						(long) day, (long) y, m, d, (long) ey, em, ed);
			fail();
		}
		if (++ed > month_length(ey, em))
		{
			ed = 1;
			if (++em > 12)
			{
				em = 1;
				ey++;
			}
		}
	}
	assert_int_equal(ey, 10000);
}

static void
test_civil_extremes(void **state)
{
	/* PostgreSQL's timestamp range: 4714-11-24 BC (year -4713) to 294276 AD */
	int32_t		lo = D(-4713, 11, 24);
	int32_t		hi = D(294276, 12, 31);
	int32_t		y;
	int			m,
				d;

	assert_int_equal(lo, -2440588);		/* Julian day 0 */
	sp_civil_from_days(lo, &y, &m, &d);
	assert_int_equal(y, -4713);
	assert_int_equal(m, 11);
	assert_int_equal(d, 24);

	sp_civil_from_days(hi, &y, &m, &d);
	assert_int_equal(y, 294276);
	assert_int_equal(m, 12);
	assert_int_equal(d, 31);
	assert_int_equal(D(294277, 1, 1), hi + 1);
}

/* ---------------------------------------------------------------------
 * Weekdays and weeks
 * ------------------------------------------------------------------- */

static void
test_iso_weekday(void **state)
{
	assert_int_equal(sp_iso_weekday(0), 4);			/* 1970-01-01 Thursday */
	assert_int_equal(sp_iso_weekday(-1), 3);		/* 1969-12-31 Wednesday */
	assert_int_equal(sp_iso_weekday(-3), 1);		/* 1969-12-29 Monday */
	assert_int_equal(sp_iso_weekday(-4), 7);		/* 1969-12-28 Sunday */
	assert_int_equal(sp_iso_weekday(10957), 6);		/* 2000-01-01 Saturday */
	assert_int_equal(sp_iso_weekday(-25567), 1);	/* 1900-01-01 Monday */
	assert_int_equal(sp_iso_weekday(19723), 1);		/* 2024-01-01 Monday */
	assert_int_equal(sp_iso_weekday(20089), 3);		/* 2025-01-01 Wednesday */
	assert_int_equal(sp_iso_weekday(D(2025, 12, 29)), 1);
	assert_int_equal(sp_iso_weekday(D(2026, 1, 1)), 4);
	assert_int_equal(sp_iso_weekday(-719162), 1);	/* 0001-01-01 Monday */
	assert_int_equal(sp_iso_weekday(2932896), 5);	/* 9999-12-31 Friday */

	for (int32_t day = -800000; day < 800000; day++)
	{
		int			w = sp_iso_weekday(day);

		if (w < 1 || w > 7 || sp_iso_weekday(day + 1) != w % 7 + 1)
		{
			print_error("weekday of day %ld is %d\n", (long) day, w);
			fail();
		}
	}
}

static void
test_week_bounds_every_week_start(void **state)
{
	/* the week containing Thursday 1970-01-01, for week_start 1..7 */
	static const int32_t expected_start[8] = {0, -3, -2, -1, 0, -6, -5, -4};

	for (int ws = 1; ws <= 7; ws++)
	{
		sp_calendar cal = cal_of(SP_CAL_GREGORIAN, ws, 1);
		int32_t		s,
					e;

		bounds(&cal, SP_PERIOD_WEEK, 0, &s, &e);
		assert_int_equal(s, expected_start[ws]);
		assert_int_equal(e, expected_start[ws] + 7);

		/* the week_start day itself begins a week */
		bounds(&cal, SP_PERIOD_WEEK, expected_start[ws], &s, &e);
		assert_int_equal(s, expected_start[ws]);
		/* the day before it belongs to the previous week */
		bounds(&cal, SP_PERIOD_WEEK, expected_start[ws] - 1, &s, &e);
		assert_int_equal(s, expected_start[ws] - 7);
		assert_int_equal(e, expected_start[ws]);

		for (int32_t day = -3000; day <= 3000; day++)
		{
			bounds(&cal, SP_PERIOD_WEEK, day, &s, &e);
			CHECK(s <= day && day < e && e - s == 7, &cal, SP_PERIOD_WEEK, day);
			CHECK(sp_iso_weekday(s) == ws, &cal, SP_PERIOD_WEEK, day);
		}
	}

	/* Sunday weeks: Thursday 2026-05-14 is in Sunday 10 .. Sunday 17 May */
	{
		sp_calendar cal = cal_of(SP_CAL_GREGORIAN, 7, 1);
		int32_t		s,
					e;

		bounds(&cal, SP_PERIOD_WEEK, D(2026, 5, 14), &s, &e);
		assert_int_equal(s, D(2026, 5, 10));
		assert_int_equal(e, D(2026, 5, 17));
	}
}

static void
test_day_bounds(void **state)
{
	sp_calendar cal = cal_of(SP_CAL_445, 3, 7);
	int32_t		s,
				e;

	for (int32_t day = -5; day <= 5; day++)
	{
		bounds(&cal, SP_PERIOD_DAY, day, &s, &e);
		assert_int_equal(s, day);
		assert_int_equal(e, day + 1);
	}
}

/* ---------------------------------------------------------------------
 * Gregorian fiscal months, quarters, years
 * ------------------------------------------------------------------- */

typedef struct greg_case
{
	int			fiscal_month;
	int			y, m, d;		/* the day asked about */
	sp_period	period;
	int			sy, sm, sd;		/* expected first day */
	int			ey, em, ed;		/* expected first day after */
} greg_case;

static const greg_case greg_cases[] = {
	/* calendar year */
	{1, 2026, 5, 14, SP_PERIOD_MONTH, 2026, 5, 1, 2026, 6, 1},
	{1, 2026, 5, 14, SP_PERIOD_QUARTER, 2026, 4, 1, 2026, 7, 1},
	{1, 2026, 5, 14, SP_PERIOD_YEAR, 2026, 1, 1, 2027, 1, 1},
	{1, 2025, 12, 31, SP_PERIOD_MONTH, 2025, 12, 1, 2026, 1, 1},
	{1, 2025, 12, 31, SP_PERIOD_QUARTER, 2025, 10, 1, 2026, 1, 1},
	{1, 2025, 12, 31, SP_PERIOD_YEAR, 2025, 1, 1, 2026, 1, 1},
	{1, 2026, 1, 1, SP_PERIOD_QUARTER, 2026, 1, 1, 2026, 4, 1},
	{1, 2026, 3, 31, SP_PERIOD_QUARTER, 2026, 1, 1, 2026, 4, 1},
	{1, 2024, 2, 29, SP_PERIOD_MONTH, 2024, 2, 1, 2024, 3, 1},
	{1, 1900, 2, 28, SP_PERIOD_MONTH, 1900, 2, 1, 1900, 3, 1},
	{1, 1969, 12, 15, SP_PERIOD_MONTH, 1969, 12, 1, 1970, 1, 1},
	{1, 1969, 12, 15, SP_PERIOD_YEAR, 1969, 1, 1, 1970, 1, 1},

	/* fiscal year from April: Q1 Apr-Jun, Q2 Jul-Sep, Q3 Oct-Dec, Q4 Jan-Mar */
	{4, 2026, 2, 15, SP_PERIOD_MONTH, 2026, 2, 1, 2026, 3, 1},
	{4, 2026, 2, 15, SP_PERIOD_QUARTER, 2026, 1, 1, 2026, 4, 1},
	{4, 2026, 2, 15, SP_PERIOD_YEAR, 2025, 4, 1, 2026, 4, 1},
	{4, 2026, 3, 31, SP_PERIOD_QUARTER, 2026, 1, 1, 2026, 4, 1},
	{4, 2026, 3, 31, SP_PERIOD_YEAR, 2025, 4, 1, 2026, 4, 1},
	{4, 2026, 4, 1, SP_PERIOD_QUARTER, 2026, 4, 1, 2026, 7, 1},
	{4, 2026, 4, 1, SP_PERIOD_YEAR, 2026, 4, 1, 2027, 4, 1},
	{4, 2025, 12, 31, SP_PERIOD_QUARTER, 2025, 10, 1, 2026, 1, 1},
	{4, 2025, 12, 31, SP_PERIOD_YEAR, 2025, 4, 1, 2026, 4, 1},
	{4, 2026, 6, 30, SP_PERIOD_QUARTER, 2026, 4, 1, 2026, 7, 1},

	/* fiscal year from October: Q1 Oct-Dec, Q2 Jan-Mar, Q3 Apr-Jun, Q4 Jul-Sep */
	{10, 2026, 2, 15, SP_PERIOD_QUARTER, 2026, 1, 1, 2026, 4, 1},
	{10, 2026, 2, 15, SP_PERIOD_YEAR, 2025, 10, 1, 2026, 10, 1},
	{10, 2025, 12, 31, SP_PERIOD_QUARTER, 2025, 10, 1, 2026, 1, 1},
	{10, 2025, 12, 31, SP_PERIOD_YEAR, 2025, 10, 1, 2026, 10, 1},
	{10, 2025, 9, 30, SP_PERIOD_QUARTER, 2025, 7, 1, 2025, 10, 1},
	{10, 2025, 9, 30, SP_PERIOD_YEAR, 2024, 10, 1, 2025, 10, 1},
	{10, 2025, 10, 1, SP_PERIOD_YEAR, 2025, 10, 1, 2026, 10, 1},
	{10, 2025, 11, 20, SP_PERIOD_MONTH, 2025, 11, 1, 2025, 12, 1},

	/* fiscal year from December: quarters Dec-Feb, Mar-May, Jun-Aug, Sep-Nov */
	{12, 2024, 2, 29, SP_PERIOD_QUARTER, 2023, 12, 1, 2024, 3, 1},
	{12, 2024, 2, 29, SP_PERIOD_YEAR, 2023, 12, 1, 2024, 12, 1},
	{12, 2024, 12, 1, SP_PERIOD_QUARTER, 2024, 12, 1, 2025, 3, 1},
	{12, 2024, 11, 30, SP_PERIOD_QUARTER, 2024, 9, 1, 2024, 12, 1},

	/* before 1970 and before year 1 */
	{7, 1969, 6, 30, SP_PERIOD_YEAR, 1968, 7, 1, 1969, 7, 1},
	{7, 1969, 7, 1, SP_PERIOD_QUARTER, 1969, 7, 1, 1969, 10, 1},
	{3, 0, 2, 29, SP_PERIOD_YEAR, -1, 3, 1, 0, 3, 1},
	{3, 0, 2, 29, SP_PERIOD_QUARTER, -1, 12, 1, 0, 3, 1},
};

static void
test_gregorian_cases(void **state)
{
	for (size_t i = 0; i < sizeof(greg_cases) / sizeof(greg_cases[0]); i++)
	{
		const greg_case *c = &greg_cases[i];

		for (int ws = 1; ws <= 7; ws++)		/* week_start does not matter */
		{
			sp_calendar cal = cal_of(SP_CAL_GREGORIAN, ws, c->fiscal_month);
			int32_t		s,
						e;

			bounds(&cal, c->period, D(c->y, c->m, c->d), &s, &e);
			if (s != D(c->sy, c->sm, c->sd) || e != D(c->ey, c->em, c->ed))
			{
				print_error("case %zu (%d-%02d-%02d, %s, fiscal month %d): "
							"got [%ld, %ld), expected [%ld, %ld)\n",
							i, c->y, c->m, c->d, sp_period_name(c->period),
							c->fiscal_month, (long) s, (long) e,
							(long) D(c->sy, c->sm, c->sd), (long) D(c->ey, c->em, c->ed));
				fail();
			}
		}
	}
}

/* Every fiscal start month: the year starts on the 1st of that month. */
static void
test_gregorian_year_start_every_month(void **state)
{
	for (int fm = 1; fm <= 12; fm++)
	{
		sp_calendar cal = cal_of(SP_CAL_GREGORIAN, 1, fm);
		int32_t		s,
					e;

		/* the 1st of the start month opens a fiscal year */
		bounds(&cal, SP_PERIOD_YEAR, D(2026, fm, 1), &s, &e);
		assert_int_equal(s, D(2026, fm, 1));
		assert_int_equal(e, D(2027, fm, 1));
		/* the day before closes the previous one */
		bounds(&cal, SP_PERIOD_YEAR, D(2026, fm, 1) - 1, &s, &e);
		assert_int_equal(s, D(2025, fm, 1));
		assert_int_equal(e, D(2026, fm, 1));
		/* and opens a quarter */
		bounds(&cal, SP_PERIOD_QUARTER, D(2026, fm, 1), &s, &e);
		assert_int_equal(s, D(2026, fm, 1));
		assert_int_equal(e, fm <= 9 ? D(2026, fm + 3, 1) : D(2027, fm - 9, 1));
	}
}

/* ---------------------------------------------------------------------
 * Retail (4-4-5 family) calendars
 * ------------------------------------------------------------------- */

static void
test_retail_year_start_known(void **state)
{
	/* Monday weeks, fiscal year named after the January it starts nearest */
	sp_calendar mon = cal_of(SP_CAL_445, 1, 1);
	/* NRF retail calendar: Sunday weeks, year starts nearest 1 February */
	sp_calendar nrf = cal_of(SP_CAL_454, 7, 2);

	assert_int_equal(sp_retail_year_start(&mon, 2015), D(2014, 12, 29));	/* Jan 1 Thu */
	assert_int_equal(sp_retail_year_start(&mon, 2016), D(2016, 1, 4));	/* Jan 1 Fri */
	assert_int_equal(sp_retail_year_start(&mon, 2020), D(2019, 12, 30));	/* Jan 1 Wed */
	assert_int_equal(sp_retail_year_start(&mon, 2021), D(2021, 1, 4));	/* Jan 1 Fri */
	assert_int_equal(sp_retail_year_start(&mon, 2022), D(2022, 1, 3));	/* Jan 1 Sat */
	assert_int_equal(sp_retail_year_start(&mon, 2024), D(2024, 1, 1));	/* Jan 1 Mon */
	assert_int_equal(sp_retail_year_start(&mon, 2025), D(2024, 12, 30));	/* Jan 1 Wed */
	assert_int_equal(sp_retail_year_start(&mon, 2026), D(2025, 12, 29));	/* Jan 1 Thu */
	assert_int_equal(sp_retail_year_start(&mon, 2027), D(2027, 1, 4));	/* Jan 1 Fri */
	assert_int_equal(sp_retail_year_start(&mon, 2028), D(2028, 1, 3));	/* Jan 1 Sat */

	assert_int_equal(sp_retail_year_start(&nrf, 2022), D(2022, 1, 30));
	assert_int_equal(sp_retail_year_start(&nrf, 2023), D(2023, 1, 29));
	assert_int_equal(sp_retail_year_start(&nrf, 2024), D(2024, 2, 4));
	assert_int_equal(sp_retail_year_start(&nrf, 2025), D(2025, 2, 2));
}

/*
 * With Monday weeks starting nearest 1 January the retail year is the ISO
 * 8601 week-numbering year: it starts on the Monday of the week that holds
 * 4 January.  Compare over six centuries.
 */
static void
test_retail_year_is_iso_year(void **state)
{
	sp_calendar cal = cal_of(SP_CAL_445, 1, 1);
	int			long_years = 0;

	for (int32_t y = 1700; y <= 2300; y++)
	{
		int32_t		jan4 = D(y, 1, 4);
		int32_t		iso_start = jan4 - (sp_iso_weekday(jan4) - 1);

		assert_int_equal(sp_retail_year_start(&cal, y), iso_start);
		if (sp_retail_year_start(&cal, y + 1) - iso_start == 371)
			long_years++;
	}
	/* 71 long ISO years in every 400 (here 601 consecutive years) */
	assert_in_range(long_years, 106, 108);
}

/* nearest week_start day to the 1st of the fiscal month, for every setting */
static void
test_retail_year_start_nearest(void **state)
{
	for (int ws = 1; ws <= 7; ws++)
		for (int fm = 1; fm <= 12; fm++)
		{
			sp_calendar cal = cal_of(SP_CAL_544, ws, fm);

			for (int32_t y = -10; y <= 2400; y += 7)
			{
				int32_t		anchor = D(y, fm, 1);
				int32_t		s = sp_retail_year_start(&cal, y);
				int32_t		len = sp_retail_year_start(&cal, y + 1) - s;

				CHECK(sp_iso_weekday(s) == ws, &cal, SP_PERIOD_YEAR, anchor);
				CHECK(s - anchor >= -3 && s - anchor <= 3, &cal, SP_PERIOD_YEAR, anchor);
				CHECK(len == 364 || len == 371, &cal, SP_PERIOD_YEAR, anchor);
			}
		}
}

typedef struct retail_year
{
	sp_calendar_kind kind;
	int			week_start;
	int			fiscal_month;
	int			sy, sm, sd;		/* first day of the fiscal year */
	int			ends[12][3];	/* first day after each fiscal month */
	int			weeks[12];
} retail_year;

static const retail_year retail_years[] = {
	/* 4-4-5, Monday, FY2026: 53 weeks, the last month has 6 */
	{SP_CAL_445, 1, 1, 2025, 12, 29,
		{{2026, 1, 26}, {2026, 2, 23}, {2026, 3, 30},
		 {2026, 4, 27}, {2026, 5, 25}, {2026, 6, 29},
		 {2026, 7, 27}, {2026, 8, 24}, {2026, 9, 28},
		 {2026, 10, 26}, {2026, 11, 23}, {2027, 1, 4}},
	{4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 6}},
	/* 4-5-4, Monday, FY2026 */
	{SP_CAL_454, 1, 1, 2025, 12, 29,
		{{2026, 1, 26}, {2026, 3, 2}, {2026, 3, 30},
		 {2026, 4, 27}, {2026, 6, 1}, {2026, 6, 29},
		 {2026, 7, 27}, {2026, 8, 31}, {2026, 9, 28},
		 {2026, 10, 26}, {2026, 11, 30}, {2027, 1, 4}},
	{4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 5, 5}},
	/* 5-4-4, Monday, FY2026 */
	{SP_CAL_544, 1, 1, 2025, 12, 29,
		{{2026, 2, 2}, {2026, 3, 2}, {2026, 3, 30},
		 {2026, 5, 4}, {2026, 6, 1}, {2026, 6, 29},
		 {2026, 8, 3}, {2026, 8, 31}, {2026, 9, 28},
		 {2026, 11, 2}, {2026, 11, 30}, {2027, 1, 4}},
	{5, 4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 5}},
	/* 5-4-4, Monday, FY2025: an ordinary 52-week year */
	{SP_CAL_544, 1, 1, 2024, 12, 30,
		{{2025, 2, 3}, {2025, 3, 3}, {2025, 3, 31},
		 {2025, 5, 5}, {2025, 6, 2}, {2025, 6, 30},
		 {2025, 8, 4}, {2025, 9, 1}, {2025, 9, 29},
		 {2025, 11, 3}, {2025, 12, 1}, {2025, 12, 29}},
	{5, 4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 4}},
	/* NRF 4-5-4, Sunday, fiscal 2023 (Jan 29 2023 - Feb 3 2024, 53 weeks) */
	{SP_CAL_454, 7, 2, 2023, 1, 29,
		{{2023, 2, 26}, {2023, 4, 2}, {2023, 4, 30},
		 {2023, 5, 28}, {2023, 7, 2}, {2023, 7, 30},
		 {2023, 8, 27}, {2023, 10, 1}, {2023, 10, 29},
		 {2023, 11, 26}, {2023, 12, 31}, {2024, 2, 4}},
	{4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 5, 5}},
	/* NRF 4-5-4, Sunday, fiscal 2024 (Feb 4 2024 - Feb 1 2025, 52 weeks) */
	{SP_CAL_454, 7, 2, 2024, 2, 4,
		{{2024, 3, 3}, {2024, 4, 7}, {2024, 5, 5},
		 {2024, 6, 2}, {2024, 7, 7}, {2024, 8, 4},
		 {2024, 9, 1}, {2024, 10, 6}, {2024, 11, 3},
		 {2024, 12, 1}, {2025, 1, 5}, {2025, 2, 2}},
	{4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 5, 4}},
};

static void
test_retail_known_years(void **state)
{
	for (size_t i = 0; i < sizeof(retail_years) / sizeof(retail_years[0]); i++)
	{
		const retail_year *r = &retail_years[i];
		sp_calendar cal = cal_of(r->kind, r->week_start, r->fiscal_month);
		int32_t		year_start = D(r->sy, r->sm, r->sd);
		int32_t		year_end = D(r->ends[11][0], r->ends[11][1], r->ends[11][2]);
		int32_t		month_start = year_start;

		for (int p = 0; p < 12; p++)
		{
			int32_t		month_end = D(r->ends[p][0], r->ends[p][1], r->ends[p][2]);
			int32_t		q_start = D(p < 3 ? r->sy : r->ends[(p / 3) * 3 - 1][0],
									p < 3 ? r->sm : r->ends[(p / 3) * 3 - 1][1],
									p < 3 ? r->sd : r->ends[(p / 3) * 3 - 1][2]);
			int32_t		q_end = D(r->ends[(p / 3) * 3 + 2][0],
								  r->ends[(p / 3) * 3 + 2][1],
								  r->ends[(p / 3) * 3 + 2][2]);

			assert_int_equal(month_end - month_start, 7 * r->weeks[p]);

			for (int32_t day = month_start; day < month_end; day++)
			{
				int32_t		s,
							e;

				bounds(&cal, SP_PERIOD_MONTH, day, &s, &e);
				CHECK(s == month_start && e == month_end, &cal, SP_PERIOD_MONTH, day);
				bounds(&cal, SP_PERIOD_QUARTER, day, &s, &e);
				CHECK(s == q_start && e == q_end, &cal, SP_PERIOD_QUARTER, day);
				bounds(&cal, SP_PERIOD_YEAR, day, &s, &e);
				CHECK(s == year_start && e == year_end, &cal, SP_PERIOD_YEAR, day);
			}
			month_start = month_end;
		}
	}
}

/* FY2026 (4-4-5, Monday, January): the example in the README. */
static void
test_retail_fy2026_445(void **state)
{
	sp_calendar cal = cal_of(SP_CAL_445, 1, 1);
	int32_t		s,
				e;

	/* 1 January 2026 is in FY2026, which began on Monday 29 December 2025 */
	bounds(&cal, SP_PERIOD_YEAR, D(2026, 1, 1), &s, &e);
	assert_int_equal(s, 20451);		/* 2025-12-29 */
	assert_int_equal(e, 20822);		/* 2027-01-04 */
	assert_int_equal(e - s, 53 * 7);

	/* 28 December 2025 (a Sunday) is still FY2025's last day */
	bounds(&cal, SP_PERIOD_YEAR, 20450, &s, &e);
	assert_int_equal(s, D(2024, 12, 30));
	assert_int_equal(e, 20451);
	assert_int_equal(e - s, 52 * 7);

	/* the 53rd week (28 Dec 2026 - 3 Jan 2027) is in period 12 and Q4 */
	bounds(&cal, SP_PERIOD_MONTH, D(2027, 1, 3), &s, &e);
	assert_int_equal(s, D(2026, 11, 23));
	assert_int_equal(e, 20822);
	assert_int_equal(e - s, 6 * 7);
	bounds(&cal, SP_PERIOD_QUARTER, D(2026, 12, 28), &s, &e);
	assert_int_equal(s, D(2026, 9, 28));
	assert_int_equal(e, 20822);
	assert_int_equal(e - s, 14 * 7);
	bounds(&cal, SP_PERIOD_WEEK, D(2027, 1, 3), &s, &e);
	assert_int_equal(s, D(2026, 12, 28));
	assert_int_equal(e, 20822);

	/* 4 January 2027 opens FY2027 */
	bounds(&cal, SP_PERIOD_MONTH, 20822, &s, &e);
	assert_int_equal(s, 20822);
	assert_int_equal(e, 20822 + 28);
}

/*
 * For every retail pattern, week start and fiscal month, walk 60 fiscal
 * years and check the month lengths: the pattern four times over, plus one
 * week in the last month (and last quarter) of a 53-week year.
 */
static void
test_retail_pattern_lengths(void **state)
{
	static const int patterns[3][3] = {{4, 4, 5}, {4, 5, 4}, {5, 4, 4}};
	static const sp_calendar_kind kinds[3] = {SP_CAL_445, SP_CAL_454, SP_CAL_544};

	for (int k = 0; k < 3; k++)
		for (int ws = 1; ws <= 7; ws++)
			for (int fm = 1; fm <= 12; fm++)
			{
				sp_calendar cal = cal_of(kinds[k], ws, fm);
				int			long_years = 0;

				for (int32_t fy = 1990; fy < 2050; fy++)
				{
					int32_t		ys = sp_retail_year_start(&cal, fy);
					int32_t		ye = sp_retail_year_start(&cal, fy + 1);
					bool		is_long = (ye - ys) == 371;
					int32_t		day = ys;

					long_years += is_long;
					for (int q = 0; q < 4; q++)
					{
						int32_t		qs,
									qe;

						bounds(&cal, SP_PERIOD_QUARTER, day, &qs, &qe);
						CHECK(qs == day, &cal, SP_PERIOD_QUARTER, day);
						CHECK(qe - qs == 7 * ((q == 3 && is_long) ? 14 : 13),
							  &cal, SP_PERIOD_QUARTER, day);
						for (int p = 0; p < 3; p++)
						{
							int32_t		ms,
										me;
							int			weeks = patterns[k][p] + ((q == 3 && p == 2 && is_long) ? 1 : 0);

							bounds(&cal, SP_PERIOD_MONTH, day, &ms, &me);
							CHECK(ms == day, &cal, SP_PERIOD_MONTH, day);
							CHECK(me - ms == 7 * weeks, &cal, SP_PERIOD_MONTH, day);
							day = me;
						}
						CHECK(day == qe, &cal, SP_PERIOD_QUARTER, day);
					}
					CHECK(day == ye, &cal, SP_PERIOD_YEAR, day);
				}
				/* a 53-week year comes every 5 or 6 years */
				CHECK(long_years >= 10 && long_years <= 12, &cal, SP_PERIOD_YEAR, 0);
			}
}

/* ---------------------------------------------------------------------
 * Invariants, by brute force over every setting
 * ------------------------------------------------------------------- */

static void
check_tiling(const sp_calendar *cal, int32_t from, int32_t to)
{
	static const sp_period periods[] = {
		SP_PERIOD_DAY, SP_PERIOD_WEEK, SP_PERIOD_MONTH, SP_PERIOD_QUARTER, SP_PERIOD_YEAR
	};
	int32_t		prev_s[5],
				prev_e[5];
	int			months_in_quarter = 0,
				quarters_in_year = 0,
				months_in_year = 0;

	for (int i = 0; i < 5; i++)
		bounds(cal, periods[i], from - 1, &prev_s[i], &prev_e[i]);

	for (int32_t day = from; day <= to; day++)
	{
		int32_t		s[5],
					e[5];

		for (int i = 0; i < 5; i++)
		{
			sp_period	p = periods[i];

			bounds(cal, p, day, &s[i], &e[i]);
			/* the day lies in its period */
			CHECK(s[i] <= day && day < e[i], cal, p, day);
			if (s[i] != prev_s[i] || e[i] != prev_e[i])
			{
				/* a new period begins exactly where the previous one ended */
				CHECK(s[i] == day && prev_e[i] == day, cal, p, day);
			}
			/* asking from the last day gives the same period */
			{
				int32_t		s2,
							e2;

				if (day == s[i])
				{
					bounds(cal, p, e[i] - 1, &s2, &e2);
					CHECK(s2 == s[i] && e2 == e[i], cal, p, day);
				}
			}
			/* retail periods begin on week_start; Gregorian ones on the 1st */
			if (p >= SP_PERIOD_MONTH)
			{
				if (cal->kind == SP_CAL_GREGORIAN)
				{
					int32_t		y;
					int			m,
								d;

					sp_civil_from_days(s[i], &y, &m, &d);
					CHECK(d == 1, cal, p, day);
					if (p == SP_PERIOD_YEAR)
						CHECK(m == cal->fiscal_year_start_month, cal, p, day);
					if (p == SP_PERIOD_QUARTER)
						CHECK((m - cal->fiscal_year_start_month + 12) % 3 == 0, cal, p, day);
				}
				else
					CHECK(sp_iso_weekday(s[i]) == cal->week_start, cal, p, day);
			}
		}
		/* nesting: day ⊆ month ⊆ quarter ⊆ year */
		CHECK(s[2] <= s[0] && e[0] <= e[2], cal, SP_PERIOD_MONTH, day);
		CHECK(s[3] <= s[2] && e[2] <= e[3], cal, SP_PERIOD_QUARTER, day);
		CHECK(s[4] <= s[3] && e[3] <= e[4], cal, SP_PERIOD_YEAR, day);
		/* retail weeks nest in months; Gregorian weeks need not */
		if (cal->kind != SP_CAL_GREGORIAN)
			CHECK(s[2] <= s[1] && e[1] <= e[2], cal, SP_PERIOD_WEEK, day);

		/* count months per quarter and quarters per year */
		if (s[4] == day)
		{
			if (day != from)
			{
				CHECK(quarters_in_year == 4, cal, SP_PERIOD_YEAR, day);
				CHECK(months_in_year == 12, cal, SP_PERIOD_YEAR, day);
			}
			quarters_in_year = 0;
			months_in_year = 0;
		}
		if (s[3] == day)
		{
			if (day != from)
				CHECK(months_in_quarter == 3, cal, SP_PERIOD_QUARTER, day);
			months_in_quarter = 0;
			quarters_in_year++;
		}
		if (s[2] == day)
		{
			months_in_quarter++;
			months_in_year++;
		}

		for (int i = 0; i < 5; i++)
		{
			prev_s[i] = s[i];
			prev_e[i] = e[i];
		}
	}
}

/*
 * Start the walk on a fiscal-year boundary so the per-year counts are
 * complete; cover eleven years of every combination of settings, plus a
 * stretch across 1970 and one across a non-leap century year.
 */
static void
test_invariants_every_setting(void **state)
{
	for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++)
		for (int ws = 1; ws <= 7; ws++)
			for (int fm = 1; fm <= 12; fm++)
			{
				sp_calendar cal = cal_of(all_kinds[k], ws, fm);
				int32_t		s,
							e;

				bounds(&cal, SP_PERIOD_YEAR, D(2020, 6, 15), &s, &e);
				check_tiling(&cal, s, s + 4018);
				bounds(&cal, SP_PERIOD_YEAR, D(1965, 6, 15), &s, &e);
				check_tiling(&cal, s, D(1975, 1, 1));
				bounds(&cal, SP_PERIOD_YEAR, D(2098, 6, 15), &s, &e);
				check_tiling(&cal, s, D(2103, 1, 1));
				bounds(&cal, SP_PERIOD_YEAR, D(-3, 6, 15), &s, &e);
				check_tiling(&cal, s, D(3, 1, 1));
			}
}

/* Far from 1970: the arithmetic must not overflow near PostgreSQL's limits. */
static void
test_extreme_days(void **state)
{
	int32_t		hi = D(294276, 12, 31);
	int32_t		lo = D(-4713, 11, 24);

	for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++)
	{
		sp_calendar cal = cal_of(all_kinds[k], 1, 1);
		int32_t		s,
					e;

		for (sp_period p = SP_PERIOD_DAY; p <= SP_PERIOD_YEAR; p++)
		{
			bounds(&cal, p, hi, &s, &e);
			CHECK(s <= hi && hi < e && e - s <= 371, &cal, p, hi);
			bounds(&cal, p, lo, &s, &e);
			CHECK(s <= lo && lo < e && e - s <= 371, &cal, p, lo);
		}
	}
	{
		sp_calendar cal = cal_of(SP_CAL_GREGORIAN, 1, 1);
		int32_t		s,
					e;

		bounds(&cal, SP_PERIOD_YEAR, hi, &s, &e);
		assert_int_equal(s, D(294276, 1, 1));
		assert_int_equal(e, hi + 1);
	}
}

/* ---------------------------------------------------------------------
 * Names and validation
 * ------------------------------------------------------------------- */

static void
test_period_parse(void **state)
{
	static const char *const names[] = {"day", "week", "month", "quarter", "year", "all"};
	static const char *const bad[] = {
		"", "Day", "DAY", "days", "month ", " month", "fortnight", "hour", "quarters", "al"
	};
	sp_period	p;

	for (int i = 0; i < 6; i++)
	{
		p = SP_PERIOD_ALL;
		assert_true(sp_period_parse(names[i], &p));
		assert_int_equal(p, (sp_period) i);
		assert_string_equal(sp_period_name(p), names[i]);
	}
	assert_int_equal(SP_PERIOD_DAY, 0);
	assert_int_equal(SP_PERIOD_ALL, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		p = SP_PERIOD_QUARTER;
		assert_false(sp_period_parse(bad[i], &p));
		assert_int_equal(p, SP_PERIOD_QUARTER);		/* untouched */
	}
}

static void
test_calendar_kind_parse(void **state)
{
	static const char *const bad[] = {
		"", "Gregorian", "GREGORIAN", "julian", "445", "4-4-4", "4-4-5 ", "5-5-4", "4_4_5", "retail"
	};
	sp_calendar_kind k;

	assert_true(sp_calendar_kind_parse("gregorian", &k));
	assert_int_equal(k, SP_CAL_GREGORIAN);
	assert_true(sp_calendar_kind_parse("4-4-5", &k));
	assert_int_equal(k, SP_CAL_445);
	assert_true(sp_calendar_kind_parse("4-5-4", &k));
	assert_int_equal(k, SP_CAL_454);
	assert_true(sp_calendar_kind_parse("5-4-4", &k));
	assert_int_equal(k, SP_CAL_544);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		k = SP_CAL_454;
		assert_false(sp_calendar_kind_parse(bad[i], &k));
		assert_int_equal(k, SP_CAL_454);
	}
}

static void
test_calendar_valid(void **state)
{
	sp_calendar cal;

	for (int ws = -1; ws <= 9; ws++)
		for (int fm = -1; fm <= 14; fm++)
		{
			cal = cal_of(SP_CAL_445, ws, fm);
			assert_int_equal(sp_calendar_valid(&cal),
							 ws >= 1 && ws <= 7 && fm >= 1 && fm <= 12);
		}
	cal = cal_of((sp_calendar_kind) 4, 1, 1);
	assert_false(sp_calendar_valid(&cal));
}

static void
test_all_has_no_bounds(void **state)
{
	sp_calendar cal = cal_of(SP_CAL_GREGORIAN, 1, 1);
	int32_t		s = 42,
				e = 43;

	assert_false(sp_period_bounds(&cal, SP_PERIOD_ALL, 0, &s, &e));
	cal.kind = SP_CAL_445;
	assert_false(sp_period_bounds(&cal, SP_PERIOD_ALL, 0, &s, &e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days_from_civil_known),
		cmocka_unit_test(test_civil_from_days_known),
		cmocka_unit_test(test_civil_round_trip),
		cmocka_unit_test(test_civil_extremes),
		cmocka_unit_test(test_iso_weekday),
		cmocka_unit_test(test_week_bounds_every_week_start),
		cmocka_unit_test(test_day_bounds),
		cmocka_unit_test(test_gregorian_cases),
		cmocka_unit_test(test_gregorian_year_start_every_month),
		cmocka_unit_test(test_retail_year_start_known),
		cmocka_unit_test(test_retail_year_is_iso_year),
		cmocka_unit_test(test_retail_year_start_nearest),
		cmocka_unit_test(test_retail_known_years),
		cmocka_unit_test(test_retail_fy2026_445),
		cmocka_unit_test(test_retail_pattern_lengths),
		cmocka_unit_test(test_invariants_every_setting),
		cmocka_unit_test(test_extreme_days),
		cmocka_unit_test(test_period_parse),
		cmocka_unit_test(test_calendar_kind_parse),
		cmocka_unit_test(test_calendar_valid),
		cmocka_unit_test(test_all_has_no_bounds),
	};

	return cmocka_run_group_tests_name("calendar", tests, NULL, NULL);
}
