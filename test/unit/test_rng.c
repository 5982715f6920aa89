/*
 * test_rng.c — cmocka tests of the counter-based generator
 * (src/core/rng.c) behind forecast_quantiles.
 *
 * The statistical tests use fixed keys, so they are deterministic: a
 * bound either holds for these draws or it does not.  Bounds are set at
 * 5 to 6 standard deviations, far outside what a sound generator produces
 * and far inside what a broken one (a stuck bit, correlated streams)
 * would show.
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

#include "rng.h"

static uint64_t
key_of(int i)
{
	char		buf[32];
	int			n = snprintf(buf, sizeof(buf), "deal-%d", i);

	return sp_rng_hash_bytes(buf, (size_t) n);
}

static void
test_splitmix_reference_vectors(void **unused)
{
	/*
	 * Stream 0 is SplitMix64 seeded with 0; its first outputs are the
	 * published reference values of the algorithm.
	 */
	assert_true(sp_rng_draw(0, 0) == UINT64_C(0xe220a8397b1dcdaf));
	assert_true(sp_rng_draw(0, 1) == UINT64_C(0x6e789e6aa1b965f4));
	assert_true(sp_rng_draw(0, 2) == UINT64_C(0x06c45d188009454f));
	assert_true(sp_rng_draw(0, 3) == UINT64_C(0xf88bb8a8724c81ec));
}

static void
test_same_key_same_stream(void **unused)
{
	const char *key = "opportunity 0061t00000ABCDE";
	char		copy[64];
	uint64_t	h1 = sp_rng_hash_bytes(key, strlen(key));
	uint64_t	h2;
	uint64_t	i;

	/* the same bytes at another (unaligned) address hash the same */
	memcpy(copy + 3, key, strlen(key));
	h2 = sp_rng_hash_bytes(copy + 3, strlen(key));
	assert_true(h1 == h2);
	for (i = 0; i < 10000; i++)
		assert_true(sp_rng_draw(h1, i) == sp_rng_draw(h2, i));
}

static void
test_hash_pinned(void **unused)
{
	/*
	 * Pinned outputs of this implementation.  Every forecast_quantiles
	 * answer depends on them: a change here changes results users may have
	 * stored, so it must be deliberate.
	 */
	assert_true(sp_rng_hash_bytes("deal-1", 6) == UINT64_C(0x4b32ef22a878e5e2));
	assert_true(sp_rng_hash_bytes("", 0) != sp_rng_hash_bytes("\0", 1));
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return (x > y) - (x < y);
}

