/*
 * test_velocity.c — cmocka tests of the sales velocity core
 * (src/core/velocity.c): the arithmetic and its undefined cases, the
 * 128-bit cycle sum, order-independent merging, and fuzzing of the
 * serialized state's decoder.
 *
 * Expected numbers are worked out by hand in the comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "velocity.h"

#define DAY SP_USECS_PER_DAY

static void *
test_alloc(void *arg, void *old, size_t size)
{
	void	   *p;

	if (size == 0)
	{
		free(old);
		return NULL;
	}
	p = realloc(old, size);
	if (p == NULL)
		abort();
	return p;
}

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t
next_u64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static void
assert_close(double got, double want)
{
	if (!(fabs(got - want) <= 1e-12 * fabs(want)))
		fail_msg("got %.17g, want %.17g", got, want);
}

/* A won deal of `amount_units` whole currency units. */
static void
add_won(sp_velocity_state *st, uint16_t amount_units, int64_t cycle_usecs)
{
	st->rows++;
	st->won++;
	assert_true(sp_decsum_add(&st->won_amount, &amount_units, 1, 0, 0));
	st->amount_rows++;
	sp_velocity_add_cycle(st, (uint64_t) cycle_usecs);
}

static void
test_four_deals_by_hand(void **unused)
{
	sp_velocity_state st;
	sp_velocity_result r;

	/*
	 * Deal A won 1000 after 10 days, B won 3000 after 20 days, C lost,
	 * D still open.  N = 4, win rate = 2 / (2 + 1) = 2/3, average won
	 * amount = (1000 + 3000) / 2 = 2000, average cycle = (10 + 20) / 2 = 15
	 * days: velocity = 4 × 2/3 × 2000 / 15 = 16000/45 = 355.5…/day, and
	 * per month 355.5… × 365.25 / 12 = 10822.2…
	 */
	sp_velocity_init(&st, test_alloc, NULL);
	add_won(&st, 1000, 10 * DAY);
	add_won(&st, 3000, 20 * DAY);
	st.rows += 2;
	st.lost++;
	sp_velocity_compute(&st, true, 2000.0, &r);
	assert_true(r.has_win_rate);
	assert_close(r.win_rate, 2.0 / 3.0);
	assert_true(r.has_cycle);
	assert_close(r.avg_cycle_days, 15.0);
	assert_true(r.has_velocity);
	assert_close(r.per_day, 16000.0 / 45.0);
	assert_close(r.per_month, 16000.0 / 45.0 * 365.25 / 12.0);
	sp_decsum_free(&st.won_amount);
}

static void
test_fractional_days(void **unused)
{
	sp_velocity_state st;
	sp_velocity_result r;

	/* one deal won 500 after 36 hours = 1.5 days: 1 × 1 × 500 / 1.5 */
	sp_velocity_init(&st, test_alloc, NULL);
	add_won(&st, 500, 36 * 3600 * INT64_C(1000000));
	sp_velocity_compute(&st, true, 500.0, &r);
	assert_close(r.avg_cycle_days, 1.5);
	assert_close(r.per_day, 500.0 / 1.5);
	sp_decsum_free(&st.won_amount);
}

static void
test_undefined_factors(void **unused)
{
	sp_velocity_state st;
	sp_velocity_result r;

	/* no rows at all */
	sp_velocity_init(&st, test_alloc, NULL);
	sp_velocity_compute(&st, false, 0.0, &r);
	assert_false(r.has_win_rate);
	assert_false(r.has_cycle);
	assert_false(r.has_velocity);

	/* open deals only: no win rate */
	st.rows = 3;
	sp_velocity_compute(&st, false, 0.0, &r);
	assert_false(r.has_win_rate);
	assert_false(r.has_velocity);

	/* lost deals only: win rate 0, but no average won amount */
	st.lost = 2;
	sp_velocity_compute(&st, false, 0.0, &r);
	assert_true(r.has_win_rate);
	assert_close(r.win_rate + 1.0, 1.0);
	assert_false(r.has_velocity);

	/* a won deal without opened_at: amount known, cycle unknown */
	st.rows++;
	st.won++;
	st.amount_rows++;
	sp_velocity_compute(&st, true, 10.0, &r);
	assert_close(r.win_rate, 1.0 / 3.0);
	assert_false(r.has_cycle);
	assert_false(r.has_velocity);

	/* a zero-length cycle: average 0 days, velocity undefined */
	sp_velocity_add_cycle(&st, 0);
	sp_velocity_compute(&st, true, 10.0, &r);
	assert_true(r.has_cycle);
	assert_close(r.avg_cycle_days + 1.0, 1.0);
	assert_false(r.has_velocity);

	/* a won deal without an amount: the caller says so */
	sp_velocity_add_cycle(&st, DAY);
	sp_velocity_compute(&st, false, 0.0, &r);
	assert_false(r.has_velocity);
	sp_velocity_compute(&st, true, 10.0, &r);
	assert_true(r.has_velocity);
	/* N 4 × 1/3 × 10 / 0.5 day */
	assert_close(r.per_day, 4.0 / 3.0 * 10.0 / 0.5);
}

