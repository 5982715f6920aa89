/*
 * velocity.c — sales velocity state and arithmetic.
 */
#include "velocity.h"

#include <math.h>

void
sp_velocity_init(sp_velocity_state *st, sp_dec_alloc_fn alloc, void *alloc_arg)
{
	st->rows = 0;
	st->won = 0;
	st->lost = 0;
	st->amount_rows = 0;
	st->cycle_rows = 0;
	st->cycle_hi = 0;
	st->cycle_lo = 0;
	sp_decsum_init(&st->won_amount, alloc, alloc_arg);
}

static void
add_u128(uint64_t *hi, uint64_t *lo, uint64_t add_hi, uint64_t add_lo)
{
	uint64_t	sum = *lo + add_lo;

	*hi += add_hi + (sum < add_lo);
	*lo = sum;
}

void
sp_velocity_add_cycle(sp_velocity_state *st, uint64_t usecs)
{
	add_u128(&st->cycle_hi, &st->cycle_lo, 0, usecs);
	st->cycle_rows++;
}

static bool
add_count(int64_t *a, int64_t b)
{
	if (*a > INT64_MAX - b)
		return false;
	*a += b;
	return true;
}

bool
sp_velocity_merge(sp_velocity_state *st, const sp_velocity_state *other)
{
	if (!add_count(&st->rows, other->rows) ||
		!add_count(&st->won, other->won) ||
		!add_count(&st->lost, other->lost) ||
		!add_count(&st->amount_rows, other->amount_rows) ||
		!add_count(&st->cycle_rows, other->cycle_rows))
		return false;
	add_u128(&st->cycle_hi, &st->cycle_lo, other->cycle_hi, other->cycle_lo);
	return sp_decsum_merge(&st->won_amount, &other->won_amount);
}

double
sp_velocity_cycle_days_sum(const sp_velocity_state *st)
{
	/* whole days and the remainder, each exact before the one rounding */
	uint64_t	days_hi = st->cycle_hi / (uint64_t) SP_USECS_PER_DAY;
	uint64_t	rem_hi = st->cycle_hi % (uint64_t) SP_USECS_PER_DAY;
	double		days;

	/*
	 * (hi × 2^64 + lo) / D = days_hi × 2^64 + (rem_hi × 2^64 + lo) / D; the
	 * second term is evaluated in long double-free doubles: rem_hi < D <
	 * 2^37, so rem_hi × 2^64 + lo is below 2^101 and rounds once.
	 */
	days = ldexp((double) days_hi, 64) +
		(ldexp((double) rem_hi, 64) + (double) st->cycle_lo) / (double) SP_USECS_PER_DAY;
	return days;
}

void
sp_velocity_compute(const sp_velocity_state *st, bool has_avg_amount,
					double avg_amount, sp_velocity_result *out)
{
	int64_t		closed = st->won + st->lost;

	out->has_win_rate = closed > 0;
	out->win_rate = out->has_win_rate ? (double) st->won / (double) closed : 0.0;

	out->has_cycle = st->cycle_rows > 0;
	out->avg_cycle_days = out->has_cycle ?
		sp_velocity_cycle_days_sum(st) / (double) st->cycle_rows : 0.0;

	out->has_velocity = st->rows > 0 && out->has_win_rate && has_avg_amount &&
		out->has_cycle && out->avg_cycle_days > 0.0;
	if (out->has_velocity)
	{
		out->per_day = (double) st->rows * out->win_rate * avg_amount /
			out->avg_cycle_days;
		out->per_month = out->per_day * 365.25 / 12.0;
	}
	else
	{
		out->per_day = 0.0;
		out->per_month = 0.0;
	}
}

/*
 * Layout: u8 version, u8 kind 'V', u64 rows, won, lost, amount_rows,
 * cycle_rows, cycle_hi, cycle_lo, then the won-amount sum.
 */
size_t
sp_velocity_encoded_bound(const sp_velocity_state *st)
{
	return 2 + 7 * 8 + sp_decsum_encoded_bound(&st->won_amount);
}

size_t
sp_velocity_encode(const sp_velocity_state *st, uint8_t *out)
{
	uint8_t    *o = out;

	o = sp_put_u8(o, SP_STATE_VERSION);
	o = sp_put_u8(o, SP_VELOCITY_KIND);
	o = sp_put_u64(o, (uint64_t) st->rows);
	o = sp_put_u64(o, (uint64_t) st->won);
	o = sp_put_u64(o, (uint64_t) st->lost);
	o = sp_put_u64(o, (uint64_t) st->amount_rows);
	o = sp_put_u64(o, (uint64_t) st->cycle_rows);
	o = sp_put_u64(o, st->cycle_hi);
	o = sp_put_u64(o, st->cycle_lo);
	o = sp_decsum_encode(&st->won_amount, o);
	return (size_t) (o - out);
}

const char *
sp_velocity_decode(sp_velocity_state *st, const uint8_t *blob, size_t len)
{
	const uint8_t *p = blob;
	const uint8_t *end = blob + len;
	uint8_t		version,
				kind;
	uint64_t	c[5];
	const char *why;
	int			i;

	if (!sp_get_u8(&p, end, &version))
		return "empty state";
	if (version != SP_STATE_VERSION)
		return "unsupported state version";
	if (!sp_get_u8(&p, end, &kind))
		return "truncated state header";
	if (kind != SP_VELOCITY_KIND)
		return "state of another aggregate";
	for (i = 0; i < 5; i++)
		if (!sp_get_u64(&p, end, &c[i]))
			return "truncated state header";
	if (!sp_get_u64(&p, end, &st->cycle_hi) || !sp_get_u64(&p, end, &st->cycle_lo))
		return "truncated state header";
	/* rows ≥ won + lost, won ≥ amount_rows and won ≥ cycle_rows */
	if (c[0] > (uint64_t) INT64_MAX || c[1] > c[0] || c[2] > c[0] - c[1] ||
		c[3] > c[1] || c[4] > c[1])
		return "inconsistent counts";
	if (c[4] == 0 && (st->cycle_hi != 0 || st->cycle_lo != 0))
		return "cycle time without cycles";
	st->rows = (int64_t) c[0];
	st->won = (int64_t) c[1];
	st->lost = (int64_t) c[2];
	st->amount_rows = (int64_t) c[3];
	st->cycle_rows = (int64_t) c[4];
	why = sp_decsum_decode(&st->won_amount, &p, end);
	if (why != NULL)
		return why;
	if (c[3] == 0 && !sp_decsum_is_zero(&st->won_amount))
		return "won amount without won rows";
	if (p != end)
		return "trailing bytes after state";
	return NULL;
}