static void
test_hash_distinct(void **unused)
{
	enum
	{
		N = 200000
	};
	uint64_t   *h = malloc(N * sizeof(uint64_t));
	const char	text[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint64_t	prefix[sizeof(text)];
	int			i,
				j;

	for (i = 0; i < N; i++)
		h[i] = key_of(i);
	qsort(h, N, sizeof(uint64_t), cmp_u64);
	for (i = 1; i < N; i++)
		assert_true(h[i] != h[i - 1]);
	free(h);

	/* zero padding of the last word cannot make prefixes collide */
	for (i = 0; i < (int) sizeof(text); i++)
		prefix[i] = sp_rng_hash_bytes(text, (size_t) i);
	for (i = 0; i < (int) sizeof(text); i++)
		for (j = 0; j < i; j++)
			assert_true(prefix[i] != prefix[j]);
	assert_true(sp_rng_hash_bytes("a", 1) != sp_rng_hash_bytes("a\0", 2));
}

static void
test_different_keys_differ(void **unused)
{
	int			k;

	for (k = 0; k < 1000; k++)
	{
		uint64_t	a = key_of(k);
		uint64_t	b = key_of(k + 1);
		int			same = 0;
		uint64_t	i;

		for (i = 0; i < 4096; i++)
		{
			uint64_t	x = sp_rng_draw(a, i);
			uint64_t	y = sp_rng_draw(b, i);

			same += (uint32_t) x == (uint32_t) y;
			same += (x >> 32) == (y >> 32);
		}
		/* 8192 comparisons of 32-bit values: a coincidence has odds 2^-19 */
		assert_true(same <= 1);
	}
}

/* Chi-square of 64 equal buckets on the top 6 bits of each 32-bit half. */
static void
test_uniformity_chi_square(void **unused)
{
	int			k;

	for (k = 0; k < 16; k++)
	{
		uint64_t	key = key_of(1000 + k);
		uint64_t	count_lo[64] = {0},
					count_hi[64] = {0};
		const uint64_t draws = 1 << 16;
		double		expected = (double) draws / 64.0;
		double		chi_lo = 0.0,
					chi_hi = 0.0;
		uint64_t	i;
		int			b;

		for (i = 0; i < draws; i++)
		{
			uint64_t	x = sp_rng_draw(key, i);

			count_lo[(x >> 26) & 63]++;
			count_hi[x >> 58]++;
		}
		for (b = 0; b < 64; b++)
		{
			chi_lo += pow((double) count_lo[b] - expected, 2) / expected;
			chi_hi += pow((double) count_hi[b] - expected, 2) / expected;
		}

		/*
		 * 63 degrees of freedom: mean 63, standard deviation sqrt(126) ≈ 11.2.
		 * Too uniform is as suspicious as too lumpy.
		 */
		if (chi_lo > 130.0 || chi_lo < 20.0 || chi_hi > 130.0 || chi_hi < 20.0)
			fail_msg("key %d: chi-square %.1f (low half), %.1f (high half)", k, chi_lo, chi_hi);
	}
}

/* Every output bit is set half of the time, in both halves of a draw. */
static void
test_bit_balance(void **unused)
{
	const int	draws = 1 << 18;
	uint64_t	key = key_of(7);
	int			ones[64] = {0};
	int			i,
				b;
	double		sd = sqrt(draws * 0.25);

	for (i = 0; i < draws; i++)
	{
		uint64_t	x = sp_rng_draw(key, (uint64_t) i);

		for (b = 0; b < 64; b++)
			ones[b] += (int) ((x >> b) & 1);
	}
	for (b = 0; b < 64; b++)
		if (fabs(ones[b] - draws / 2.0) > 6 * sd)
			fail_msg("bit %d set %d times of %d", b, ones[b], draws);
}

/*
 * Streams of neighbouring keys are independent: at p = 1/2 two deals win
 * the same trial a quarter of the time (standard deviation sqrt(K/4 × 3/4)).
 */
static void
test_pairwise_independence(void **unused)
{
	const int	trials = 16384;
	double		sd = sqrt(trials * 0.25 * 0.75);
	int			k;

	for (k = 0; k < 200; k++)
	{
		uint64_t	a = key_of(k);
		uint64_t	b = key_of(k + 1);
		int			both = 0;
		int			t;

		for (t = 0; t < trials; t++)
		{
			uint64_t	x = sp_rng_draw(a, (uint64_t) t);
			uint64_t	y = sp_rng_draw(b, (uint64_t) t);

			both += (int) ((x >> 63) & (y >> 63));
		}
		if (fabs(both - trials / 4.0) > 5.5 * sd)
			fail_msg("keys %d and %d: both won %d of %d trials", k, k + 1, both, trials);
	}
}

/* Consecutive draws of one stream are uncorrelated (lag-1 serial test). */
static void
test_serial_correlation(void **unused)
{
	const int	n = 1 << 18;
	uint64_t	key = key_of(99);
	double		sum = 0.0,
				prev = sp_rng_unit(sp_rng_draw(key, 0));
	int			i;

	for (i = 1; i < n; i++)
	{
		double		u = sp_rng_unit(sp_rng_draw(key, (uint64_t) i));

		sum += (prev - 0.5) * (u - 0.5);
		prev = u;
	}
	/* each term has mean 0 and standard deviation 1/12 */
	if (fabs(sum) > 6.0 * sqrt((double) n) / 12.0)
		fail_msg("lag-1 sum %.3f over %d draws", sum, n);
}

/* Flipping one bit of the key changes about half of the output bits. */
static void
test_avalanche(void **unused)
{
	uint64_t	key = key_of(3);
	double		total = 0.0;
	int			samples = 0;
	int			bit;
	uint64_t	i;

	for (bit = 0; bit < 64; bit++)
		for (i = 0; i < 256; i++)
		{
			uint64_t	x = sp_rng_draw(key, i);
			uint64_t	y = sp_rng_draw(key ^ (UINT64_C(1) << bit), i);

			total += __builtin_popcountll(x ^ y);
			samples++;
		}
	/* mean 32, standard deviation of the mean 4 / sqrt(16384) = 0.031 */
	if (fabs(total / samples - 32.0) > 0.2)
		fail_msg("a key bit flip changes %.3f output bits on average", total / samples);
}

static void
test_unit_interval(void **unused)
{
	assert_true(sp_rng_unit(0) == 0.0);
	assert_true(sp_rng_unit(UINT64_MAX) < 1.0);
	assert_true(sp_rng_unit(UINT64_C(1) << 63) == 0.5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splitmix_reference_vectors),
		cmocka_unit_test(test_same_key_same_stream),
		cmocka_unit_test(test_hash_pinned),
		cmocka_unit_test(test_hash_distinct),
		cmocka_unit_test(test_different_keys_differ),
		cmocka_unit_test(test_uniformity_chi_square),
		cmocka_unit_test(test_bit_balance),
		cmocka_unit_test(test_pairwise_independence),
		cmocka_unit_test(test_serial_correlation),
		cmocka_unit_test(test_avalanche),
		cmocka_unit_test(test_unit_interval),
	};

	return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