static void
test_cycle_sum_128_bits(void **unused)
{
	sp_velocity_state st;
	int			i;

	sp_velocity_init(&st, test_alloc, NULL);
	/* 8 cycles of 2^62 µs overflow 64 bits: the sum is 2^65 µs */
	for (i = 0; i < 8; i++)
		sp_velocity_add_cycle(&st, UINT64_C(1) << 62);
	assert_int_equal(st.cycle_hi, 2);
	assert_int_equal(st.cycle_lo, 0);
	assert_close(sp_velocity_cycle_days_sum(&st), ldexp(1.0, 65) / 86400e6);

	/* 2^64 - 1 + 1 carries into the high word */
	sp_velocity_init(&st, test_alloc, NULL);
	sp_velocity_add_cycle(&st, UINT64_MAX);
	sp_velocity_add_cycle(&st, 1);
	assert_int_equal(st.cycle_hi, 1);
	assert_int_equal(st.cycle_lo, 0);

	/* ten million one-year cycles: 3.65e9 days exactly */
	sp_velocity_init(&st, test_alloc, NULL);
	for (i = 0; i < 10000000; i++)
		sp_velocity_add_cycle(&st, (uint64_t) (365 * DAY));
	assert_close(sp_velocity_cycle_days_sum(&st), 3650000000.0);
}

static uint8_t *
encode(const sp_velocity_state *st, size_t *len)
{
	uint8_t    *buf = malloc(sp_velocity_encoded_bound(st));

	*len = sp_velocity_encode(st, buf);
	assert_true(*len <= sp_velocity_encoded_bound(st));
	return buf;
}

static void
random_state(sp_velocity_state *st, int deals)
{
	int			i;

	sp_velocity_init(st, test_alloc, NULL);
	for (i = 0; i < deals; i++)
	{
		uint64_t	r = next_u64();

		st->rows++;
		if (r % 4 == 0)
			st->lost++;
		else if (r % 4 == 1)
		{
			/* a whole part and cents: 2 decimals */
			uint16_t	digits[2] = {(uint16_t) (next_u64() % 10000),
			(uint16_t) (next_u64() % 100 * 100)};

			st->won++;
			assert_true(sp_decsum_add(&st->won_amount, digits, 2, 0, 2));
			st->amount_rows++;
			sp_velocity_add_cycle(st, next_u64() % (uint64_t) (400 * DAY));
		}
	}
}

static void
test_merge_any_order(void **unused)
{
	sp_velocity_state a,
				b,
				c,
				x,
				y;
	uint8_t    *bx,
			   *by;
	size_t		lx,
				ly;

	random_state(&a, 300);
	random_state(&b, 500);
	random_state(&c, 700);

	/* x = (a + b) + c, y = c + (b + a) */
	sp_velocity_init(&x, test_alloc, NULL);
	assert_true(sp_velocity_merge(&x, &a));
	assert_true(sp_velocity_merge(&x, &b));
	assert_true(sp_velocity_merge(&x, &c));
	sp_velocity_init(&y, test_alloc, NULL);
	assert_true(sp_velocity_merge(&y, &c));
	assert_true(sp_velocity_merge(&y, &b));
	assert_true(sp_velocity_merge(&y, &a));
	assert_int_equal(x.rows, 1500);
	bx = encode(&x, &lx);
	by = encode(&y, &ly);
	assert_int_equal(lx, ly);
	assert_memory_equal(bx, by, lx);
	free(bx);
	free(by);

	/* counts that would overflow are refused */
	x.rows = INT64_MAX;
	assert_false(sp_velocity_merge(&x, &a));
	sp_decsum_free(&a.won_amount);
	sp_decsum_free(&b.won_amount);
	sp_decsum_free(&c.won_amount);
	sp_decsum_free(&x.won_amount);
	sp_decsum_free(&y.won_amount);
}

