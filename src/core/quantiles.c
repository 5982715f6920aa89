/*
 * quantiles.c — the Monte Carlo state of forecast_quantiles.
 */
#include "quantiles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decimal_sum.h"		/* big-endian helpers, SP_STATE_VERSION */
#include "rng.h"

void
sp_mc_init(sp_mc_state *st)
{
	st->deals = 0;
	st->pipeline = 0;
	st->certain = 0;
	st->nquantiles = -1;
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

sp_mc_status
sp_mc_add_deal(sp_mc_state *st, uint64_t key_hash, int64_t cents, double p)
{
	uint64_t	threshold;
	int64_t    *t = st->total;
	uint32_t	i;

	if (st->pipeline > INT64_MAX - cents)
		return SP_MC_OVERFLOW;
	st->pipeline += cents;
	st->deals++;
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
	st->deals += other->deals;
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

void
sp_mc_quantiles(const sp_mc_state *st, int64_t *scratch, double *out)
{
	int			i;

	memcpy(scratch, st->total, sizeof(st->total));
	qsort(scratch, SP_MC_TRIALS, sizeof(int64_t), cmp_int64);
	for (i = 0; i < st->nquantiles; i++)
	{
		int64_t		cents = st->certain +
			scratch[sp_mc_quantile_index(st->quantiles[i], SP_MC_TRIALS)];

		out[i] = (double) cents / SP_MC_UNITS;
	}
}

/*
 * Layout: u8 version, u8 kind 'Q', u32 trials, u64 deals, u64 pipeline,
 * u64 certain, u32 nquantiles + 1, the quantiles as IEEE doubles, then
 * the trial totals.
 */
size_t
sp_mc_encoded_size(const sp_mc_state *st)
{
	size_t		nq = st->nquantiles > 0 ? (size_t) st->nquantiles : 0;

	return 2 + 4 + 3 * 8 + 4 + 8 * nq + 8 * (size_t) SP_MC_TRIALS;
}

void
sp_mc_encode(const sp_mc_state *st, uint8_t *out)
{
	int			i;

	out = sp_put_u8(out, SP_STATE_VERSION);
	out = sp_put_u8(out, SP_MC_KIND);
	out = sp_put_u32(out, SP_MC_TRIALS);
	out = sp_put_u64(out, (uint64_t) st->deals);
	out = sp_put_u64(out, (uint64_t) st->pipeline);
	out = sp_put_u64(out, (uint64_t) st->certain);
	out = sp_put_u32(out, (uint32_t) (st->nquantiles + 1));
	for (i = 0; i < st->nquantiles; i++)
		out = sp_put_f64(out, st->quantiles[i]);
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
	uint64_t	deals,
				pipeline,
				certain;
	uint32_t	i;

	if (!sp_get_u8(&p, end, &version))
		return "empty state";
	if (version != SP_STATE_VERSION)
		return "unsupported state version";
	if (!sp_get_u8(&p, end, &kind) || !sp_get_u32(&p, end, &trials) ||
		!sp_get_u64(&p, end, &deals) || !sp_get_u64(&p, end, &pipeline) ||
		!sp_get_u64(&p, end, &certain) || !sp_get_u32(&p, end, &nq1))
		return "truncated state header";
	if (kind != SP_MC_KIND)
		return "state of another aggregate";
	if (trials != SP_MC_TRIALS)
		return "wrong number of trials";
	if (deals > (uint64_t) INT64_MAX || pipeline > (uint64_t) INT64_MAX ||
		certain > pipeline)
		return "totals out of range";
	if (nq1 > SP_MC_MAX_QUANTILES + 1)
		return "too many quantiles";
	if ((size_t) (end - p) != 8 * (size_t) (nq1 > 0 ? nq1 - 1 : 0) +
		8 * (size_t) SP_MC_TRIALS)
		return "wrong state length";
	st->deals = (int64_t) deals;
	st->pipeline = (int64_t) pipeline;
	st->certain = (int64_t) certain;
	st->nquantiles = (int32_t) nq1 - 1;
	for (i = 0; i + 1 < nq1; i++)
	{
		sp_get_f64(&p, end, &st->quantiles[i]);
		if (!(st->quantiles[i] >= 0.0 && st->quantiles[i] <= 1.0))
			return "quantile out of range";
	}
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
