/*
 * test_commission_math.c — cmocka tests of the exact commission arithmetic
 * (src/core/commission_math.c): decimal text in and out, tiered commission
 * in both modes, payout curves and their rounding, validation and
 * overflow.
 *
 * Small expected values are worked out by hand in the comments; a table of
 * 1000 tiers is checked against a cent-by-cent walk that shares no code
 * with the library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "commission_math.h"

#define I128_MAX	((__int128) (((unsigned __int128) 1 << 127) - 1))
#define I128_MIN	(-I128_MAX - 1)
#define MAX_TEXT	"170141183460469231731687303715884105727"
#define MIN_TEXT	"-170141183460469231731687303715884105728"

/* ---- helpers -------------------------------------------------------- */

static sp_cm_dec
dec(const char *text)
{
	sp_cm_dec	v = {0, 0};

	assert_int_equal(sp_cm_parse(text, &v), SP_CM_OK);
	return v;
}

/* Parses a space-separated list into out; returns how many. */
static size_t
decs(const char *list, sp_cm_dec *out)
{
	char		buf[4096];
	char	   *tok;
	char	   *save = NULL;
	size_t		n = 0;

	assert_true(strlen(list) < sizeof(buf));
	strcpy(buf, list);
	for (tok = strtok_r(buf, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
		out[n++] = dec(tok);
	return n;
}

static const char *
text(sp_cm_dec v)
{
	static char buf[SP_CM_TEXT_MAX];

	sp_cm_format(v, buf);
	return buf;
}

/* Commission as text; fails the test unless the call succeeds. */
static const char *
tiered(const char *amount, const char *bps, const char *rates, bool retroactive)
{
	sp_cm_dec	b[64],
				r[64],
				result;
	size_t		nb = decs(bps, b);
	size_t		nr = decs(rates, r);
	size_t		bad = 99;

	assert_int_equal(sp_cm_tiered(dec(amount), b, nb, r, nr, retroactive, &result, &bad),
					 SP_CM_OK);
	return text(result);
}

static sp_cm_status
tiered_status(const char *amount, const char *bps, const char *rates, bool retroactive,
			  size_t *bad)
{
	sp_cm_dec	b[64],
				r[64],
				result;
	size_t		nb = decs(bps, b);
	size_t		nr = decs(rates, r);

	return sp_cm_tiered(dec(amount), b, nb, r, nr, retroactive, &result, bad);
}

static const char *
curve(const char *a, const char *xs, const char *ys)
{
	sp_cm_dec	x[64],
				y[64],
				result;
	size_t		nx = decs(xs, x);
	size_t		ny = decs(ys, y);
	size_t		bad = 99;

	assert_int_equal(sp_cm_curve(dec(a), x, nx, y, ny, &result, &bad), SP_CM_OK);
	return text(result);
}

static sp_cm_status
curve_status(const char *a, const char *xs, const char *ys, size_t *bad)
{
	sp_cm_dec	x[64],
				y[64],
				result;
	size_t		nx = decs(xs, x);
	size_t		ny = decs(ys, y);

	return sp_cm_curve(dec(a), x, nx, y, ny, &result, bad);
}

static void
assert_round_trip(const char *in, const char *out)
{
	assert_string_equal(text(dec(in)), out);
}

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
next_u64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* ---- text ------------------------------------------------------------ */

static void
test_parse_format_round_trip(void **unused)
{
	sp_cm_dec	v;

	assert_round_trip("0", "0");
	assert_round_trip("-0.50", "-0.50");
	assert_round_trip("123.4500", "123.4500");
	assert_round_trip("0.000", "0.000");
	assert_round_trip("-1", "-1");
	assert_round_trip("0.000000000000000000000000000001", "0.000000000000000000000000000001");
	assert_round_trip(MAX_TEXT, MAX_TEXT);
	assert_round_trip(MIN_TEXT, MIN_TEXT);
	assert_round_trip("17014118346046923173168730371588410572.7",
					  "17014118346046923173168730371588410572.7");
	/* zero carries no sign */
	assert_round_trip("-0", "0");
	assert_round_trip("-0.00", "0.00");
	/* leading zeros are read, not kept */
	assert_round_trip("007.10", "7.10");

	v = dec("-0.50");
	assert_true(v.coef == -50);
	assert_int_equal(v.scale, 2);
	v = dec(MIN_TEXT);
	assert_true(v.coef == I128_MIN);
}

static void
test_parse_refuses(void **unused)
{
	static const char *const syntax[] = {
		"", "-", "1e5", "1.", ".5", "1.2.3", "+1", " 1", "1 ", "NaN", "Infinity",
		"1,5", "--1", "-.5", "0x10", "1-"
	};
	sp_cm_dec	v = {42, 7};
	size_t		i;

	for (i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
	{
		assert_int_equal(sp_cm_parse(syntax[i], &v), SP_CM_SYNTAX);
		/* untouched on failure */
		assert_true(v.coef == 42);
		assert_int_equal(v.scale, 7);
	}
	/* 30 decimals are fine, 31 are not (even when the extra one is 0) */
	assert_int_equal(sp_cm_parse("1.000000000000000000000000000001", &v), SP_CM_OK);
	assert_int_equal(sp_cm_parse("1.0000000000000000000000000000010", &v), SP_CM_TOO_PRECISE);
	/* one past either end of the 128-bit range */
	assert_int_equal(sp_cm_parse("170141183460469231731687303715884105728", &v), SP_CM_OVERFLOW);
	assert_int_equal(sp_cm_parse("-170141183460469231731687303715884105729", &v), SP_CM_OVERFLOW);
	assert_int_equal(sp_cm_parse("1000000000000000000000000000000000000000000", &v), SP_CM_OVERFLOW);
}

static void
test_compare(void **unused)
{
	assert_int_equal(sp_cm_cmp(dec("1"), dec("1.00")), 0);
	assert_int_equal(sp_cm_cmp(dec("0.1"), dec("0.09")), 1);
	assert_int_equal(sp_cm_cmp(dec("-0.1"), dec("-0.09")), -1);
	assert_int_equal(sp_cm_cmp(dec("99999.99"), dec("100000")), -1);
	/* 10^37 cannot be shown with 30 decimals in 128 bits: still compared right */
	assert_int_equal(sp_cm_cmp(dec("10000000000000000000000000000000000000"),
							   dec("0.000000000000000000000000000001")), 1);
	assert_int_equal(sp_cm_cmp(dec("0.000000000000000000000000000001"),
							   dec("10000000000000000000000000000000000000")), -1);
	assert_int_equal(sp_cm_cmp(dec("-10000000000000000000000000000000000000"),
							   dec("0.000000000000000000000000000001")), -1);
}

static void
test_div_round(void **unused)
{
	__int128	q = 0;
	__int128	t12 = 1000000000000LL;

	/* thirds at 12 decimals: 1/3 -> 0.333333333333, 2/3 -> 0.666666666667 */
	assert_true(sp_cm_div_round(t12, 3, &q) && q == 333333333333LL);
	assert_true(sp_cm_div_round(2 * t12, 3, &q) && q == 666666666667LL);
	assert_true(sp_cm_div_round(-t12, 3, &q) && q == -333333333333LL);
	assert_true(sp_cm_div_round(-2 * t12, 3, &q) && q == -666666666667LL);
	assert_true(sp_cm_div_round(2 * t12, -3, &q) && q == -666666666667LL);
	/* ties go away from zero, in every sign combination */
	assert_true(sp_cm_div_round(5, 2, &q) && q == 3);
	assert_true(sp_cm_div_round(-5, 2, &q) && q == -3);
	assert_true(sp_cm_div_round(5, -2, &q) && q == -3);
	assert_true(sp_cm_div_round(-5, -2, &q) && q == 3);
	assert_true(sp_cm_div_round(1, 2, &q) && q == 1);
	assert_true(sp_cm_div_round(-1, 2, &q) && q == -1);
	/* below a half: toward zero */
	assert_true(sp_cm_div_round(1, 3, &q) && q == 0);
	assert_true(sp_cm_div_round(-1, 3, &q) && q == 0);
	assert_true(sp_cm_div_round(49, 100, &q) && q == 0);
	assert_true(sp_cm_div_round(-51, 100, &q) && q == -1);
	/* at the edges of the range: no overflow inside the rounding test */
	assert_true(sp_cm_div_round(I128_MAX, 2, &q) && q == ((__int128) 1 << 126));
	assert_true(sp_cm_div_round(I128_MAX - 1, I128_MAX, &q) && q == 1);
	assert_true(sp_cm_div_round(I128_MIN, I128_MAX, &q) && q == -1);
	assert_true(sp_cm_div_round(I128_MIN, 2, &q) && q == -((__int128) 1 << 126));
	assert_false(sp_cm_div_round(I128_MIN, -1, &q));
	assert_false(sp_cm_div_round(1, 0, &q));
}

/* ---- tiered commission ---------------------------------------------- */

#define B3	"0 100000 150000"
#define R3	"0.05 0.10 0.15"

static void
test_example_both_modes(void **unused)
{
	/* 100000 × 0.05 + 50000 × 0.10 + 25000 × 0.15 = 5000 + 5000 + 3750 */
	assert_string_equal(tiered("175000", B3, R3, false), "13750.00");
	/* 175000 × 0.15 */
	assert_string_equal(tiered("175000", B3, R3, true), "26250.00");
}

static void
test_breakpoint_boundaries(void **unused)
{
	/* one cent below the second tier: all at 5 % (scale 2 + 2) */
	assert_string_equal(tiered("99999.99", B3, R3, false), "4999.9995");
	assert_string_equal(tiered("99999.99", B3, R3, true), "4999.9995");
	/* exactly on it: graduated 100000 × 0.05; retroactive moves to 10 % */
	assert_string_equal(tiered("100000", B3, R3, false), "5000.00");
	assert_string_equal(tiered("100000", B3, R3, true), "10000.00");
	/* one cent above: 5000 + 0.01 × 0.10 = 5000.0010; retro 100000.01 × 0.10 */
	assert_string_equal(tiered("100000.01", B3, R3, false), "5000.0010");
	assert_string_equal(tiered("100000.01", B3, R3, true), "10000.0010");
	/* the third tier: 5000 + 5000, retro 150000 × 0.15 = 22500 */
	assert_string_equal(tiered("149999.99", B3, R3, false), "9999.9990");
	assert_string_equal(tiered("150000", B3, R3, false), "10000.00");
	assert_string_equal(tiered("150000", B3, R3, true), "22500.00");
	assert_string_equal(tiered("150000.01", B3, R3, false), "10000.0015");
	assert_string_equal(tiered("150000.01", B3, R3, true), "22500.0015");
}

static void
test_zero_and_negative(void **unused)
{
	assert_string_equal(tiered("0", B3, R3, false), "0.00");
	assert_string_equal(tiered("0", B3, R3, true), "0.00");
	assert_string_equal(tiered("0.00", B3, R3, false), "0.0000");
	/* returns above sales: amount × rates[0] in both modes */
	assert_string_equal(tiered("-200", B3, R3, false), "-10.00");
	assert_string_equal(tiered("-200", B3, R3, true), "-10.00");
	assert_string_equal(tiered("-0.01", B3, R3, false), "-0.0005");
	assert_string_equal(tiered("-500000", B3, R3, true), "-25000.00");
}

static void
test_single_tier_and_zero_rates(void **unused)
{
	assert_string_equal(tiered("1000", "0", "0.07", false), "70.00");
	assert_string_equal(tiered("1000", "0", "0.07", true), "70.00");
	assert_string_equal(tiered("-1000", "0", "0.07", true), "-70.00");
	/* a first tier paying nothing (a threshold), 10 % above 1000 */
	assert_string_equal(tiered("500", "0 1000", "0 0.1", false), "0.0");
	assert_string_equal(tiered("1500", "0 1000", "0 0.1", false), "50.0");
	assert_string_equal(tiered("1500", "0 1000", "0 0.1", true), "150.0");
	/* negative amount with a zero first rate pays nothing back */
	assert_string_equal(tiered("-100", "0 1000", "0 0.1", false), "0.0");
}

static void
test_mixed_scales(void **unused)
{
	/*
	 * Scale: breakpoints have 1 decimal, rates 2: result scale 1 + 2 = 3.
	 * 100.5 × 0.1 + (200 - 100.5) × 0.25 = 10.05 + 24.875 = 34.925
	 */
	assert_string_equal(tiered("200", "0 100.5", "0.1 0.25", false), "34.925");
	/* 200 × 0.25 */
	assert_string_equal(tiered("200", "0 100.5", "0.1 0.25", true), "50.000");
	/* a breakpoint written 0.00 is 0 */
	assert_string_equal(tiered("10", "0.00 5", "0.1 0.2", false), "1.500");
}

static void
test_huge_amounts(void **unused)
{
	size_t		bad = 99;

	/* the largest coefficient at rate 1: exact */
	assert_string_equal(tiered(MAX_TEXT, "0", "1", false), MAX_TEXT);
	assert_string_equal(tiered(MIN_TEXT, "0", "1", true), MIN_TEXT);
	/* 10^37 over two tiers at rate 1 */
	assert_string_equal(tiered("10000000000000000000000000000000000000",
							   "0 1000000000000000000000000000000000000", "1 1", false),
						"10000000000000000000000000000000000000");
	/* rate 2 on the largest amount: the product overflows */
	assert_int_equal(tiered_status(MAX_TEXT, "0", "2", false, &bad), SP_CM_OVERFLOW);
	assert_int_equal(tiered_status(MAX_TEXT, "0", "2", true, &bad), SP_CM_OVERFLOW);
	assert_int_equal(tiered_status(MIN_TEXT, "0", "1.5", false, &bad), SP_CM_OVERFLOW);

	/*
	 * Each product fits, the sum does not: X = MAX - 2^125 at rate 1, then
	 * 2^125 at rate 2 = 2^126; X + 2^126 = MAX + 2^125.  Half the second
	 * slice lands exactly on MAX.
	 */
	{
		__int128	x = I128_MAX - ((__int128) 1 << 125);
		sp_cm_dec	b[2],
					r[2],
					result;

		b[0] = dec("0");
		b[1] = (sp_cm_dec) {x, 0};
		r[0] = dec("1");
		r[1] = dec("2");
		assert_int_equal(sp_cm_tiered(dec(MAX_TEXT), b, 2, r, 2, false, &result, &bad),
						 SP_CM_OVERFLOW);
		assert_int_equal(sp_cm_tiered((sp_cm_dec) {x + ((__int128) 1 << 124), 0},
									  b, 2, r, 2, false, &result, &bad), SP_CM_OK);
		assert_string_equal(text(result), MAX_TEXT);
		assert_int_equal(sp_cm_tiered((sp_cm_dec) {x + ((__int128) 1 << 124) + 1, 0},
									  b, 2, r, 2, false, &result, &bad), SP_CM_OVERFLOW);
	}

	/* 10^30 at 9 decimals (the breakpoints' scale) needs 10^39: overflow */
	assert_int_equal(tiered_status("1000000000000000000000000000000", "0 0.000000001",
								   "0.1 0.2", false, &bad), SP_CM_OVERFLOW);
	/*
	 * A breakpoint too large to show at the amount's scale is out of reach:
	 * 1.5 × 0.1, the 10^37 tier is never entered.
	 */
	assert_string_equal(tiered("1.5", "0 10000000000000000000000000000000000000", "0.1 0.2", false),
						"0.15");
	assert_string_equal(tiered("1.5", "0 10000000000000000000000000000000000000", "0.1 0.2", true),
						"0.15");
}

static void
test_tier_validation(void **unused)
{
	sp_cm_dec	b[4],
				r[4],
				result;
	size_t		bad = 99;

	b[0] = dec("0");
	r[0] = dec("0.1");
	assert_int_equal(sp_cm_tiered(dec("1"), b, 0, r, 0, false, &result, &bad), SP_CM_EMPTY);
	assert_int_equal(bad, 0);
	assert_int_equal(sp_cm_check_tiers(b, 1, r, 0, &bad), SP_CM_EMPTY);

	assert_int_equal(tiered_status("1", "0 10", "0.1", false, &bad), SP_CM_LENGTH_MISMATCH);
	assert_int_equal(tiered_status("1", "0", "0.1 0.2", false, &bad), SP_CM_LENGTH_MISMATCH);

	bad = 99;
	assert_int_equal(tiered_status("1", "1 10", "0.1 0.2", false, &bad), SP_CM_FIRST_NOT_ZERO);
	assert_int_equal(bad, 0);
	assert_int_equal(tiered_status("1", "-1 10", "0.1 0.2", false, &bad), SP_CM_FIRST_NOT_ZERO);

	/* equal neighbours (even written differently) and a step down */
	assert_int_equal(tiered_status("1", "0 100 100", "0.1 0.2 0.3", false, &bad),
					 SP_CM_NOT_ASCENDING);
	assert_int_equal(bad, 2);
	assert_int_equal(tiered_status("1", "0 100 100.00", "0.1 0.2 0.3", false, &bad),
					 SP_CM_NOT_ASCENDING);
	assert_int_equal(bad, 2);
	assert_int_equal(tiered_status("1", "0 100 50 200", "0.1 0.2 0.3 0.4", false, &bad),
					 SP_CM_NOT_ASCENDING);
	assert_int_equal(bad, 2);
	assert_int_equal(tiered_status("1", "0 0", "0.1 0.2", false, &bad), SP_CM_NOT_ASCENDING);
	assert_int_equal(bad, 1);

	assert_int_equal(tiered_status("1", "0 100 200", "0.1 -0.01 0.3", false, &bad),
					 SP_CM_NEGATIVE_RATE);
	assert_int_equal(bad, 1);
	assert_int_equal(tiered_status("1", "0", "-1", true, &bad), SP_CM_NEGATIVE_RATE);
	assert_int_equal(bad, 0);
	/* a zero rate is allowed */
	assert_int_equal(tiered_status("1", "0", "0", true, &bad), SP_CM_OK);
	/* validation with amount 0, as plan checks do */
	assert_int_equal(tiered_status("0", "0 5 4", "0 0 0", false, &bad), SP_CM_NOT_ASCENDING);
	assert_int_equal(bad, 2);
}

/*
 * 1000 tiers with random widths (1..300 cents) and rates (0.000..0.250),
 * checked against a walk over every cent: each cent from c to c + 0.01 is
 * paid at the rate of the last tier starting at or below c.
 */
#define NTIERS 1000

static void
test_many_tiers(void **unused)
{
	static sp_cm_dec b[NTIERS],
				r[NTIERS];
	static int64_t bp_cents[NTIERS];
	static int64_t rate_milli[NTIERS];
	int64_t		top;
	int			i,
				round;

	bp_cents[0] = 0;
	for (i = 0; i < NTIERS; i++)
	{
		if (i > 0)
			bp_cents[i] = bp_cents[i - 1] + 1 + (int64_t) (next_u64() % 300);
		rate_milli[i] = (int64_t) (next_u64() % 251);
		b[i].coef = bp_cents[i];
		b[i].scale = 2;
		r[i].coef = rate_milli[i];
		r[i].scale = 3;
	}
	top = bp_cents[NTIERS - 1] + 500;

	for (round = 0; round < 60; round++)
	{
		int64_t		amount;
		int64_t		c;
		int64_t		graduated = 0;
		int			k = 0;
		int			last = 0;
		sp_cm_dec	result;
		size_t		bad = 99;

		/* some amounts on a breakpoint, one cent off it, and anywhere */
		if (round % 3 == 0)
			amount = bp_cents[next_u64() % NTIERS];
		else if (round % 3 == 1)
			amount = bp_cents[1 + next_u64() % (NTIERS - 1)] + (round % 2 ? 1 : -1);
		else
			amount = (int64_t) (next_u64() % (uint64_t) top);
		if (round == 0)
			amount = 0;
		if (round == 1)
			amount = top;

		for (c = 0; c < amount; c++)
		{
			while (k + 1 < NTIERS && bp_cents[k + 1] <= c)
				k++;
			graduated += rate_milli[k];
		}
		for (i = 0; i < NTIERS; i++)
			if (bp_cents[i] <= amount)
				last = i;

		/* a cent at 0.001 rate is 0.00001: result scale 2 + 3 = 5 */
		assert_int_equal(sp_cm_tiered((sp_cm_dec) {amount, 2}, b, NTIERS, r, NTIERS, false,
									  &result, &bad), SP_CM_OK);
		assert_int_equal(result.scale, 5);
		assert_true(result.coef == graduated);

		assert_int_equal(sp_cm_tiered((sp_cm_dec) {amount, 2}, b, NTIERS, r, NTIERS, true,
									  &result, &bad), SP_CM_OK);
		assert_int_equal(result.scale, 5);
		assert_true(result.coef == (__int128) amount * rate_milli[last]);
	}
}

/* ---- payout curves -------------------------------------------------- */

#define CX	"0.5 1 1.5"
#define CY	"0 1 2"

static void
test_curve_points_and_flats(void **unused)
{
	/* on each point: that y exactly */
	assert_string_equal(curve("0.5", CX, CY), "0");
	assert_string_equal(curve("1", CX, CY), "1");
	assert_string_equal(curve("1.00", CX, CY), "1");
	assert_string_equal(curve("1.5", CX, CY), "2");
	/* below the threshold and beyond the cap: flat */
	assert_string_equal(curve("0.4", CX, CY), "0");
	assert_string_equal(curve("-3", CX, CY), "0");
	assert_string_equal(curve("2", CX, CY), "2");
	assert_string_equal(curve("1000000", CX, CY), "2");
	/* a y keeps its own scale on a point */
	assert_string_equal(curve("1", "0 1 2", "0.5 1.25 1.250"), "1.25");
	assert_string_equal(curve("9", "0 1 2", "0.5 1.25 1.250"), "1.250");
	assert_string_equal(curve("0", "0 1 2", "0.5 1.25 1.250"), "0.5");
}

static void
test_curve_between_points(void **unused)
{
	/* 0 + (1 - 0) × (0.75 - 0.5) / 0.5 = 0.5 */
	assert_string_equal(curve("0.75", CX, CY), "0.5");
	/* 1 + (2 - 1) × (1.2 - 1) / 0.5 = 1.4 */
	assert_string_equal(curve("1.2", CX, CY), "1.4");
	/* one hundredth past the threshold: 0.01 / 0.5 = 0.02 */
	assert_string_equal(curve("0.51", CX, CY), "0.02");
	/* trailing zeros stop at the ys' scale: 1.00 + 1.00 × 0.5 = 1.50 */
	assert_string_equal(curve("0.5", "0 1", "1.00 2.00"), "1.50");
	assert_string_equal(curve("0.1", "0 1", "0.50 1.00"), "0.55");
	/* ys finer than 12 decimals keep their scale: 0.5 × 10^-16 */
	assert_string_equal(curve("0.5", "0 1", "0 0.00000000000000010"), "0.00000000000000005");
	/* single point: flat everywhere */
	assert_string_equal(curve("0", "1", "0.8"), "0.8");
	assert_string_equal(curve("1", "1", "0.8"), "0.8");
	assert_string_equal(curve("5", "1", "0.8"), "0.8");
}

static void
test_curve_decelerator_and_thirds(void **unused)
{
	/* falling segment: 2 + (1 - 2) × 0.5 = 1.5, 2 - 0.25 = 1.75 */
	assert_string_equal(curve("1.5", "1 2", "2 1"), "1.5");
	assert_string_equal(curve("1.25", "1 2", "2 1"), "1.75");
	/* thirds: 1/3 and 2/3 at 12 decimals, half away from zero */
	assert_string_equal(curve("1", "0 3", "0 1"), "0.333333333333");
	assert_string_equal(curve("2", "0 3", "0 1"), "0.666666666667");
	/* falling thirds: 1 - 1/3 = 0.666666666667, 1 - 2/3 = 0.333333333333 */
	assert_string_equal(curve("1", "0 3", "1 0"), "0.666666666667");
	assert_string_equal(curve("2", "0 3", "1 0"), "0.333333333333");

	/*
	 * The whole value is rounded once, not the slope part alone:
	 * 1 - 0.5 × 10^-12 = 0.9999999999995 -> 1.000000000000 -> "1"
	 * (rounding -0.0000000000005 first would give 0.999999999999).
	 */
	assert_string_equal(curve("0.000000000001", "0 2", "1 0"), "1");
	/* 1 - 1.5 × 10^-12 = 0.9999999999985 -> 0.999999999999 */
	assert_string_equal(curve("0.000000000003", "0 2", "1 0"), "0.999999999999");
	/* rising tie: 0.5 × 10^-12 -> 10^-12 */
	assert_string_equal(curve("0.000000000001", "0 2", "0 1"), "0.000000000001");
	/* below a half: 0.4 × 10^-12 -> 0 at 12 decimals, trimmed to the ys' scale */
	assert_string_equal(curve("0.000000000002", "0 5", "0 1"), "0");
}

static void
test_curve_validation_and_overflow(void **unused)
{
	sp_cm_dec	x[1],
				y[1],
				result;
	size_t		bad = 99;

	x[0] = dec("1");
	y[0] = dec("1");
	assert_int_equal(sp_cm_curve(dec("1"), x, 0, y, 0, &result, &bad), SP_CM_EMPTY);
	assert_int_equal(sp_cm_check_curve(x, 1, y, 0, &bad), SP_CM_EMPTY);
	assert_int_equal(curve_status("1", "0 1", "0", &bad), SP_CM_LENGTH_MISMATCH);
	assert_int_equal(curve_status("1", "0 1 1", "0 1 2", &bad), SP_CM_NOT_ASCENDING);
	assert_int_equal(bad, 2);
	assert_int_equal(curve_status("1", "2 1", "0 1", &bad), SP_CM_NOT_ASCENDING);
	assert_int_equal(bad, 1);
	assert_int_equal(curve_status("1", "0 1 2", "0 1 -0.5", &bad), SP_CM_NEGATIVE_Y);
	assert_int_equal(bad, 2);
	/* xs may be negative; only ys are payouts */
	assert_string_equal(curve("-1", "-2 0", "0 1"), "0.5");
	/* the segment needs 10^30 at 30 decimals: overflow, not a wrong answer */
	assert_int_equal(curve_status("0.000000000000000000000000000001",
								  "0 1000000000000000000000000000000", "0 1", &bad),
					 SP_CM_OVERFLOW);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format_round_trip),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_div_round),
		cmocka_unit_test(test_example_both_modes),
		cmocka_unit_test(test_breakpoint_boundaries),
		cmocka_unit_test(test_zero_and_negative),
		cmocka_unit_test(test_single_tier_and_zero_rates),
		cmocka_unit_test(test_mixed_scales),
		cmocka_unit_test(test_huge_amounts),
		cmocka_unit_test(test_tier_validation),
		cmocka_unit_test(test_many_tiers),
		cmocka_unit_test(test_curve_points_and_flats),
		cmocka_unit_test(test_curve_between_points),
		cmocka_unit_test(test_curve_decelerator_and_thirds),
		cmocka_unit_test(test_curve_validation_and_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
