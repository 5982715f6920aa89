/*
 * test_sparkline.c — cmocka tests of the sparkline core
 * (src/core/sparkline.c): bar levels at every bin edge, one and two
 * values, negative and huge values, NULL elements, non-finite values and
 * long series.
 *
 * Expected bars are worked out by hand: with the range [lo, hi] cut into
 * eight equal bins, a value v gets level floor(8 (v - lo) / (hi - lo)),
 * capped at 7.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>
#include <math.h>
#include <cmocka.h>

#include "sparkline.h"

#define B1 "\xe2\x96\x81"	/* ▁ */
#define B2 "\xe2\x96\x82"	/* ▂ */
#define B3 "\xe2\x96\x83"	/* ▃ */
#define B4 "\xe2\x96\x84"	/* ▄ */
#define B5 "\xe2\x96\x85"	/* ▅ */
#define B6 "\xe2\x96\x86"	/* ▆ */
#define B7 "\xe2\x96\x87"	/* ▇ */
#define B8 "\xe2\x96\x88"	/* █ */

/* Draws and compares; nulls may be NULL. */
static void
check(const double *v, const bool *nulls, size_t n, const char *expected)
{
	char	   *out = malloc(sp_spark_size(n));
	size_t		bad = 12345;
	size_t		len;

	assert_non_null(out);
	len = sp_sparkline(v, nulls, n, out, &bad);
	assert_int_equal(len, strlen(expected));
	assert_string_equal(out, expected);
	assert_int_equal(bad, 12345);	/* untouched on success */
	free(out);
}

static void
test_bars_are_the_eight_blocks(void **state)
{
	assert_string_equal(sp_spark_bar(0), B1);
	assert_string_equal(sp_spark_bar(3), B4);
	assert_string_equal(sp_spark_bar(7), B8);
	/* out-of-range levels are clamped, never read past the table */
	assert_string_equal(sp_spark_bar(-1), B1);
	assert_string_equal(sp_spark_bar(8), B8);
	assert_string_equal(sp_spark_bar(1000), B8);
}

static void
test_level_bin_edges(void **state)
{
	/* [0, 8]: bins of width 1; an edge takes the higher bar */
	assert_int_equal(sp_spark_level(0, 0, 8), 0);
	assert_int_equal(sp_spark_level(0.999, 0, 8), 0);
	assert_int_equal(sp_spark_level(1, 0, 8), 1);
	assert_int_equal(sp_spark_level(3.5, 0, 8), 3);
	assert_int_equal(sp_spark_level(4, 0, 8), 4);
	assert_int_equal(sp_spark_level(7, 0, 8), 7);
	assert_int_equal(sp_spark_level(7.999, 0, 8), 7);
	assert_int_equal(sp_spark_level(8, 0, 8), 7);	/* the maximum: top bar */
	/* [0, 1]: 0.125 is the first edge, 0.875 the last */
	assert_int_equal(sp_spark_level(0.124, 0, 1), 0);
	assert_int_equal(sp_spark_level(0.125, 0, 1), 1);
	assert_int_equal(sp_spark_level(0.5, 0, 1), 4);
	assert_int_equal(sp_spark_level(0.874, 0, 1), 6);
	assert_int_equal(sp_spark_level(0.875, 0, 1), 7);
	/* no range: the flat middle bar */
	assert_int_equal(sp_spark_level(5, 5, 5), SP_SPARK_FLAT);
	assert_int_equal(sp_spark_level(-0.0, 0.0, -0.0), SP_SPARK_FLAT);
	/* outside the range (not produced by sp_sparkline): clamped */
	assert_int_equal(sp_spark_level(-1, 0, 8), 0);
	assert_int_equal(sp_spark_level(9, 0, 8), 7);
}

