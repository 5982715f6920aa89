/*
 * quantiles.h — Monte Carlo quantiles of a pipeline's won total for
 * forecast_quantiles (no PostgreSQL headers).
 *
 * Each deal closes independently with its probability.  The state holds,
 * for each of SP_MC_TRIALS simulated quarters, the total amount won; a
 * deal adds its amount to the trials it wins.  Whether deal d wins trial t
 * is decided by the counter-based generator of rng.h keyed by the hash of
 * d's key, so it depends only on (key, t): never on row order or on which
 * parallel worker saw the row.  Amounts are added as whole cents in 64-bit
 * integers, so the per-trial totals, their combination across workers and
 * hence the quantiles are exact and identical for every plan.
 *
 * Deals and line items.  Rows that share a deal key are one deal (line
 * items of one opportunity): a deal's amount is the sum of its rows'.  In
 * every trial a deal draws one uniform U from its stream, and each of its
 * rows is won when U < the row's probability.  Rows of one deal with the
 * same probability therefore win or lose together.  When the rows of one
 * deal carry different probabilities, each row keeps its own probability
 * and the outcomes are nested: whenever a row is won, so is every row of
 * the deal with a higher probability (a deal with 100 at 0.8 and 50 at
 * 0.3 wins nothing with probability 0.2, 100 with 0.5 and 150 with 0.3).
 * This is the one rule the simulation can apply row by row without
 * seeing the deal's other rows, so the exact answer applies it too; it
 * keeps the expected total equal to the weighted pipeline, sum(amount ×
 * probability).  Neither rule nor answer depends on row order or split.
 *
 * Small pipelines are answered exactly.  While the rows hold at most
 * SP_MC_EXACT_DEALS (16) distinct (deal key, probability) pairs, which is
 * 16 deals when each deal's rows share one probability, the state also
 * lists those pairs (key hash, probability, summed cents), however many
 * rows they came from, and the final function enumerates the distribution
 * of the won total (a deal with m probabilities has m + 1 outcomes, so at
 * most 2^16 totals in all; deals taken in a canonical order so the answer
 * does not depend on the plan).  Whether the list is still complete after
 * combining two states depends only on the union of their pairs, so every
 * split of the rows agrees on exact or simulated.  Sampling noise would
 * matter most there: a single deal at p = 0.5 has its median on a jump of
 * the distribution, where no simulation can be within 1% of the total.
 *
 * Accuracy of the simulation.  With K = SP_MC_TRIALS = 16384 independent
 * trials, the Dvoretzky–Kiefer–Wolfowitz inequality bounds the chance that
 * the empirical distribution function strays anywhere by more than eps
 * from the exact one: P(sup |F_K − F| > eps) ≤ 2 exp(−2 K eps²), which is
 * 0.001 for eps = 0.0153.  Inside that band each reported quantile q lies
 * between the exact quantiles at q − eps and q + eps, so its distance to
 * the exact answer is at most the spread Q(q + eps) − Q(q − eps) of the
 * exact distribution.  For n deals of similar size that spread is about
 * 2 eps σ / φ(z_q) with σ ≤ T / (2 √n) (T the pipeline total): below 1%
 * of T from n ≈ 15 at the median and n ≈ 80 at P10/P90 in the worst case
 * (every probability 1/2).  The pointwise error is much smaller than the
 * uniform bound, about sqrt(q (1 − q) / K) = 0.0023 at q = 0.1: against
 * the exact distribution the unit tests measure at most 0.5% of T for 20
 * deals of comparable size (P5 to P95) and 0.3% for 100 to 200 deals (P1
 * to P99).  What no sampling can promise is a quantile that
 * sits on a large jump of the exact distribution (one deal worth half the
 * pipeline): there the answer is one side of the jump or the other, and
 * the guarantee is in probability (eps), not in amount.
 *
 * Deals are told apart by a 64-bit hash of their key, in both answers; two
 * keys with the same hash (about n² / 2^65 for n deals) would be one deal.
 */
#ifndef SALESPERF_QUANTILES_H
#define SALESPERF_QUANTILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_MC_TRIALS		16384	/* K; a power of two */
#define SP_MC_MAX_QUANTILES	1024
#define SP_MC_UNITS			100		/* fixed point: amounts in cents */
#define SP_MC_KIND			'Q'
#define SP_MC_STATE_VERSION	2		/* 2: listed pairs grouped by (key, probability) */
#define SP_MC_EXACT_DEALS	16		/* exact up to this many (deal, probability) pairs */

