/*
 * Fuzz tests of the pure C core: what a server feeds it from outside
 * (serialized aggregate states coming back from parallel workers, numbers
 * typed by users into commission plans) must give an answer or an error,
 * never a crash, a hang or memory out of bounds.  Run under valgrind or
 * AddressSanitizer to catch the last.
 *
 * Every case is generated from a fixed seed, so a failure replays.  Each
 * suite runs FUZZ_CASES cases (100,000 unless the environment says
 * otherwise).
 *
 *   decoders: random bytes, and valid encodings with bytes flipped,
 *             truncated or extended, into sp_decsum_decode, sp_sums_decode,
 *             sp_velocity_decode and sp_mc_decode;
 *   commission: random decimal texts into sp_cm_parse; random tier tables
 *             and curves (valid and not) into sp_cm_tiered and sp_cm_curve,
 *             with the results checked against properties that hold for
 *             any valid input.
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
#include "decimal_sum.h"
#include "quantiles.h"
#include "velocity.h"

static long fuzz_cases = 100000;

/* splitmix64: a small generator with a fixed seed per suite. */
static uint64_t fuzz_state;

static uint64_t
next_u64(void)
{
	uint64_t	z = (fuzz_state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint32_t
below(uint32_t n)
{
	return (uint32_t) (next_u64() % n);
}

static void *
fuzz_alloc(void *arg, void *old, size_t size)
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

/* Fills buf with random bytes; returns len. */
static size_t
random_bytes(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t) next_u64();
	return len;
}

/* Damages an encoding in place: flips bytes, truncates or extends it. */
static size_t
mutate(uint8_t *buf, size_t len, size_t cap)
{
	switch (below(4))
	{
		case 0:					/* flip one to four bytes */
			for (int k = 1 + below(4); k > 0 && len > 0; k--)
				buf[below((uint32_t) len)] ^= (uint8_t) (1 + below(255));
			return len;
		case 1:					/* truncate */
			return len > 0 ? below((uint32_t) len) : 0;
		case 2:					/* extend with garbage */
			{
				size_t		extra = 1 + below(16);

				if (len + extra > cap)
					extra = cap - len;
				random_bytes(buf + len, extra);
				return len + extra;
			}
		default:				/* overwrite a big-endian length or count */
			if (len >= 5)
			{
				size_t		at = 1 + below((uint32_t) (len - 4));

				buf[at] = 0xFF;
				buf[at + 1] = (uint8_t) next_u64();
			}
			return len;
	}
}

/* A sum with a few random non-negative decimals in it. */
static void
random_sum(sp_decsum *s)
{
	uint16_t	digits[6];

	for (int k = below(5); k > 0; k--)
	{
		int			n = 1 + below(6);

		for (int i = 0; i < n; i++)
			digits[i] = (uint16_t) below(10000);
		(void) sp_decsum_add(s, digits, n, (int) below(20) - 8, (int) below(12));
	}
}

static void
fuzz_decsum_decode(void **unused)
{
	uint8_t		buf[4096];
	long		accepted = 0;

	fuzz_state = 1;
	for (long c = 0; c < fuzz_cases; c++)
	{
		sp_decsum	src,
					dst;
		size_t		len;
		const uint8_t *p;

		sp_decsum_init(&src, fuzz_alloc, NULL);
		random_sum(&src);
		if (c % 2 == 0 && sp_decsum_encoded_bound(&src) <= sizeof(buf) - 32)
			len = mutate(buf, (size_t) (sp_decsum_encode(&src, buf) - buf), sizeof(buf));
		else
			len = random_bytes(buf, below(64));
		sp_decsum_free(&src);

		sp_decsum_init(&dst, fuzz_alloc, NULL);
		p = buf;
		if (sp_decsum_decode(&dst, &p, buf + len) == NULL)
		{
			/* Accepted: it must have stayed inside the bytes and be readable. */
			char	   *text = malloc(sp_decsum_text_size(&dst));

			assert_true(p <= buf + len);
			sp_decsum_text(&dst, text);
			assert_true(strlen(text) > 0);
			free(text);
			accepted++;
		}
		sp_decsum_free(&dst);
	}
	/* Some damaged encodings still decode (a flipped digit): the fuzzer
	 * reaches past the first checks. */
	assert_true(accepted > 0);
}

static void
fuzz_sums_decode(void **unused)
{
	uint8_t		buf[8192];

	fuzz_state = 2;
	for (long c = 0; c < fuzz_cases; c++)
	{
		int			nsums = 1 + (int) below(SP_SUMS_MAX);
		sp_sums_state src,
					dst;
		size_t		len;

		sp_sums_init(&src, nsums, fuzz_alloc, NULL);
		src.rows = (int64_t) below(1000);
		for (int i = 0; i < nsums; i++)
			random_sum(&src.sum[i]);
		if (c % 2 == 0 && sp_sums_encoded_bound(&src) <= sizeof(buf) - 32)
			len = mutate(buf, sp_sums_encode(&src, 'W', buf), sizeof(buf));
		else
			len = random_bytes(buf, below(128));
		for (int i = 0; i < nsums; i++)
			sp_decsum_free(&src.sum[i]);

		sp_sums_init(&dst, nsums, fuzz_alloc, NULL);
		(void) sp_sums_decode(&dst, 'W', buf, len);
		for (int i = 0; i < nsums; i++)
			sp_decsum_free(&dst.sum[i]);
	}
}

static void
fuzz_velocity_decode(void **unused)
{
	uint8_t		buf[4096];

	fuzz_state = 3;
	for (long c = 0; c < fuzz_cases; c++)
	{
		sp_velocity_state src,
					dst;
		size_t		len;

		sp_velocity_init(&src, fuzz_alloc, NULL);
		src.rows = (int64_t) below(100000);
		src.won = (int64_t) below(1000);
		sp_velocity_add_cycle(&src, next_u64() >> 20);
		random_sum(&src.won_amount);
		if (c % 2 == 0 && sp_velocity_encoded_bound(&src) <= sizeof(buf) - 32)
			len = mutate(buf, sp_velocity_encode(&src, buf), sizeof(buf));
		else
			len = random_bytes(buf, below(96));
		sp_decsum_free(&src.won_amount);

		sp_velocity_init(&dst, fuzz_alloc, NULL);
		if (sp_velocity_decode(&dst, buf, len) == NULL)
		{
			sp_velocity_result r;

			sp_velocity_compute(&dst, false, 0, &r);
		}
		sp_decsum_free(&dst.won_amount);
	}
}

static void
fuzz_mc_decode(void **unused)
{
	static sp_mc_state src,
				dst;
	static uint8_t buf[sizeof(sp_mc_state) * 2];
	long		cases = fuzz_cases / 10;	/* a state is 130 kB: fewer, bigger cases */

	fuzz_state = 4;
	for (long c = 0; c < cases; c++)
	{
		size_t		len;

		sp_mc_init(&src);
		for (int k = below(20); k > 0; k--)
			(void) sp_mc_add_deal(&src, next_u64(), (int64_t) below(1000000), (double) below(101) / 100.0);
		if (c % 2 == 0)
		{
			sp_mc_encode(&src, buf);
			len = mutate(buf, sp_mc_encoded_size(&src), sizeof(buf));
		}
		else
			len = random_bytes(buf, below(256));
		sp_mc_init(&dst);
		(void) sp_mc_decode(&dst, buf, len);
	}
}

/* A random decimal text: sign, digits, point, digits; sometimes garbage. */
static void
random_decimal_text(char *buf, size_t cap)
{
	size_t		n = 0;

	if (below(8) == 0)
	{
		/* Arbitrary printable bytes. */
		size_t		len = below((uint32_t) cap - 1);

		for (size_t i = 0; i < len; i++)
			buf[i] = (char) (32 + below(95));
		buf[len] = '\0';
		return;
	}
	if (below(4) == 0)
		buf[n++] = '-';
	for (int k = below(45); k >= 0 && n < cap - 3; k--)
		buf[n++] = (char) ('0' + below(10));
	if (below(2) == 0)
	{
		buf[n++] = '.';
		for (int k = below(40); k >= 0 && n < cap - 2; k--)
			buf[n++] = (char) ('0' + below(10));
	}
	buf[n] = '\0';
}

static void
fuzz_cm_parse(void **unused)
{
	char		text[128];
	char		back[SP_CM_TEXT_MAX + 8];

	fuzz_state = 5;
	for (long c = 0; c < fuzz_cases; c++)
	{
		sp_cm_dec	v,
					w;

		random_decimal_text(text, sizeof(text));
		if (sp_cm_parse(text, &v) != SP_CM_OK)
			continue;
		/* What parses formats back to text that parses to the same value. */
		sp_cm_format(v, back);
		assert_int_equal(sp_cm_parse(back, &w), SP_CM_OK);
		assert_int_equal(sp_cm_cmp(v, w), 0);
	}
}

/* A small random decimal: coefficient below 10^digits, given scale. */
static sp_cm_dec
small_dec(int digits, int scale, bool negative_ok)
{
	sp_cm_dec	d;
	__int128	limit = 1;

	for (int i = 0; i < digits; i++)
		limit *= 10;
	d.coef = (__int128) (next_u64() % (uint64_t) (limit > (__int128) UINT64_MAX ? UINT64_MAX : (uint64_t) limit));
	if (negative_ok && below(4) == 0)
		d.coef = -d.coef;
	d.scale = scale;
	return d;
}

static void
fuzz_cm_tiers(void **unused)
{
	sp_cm_dec	bps[40],
				rates[40];

	long		computed = 0;

	fuzz_state = 6;
	for (long c = 0; c < fuzz_cases; c++)
	{
		size_t		n = 1 + below(40),
					nr = below(10) == 0 ? below(41) : n,
					bad;
		bool		valid_shape = below(3) != 0;
		sp_cm_dec	amount,
					g,
					r;
		sp_cm_status sg,
					sr;

		/* Breakpoints ascending from 0 (or random), rates >= 0 (or random). */
		bps[0].coef = 0;
		bps[0].scale = (int) below(3);
		for (size_t i = 1; i < n; i++)
		{
			if (valid_shape)
			{
				bps[i] = bps[i - 1];
				bps[i].coef += 1 + (__int128) below(100000);
			}
			else
				bps[i] = small_dec(8, (int) below(4), true);
		}
		for (size_t i = 0; i < nr && i < 40; i++)
			rates[i] = small_dec(4, (int) below(5), !valid_shape);
		amount = small_dec(below(2) ? 10 : 36, (int) below(8), true);

		sg = sp_cm_tiered(amount, bps, n, rates, nr, false, &g, &bad);
		sr = sp_cm_tiered(amount, bps, n, rates, nr, true, &r, &bad);
		assert_true(sg <= SP_CM_NEGATIVE_Y && sr <= SP_CM_NEGATIVE_Y);
		assert_int_equal(sg == SP_CM_OK || sg == SP_CM_OVERFLOW, sr == SP_CM_OK || sr == SP_CM_OVERFLOW);
		computed += (sg == SP_CM_OK);
		if (sg == SP_CM_OK && amount.coef >= 0)
		{
			/* A non-negative amount at non-negative rates earns >= 0, and
			 * graduated never pays more than retroactive (the last tier's
			 * rate applies to less of the amount). */
			sp_cm_dec	zero = {0, 0};

			assert_true(sp_cm_cmp(g, zero) >= 0);
			if (sr == SP_CM_OK && valid_shape && nr == n)
			{
				bool		ascending_rates = true;

				for (size_t i = 1; i < n; i++)
					if (sp_cm_cmp(rates[i], rates[i - 1]) < 0)
						ascending_rates = false;
				if (ascending_rates)
					assert_true(sp_cm_cmp(g, r) <= 0);
			}
		}
	}
	assert_true(computed > fuzz_cases / 10);
}

static void
fuzz_cm_curve(void **unused)
{
	sp_cm_dec	xs[30],
				ys[30];

	long		computed = 0;

	fuzz_state = 7;
	for (long c = 0; c < fuzz_cases; c++)
	{
		size_t		n = 1 + below(30),
					ny = below(10) == 0 ? below(31) : n,
					bad;
		bool		valid_shape = below(3) != 0;
		sp_cm_dec	a,
					out;
		sp_cm_status st;

		xs[0] = small_dec(4, (int) below(4), true);
		for (size_t i = 1; i < n; i++)
		{
			if (valid_shape)
			{
				xs[i] = xs[i - 1];
				xs[i].coef += 1 + (__int128) below(1000);
			}
			else
				xs[i] = small_dec(6, (int) below(4), true);
		}
		for (size_t i = 0; i < ny && i < 30; i++)
			ys[i] = small_dec(below(2) ? 5 : 30, (int) below(13), !valid_shape);
		a = small_dec(below(2) ? 6 : 30, (int) below(13), true);

		st = sp_cm_curve(a, xs, n, ys, ny, &out, &bad);
		assert_true(st <= SP_CM_NEGATIVE_Y);
		if (st == SP_CM_OK)
		{
			computed++;
			/* The result lies between the smallest and the largest y. */
			sp_cm_dec	lo = ys[0],
						hi = ys[0];

			for (size_t i = 1; i < n; i++)
			{
				if (sp_cm_cmp(ys[i], lo) < 0)
					lo = ys[i];
				if (sp_cm_cmp(ys[i], hi) > 0)
					hi = ys[i];
			}
			assert_true(sp_cm_cmp(out, lo) >= 0 && sp_cm_cmp(out, hi) <= 0);
		}
	}
	assert_true(computed > fuzz_cases / 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fuzz_decsum_decode),
		cmocka_unit_test(fuzz_sums_decode),
		cmocka_unit_test(fuzz_velocity_decode),
		cmocka_unit_test(fuzz_mc_decode),
		cmocka_unit_test(fuzz_cm_parse),
		cmocka_unit_test(fuzz_cm_tiers),
		cmocka_unit_test(fuzz_cm_curve),
	};
	const char *env = getenv("FUZZ_CASES");

	if (env != NULL && atol(env) > 0)
		fuzz_cases = atol(env);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
