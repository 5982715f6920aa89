/*
 * quantiles.c — the Monte Carlo state of forecast_quantiles.
 */
#include "quantiles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decimal_sum.h"		/* big-endian helpers */
#include "rng.h"

void
sp_mc_init(sp_mc_state *st)
{
	st->rows = 0;
	st->pipeline = 0;
	st->certain = 0;
	st->nquantiles = -1;
	st->nlisted = 0;
	memset(st->listed, 0, sizeof(st->listed));
	memset(st->quantiles, 0, sizeof(st->quantiles));
	memset(st->total, 0, sizeof(st->total));
}

bool
sp_mc_amount_cents(double amount, int64_t *cents)
{
	double		scaled;

	if (isnan(amount) || amount < 0.0 || isinf(amount))
		return false;
	scaled = round(amount * SP_MC_UNITS);
	/* 2^63 is exactly representable; anything at or above it overflows */
	if (!(scaled < 9223372036854775808.0))
		return false;
	*cents = (int64_t) scaled;
	return true;
}

bool
sp_mc_probability_valid(double p)
{
	return p >= 0.0 && p <= 1.0;	/* false for NaN */
}

int
sp_mc_first_bad_quantile(const double *q, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (!(q[i] >= 0.0 && q[i] <= 1.0))
			return i;
	return -1;
}

void
sp_mc_set_quantiles(sp_mc_state *st, const double *q, int n)
{
	memcpy(st->quantiles, q, (size_t) n * sizeof(double));
	st->nquantiles = n;
}

bool
sp_mc_same_quantiles(const sp_mc_state *st, const double *q, int n)
{
	int			i;

	if (st->nquantiles != n)
		return false;
	for (i = 0; i < n; i++)
		if (st->quantiles[i] != q[i])
			return false;
	return true;
}

/*
 * Probability p as a threshold on 32-bit uniforms: a draw u wins when
 * u < floor(p × 2^32), so P(win) = floor(p × 2^32) / 2^32 (exact for p = 0
 * and p = 1, within 2^-32 otherwise).
 */
static uint64_t
win_threshold(double p)
{
	return (uint64_t) ldexp(p, 32);
}

/* Index of the listed pair (key, p), or -1. */
static int
find_listed(const sp_mc_state *st, uint64_t key, double p)
{
	int			i;

	for (i = 0; i < st->nlisted; i++)
		if (st->listed[i].key == key && st->listed[i].p == p)
			return i;
	return -1;
}

/*
 * Adds cents to the listed pair (key, p), listing it if it is new; the
 * list is given up (nlisted = -1) when a pair would be one too many.
 */
static void
list_pair(sp_mc_state *st, uint64_t key, int64_t cents, double p)
{
	int			i;

	if (st->nlisted < 0)
		return;
	i = find_listed(st, key, p);
	if (i >= 0)
		st->listed[i].cents += cents;	/* ≤ pipeline: cannot overflow */
	else if (st->nlisted < SP_MC_EXACT_DEALS)
	{
		st->listed[st->nlisted].key = key;
		st->listed[st->nlisted].cents = cents;
		st->listed[st->nlisted].p = p;
		st->nlisted++;
	}
	else
		st->nlisted = -1;
}

/*
 * One row: its cents go to the trials where the deal's draw falls under
 * the row's probability (the rule of quantiles.h), the same draws for
 * every row of the deal.
 */
sp_mc_status
sp_mc_add_deal(sp_mc_state *st, uint64_t key_hash, int64_t cents, double p)
{
	uint64_t	threshold;
	int64_t    *t = st->total;
	uint32_t	i;

	if (st->pipeline > INT64_MAX - cents)
		return SP_MC_OVERFLOW;
	if (p == 0.0)
		p = 0.0;				/* -0 and +0 are one probability */
	st->pipeline += cents;
	st->rows++;
	list_pair(st, key_hash, cents, p);
	threshold = win_threshold(p);
	if (cents == 0 || threshold == 0)
		return SP_MC_OK;
	if (threshold >= (UINT64_C(1) << 32))
	{
		st->certain += cents;
		return SP_MC_OK;
	}
	/* trials 2i and 2i+1 use the low and high halves of draw i */
	for (i = 0; i < SP_MC_TRIALS / 2; i++)
	{
		uint64_t	x = sp_rng_draw(key_hash, i);

		t[2 * i] += cents & -(int64_t) ((x & UINT64_C(0xffffffff)) < threshold);
		t[2 * i + 1] += cents & -(int64_t) ((x >> 32) < threshold);
	}
	return SP_MC_OK;
}