typedef enum sp_mc_status
{
	SP_MC_OK = 0,
	SP_MC_OVERFLOW,				/* pipeline total beyond int64 cents */
	SP_MC_QUANTILES_DIFFER		/* two states asked for different quantiles */
} sp_mc_status;

/* The rows of one deal that share one probability. */
typedef struct sp_mc_deal
{
	uint64_t	key;			/* hash of the deal key */
	int64_t		cents;			/* sum of the rows' amounts */
	double		p;
} sp_mc_deal;

typedef struct sp_mc_state
{
	int64_t		rows;			/* rows added */
	int64_t		pipeline;		/* sum of all amounts, cents */
	int64_t		certain;		/* sum of amounts with probability 1, cents */
	int32_t		nquantiles;		/* -1 until the quantiles are known */
	int32_t		nlisted;		/* (key, p) pairs while ≤ SP_MC_EXACT_DEALS, else -1 */
	sp_mc_deal	listed[SP_MC_EXACT_DEALS];
	double		quantiles[SP_MC_MAX_QUANTILES];
	int64_t		total[SP_MC_TRIALS];	/* per trial: uncertain rows won, cents */
} sp_mc_state;

void		sp_mc_init(sp_mc_state *st);

/*
 * Amount in whole cents (rounded half away from zero).  False when the
 * amount is NaN, infinite, negative or too large for 64-bit cents.
 */
bool		sp_mc_amount_cents(double amount, int64_t *cents);

/* True when p is a probability (0 ≤ p ≤ 1, not NaN). */
bool		sp_mc_probability_valid(double p);

/* Index of the first quantile outside [0, 1] (or NaN), or -1. */
int			sp_mc_first_bad_quantile(const double *q, int n);

/* Records the quantiles asked for (valid, n ≤ SP_MC_MAX_QUANTILES). */
void		sp_mc_set_quantiles(sp_mc_state *st, const double *q, int n);

/* True when the state already holds exactly these quantiles. */
bool		sp_mc_same_quantiles(const sp_mc_state *st, const double *q, int n);

/*
 * Adds one row of the deal whose key hashes to key_hash; p must be valid.
 * Rows with the same key hash are one deal.
 */
sp_mc_status sp_mc_add_deal(sp_mc_state *st, uint64_t key_hash, int64_t cents, double p);

/* The combine step: adds `other` into st. */
sp_mc_status sp_mc_merge(sp_mc_state *st, const sp_mc_state *other);

/*
 * Writes the requested quantiles of the won total, in currency units, to
 * out[0 .. nquantiles-1]: exact while the pairs are listed, simulated
 * otherwise.  scratch must hold sp_mc_scratch_size(st) bytes;
 * the state is not changed.
 */
size_t		sp_mc_scratch_size(const sp_mc_state *st);
void		sp_mc_quantiles(const sp_mc_state *st, void *scratch, double *out);

/*
 * The simulated answer, whatever the number of deals (scratch as above).
 * Rule: sort the K trial totals x(1) ≤ ... ≤ x(K); quantile q is
 * x(ceil(q K)), the smallest total whose empirical CDF reaches q, and
 * quantile 0 is the smallest total x(1).
 */
void		sp_mc_quantiles_simulated(const sp_mc_state *st, void *scratch, double *out);

/*
 * The exact answer from the listed pairs (nlisted ≥ 0), by the same rule
 * on the exact distribution: the smallest total whose probability of not
 * being exceeded reaches q; quantile 0 is the smallest possible total and
 * quantile 1 the largest.
 */
void		sp_mc_quantiles_exact(const sp_mc_state *st, void *scratch, double *out);

/* Position (0-based) in the sorted trials of quantile q under that rule. */
uint32_t	sp_mc_quantile_index(double q, uint32_t trials);

/* Serialized state (big-endian), a fixed size for a given quantile count. */
size_t		sp_mc_encoded_size(const sp_mc_state *st);
void		sp_mc_encode(const sp_mc_state *st, uint8_t *out);
const char *sp_mc_decode(sp_mc_state *st, const uint8_t *blob, size_t len);

/*
 * Exact distribution of the won total by convolution, for checking the
 * simulation: deals with whole amounts amounts[i] ≥ 0 and probabilities
 * probs[i]; pmf must hold sum(amounts) + 1 values and receives
 * P(total = s) for s = 0 .. sum(amounts).
 */
void		sp_exact_pmf(const int64_t *amounts, const double *probs, int n, double *pmf);

/* Smallest s with P(total ≤ s) ≥ q (q = 0: smallest possible total). */
int64_t		sp_pmf_quantile(const double *pmf, int64_t max_total, double q);

#endif