static void
test_level_negative_ranges(void **state)
{
	/* [-8, 0] behaves like [0, 8] shifted */
	assert_int_equal(sp_spark_level(-8, -8, 0), 0);
	assert_int_equal(sp_spark_level(-4, -8, 0), 4);
	assert_int_equal(sp_spark_level(-1, -8, 0), 7);
	assert_int_equal(sp_spark_level(0, -8, 0), 7);
	/* [-4, 4]: zero is the middle edge */
	assert_int_equal(sp_spark_level(0, -4, 4), 4);
	assert_int_equal(sp_spark_level(-0.001, -4, 4), 3);
}

static void
test_level_whole_double_range(void **state)
{
	/* hi - lo overflows to infinity: the halved scale still works */
	assert_true(isinf(DBL_MAX - -DBL_MAX));
	assert_int_equal(sp_spark_level(-DBL_MAX, -DBL_MAX, DBL_MAX), 0);
	assert_int_equal(sp_spark_level(0, -DBL_MAX, DBL_MAX), 4);
	assert_int_equal(sp_spark_level(-DBL_MAX / 2, -DBL_MAX, DBL_MAX), 2);
	assert_int_equal(sp_spark_level(DBL_MAX, -DBL_MAX, DBL_MAX), 7);
	/* the smallest range there is: two neighbouring subnormals */
	assert_int_equal(sp_spark_level(0, 0, 4.9406564584124654e-324), 0);
	assert_int_equal(sp_spark_level(4.9406564584124654e-324, 0, 4.9406564584124654e-324), 7);
	/* a range far below the values' magnitude */
	assert_int_equal(sp_spark_level(1e15 + 0.5, 1e15, 1e15 + 1), 4);
}

static void
test_empty(void **state)
{
	char		out[1] = {'x'};

	assert_int_equal(sp_spark_size(0), 1);
	assert_int_equal(sp_sparkline(NULL, NULL, 0, out, NULL), 0);
	assert_int_equal(out[0], '\0');
}

static void
test_one_value(void **state)
{
	double		v[] = {42};
	double		z[] = {0};
	double		neg[] = {-7.5};

	check(v, NULL, 1, B4);
	check(z, NULL, 1, B4);
	check(neg, NULL, 1, B4);
}

static void
test_two_values(void **state)
{
	double		up[] = {1, 2};
	double		down[] = {2, 1};
	double		same[] = {3, 3};
	double		tiny[] = {1, 1 + DBL_EPSILON};

	check(up, NULL, 2, B1 B8);
	check(down, NULL, 2, B8 B1);
	check(same, NULL, 2, B4 B4);
	check(tiny, NULL, 2, B1 B8);
}

static void
test_every_bar_once(void **state)
{
	/* 0..7 over [0, 7]: 8 v / 7 = 0, 1.14, 2.29, 3.43, 4.57, 5.71, 6.86, 8 */
	double		v[] = {0, 1, 2, 3, 4, 5, 6, 7};

	check(v, NULL, 8, B1 B2 B3 B4 B5 B6 B7 B8);
	/* 0..8 over [0, 8]: bins of width one, 8 shares the top bar with 7 */
	{
		double		w[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};

		check(w, NULL, 9, B1 B2 B3 B4 B5 B6 B7 B8 B8);
	}
}

static void
test_negative_values(void **state)
{
	/* [-10, 10]: -10 → 0, -5 → 2, 0 → 4, 5 → 6, 10 → 7 */
	double		v[] = {-10, -5, 0, 5, 10};
	/* all negative: [-3, -1]; -2 → floor(8 × 1/2) = 4 */
	double		w[] = {-1, -2, -3};

	check(v, NULL, 5, B1 B3 B5 B7 B8);
	check(w, NULL, 3, B8 B5 B1);
}

static void
test_nulls_are_spaces(void **state)
{
	double		v[] = {0, 999, 4, 8, -1e300};
	bool		n[] = {false, true, false, false, true};
	bool		all[] = {true, true, true};

	/* NULLs take no part in the scale: [0, 8] from 0, 4, 8 */
	check(v, n, 5, B1 " " B5 B8 " ");
	/* only NULLs: only spaces */
	check(v, all, 3, "   ");
	/* one value among NULLs: the flat bar */
	{
		bool		one[] = {true, false, true};

		check(v, one, 3, " " B4 " ");
	}
}