sp_mc_status
sp_mc_merge(sp_mc_state *st, const sp_mc_state *other)
{
	uint32_t	i;

	if (st->nquantiles < 0)
	{
		if (other->nquantiles >= 0)
			sp_mc_set_quantiles(st, other->quantiles, other->nquantiles);
	}
	else if (other->nquantiles >= 0 &&
			 !sp_mc_same_quantiles(st, other->quantiles, other->nquantiles))
		return SP_MC_QUANTILES_DIFFER;
	if (st->pipeline > INT64_MAX - other->pipeline)
		return SP_MC_OVERFLOW;
	st->pipeline += other->pipeline;
	st->certain += other->certain;
	st->rows += other->rows;

	/*
	 * The list stays complete while the union of the pairs fits: that
	 * depends only on the rows, not on how they were split.  A state that
	 * gave up its list holds more pairs than fit by itself.
	 */
	if (st->nlisted >= 0 && other->nlisted >= 0)
	{
		int			added = 0;

		for (i = 0; i < (uint32_t) other->nlisted; i++)
			if (find_listed(st, other->listed[i].key, other->listed[i].p) < 0)
				added++;
		if (st->nlisted + added <= SP_MC_EXACT_DEALS)
			for (i = 0; i < (uint32_t) other->nlisted; i++)
				list_pair(st, other->listed[i].key, other->listed[i].cents,
						  other->listed[i].p);
		else
			st->nlisted = -1;
	}
	else
		st->nlisted = -1;
	for (i = 0; i < SP_MC_TRIALS; i++)
		st->total[i] += other->total[i];
	return SP_MC_OK;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a;
	int64_t		y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

uint32_t
sp_mc_quantile_index(double q, uint32_t trials)
{
	double		rank = ceil(q * trials);

	if (!(rank >= 1.0))
		return 0;
	if (rank >= trials)
		return trials - 1;
	return (uint32_t) rank - 1;
}

size_t
sp_mc_scratch_size(const sp_mc_state *st)
{
	size_t		size = SP_MC_TRIALS * sizeof(int64_t);

	if (st->nlisted >= 0)
		size += 3 * ((size_t) 1 << st->nlisted) * (sizeof(int64_t) + sizeof(double));
	return size;
}

void
sp_mc_quantiles_simulated(const sp_mc_state *st, void *scratch, double *out)
{
	int64_t    *sorted = scratch;
	int			i;

	memcpy(sorted, st->total, sizeof(st->total));
	qsort(sorted, SP_MC_TRIALS, sizeof(int64_t), cmp_int64);
	for (i = 0; i < st->nquantiles; i++)
	{
		int64_t		cents = st->certain +
			sorted[sp_mc_quantile_index(st->quantiles[i], SP_MC_TRIALS)];

		out[i] = (double) cents / SP_MC_UNITS;
	}
}

/*
 * Canonical order of the listed pairs: by key hash, and within a deal by
 * decreasing probability (the pairs are distinct, so that is total).
 */
static int
cmp_pair(const void *a, const void *b)
{
	const sp_mc_deal *x = a;
	const sp_mc_deal *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->p != y->p)
		return x->p > y->p ? -1 : 1;
	return (x->cents > y->cents) - (x->cents < y->cents);
}

/* A distribution: n outcomes sorted by total, all totals distinct. */
typedef struct outcomes
{
	int64_t    *sum;
	double	   *prob;
	size_t		n;
} outcomes;

/*
 * out = acc merged with (dist shifted by `shift`, scaled by w): outcomes
 * sorted by total, equal totals added (acc's share first), impossible
 * ones dropped.  out must not be acc or dist.
 */
static void
merge_shifted(outcomes *out, const outcomes *acc, const outcomes *dist,
			  int64_t shift, double w)
{
	size_t		i = 0,
				j = 0,
				m = 0;

	while (i < acc->n || j < dist->n)
	{
		int64_t		s;
		double		pr;

		if (j >= dist->n || (i < acc->n && acc->sum[i] <= dist->sum[j] + shift))
		{
			s = acc->sum[i];
			pr = acc->prob[i++];
		}
		else
		{
			s = dist->sum[j] + shift;
			pr = dist->prob[j++] * w;
		}
		if (pr == 0.0)
			continue;
		if (m > 0 && out->sum[m - 1] == s)
			out->prob[m - 1] += pr;
		else
		{
			out->sum[m] = s;
			out->prob[m++] = pr;
		}
	}
	out->n = m;
}

/*
 * The distribution of the total, deal by deal.  A deal whose pairs have
 * probabilities q1 > q2 > ... > qm and amounts a1, ..., am wins nothing
 * with probability 1 − q1 and a1 + ... + aj with probability
 * qj − q(j+1) (q(m+1) = 0): one uniform draw per deal, and a pair is won
 * when the draw is under its probability.  With one probability p that is
 * lose with 1 − p, win the whole amount with p.  A deal of m pairs
 * multiplies the outcomes by at most m + 1 ≤ 2^m, so 2^nlisted bounds
 * every intermediate count.
 */
