/*
 * test_quantiles.c — cmocka tests of forecast_quantiles' core
 * (src/core/quantiles.c): the quantile rule, determinism under any row
 * order and split, the exact answer for small pipelines, the accuracy of
 * the simulation against the exact distribution computed by convolution,
 * and fuzzing of the serialized state's decoder.
 *
 * Every pipeline here is generated from fixed seeds, so the statistical
 * assertions are deterministic.
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

#include "quantiles.h"
#include "rng.h"

/* DKW: 2 exp(-2 K eps^2) = 0.001 for K = 16384 at eps = 0.0153 */
#define EPS 0.0153

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
next_u64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static sp_mc_state *
new_state(const double *q, int nq)
{
	sp_mc_state *st = malloc(sizeof(sp_mc_state));

	sp_mc_init(st);
	sp_mc_set_quantiles(st, q, nq);
	return st;
}

static uint64_t
key(int pipeline, int deal)
{
	char		buf[48];
	int			n = snprintf(buf, sizeof(buf), "pipeline %d / deal %d", pipeline, deal);

	return sp_rng_hash_bytes(buf, (size_t) n);
}

static void
add_deal(sp_mc_state *st, uint64_t k, int64_t units, double p)
{
	assert_int_equal(sp_mc_add_deal(st, k, units * SP_MC_UNITS, p), SP_MC_OK);
}

static void
quantiles_of(const sp_mc_state *st, double *out, bool simulated)
{
	void	   *scratch = malloc(sp_mc_scratch_size(st));

	if (simulated)
		sp_mc_quantiles_simulated(st, scratch, out);
	else
		sp_mc_quantiles(st, scratch, out);
	free(scratch);
}

static void
test_quantile_index_rule(void **unused)
{
	const uint32_t K = SP_MC_TRIALS;

	/* x(ceil(qK)), 1-based; q = 0 is the minimum, q = 1 the maximum */
	assert_int_equal(sp_mc_quantile_index(0.0, K), 0);
	assert_int_equal(sp_mc_quantile_index(1e-300, K), 0);
	assert_int_equal(sp_mc_quantile_index(1.0 / K, K), 0);
	assert_int_equal(sp_mc_quantile_index(1.5 / K, K), 1);
	assert_int_equal(sp_mc_quantile_index(0.5, K), K / 2 - 1);
	assert_int_equal(sp_mc_quantile_index(0.1, K), 1638);	/* ceil(1638.4) = 1639 */
	assert_int_equal(sp_mc_quantile_index(1.0, K), K - 1);
	assert_int_equal(sp_mc_quantile_index(4.0, 4), 3);
}

static void
test_amounts_and_probabilities(void **unused)
{
	int64_t		cents;
	double		ok[] = {0.0, 0.1, 0.5, 1.0};
	double		bad[] = {-0.0001, 1.0000001, NAN, 0.5};

	assert_true(sp_mc_amount_cents(1234.56, &cents));
	assert_int_equal(cents, 123456);
	assert_true(sp_mc_amount_cents(0.005, &cents));
	assert_int_equal(cents, 1);		/* half a cent rounds away from zero */
	assert_true(sp_mc_amount_cents(0.0, &cents));
	assert_int_equal(cents, 0);
	assert_true(sp_mc_amount_cents(9e16, &cents));
	assert_false(sp_mc_amount_cents(9.3e16, &cents));	/* 9.3e18 cents > 2^63 */
	assert_false(sp_mc_amount_cents(-0.01, &cents));
	assert_false(sp_mc_amount_cents(NAN, &cents));
	assert_false(sp_mc_amount_cents(INFINITY, &cents));

	assert_true(sp_mc_probability_valid(0.0));
	assert_true(sp_mc_probability_valid(1.0));
	assert_false(sp_mc_probability_valid(-1e-12));
	assert_false(sp_mc_probability_valid(1.0 + 1e-15));
	assert_false(sp_mc_probability_valid(NAN));

	assert_int_equal(sp_mc_first_bad_quantile(ok, 4), -1);
	assert_int_equal(sp_mc_first_bad_quantile(bad, 4), 0);
	assert_int_equal(sp_mc_first_bad_quantile(bad + 1, 3), 0);
	assert_int_equal(sp_mc_first_bad_quantile(bad + 2, 2), 0);
	assert_int_equal(sp_mc_first_bad_quantile(ok, 0), -1);
}

/* One deal of 1 cent at p: the share of trials it wins is p. */
static void
test_win_frequency(void **unused)
{
	const double ps[] = {0.001, 0.01, 0.1, 0.25, 0.5, 0.9, 0.999};
	const double q = 0.5;
	size_t		i;

	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
	{
		double		p = ps[i];
		int64_t		wins = 0;
		int			k,
					t;
		const int	keys = 64;
		double		n = (double) keys * SP_MC_TRIALS;

		for (k = 0; k < keys; k++)
		{
			sp_mc_state *st = new_state(&q, 1);

			assert_int_equal(sp_mc_add_deal(st, key(1, k), 1, p), SP_MC_OK);
			for (t = 0; t < SP_MC_TRIALS; t++)
				wins += st->total[t];
			free(st);
		}
		if (fabs(wins - p * n) > 5.0 * sqrt(n * p * (1.0 - p)))
			fail_msg("p = %g: %lld wins in %.0f trials", p, (long long) wins, n);
	}
}