static void
test_non_finite_refused(void **state)
{
	double		v[] = {1, 2, NAN, INFINITY};
	double		w[] = {-INFINITY};
	bool		skip_nan[] = {false, false, true, false};
	bool		nan_is_null[] = {false, false, true, true};
	char		out[64];
	size_t		bad = 0;

	assert_int_equal(sp_sparkline(v, NULL, 4, out, &bad), (size_t) -1);
	assert_int_equal(bad, 2);	/* the first bad one */
	assert_string_equal(out, "");
	assert_int_equal(sp_sparkline(v, skip_nan, 4, out, &bad), (size_t) -1);
	assert_int_equal(bad, 3);
	assert_int_equal(sp_sparkline(w, NULL, 1, out, &bad), (size_t) -1);
	assert_int_equal(bad, 0);
	/* bad may be NULL */
	assert_int_equal(sp_sparkline(w, NULL, 1, out, NULL), (size_t) -1);
	/* a NULL element's value is never looked at, NaN or not */
	check(v, nan_is_null, 4, B1 B8 "  ");
}

static void
test_size(void **state)
{
	assert_int_equal(sp_spark_size(1), 4);
	assert_int_equal(sp_spark_size(10), 31);
	assert_int_equal(sp_spark_size((SIZE_MAX - 1) / 3), (SIZE_MAX - 1) / 3 * 3 + 1);
	assert_int_equal(sp_spark_size((SIZE_MAX - 1) / 3 + 1), 0);
	assert_int_equal(sp_spark_size(SIZE_MAX), 0);
}

static void
test_long_series(void **state)
{
	/* 1,000,000 values rising 0 .. 999999, then one NULL at the end */
	size_t		n = 1000001;
	double	   *v = malloc(n * sizeof(double));
	bool	   *nulls = calloc(n, sizeof(bool));
	char	   *out = malloc(sp_spark_size(n));
	size_t		len;
	size_t		i;
	int			counts[SP_SPARK_LEVELS] = {0};

	assert_non_null(v);
	assert_non_null(nulls);
	assert_non_null(out);
	for (i = 0; i < n - 1; i++)
		v[i] = (double) i;
	nulls[n - 1] = true;
	len = sp_sparkline(v, nulls, n, out, NULL);
	assert_int_equal(len, (n - 1) * 3 + 1);
	assert_int_equal(strlen(out), len);
	assert_memory_equal(out, B1, 3);
	assert_memory_equal(out + (n - 2) * 3, B8, 3);
	assert_int_equal(out[len - 1], ' ');
	/* levels never go down along a rising series, and split evenly */
	for (i = 0; i < n - 1; i++)
	{
		int			level = (unsigned char) out[i * 3 + 2] - 0x81;

		assert_in_range(level, 0, 7);
		if (i > 0)
			assert_true(level >= (unsigned char) out[(i - 1) * 3 + 2] - 0x81);
		counts[level]++;
	}
	/* [0, 999999]: each bin holds 125,000 values give or take one */
	for (i = 0; i < SP_SPARK_LEVELS; i++)
		assert_in_range(counts[i], 124999, 125001);
	free(v);
	free(nulls);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bars_are_the_eight_blocks),
		cmocka_unit_test(test_level_bin_edges),
		cmocka_unit_test(test_level_negative_ranges),
		cmocka_unit_test(test_level_whole_double_range),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one_value),
		cmocka_unit_test(test_two_values),
		cmocka_unit_test(test_every_bar_once),
		cmocka_unit_test(test_negative_values),
		cmocka_unit_test(test_nulls_are_spaces),
		cmocka_unit_test(test_non_finite_refused),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_long_series),
	};

	return cmocka_run_group_tests_name("sparkline", tests, NULL, NULL);
}