void
sp_mc_quantiles_exact(const sp_mc_state *st, void *scratch, double *out)
{
	sp_mc_deal	pairs[SP_MC_EXACT_DEALS];
	size_t		cap = (size_t) 1 << st->nlisted;
	int64_t    *sums = (int64_t *) ((char *) scratch + SP_MC_TRIALS * sizeof(int64_t));
	double	   *probs = (double *) (sums + 3 * cap);
	outcomes	buf[3],
			   *dist = &buf[0],
			   *acc = &buf[1],
			   *tmp = &buf[2],
			   *swap;
	int			first,
				last,
				i;

	for (i = 0; i < 3; i++)
	{
		buf[i].sum = sums + i * cap;
		buf[i].prob = probs + i * cap;
		buf[i].n = 0;
	}
	memcpy(pairs, st->listed, (size_t) st->nlisted * sizeof(sp_mc_deal));
	qsort(pairs, (size_t) st->nlisted, sizeof(sp_mc_deal), cmp_pair);
	dist->sum[0] = 0;
	dist->prob[0] = 1.0;
	dist->n = 1;
	for (first = 0; first < st->nlisted; first = last)
	{
		const outcomes none = {NULL, NULL, 0};
		int64_t		won = 0;

		for (last = first; last < st->nlisted && pairs[last].key == pairs[first].key; last++)
			;
		/* the deal wins nothing: every outcome scaled by 1 − q1 */
		merge_shifted(acc, &none, dist, 0, 1.0 - pairs[first].p);
		for (i = first; i < last; i++)
		{
			double		next = i + 1 < last ? pairs[i + 1].p : 0.0;

			won += pairs[i].cents;
			merge_shifted(tmp, acc, dist, won, pairs[i].p - next);
			swap = acc;
			acc = tmp;
			tmp = swap;
		}
		swap = dist;
		dist = acc;
		acc = swap;
	}

	for (i = 0; i < st->nquantiles; i++)
	{
		double		q = st->quantiles[i];
		double		cdf = 0.0;
		size_t		k = 0;

		if (q >= 1.0)
			k = dist->n - 1;
		else if (q > 0.0)
		{
			for (k = 0; k < dist->n - 1; k++)
			{
				cdf += dist->prob[k];
				if (cdf >= q)
					break;
			}
		}
		out[i] = (double) dist->sum[k] / SP_MC_UNITS;
	}
}

void
sp_mc_quantiles(const sp_mc_state *st, void *scratch, double *out)
{
	if (st->nlisted >= 0)
		sp_mc_quantiles_exact(st, scratch, out);
	else
		sp_mc_quantiles_simulated(st, scratch, out);
}

/*
 * Layout: u8 version (SP_MC_STATE_VERSION), u8 kind 'Q', u32 trials,
 * u64 rows, u64 pipeline, u64 certain, u32 nquantiles + 1, the quantiles
 * as IEEE doubles, u32 nlisted + 1, the listed pairs (u64 key, u64 cents,
 * IEEE double p; distinct (key, p), in no particular order), then the
 * trial totals.  Version 1 listed one entry per row: its deal list meant
 * something else, so its states are refused.
 */
size_t
sp_mc_encoded_size(const sp_mc_state *st)
{
	size_t		nq = st->nquantiles > 0 ? (size_t) st->nquantiles : 0;
	size_t		nl = st->nlisted > 0 ? (size_t) st->nlisted : 0;

	return 2 + 4 + 3 * 8 + 4 + 8 * nq + 4 + 24 * nl + 8 * (size_t) SP_MC_TRIALS;
}

void
sp_mc_encode(const sp_mc_state *st, uint8_t *out)
{
	int			i;

	out = sp_put_u8(out, SP_MC_STATE_VERSION);
	out = sp_put_u8(out, SP_MC_KIND);
	out = sp_put_u32(out, SP_MC_TRIALS);
	out = sp_put_u64(out, (uint64_t) st->rows);
	out = sp_put_u64(out, (uint64_t) st->pipeline);
	out = sp_put_u64(out, (uint64_t) st->certain);
	out = sp_put_u32(out, (uint32_t) (st->nquantiles + 1));
	for (i = 0; i < st->nquantiles; i++)
		out = sp_put_f64(out, st->quantiles[i]);
	out = sp_put_u32(out, (uint32_t) (st->nlisted + 1));
	for (i = 0; i < st->nlisted; i++)
	{
		out = sp_put_u64(out, st->listed[i].key);
		out = sp_put_u64(out, (uint64_t) st->listed[i].cents);
		out = sp_put_f64(out, st->listed[i].p);
	}
	for (i = 0; i < SP_MC_TRIALS; i++)
		out = sp_put_u64(out, (uint64_t) st->total[i]);
}