static void
test_certain_and_impossible_deals(void **unused)
{
	const double q[] = {0.0, 0.5, 1.0};
	sp_mc_state *st = new_state(q, 3);
	double		out[3];
	int			t;

	for (t = 0; t < 20; t++)
		add_deal(st, key(2, t), 10, 0.0);
	add_deal(st, key(2, 100), 500, 1.0);
	add_deal(st, key(2, 101), 250, 1.0);
	assert_int_equal(st->certain, 75000);
	assert_int_equal(st->pipeline, 20 * 1000 + 75000);
	for (t = 0; t < SP_MC_TRIALS; t++)
		assert_int_equal(st->total[t], 0);
	/* 22 deals: simulated, and every quantile is the certain 750 */
	quantiles_of(st, out, false);
	assert_true(out[0] == 750.0 && out[1] == 750.0 && out[2] == 750.0);
	free(st);
}

static void
test_exact_by_hand(void **unused)
{
	const double q[] = {0.0, 0.1, 0.5, 0.9, 1.0};
	const double q2[] = {0.5, 0.7, 0.75};
	sp_mc_state *st = new_state(q, 5);
	double		out[5];

	/*
	 * 100, 200 and 400 at p = 1/2: the totals 0, 100, ..., 700 are equally
	 * likely (1/8 each).  P10: P(≤ 0) = 0.125 ≥ 0.1, so 0.  P50: P(≤ 300)
	 * = 0.5, so 300.  P90: P(≤ 600) = 0.875 < 0.9, so 700.
	 */
	add_deal(st, key(3, 1), 100, 0.5);
	add_deal(st, key(3, 2), 200, 0.5);
	add_deal(st, key(3, 3), 400, 0.5);
	quantiles_of(st, out, false);
	assert_true(out[0] == 0.0);
	assert_true(out[1] == 0.0);
	assert_true(out[2] == 300.0);
	assert_true(out[3] == 700.0);
	assert_true(out[4] == 700.0);
	free(st);

	/* one deal of 1000 at 0.3: P(0) = 0.7, so P50 and P70 are 0, P75 1000 */
	st = new_state(q2, 3);
	add_deal(st, key(3, 4), 1000, 0.3);
	quantiles_of(st, out, false);
	assert_true(out[0] == 0.0);
	assert_true(out[1] == 0.0);
	assert_true(out[2] == 1000.0);
	/* a certain 50.25 shifts everything */
	assert_int_equal(sp_mc_add_deal(st, key(3, 5), 5025, 1.0), SP_MC_OK);
	quantiles_of(st, out, false);
	assert_true(out[0] == 50.25);
	assert_true(out[2] == 1050.25);
	free(st);
}

static void
fill_random(sp_mc_state *st, int pipeline, int n, int64_t *amounts, double *probs)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		amounts[i] = 100 + (int64_t) (next_u64() % 4901);
		probs[i] = (double) (next_u64() % 101) / 100.0;
		add_deal(st, key(pipeline, i), amounts[i], probs[i]);
	}
}

/* Every way of splitting and ordering the rows gives the same state. */
static void
test_order_and_split_independent(void **unused)
{
	const double q[] = {0.1, 0.5, 0.9};
	int			sizes[] = {5, 16, 17, 1000};
	size_t		s;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
	{
		int			n = sizes[s];
		int64_t    *amounts = malloc(n * sizeof(int64_t));
		double	   *probs = malloc(n * sizeof(double));
		sp_mc_state *forward = new_state(q, 3);
		sp_mc_state *backward = new_state(q, 3);
		sp_mc_state *part[3];
		sp_mc_state *merged = new_state(q, 3);
		double		a[3],
					b[3],
					c[3];
		int			i;

		fill_random(forward, 10 + s, n, amounts, probs);
		for (i = n - 1; i >= 0; i--)
			add_deal(backward, key(10 + s, i), amounts[i], probs[i]);
		for (i = 0; i < 3; i++)
			part[i] = new_state(q, 3);
		for (i = 0; i < n; i++)
			add_deal(part[(i * 7) % 3], key(10 + s, i), amounts[i], probs[i]);
		/* combine in another order than the rows were dealt */
		assert_int_equal(sp_mc_merge(merged, part[2]), SP_MC_OK);
		assert_int_equal(sp_mc_merge(merged, part[0]), SP_MC_OK);
		assert_int_equal(sp_mc_merge(merged, part[1]), SP_MC_OK);

		assert_memory_equal(forward->total, backward->total, sizeof(forward->total));
		assert_memory_equal(forward->total, merged->total, sizeof(forward->total));
		assert_int_equal(forward->nlisted, n <= SP_MC_EXACT_DEALS ? n : -1);
		assert_int_equal(merged->nlisted, forward->nlisted);
		quantiles_of(forward, a, false);
		quantiles_of(backward, b, false);
		quantiles_of(merged, c, false);
		assert_memory_equal(a, b, sizeof(a));
		assert_memory_equal(a, c, sizeof(a));
		free(amounts);
		free(probs);
		free(forward);
		free(backward);
		free(merged);
		for (i = 0; i < 3; i++)
			free(part[i]);
	}
}

/* Exact distribution: P(total = s) for s = 0 .. sum(amounts). */
static double *
exact_pmf(const int64_t *amounts, const double *probs, int n, int64_t *total)
{
	double	   *pmf;
	int			i;

	*total = 0;
	for (i = 0; i < n; i++)
		*total += amounts[i];
	pmf = malloc((size_t) (*total + 1) * sizeof(double));
	sp_exact_pmf(amounts, probs, n, pmf);
	return pmf;
}