static void
test_round_trip(void **unused)
{
	sp_velocity_state a,
				back;
	uint8_t    *blob,
			   *again;
	size_t		len,
				len2;

	random_state(&a, 1000);
	blob = encode(&a, &len);
	assert_int_equal(blob[0], SP_STATE_VERSION);
	sp_velocity_init(&back, test_alloc, NULL);
	assert_null(sp_velocity_decode(&back, blob, len));
	assert_int_equal(back.rows, a.rows);
	assert_int_equal(back.won, a.won);
	assert_int_equal(back.lost, a.lost);
	assert_int_equal(back.cycle_hi, a.cycle_hi);
	assert_int_equal(back.cycle_lo, a.cycle_lo);
	again = encode(&back, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(blob, again, len);
	free(blob);
	free(again);
	sp_decsum_free(&a.won_amount);
	sp_decsum_free(&back.won_amount);
}

static void
test_decoder_rejects_inconsistent(void **unused)
{
	sp_velocity_state a,
				back;
	uint8_t    *blob;
	size_t		len;

	sp_velocity_init(&a, test_alloc, NULL);
	add_won(&a, 1000, DAY);
	a.rows++;
	a.lost++;
	blob = encode(&a, &len);

	/* layout: version, kind, then rows, won, lost, amount_rows, cycle_rows */
#define COUNT_BYTE(i) (2 + 8 * (i) + 7)
	blob[COUNT_BYTE(1)] = 3;	/* won 3 > rows 2 */
	sp_velocity_init(&back, test_alloc, NULL);
	assert_non_null(sp_velocity_decode(&back, blob, len));
	sp_decsum_free(&back.won_amount);
	blob[COUNT_BYTE(1)] = 1;

	blob[COUNT_BYTE(2)] = 2;	/* won 1 + lost 2 > rows 2 */
	sp_velocity_init(&back, test_alloc, NULL);
	assert_non_null(sp_velocity_decode(&back, blob, len));
	sp_decsum_free(&back.won_amount);
	blob[COUNT_BYTE(2)] = 1;

	blob[COUNT_BYTE(4)] = 0;	/* cycle time without cycles */
	sp_velocity_init(&back, test_alloc, NULL);
	assert_non_null(sp_velocity_decode(&back, blob, len));
	sp_decsum_free(&back.won_amount);
	blob[COUNT_BYTE(4)] = 1;

	blob[COUNT_BYTE(3)] = 0;	/* won amount without amount rows */
	sp_velocity_init(&back, test_alloc, NULL);
	assert_non_null(sp_velocity_decode(&back, blob, len));
	sp_decsum_free(&back.won_amount);
	blob[COUNT_BYTE(3)] = 1;

	blob[1] = 'F';				/* another aggregate's state */
	sp_velocity_init(&back, test_alloc, NULL);
	assert_non_null(sp_velocity_decode(&back, blob, len));
	sp_decsum_free(&back.won_amount);
	blob[1] = SP_VELOCITY_KIND;

	sp_velocity_init(&back, test_alloc, NULL);
	assert_null(sp_velocity_decode(&back, blob, len));
	sp_decsum_free(&back.won_amount);
	free(blob);
	sp_decsum_free(&a.won_amount);
}

/* A decoded state must be usable: compute and merge without crashing. */
static void
exercise(const sp_velocity_state *st)
{
	sp_velocity_state other;
	sp_velocity_result r;
	char	   *text;

	sp_velocity_compute(st, true, 1.0, &r);
	text = malloc(sp_decsum_text_size(&st->won_amount));
	sp_decsum_text(&st->won_amount, text);
	free(text);
	sp_velocity_init(&other, test_alloc, NULL);
	(void) sp_velocity_merge(&other, st);
	sp_decsum_free(&other.won_amount);
}

static void
test_decoder_fuzz(void **unused)
{
	sp_velocity_state a,
				back;
	uint8_t    *blob;
	uint8_t		junk[400];
	size_t		len,
				cut,
				i;
	int			v,
				round,
				accepted = 0;

	random_state(&a, 50);
	blob = encode(&a, &len);
	sp_decsum_free(&a.won_amount);

	/* every truncation is refused */
	for (cut = 0; cut < len; cut++)
	{
		sp_velocity_init(&back, test_alloc, NULL);
		assert_non_null(sp_velocity_decode(&back, blob, cut));
		sp_decsum_free(&back.won_amount);
	}
	/* a trailing byte is refused */
	{
		uint8_t    *longer = malloc(len + 1);

		memcpy(longer, blob, len);
		longer[len] = 0;
		sp_velocity_init(&back, test_alloc, NULL);
		assert_non_null(sp_velocity_decode(&back, longer, len + 1));
		sp_decsum_free(&back.won_amount);
		free(longer);
	}

	/* every value of every byte: refused, or a usable state */
	for (i = 0; i < len; i++)
	{
		uint8_t		saved = blob[i];

		for (v = 0; v < 256; v++)
		{
			blob[i] = (uint8_t) v;
			sp_velocity_init(&back, test_alloc, NULL);
			if (sp_velocity_decode(&back, blob, len) == NULL)
			{
				accepted++;
				exercise(&back);
			}
			sp_decsum_free(&back.won_amount);
		}
		blob[i] = saved;
	}
	assert_true(accepted >= (int) len); /* at least the unchanged bytes */
	free(blob);

	/* random blobs, half of them with a valid version and kind */
	for (round = 0; round < 20000; round++)
	{
		size_t		n = next_u64() % sizeof(junk);

		for (i = 0; i < n; i++)
			junk[i] = (uint8_t) next_u64();
		if (round % 2 && n > 2)
		{
			junk[0] = SP_STATE_VERSION;
			junk[1] = SP_VELOCITY_KIND;
		}
		sp_velocity_init(&back, test_alloc, NULL);
		if (sp_velocity_decode(&back, junk, n) == NULL)
			exercise(&back);
		sp_decsum_free(&back.won_amount);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_four_deals_by_hand),
		cmocka_unit_test(test_fractional_days),
		cmocka_unit_test(test_undefined_factors),
		cmocka_unit_test(test_cycle_sum_128_bits),
		cmocka_unit_test(test_merge_any_order),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_decoder_rejects_inconsistent),
		cmocka_unit_test(test_decoder_fuzz),
	};

	return cmocka_run_group_tests_name("velocity", tests, NULL, NULL);
}