const char *
sp_mc_decode(sp_mc_state *st, const uint8_t *blob, size_t len)
{
	const uint8_t *p = blob;
	const uint8_t *end = blob + len;
	uint8_t		version,
				kind;
	uint32_t	trials,
				nq1;
	uint64_t	rows,
				pipeline,
				certain,
				listed_sum = 0,
				listed_certain = 0;
	uint32_t	i,
				nl1;

	if (!sp_get_u8(&p, end, &version))
		return "empty state";
	if (version != SP_MC_STATE_VERSION)
		return "unsupported state version";
	if (!sp_get_u8(&p, end, &kind) || !sp_get_u32(&p, end, &trials) ||
		!sp_get_u64(&p, end, &rows) || !sp_get_u64(&p, end, &pipeline) ||
		!sp_get_u64(&p, end, &certain) || !sp_get_u32(&p, end, &nq1))
		return "truncated state header";
	if (kind != SP_MC_KIND)
		return "state of another aggregate";
	if (trials != SP_MC_TRIALS)
		return "wrong number of trials";
	if (rows > (uint64_t) INT64_MAX || pipeline > (uint64_t) INT64_MAX ||
		certain > pipeline)
		return "totals out of range";
	if (nq1 > SP_MC_MAX_QUANTILES + 1)
		return "too many quantiles";
	st->rows = (int64_t) rows;
	st->pipeline = (int64_t) pipeline;
	st->certain = (int64_t) certain;
	st->nquantiles = (int32_t) nq1 - 1;
	for (i = 0; i + 1 < nq1; i++)
	{
		if (!sp_get_f64(&p, end, &st->quantiles[i]))
			return "truncated quantiles";
		if (!(st->quantiles[i] >= 0.0 && st->quantiles[i] <= 1.0))
			return "quantile out of range";
	}
	if (!sp_get_u32(&p, end, &nl1))
		return "truncated deal list";
	if (nl1 > SP_MC_EXACT_DEALS + 1)
		return "too many listed deals";
	/* each row lists a new pair or adds to one: 1 ≤ pairs ≤ rows, or none */
	if (nl1 > 0 && ((uint64_t) (nl1 - 1) > rows || (nl1 == 1) != (rows == 0)))
		return "deal list does not match the row count";
	st->nlisted = 0;
	for (i = 0; i + 1 < nl1; i++)
	{
		sp_mc_deal *d = &st->listed[i];
		uint64_t	cents;

		if (!sp_get_u64(&p, end, &d->key) || !sp_get_u64(&p, end, &cents) ||
			!sp_get_f64(&p, end, &d->p))
			return "truncated deal list";
		if (cents > pipeline - listed_sum || !sp_mc_probability_valid(d->p))
			return "listed deal out of range";
		if (d->p == 0.0)
			d->p = 0.0;
		if (find_listed(st, d->key, d->p) >= 0)
			return "deal listed twice with one probability";
		st->nlisted++;
		d->cents = (int64_t) cents;
		listed_sum += cents;
		if (win_threshold(d->p) >= (UINT64_C(1) << 32))
			listed_certain += cents;
	}
	st->nlisted = (int32_t) nl1 - 1;
	if (st->nlisted >= 0 && (listed_sum != pipeline || listed_certain != certain))
		return "deal list does not match the totals";
	if ((size_t) (end - p) != 8 * (size_t) SP_MC_TRIALS)
		return "wrong state length";
	for (i = 0; i < SP_MC_TRIALS; i++)
	{
		uint64_t	v;

		sp_get_u64(&p, end, &v);
		if (v > pipeline - certain)
			return "trial total out of range";
		st->total[i] = (int64_t) v;
	}
	return NULL;
}

void
sp_exact_pmf(const int64_t *amounts, const double *probs, int n, double *pmf)
{
	int64_t		reach = 0;
	int			d;

	pmf[0] = 1.0;
	for (d = 0; d < n; d++)
	{
		int64_t		a = amounts[d];
		double		p = probs[d];
		int64_t		s;

		/* new[s] = (1 - p) old[s] + p old[s - a], from the top down */
		for (s = reach + a; s >= 0; s--)
		{
			double		keep = s <= reach ? pmf[s] * (1.0 - p) : 0.0;
			double		win = (s - a >= 0 && s - a <= reach) ? pmf[s - a] * p : 0.0;

			pmf[s] = keep + win;
		}
		reach += a;
	}
}

int64_t
sp_pmf_quantile(const double *pmf, int64_t max_total, double q)
{
	double		cdf = 0.0;
	int64_t		s;

	for (s = 0; s <= max_total; s++)
	{
		cdf += pmf[s];
		if (pmf[s] > 0.0 && cdf >= q)
			return s;
	}
	/* rounding left the CDF a hair short of q: the largest possible total */
	for (s = max_total; s > 0; s--)
		if (pmf[s] > 0.0)
			break;
	return s;
}