static void
test_convolution_by_hand(void **unused)
{
	int64_t		amounts[] = {1, 2};
	double		probs[] = {0.5, 0.25};
	int64_t		total;
	double	   *pmf = exact_pmf(amounts, probs, 2, &total);

	/* totals 0: 3/8, 1: 3/8, 2: 1/8, 3: 1/8 */
	assert_int_equal(total, 3);
	assert_true(pmf[0] == 0.375 && pmf[1] == 0.375 && pmf[2] == 0.125 && pmf[3] == 0.125);
	assert_int_equal(sp_pmf_quantile(pmf, total, 0.0), 0);
	assert_int_equal(sp_pmf_quantile(pmf, total, 0.375), 0);
	assert_int_equal(sp_pmf_quantile(pmf, total, 0.4), 1);
	assert_int_equal(sp_pmf_quantile(pmf, total, 0.8), 2);
	assert_int_equal(sp_pmf_quantile(pmf, total, 1.0), 3);
	free(pmf);
}

/* The listed-deal answer equals the convolution's (up to rounding at ties). */
static void
test_exact_matches_convolution(void **unused)
{
	const double q[] = {0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0};
	const int	nq = sizeof(q) / sizeof(q[0]);
	int			pl;

	for (pl = 0; pl < 60; pl++)
	{
		int			n = 1 + (int) (next_u64() % SP_MC_EXACT_DEALS);
		int64_t		amounts[SP_MC_EXACT_DEALS];
		double		probs[SP_MC_EXACT_DEALS];
		sp_mc_state *st = new_state(q, nq);
		double		out[16];
		double	   *pmf;
		int64_t		total;
		int			i;

		fill_random(st, 100 + pl, n, amounts, probs);
		if (pl % 5 == 0)
			st->quantiles[5] = probs[0];	/* a quantile on a likely tie */
		assert_int_equal(st->nlisted, n);
		quantiles_of(st, out, false);
		pmf = exact_pmf(amounts, probs, n, &total);
		for (i = 0; i < nq; i++)
		{
			double		qi = st->quantiles[i];
			int64_t		lo = sp_pmf_quantile(pmf, total, qi > 1e-9 ? qi - 1e-9 : qi);
			int64_t		hi = sp_pmf_quantile(pmf, total, qi < 1.0 - 1e-9 ? qi + 1e-9 : qi);

			if (qi == 0.0)
				hi = lo;
			if (qi == 1.0)
				lo = hi;
			if (!(out[i] >= (double) lo && out[i] <= (double) hi))
				fail_msg("pipeline %d, q %g: exact %g, convolution %lld..%lld",
						 pl, qi, out[i], (long long) lo, (long long) hi);
		}
		free(pmf);
		free(st);
	}
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a;
	int64_t		y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Largest |F_K(x) - F(x)| over all totals x (all whole units here). */
static double
cdf_distance(const sp_mc_state *st, const double *pmf, int64_t total)
{
	int64_t    *sorted = malloc(sizeof(st->total));
	double		cdf = 0.0,
				worst = 0.0;
	int64_t		x;
	int			j = 0;

	memcpy(sorted, st->total, sizeof(st->total));
	qsort(sorted, SP_MC_TRIALS, sizeof(int64_t), cmp_int64);
	for (x = 0; x <= total; x++)
	{
		double		gap;

		cdf += pmf[x];
		while (j < SP_MC_TRIALS && (st->certain + sorted[j]) / SP_MC_UNITS <= x)
			j++;
		gap = fabs((double) j / SP_MC_TRIALS - cdf);
		if (gap > worst)
			worst = gap;
	}
	free(sorted);
	return worst;
}

/*
 * Pipelines of 1 to 20 deals, including the hard shapes (equal deals at
 * 1/2, whose quantiles sit on jumps, and one deal worth half the total):
 * the simulation's distribution is within EPS of the exact one everywhere
 * (the DKW band), so each simulated quantile lies between the exact
 * quantiles at q - EPS and q + EPS; where that range is narrower than 1%
 * of the pipeline total, the simulated quantile is within 1% of the exact.
 */
static void
test_simulation_small_pipelines(void **unused)
{
	const double q[] = {0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99};
	const int	nq = sizeof(q) / sizeof(q[0]);
	int			pl;
	int			narrow = 0;

	for (pl = 0; pl < 80; pl++)
	{
		int			n = 1 + (int) (next_u64() % 20);
		int64_t		amounts[20];
		double		probs[20];
		sp_mc_state *st = new_state(q, nq);
		double		out[9];
		double	   *pmf;
		int64_t		total;
		double		dist;
		int			i;

		for (i = 0; i < n; i++)
		{
			switch (pl % 3)
			{
				case 0:
					amounts[i] = 100 + (int64_t) (next_u64() % 4901);
					probs[i] = (double) (next_u64() % 101) / 100.0;
					break;
				case 1:
					amounts[i] = 1000;
					probs[i] = 0.5;
					break;
				default:
					amounts[i] = i == 0 ? 20 * 5000 : 100 + (int64_t) (next_u64() % 4901);
					probs[i] = (double) (5 + next_u64() % 91) / 100.0;
					break;
			}
			add_deal(st, key(200 + pl, i), amounts[i], probs[i]);
		}
		pmf = exact_pmf(amounts, probs, n, &total);
		quantiles_of(st, out, true);

		dist = cdf_distance(st, pmf, total);
		if (dist > EPS)
			fail_msg("pipeline %d (%d deals): sup |F_K - F| = %.4f", pl, n, dist);

		for (i = 0; i < nq; i++)
		{
			int64_t		lo = sp_pmf_quantile(pmf, total, q[i] - EPS > 0 ? q[i] - EPS : 0.0);
			int64_t		hi = sp_pmf_quantile(pmf, total, q[i] + EPS < 1 ? q[i] + EPS : 1.0);
			int64_t		exact = sp_pmf_quantile(pmf, total, q[i]);

			if (!(out[i] >= (double) lo && out[i] <= (double) hi))
				fail_msg("pipeline %d, q %g: simulated %g outside exact %lld..%lld",
						 pl, q[i], out[i], (long long) lo, (long long) hi);
			if (hi - lo <= total / 100)
			{
				narrow++;
				if (fabs(out[i] - (double) exact) > total / 100.0)
					fail_msg("pipeline %d, q %g: simulated %g, exact %lld, total %lld",
							 pl, q[i], out[i], (long long) exact, (long long) total);
			}
		}
		free(pmf);
		free(st);
	}
	/* the 1% check did apply to a fair share of the cases */
	print_message("1%% check applied to %d of %d quantiles\n", narrow, 80 * nq);
	assert_true(narrow > 80 * nq / 4);
}

/*
 * Pipelines of 20 deals of comparable size (100 to 5000, probabilities
 * 0 to 1) and of 100 to 200 deals: the simulated quantiles are within 1%
 * of the pipeline total of the exact quantiles.
 */
static void
check_within_one_percent(int min_deals, int max_deals, int pipelines,
						 const double *q, int nq, double *worst)
{
	int			pl;

	for (pl = 0; pl < pipelines; pl++)
	{
		int			n = min_deals + (int) (next_u64() % (uint64_t) (max_deals - min_deals + 1));
		int64_t    *amounts = malloc(n * sizeof(int64_t));
		double	   *probs = malloc(n * sizeof(double));
		sp_mc_state *st = new_state(q, nq);
		double		out[16];
		double	   *pmf;
		int64_t		total;
		int			i;

		fill_random(st, 1000 * min_deals + pl, n, amounts, probs);
		pmf = exact_pmf(amounts, probs, n, &total);
		quantiles_of(st, out, true);
		for (i = 0; i < nq; i++)
		{
			double		err = fabs(out[i] - (double) sp_pmf_quantile(pmf, total, q[i])) / total;

			if (err > worst[i])
				worst[i] = err;
			if (err > 0.01)
				fail_msg("%d deals, q %g: off by %.4f of the pipeline total", n, q[i], err);
		}
		free(pmf);
		free(amounts);
		free(probs);
		free(st);
	}
}

static void
test_simulation_within_one_percent(void **unused)
{
	const double q20[] = {0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95};
	const double qbig[] = {0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99};
	double		worst20[7] = {0},
				worstbig[9] = {0};
	double		w20 = 0.0,
				wbig = 0.0;
	int			i;

	check_within_one_percent(20, 20, 40, q20, 7, worst20);
	check_within_one_percent(100, 200, 20, qbig, 9, worstbig);
	for (i = 0; i < 7; i++)
		w20 = worst20[i] > w20 ? worst20[i] : w20;
	for (i = 0; i < 9; i++)
		wbig = worstbig[i] > wbig ? worstbig[i] : wbig;
	print_message("worst error: %.2f%% of the total (20 deals), %.2f%% (100-200 deals)\n",
				  100 * w20, 100 * wbig);
}

static void
test_merge_conflicts(void **unused)
{
	const double q1[] = {0.1, 0.5};
	const double q2[] = {0.1, 0.6};
	sp_mc_state *a = new_state(q1, 2);
	sp_mc_state *b = new_state(q2, 2);
	sp_mc_state *c = malloc(sizeof(sp_mc_state));

	assert_int_equal(sp_mc_merge(a, b), SP_MC_QUANTILES_DIFFER);
	/* a state that has not seen quantiles takes the other's */
	sp_mc_init(c);
	assert_int_equal(sp_mc_merge(c, a), SP_MC_OK);
	assert_true(sp_mc_same_quantiles(c, q1, 2));
	/* totals beyond 2^63 cents */
	assert_int_equal(sp_mc_add_deal(a, key(5, 1), INT64_MAX - 10, 0.5), SP_MC_OK);
	assert_int_equal(sp_mc_add_deal(a, key(5, 2), 11, 0.5), SP_MC_OVERFLOW);
	sp_mc_set_quantiles(b, q1, 2);
	assert_int_equal(sp_mc_add_deal(b, key(5, 3), 11, 0.5), SP_MC_OK);
	assert_int_equal(sp_mc_merge(a, b), SP_MC_OVERFLOW);
	free(a);
	free(b);
	free(c);
}

/* ------------------------------------------------------------------
 * Line items: rows that share a deal key are one deal.
 */

/* Quantiles on every jump of a 32-outcome uniform distribution, and between. */
#define LINE_NQ 64
static void
line_item_quantiles(double *q)
{
	int			k;

	for (k = 0; k < 32; k++)
	{
		q[2 * k] = (k + 1) / 32.0;		/* exactly on the jump after 100 k */
		q[2 * k + 1] = (k + 0.5) / 32.0;	/* half way up the step of 100 k */
	}
}

/*
 * Five deals of 100, 200, 400, 800 and 1600 at p = 1/2: the won totals
 * 0, 100, ..., 3100 are equally likely (1/32 each).  Quantile (k + 1)/32
 * is 100 k (the CDF reaches it exactly there) and (k + 1/2)/32 is 100 k.
 */
static void
check_five_powers(const double *q, const double *out)
{
	int			k;

	for (k = 0; k < 32; k++)
	{
		if (out[2 * k] != 100.0 * k || out[2 * k + 1] != 100.0 * k)
			fail_msg("q %g: %g and q %g: %g, expected %d",
					 q[2 * k], out[2 * k], q[2 * k + 1], out[2 * k + 1], 100 * k);
	}
}

/* Deal d (0..4) of 100 * 2^d split into `items` equal line items. */
static void
add_five_powers(sp_mc_state *st, int items, bool reverse)
{
	int			r;

	for (r = 0; r < 5 * items; r++)
	{
		int			row = reverse ? 5 * items - 1 - r : r;
		int			d = row % 5;
		int64_t		cents = (INT64_C(100) << d) * SP_MC_UNITS / items;

		assert_int_equal(sp_mc_add_deal(st, key(600, d), cents, 0.5), SP_MC_OK);
	}
}

/* 10 rows: 5 deals of 2 line items each, as the 5 deals as single rows. */
static void
test_line_items_ten_rows(void **unused)
{
	double		q[LINE_NQ];
	double		single[LINE_NQ],
				split[LINE_NQ],
				uneven[LINE_NQ],
				merged[LINE_NQ];
	sp_mc_state *one,
			   *two,
			   *odd,
			   *part[2],
			   *all;
	int			d;

	line_item_quantiles(q);
	one = new_state(q, LINE_NQ);
	add_five_powers(one, 1, false);
	quantiles_of(one, single, false);
	check_five_powers(q, single);

	two = new_state(q, LINE_NQ);
	add_five_powers(two, 2, false);
	quantiles_of(two, split, false);
	check_five_powers(q, split);
	assert_memory_equal(single, split, sizeof(single));

	/* 40% + 60% line items, the rows dealt to two states, merged */
	odd = new_state(q, LINE_NQ);
	part[0] = new_state(q, LINE_NQ);
	part[1] = new_state(q, LINE_NQ);
	for (d = 4; d >= 0; d--)
	{
		int64_t		cents = (INT64_C(100) << d) * SP_MC_UNITS;

		add_deal(odd, key(600, d), (100 << d) * 4 / 10, 0.5);
		add_deal(odd, key(600, d), (100 << d) * 6 / 10, 0.5);
		assert_int_equal(sp_mc_add_deal(part[d % 2], key(600, d), cents * 4 / 10, 0.5), SP_MC_OK);
		assert_int_equal(sp_mc_add_deal(part[(d + 1) % 2], key(600, d), cents * 6 / 10, 0.5), SP_MC_OK);
	}
	quantiles_of(odd, uneven, false);
	assert_memory_equal(single, uneven, sizeof(single));
	all = new_state(q, LINE_NQ);
	assert_int_equal(sp_mc_merge(all, part[1]), SP_MC_OK);
	assert_int_equal(sp_mc_merge(all, part[0]), SP_MC_OK);
	quantiles_of(all, merged, false);
	assert_memory_equal(single, merged, sizeof(single));
	/* the simulation couples them too: the same trial totals */
	assert_memory_equal(one->total, two->total, sizeof(one->total));
	assert_memory_equal(one->total, all->total, sizeof(one->total));
	free(one);
	free(two);
	free(odd);
	free(part[0]);
	free(part[1]);
	free(all);
}

/*
 * 100 rows, more than SP_MC_EXACT_DEALS counted in rows: 5 deals of 20
 * line items each are still 5 deals, answered exactly, whatever the split.
 */
static void
test_line_items_hundred_rows(void **unused)
{
	double		q[LINE_NQ];
	double		single[LINE_NQ],
				split[LINE_NQ],
				backward[LINE_NQ],
				merged[LINE_NQ];
	sp_mc_state *one,
			   *many,
			   *rev,
			   *part[3],
			   *all;
	int			r;

	line_item_quantiles(q);
	one = new_state(q, LINE_NQ);
	add_five_powers(one, 1, false);
	quantiles_of(one, single, false);

	many = new_state(q, LINE_NQ);
	add_five_powers(many, 20, false);
	assert_int_equal(many->nlisted, 5);
	quantiles_of(many, split, false);
	check_five_powers(q, split);
	assert_memory_equal(single, split, sizeof(single));

	rev = new_state(q, LINE_NQ);
	add_five_powers(rev, 20, true);
	quantiles_of(rev, backward, false);
	assert_memory_equal(single, backward, sizeof(single));

	for (r = 0; r < 3; r++)
		part[r] = new_state(q, LINE_NQ);
	for (r = 0; r < 100; r++)
		assert_int_equal(sp_mc_add_deal(part[(r * 7 / 3) % 3], key(600, r % 5),
										(INT64_C(100) << (r % 5)) * SP_MC_UNITS / 20, 0.5),
						 SP_MC_OK);
	all = new_state(q, LINE_NQ);
	for (r = 2; r >= 0; r--)
		assert_int_equal(sp_mc_merge(all, part[r]), SP_MC_OK);
	assert_int_equal(all->nlisted, 5);
	quantiles_of(all, merged, false);
	assert_memory_equal(single, merged, sizeof(single));
	free(one);
	free(many);
	free(rev);
	for (r = 0; r < 3; r++)
		free(part[r]);
	free(all);
}

/*
 * Beyond the exact threshold (20 and 40 deals of several line items, 100
 * and 120 rows) the simulation gives the split deals the very trial
 * totals, hence the quantiles, of the same deals as single rows.
 */
static void
test_line_items_simulated(void **unused)
{
	const double q[] = {0.01, 0.1, 0.5, 0.9, 0.99};
	const int	shapes[][2] = {{20, 5}, {40, 3}};
	size_t		s;

	for (s = 0; s < 2; s++)
	{
		int			deals = shapes[s][0],
					items = shapes[s][1];
		sp_mc_state *one = new_state(q, 5);
		sp_mc_state *many = new_state(q, 5);
		double		a[5],
					b[5];
		int			d,
					i;

		for (d = 0; d < deals; d++)
		{
			int64_t		units = 100 * (1 + d % 7);
			double		p = (double) (1 + d % 9) / 10.0;

			add_deal(one, key(700 + (int) s, d), units, p);
			for (i = 0; i < items; i++)
				add_deal(many, key(700 + (int) s, d), units / items
						 + (i == 0 ? units % items : 0), p);
		}
		assert_int_equal(many->nlisted, -1);
		assert_memory_equal(one->total, many->total, sizeof(one->total));
		assert_int_equal(one->pipeline, many->pipeline);
		assert_int_equal(one->certain, many->certain);
		quantiles_of(one, a, false);
		quantiles_of(many, b, false);
		assert_memory_equal(a, b, sizeof(a));
		free(one);
		free(many);
	}
}

/*
 * The exact threshold counts deals, not rows: 16 deals of 3 line items
 * (48 rows) are exact, a 17th deal is simulated, and merging states
 * whose deals overlap counts each deal once.
 */
static void
test_exact_threshold_counts_deals(void **unused)
{
	const double q[] = {0.1, 0.5, 0.9};
	sp_mc_state *st = new_state(q, 3);
	sp_mc_state *a = new_state(q, 3);
	sp_mc_state *b = new_state(q, 3);
	sp_mc_state *m = new_state(q, 3);
	double		exact[3],
				merged[3];
	int			d,
				i;

	for (i = 0; i < 3; i++)
		for (d = 0; d < SP_MC_EXACT_DEALS; d++)
			add_deal(st, key(800, d), 10 + d, 0.25 + d / 40.0);
	assert_int_equal(st->nlisted, SP_MC_EXACT_DEALS);
	quantiles_of(st, exact, false);

	/* deals 0..9 in one state, 6..15 in the other, each row once */
	for (i = 0; i < 3; i++)
		for (d = 0; d < SP_MC_EXACT_DEALS; d++)
			add_deal(d < 6 || (d < 10 && i == 0) ? a : b, key(800, d), 10 + d, 0.25 + d / 40.0);
	assert_int_equal(sp_mc_merge(m, b), SP_MC_OK);
	assert_int_equal(sp_mc_merge(m, a), SP_MC_OK);
	assert_int_equal(m->nlisted, SP_MC_EXACT_DEALS);
	quantiles_of(m, merged, false);
	assert_memory_equal(exact, merged, sizeof(exact));

	/* a 17th deal, in either state, ends the exact answer */
	add_deal(st, key(800, 99), 5, 0.5);
	assert_int_equal(st->nlisted, -1);
	add_deal(b, key(800, 99), 5, 0.5);
	sp_mc_init(m);
	assert_int_equal(sp_mc_merge(m, a), SP_MC_OK);
	assert_int_equal(sp_mc_merge(m, b), SP_MC_OK);
	assert_int_equal(m->nlisted, -1);
	free(st);
	free(a);
	free(b);
	free(m);
}

/*
 * A deal whose rows carry different probabilities: one uniform draw U per
 * deal and trial, and a row is won when U < its probability.  Deal x has
 * 100 at 0.8, 30 at 0.8 and 50 at 0.3, so it wins nothing with
 * probability 0.2, 130 with 0.5 and 180 with 0.3; deal y wins 200 with
 * probability 0.5.  The total is 0 (0.1), 130 (0.25), 180 (0.15),
 * 200 (0.1), 330 (0.25) or 380 (0.15): CDF 0.1, 0.35, 0.5, 0.6, 0.85, 1.
 * The exact and the simulated answers agree, in any order and split.
 */
static void
test_conflicting_probabilities(void **unused)
{
	const double q[] = {0.05, 0.2, 0.45, 0.55, 0.7, 0.95};
	const double expect[] = {0, 130, 180, 200, 330, 380};
	const struct
	{
		int			deal;
		int64_t		units;
		double		p;
	}			rows[] = {{1, 100, 0.8}, {1, 50, 0.3}, {2, 200, 0.5}, {1, 30, 0.8}};
	int			order;

	for (order = 0; order < 24; order++)
	{
		sp_mc_state *st = new_state(q, 6);
		sp_mc_state *part[2] = {new_state(q, 6), new_state(q, 6)};
		sp_mc_state *m = new_state(q, 6);
		int			perm[4] = {0, 1, 2, 3};
		int			o = order,
					i;
		double		exact[6],
					sim[6],
					merged[6];

		/* the order-th permutation of the four rows */
		for (i = 0; i < 4; i++)
		{
			int			j = i + o % (4 - i);
			int			t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
			o /= 4 - i;
		}
		for (i = 0; i < 4; i++)
		{
			add_deal(st, key(900, rows[perm[i]].deal), rows[perm[i]].units, rows[perm[i]].p);
			add_deal(part[(order >> i) & 1], key(900, rows[perm[i]].deal),
					 rows[perm[i]].units, rows[perm[i]].p);
		}
		assert_int_equal(sp_mc_merge(m, part[order % 2]), SP_MC_OK);
		assert_int_equal(sp_mc_merge(m, part[1 - order % 2]), SP_MC_OK);
		quantiles_of(st, exact, false);
		quantiles_of(st, sim, true);
		quantiles_of(m, merged, false);
		for (i = 0; i < 6; i++)
			if (exact[i] != expect[i] || sim[i] != expect[i] || merged[i] != expect[i])
				fail_msg("order %d, q %g: exact %g, simulated %g, merged %g, expected %g",
						 order, q[i], exact[i], sim[i], merged[i], expect[i]);
		free(st);
		free(part[0]);
		free(part[1]);
		free(m);
	}
}

/*
 * Random pipelines of up to 5 deals of 1 to 3 rows each, probabilities
 * drawn from a few values so that rows of one deal often differ: the
 * exact answer equals a reference built another way.  For each deal the
 * reference cuts [0, 1) at the rows' probabilities and, for a draw u in
 * the middle of each piece, adds up the rows with u < p (the definition);
 * deals are then convolved over whole units.
 */
static void
test_exact_line_items_match_reference(void **unused)
{
	const double q[] = {0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0};
	const int	nq = sizeof(q) / sizeof(q[0]);
	const double levels[] = {0.0, 0.2, 0.5, 0.7, 1.0};
	int			pl;

	for (pl = 0; pl < 200; pl++)
	{
		int			deals = 1 + (int) (next_u64() % 5);
		int			nrows = 0;
		int			deal_of[15];
		int64_t		amount[15];
		double		prob[15];
		sp_mc_state *st = new_state(q, nq);
		sp_mc_state *part[2] = {new_state(q, nq), new_state(q, nq)};
		sp_mc_state *m = new_state(q, nq);
		double	   *pmf,
				   *next;
		int64_t		total = 0,
					reach = 0;
		double		out[9],
					merged[9];
		int			d,
					r,
					i;

		for (d = 0; d < deals; d++)
		{
			int			rows = 1 + (int) (next_u64() % 3);

			for (r = 0; r < rows; r++)
			{
				deal_of[nrows] = d;
				amount[nrows] = 1 + (int64_t) (next_u64() % 40);
				prob[nrows] = levels[next_u64() % 5];
				total += amount[nrows];
				nrows++;
			}
		}
		for (r = 0; r < nrows; r++)
		{
			/* rows dealt in a scrambled order */
			int			k = (r * 7 + pl) % nrows;

			if (nrows % 7 == 0)
				k = r;
			add_deal(st, key(1000 + pl, deal_of[k]), amount[k], prob[k]);
			add_deal(part[(r + pl) % 2], key(1000 + pl, deal_of[k]), amount[k], prob[k]);
		}
		assert_int_equal(sp_mc_merge(m, part[1]), SP_MC_OK);
		assert_int_equal(sp_mc_merge(m, part[0]), SP_MC_OK);
		assert_true(st->nlisted > 0);
		quantiles_of(st, out, false);
		quantiles_of(m, merged, false);
		assert_memory_equal(out, merged, sizeof(out));

		pmf = calloc((size_t) total + 1, sizeof(double));
		next = calloc((size_t) total + 1, sizeof(double));
		pmf[0] = 1.0;
		for (d = 0; d < deals; d++)
		{
			double		cuts[17];
			int			ncuts = 0;
			int64_t		deal_total = 0;
			int64_t		s;

			cuts[ncuts++] = 0.0;
			cuts[ncuts++] = 1.0;
			for (r = 0; r < nrows; r++)
				if (deal_of[r] == d)
				{
					cuts[ncuts++] = prob[r];
					deal_total += amount[r];
				}
			qsort(cuts, (size_t) ncuts, sizeof(double), cmp_double);
			memset(next, 0, ((size_t) total + 1) * sizeof(double));
			for (i = 0; i + 1 < ncuts; i++)
			{
				double		width = cuts[i + 1] - cuts[i];
				double		u = (cuts[i] + cuts[i + 1]) / 2;
				int64_t		won = 0;

				if (width <= 0.0)
					continue;
				for (r = 0; r < nrows; r++)
					if (deal_of[r] == d && u < prob[r])
						won += amount[r];
				for (s = 0; s <= reach; s++)
					next[s + won] += pmf[s] * width;
			}
			memcpy(pmf, next, ((size_t) total + 1) * sizeof(double));
			reach += deal_total;
		}
		for (i = 0; i < nq; i++)
		{
			int64_t		lo = sp_pmf_quantile(pmf, total, q[i] > 1e-9 ? q[i] - 1e-9 : q[i]);
			int64_t		hi = sp_pmf_quantile(pmf, total, q[i] < 1.0 - 1e-9 ? q[i] + 1e-9 : q[i]);

			if (q[i] == 0.0)
				hi = lo;
			if (q[i] == 1.0)
				lo = hi;
			if (!(out[i] >= (double) lo && out[i] <= (double) hi))
				fail_msg("pipeline %d, q %g: exact %g, reference %lld..%lld",
						 pl, q[i], out[i], (long long) lo, (long long) hi);
		}
		free(pmf);
		free(next);
		free(st);
		free(part[0]);
		free(part[1]);
		free(m);
	}
}

static uint8_t *
encode(const sp_mc_state *st, size_t *len)
{
	uint8_t    *blob;

	*len = sp_mc_encoded_size(st);
	blob = malloc(*len);
	sp_mc_encode(st, blob);
	return blob;
}

static void
test_round_trip(void **unused)
{
	const double q[] = {0.1, 0.5, 0.9, 0.99};
	int			n;

	for (n = 3; n <= 30; n += 27)
	{
		sp_mc_state *st = new_state(q, 4);
		sp_mc_state *back = malloc(sizeof(sp_mc_state));
		int64_t		amounts[30];
		double		probs[30];
		uint8_t    *blob,
				   *again;
		size_t		len,
					len2;
		double		a[4],
					b[4];

		fill_random(st, 300 + n, n, amounts, probs);
		assert_int_equal(sp_mc_add_deal(st, key(300, 99), 777, 1.0), SP_MC_OK);
		blob = encode(st, &len);
		assert_int_equal(blob[0], SP_MC_STATE_VERSION);
		sp_mc_init(back);
		assert_null(sp_mc_decode(back, blob, len));
		again = encode(back, &len2);
		assert_int_equal(len, len2);
		assert_memory_equal(blob, again, len);
		quantiles_of(st, a, false);
		quantiles_of(back, b, false);
		assert_memory_equal(a, b, sizeof(a));
		free(blob);
		free(again);
		free(st);
		free(back);
	}
}

/*
 * States that no transition could make are refused: a (deal, probability)
 * pair listed twice, more pairs than rows, and version 1 states (whose
 * list had one entry per row).
 */
static void
test_decoder_refuses_bad_lists(void **unused)
{
	const double q[] = {0.5};
	sp_mc_state *st = new_state(q, 1);
	sp_mc_state *back = malloc(sizeof(sp_mc_state));
	uint8_t    *blob;
	size_t		len,
				list;

	add_deal(st, key(1100, 1), 100, 0.5);
	add_deal(st, key(1100, 2), 100, 0.5);
	add_deal(st, key(1100, 1), 50, 0.5);
	assert_int_equal(st->nlisted, 2);
	assert_int_equal(st->rows, 3);
	blob = encode(st, &len);
	sp_mc_init(back);
	assert_null(sp_mc_decode(back, blob, len));

	/* the list: after version, kind, trials, 3 totals, 1 quantile, count */
	list = 1 + 1 + 4 + 3 * 8 + 4 + 8 + 4;
	memcpy(blob + list + 24, blob + list, 8);	/* second key := first key */
	sp_mc_init(back);
	assert_string_equal(sp_mc_decode(back, blob, len),
						"deal listed twice with one probability");
	free(blob);

	blob = encode(st, &len);
	blob[1 + 1 + 4 + 7] = 1;	/* rows = 1 < 2 pairs */
	sp_mc_init(back);
	assert_string_equal(sp_mc_decode(back, blob, len),
						"deal list does not match the row count");
	blob[1 + 1 + 4 + 7] = 3;
	blob[0] = 1;
	sp_mc_init(back);
	assert_string_equal(sp_mc_decode(back, blob, len), "unsupported state version");
	free(blob);
	free(st);
	free(back);
}

/* A decoded state must be usable: quantiles and merges without crashing. */
static void
exercise(const sp_mc_state *st)
{
	sp_mc_state *other = malloc(sizeof(sp_mc_state));
	double		out[SP_MC_MAX_QUANTILES];

	if (st->nquantiles >= 0)
		quantiles_of(st, out, false);
	sp_mc_init(other);
	(void) sp_mc_merge(other, st);
	free(other);
}

static void
test_decoder_fuzz(void **unused)
{
	const double q[] = {0.1, 0.5, 0.9};
	sp_mc_state *st = new_state(q, 3);
	sp_mc_state *back = malloc(sizeof(sp_mc_state));
	int64_t		amounts[5];
	double		probs[5];
	uint8_t    *blob;
	uint8_t		junk[700];
	size_t		len,
				cut,
				header,
				i;
	int			v,
				round;

	fill_random(st, 400, 5, amounts, probs);
	blob = encode(st, &len);
	header = len - 8 * (size_t) SP_MC_TRIALS;

	/* every truncation is refused, and so is a trailing byte */
	for (cut = 0; cut < len; cut++)
	{
		sp_mc_init(back);
		assert_non_null(sp_mc_decode(back, blob, cut));
	}
	{
		uint8_t    *longer = malloc(len + 1);

		memcpy(longer, blob, len);
		longer[len] = 0;
		sp_mc_init(back);
		assert_non_null(sp_mc_decode(back, longer, len + 1));
		free(longer);
	}

	/* each header byte set to edge and random values: refused, or usable */
	for (i = 0; i < header; i++)
	{
		uint8_t		saved = blob[i];
		const uint8_t edges[] = {0, 1, 2, 0x7f, 0x80, 0xfe, 0xff};

		for (v = 0; v < 24; v++)
		{
			if (v < 7)
				blob[i] = edges[v];
			else if (v < 15)
				blob[i] = saved ^ (uint8_t) (1 << (v - 7));
			else
				blob[i] = (uint8_t) next_u64();
			sp_mc_init(back);
			if (sp_mc_decode(back, blob, len) == NULL)
				exercise(back);
		}
		blob[i] = saved;
	}
	/* random bytes of the trial totals */
	for (round = 0; round < 300; round++)
	{
		size_t		at = header + next_u64() % (len - header);
		uint8_t		saved = blob[at];

		blob[at] = (uint8_t) next_u64();
		sp_mc_init(back);
		if (sp_mc_decode(back, blob, len) == NULL)
			exercise(back);
		blob[at] = saved;
	}
	free(blob);

	/* random short blobs, half with a valid version and kind */
	for (round = 0; round < 20000; round++)
	{
		size_t		n = next_u64() % sizeof(junk);

		for (i = 0; i < n; i++)
			junk[i] = (uint8_t) next_u64();
		if (round % 2 && n > 2)
		{
			junk[0] = SP_MC_STATE_VERSION;
			junk[1] = SP_MC_KIND;
		}
		sp_mc_init(back);
		assert_non_null(sp_mc_decode(back, junk, n));	/* all too short */
	}
	free(st);
	free(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantile_index_rule),
		cmocka_unit_test(test_amounts_and_probabilities),
		cmocka_unit_test(test_win_frequency),
		cmocka_unit_test(test_certain_and_impossible_deals),
		cmocka_unit_test(test_exact_by_hand),
		cmocka_unit_test(test_order_and_split_independent),
		cmocka_unit_test(test_convolution_by_hand),
		cmocka_unit_test(test_exact_matches_convolution),
		cmocka_unit_test(test_simulation_small_pipelines),
		cmocka_unit_test(test_simulation_within_one_percent),
		cmocka_unit_test(test_merge_conflicts),
		cmocka_unit_test(test_line_items_ten_rows),
		cmocka_unit_test(test_line_items_hundred_rows),
		cmocka_unit_test(test_line_items_simulated),
		cmocka_unit_test(test_exact_threshold_counts_deals),
		cmocka_unit_test(test_conflicting_probabilities),
		cmocka_unit_test(test_exact_line_items_match_reference),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_decoder_refuses_bad_lists),
		cmocka_unit_test(test_decoder_fuzz),
	};

	return cmocka_run_group_tests_name("quantiles", tests, NULL, NULL);
}
