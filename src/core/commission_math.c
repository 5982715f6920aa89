/*
 * commission_math.c — tiered commission and payout curves on exact
 * decimals (see commission_math.h).
 *
 * Values are (coef, scale) pairs with a signed 128-bit coefficient.  Two
 * values are brought to a common scale by multiplying the coefficient of
 * the one with fewer decimals by a power of ten; every such step and every
 * sum and product goes through the checked helpers below, so a result is
 * either exact or SP_CM_OVERFLOW.
 */
#include "commission_math.h"

#include <string.h>

#define I128_MAX	((__int128) (((unsigned __int128) 1 << 127) - 1))
#define I128_MIN	(-I128_MAX - 1)

static bool
mul_ok(__int128 a, __int128 b, __int128 *r)
{
	return !__builtin_mul_overflow(a, b, r);
}

static bool
add_ok(__int128 a, __int128 b, __int128 *r)
{
	return !__builtin_add_overflow(a, b, r);
}

static bool
sub_ok(__int128 a, __int128 b, __int128 *r)
{
	return !__builtin_sub_overflow(a, b, r);
}

/* 10^k for 0 <= k <= 38; false beyond what fits. */
static bool
pow10_ok(int k, __int128 *r)
{
	__int128	p = 1;

	if (k < 0)
		return false;
	while (k-- > 0)
		if (!mul_ok(p, 10, &p))
			return false;
	*r = p;
	return true;
}

/* Coefficient of v at scale s (s >= v.scale); false if it does not fit. */
static bool
at_scale(sp_cm_dec v, int s, __int128 *r)
{
	__int128	f;

	if (s < v.scale)
		return false;
	if (v.coef == 0)
	{
		*r = 0;
		return true;
	}
	return pow10_ok(s - v.scale, &f) && mul_ok(v.coef, f, r);
}

static int
max_int(int a, int b)
{
	return a > b ? a : b;
}

static int
cmp_i128(__int128 a, __int128 b)
{
	return (a > b) - (a < b);
}

/* ---- text ------------------------------------------------------------- */

sp_cm_status
sp_cm_parse(const char *text, sp_cm_dec *out)
{
	const char *p = text;
	const char *digits;
	bool		negative = false;
	int			int_digits = 0;
	int			frac_digits = 0;
	bool		point = false;
	__int128	c = 0;

	if (*p == '-')
	{
		negative = true;
		p++;
	}
	digits = p;
	for (; *p != '\0'; p++)
	{
		if (*p == '.')
		{
			if (point || int_digits == 0)
				return SP_CM_SYNTAX;
			point = true;
		}
		else if (*p >= '0' && *p <= '9')
		{
			if (point)
				frac_digits++;
			else
				int_digits++;
		}
		else
			return SP_CM_SYNTAX;
	}
	if (int_digits == 0 || (point && frac_digits == 0))
		return SP_CM_SYNTAX;
	if (frac_digits > SP_CM_SCALE_MAX)
		return SP_CM_TOO_PRECISE;

	/* accumulate below zero, so that the most negative value fits too */
	for (p = digits; *p != '\0'; p++)
	{
		if (*p == '.')
			continue;
		if (!mul_ok(c, 10, &c) || !sub_ok(c, *p - '0', &c))
			return SP_CM_OVERFLOW;
	}
	if (!negative && !sub_ok(0, c, &c))
		return SP_CM_OVERFLOW;
	out->coef = c;
	out->scale = frac_digits;
	return SP_CM_OK;
}

void
sp_cm_format(sp_cm_dec v, char *buf)
{
	unsigned __int128 m;
	char		rev[2 * SP_CM_SCALE_MAX + 48];
	int			n = 0;
	int			scale = v.scale < 0 ? 0 : v.scale;
	char	   *o = buf;

	if (scale > 2 * SP_CM_SCALE_MAX)
		scale = 2 * SP_CM_SCALE_MAX;
	m = v.coef < 0 ? -(unsigned __int128) v.coef : (unsigned __int128) v.coef;
	do
	{
		rev[n++] = (char) ('0' + (int) (m % 10));
		m /= 10;
	} while (m > 0);
	/* at least one digit before the point */
	while (n < scale + 1)
		rev[n++] = '0';
	if (v.coef < 0)
		*o++ = '-';
	while (n > 0)
	{
		if (n == scale)
			*o++ = '.';
		*o++ = rev[--n];
	}
	*o = '\0';
}

int
sp_cm_cmp(sp_cm_dec a, sp_cm_dec b)
{
	__int128	x;

	if (a.scale == b.scale)
		return cmp_i128(a.coef, b.coef);
	if (a.scale > b.scale)
		return -sp_cm_cmp(b, a);
	/* a has fewer decimals; if it does not fit at b's scale it is larger in size */
	if (!at_scale(a, b.scale, &x))
		return a.coef > 0 ? 1 : -1;
	return cmp_i128(x, b.coef);
}

bool
sp_cm_div_round(__int128 num, __int128 den, __int128 *quotient)
{
	__int128	q,
				r;
	unsigned __int128 ar,
				ad;

	if (den == 0 || (num == I128_MIN && den == -1))
		return false;
	q = num / den;
	r = num % den;
	ar = r < 0 ? -(unsigned __int128) r : (unsigned __int128) r;
	ad = den < 0 ? -(unsigned __int128) den : (unsigned __int128) den;
	/* |r| >= |den| / 2, written so that nothing overflows */
	if (r != 0 && ar >= ad - ar)
		q += ((num < 0) != (den < 0)) ? -1 : 1;
	*quotient = q;
	return true;
}

/* ---- tiers ------------------------------------------------------------ */

sp_cm_status
sp_cm_check_tiers(const sp_cm_dec *breakpoints, size_t nb,
				  const sp_cm_dec *rates, size_t nr, size_t *bad)
{
	size_t		i;

	*bad = 0;
	if (nb == 0 || nr == 0)
		return SP_CM_EMPTY;
	if (nb != nr)
		return SP_CM_LENGTH_MISMATCH;
	if (breakpoints[0].coef != 0)
		return SP_CM_FIRST_NOT_ZERO;
	for (i = 1; i < nb; i++)
		if (sp_cm_cmp(breakpoints[i], breakpoints[i - 1]) <= 0)
		{
			*bad = i;
			return SP_CM_NOT_ASCENDING;
		}
	for (i = 0; i < nr; i++)
		if (rates[i].coef < 0)
		{
			*bad = i;
			return SP_CM_NEGATIVE_RATE;
		}
	return SP_CM_OK;
}

/* amount × rate at the result scale; both already at their scales. */
static sp_cm_status
times_rate(__int128 amount, const sp_cm_dec *rate, int rate_scale, __int128 *r)
{
	__int128	rc;

	if (!at_scale(*rate, rate_scale, &rc) || !mul_ok(amount, rc, r))
		return SP_CM_OVERFLOW;
	return SP_CM_OK;
}

sp_cm_status
sp_cm_tiered(sp_cm_dec amount,
			 const sp_cm_dec *breakpoints, size_t nb,
			 const sp_cm_dec *rates, size_t nr,
			 bool retroactive, sp_cm_dec *result, size_t *bad)
{
	sp_cm_status st = sp_cm_check_tiers(breakpoints, nb, rates, nr, bad);
	int			s = amount.scale;	/* scale of amounts and breakpoints */
	int			sr = 0;			/* scale of rates */
	__int128	a;
	__int128	sum = 0;
	size_t		i;

	if (st != SP_CM_OK)
		return st;
	for (i = 0; i < nb; i++)
	{
		s = max_int(s, breakpoints[i].scale);
		sr = max_int(sr, rates[i].scale);
	}
	if (!at_scale(amount, s, &a))
		return SP_CM_OVERFLOW;

	/*
	 * A breakpoint that does not fit at scale s is above every amount that
	 * does (breakpoints are >= 0), so it is treated as out of reach.
	 */
	if (a < 0)
		st = times_rate(a, &rates[0], sr, &sum);
	else if (retroactive)
	{
		size_t		k = 0;
		__int128	lo;

		for (i = 1; i < nb; i++)
		{
			if (!at_scale(breakpoints[i], s, &lo) || lo > a)
				break;
			k = i;
		}
		st = times_rate(a, &rates[k], sr, &sum);
	}
	else
	{
		for (i = 0; i < nb && st == SP_CM_OK; i++)
		{
			__int128	lo,
						hi = a,
						next,
						part;

			if (!at_scale(breakpoints[i], s, &lo) || lo >= a)
				break;
			if (i + 1 < nb && at_scale(breakpoints[i + 1], s, &next) && next < a)
				hi = next;
			/* 0 <= lo < hi: the slice cannot overflow */
			st = times_rate(hi - lo, &rates[i], sr, &part);
			if (st == SP_CM_OK && !add_ok(sum, part, &sum))
				st = SP_CM_OVERFLOW;
		}
	}
	if (st != SP_CM_OK)
		return st;
	result->coef = sum;
	result->scale = s + sr;
	return SP_CM_OK;
}

/* ---- payout curves ---------------------------------------------------- */

sp_cm_status
sp_cm_check_curve(const sp_cm_dec *xs, size_t nx,
				  const sp_cm_dec *ys, size_t ny, size_t *bad)
{
	size_t		i;

	*bad = 0;
	if (nx == 0 || ny == 0)
		return SP_CM_EMPTY;
	if (nx != ny)
		return SP_CM_LENGTH_MISMATCH;
	for (i = 1; i < nx; i++)
		if (sp_cm_cmp(xs[i], xs[i - 1]) <= 0)
		{
			*bad = i;
			return SP_CM_NOT_ASCENDING;
		}
	for (i = 0; i < ny; i++)
		if (ys[i].coef < 0)
		{
			*bad = i;
			return SP_CM_NEGATIVE_Y;
		}
	return SP_CM_OK;
}

static unsigned __int128
gcd_u128(unsigned __int128 a, unsigned __int128 b)
{
	while (b != 0)
	{
		unsigned __int128 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The curve strictly between (x0, y0) and (x1, y1), x0 < a < x1. */
static sp_cm_status
interpolate(sp_cm_dec a, sp_cm_dec x0, sp_cm_dec x1, sp_cm_dec y0, sp_cm_dec y1,
			sp_cm_dec *result)
{
	int			sx = max_int(a.scale, max_int(x0.scale, x1.scale));
	int			sy = max_int(y0.scale, y1.scale);
	int			scale = max_int(SP_CM_CURVE_SCALE, sy);
	__int128	ac,
				x0c,
				x1c,
				y0c,
				y1c,
				t,
				dx,
				dy,
				f,
				base,
				rise,
				num,
				q;
	unsigned __int128 g;

	if (!at_scale(a, sx, &ac) || !at_scale(x0, sx, &x0c) || !at_scale(x1, sx, &x1c) ||
		!at_scale(y0, sy, &y0c) || !at_scale(y1, sy, &y1c) ||
		!sub_ok(ac, x0c, &t) || !sub_ok(x1c, x0c, &dx) || !sub_ok(y1c, y0c, &dy))
		return SP_CM_OVERFLOW;
	/* t and dx are > 0: reduce t / dx to keep the products small */
	g = gcd_u128((unsigned __int128) t, (unsigned __int128) dx);
	t /= (__int128) g;
	dx /= (__int128) g;

	/* (y0 × dx + dy × t) × 10^(scale - sy) / dx, rounded once */
	if (!pow10_ok(scale - sy, &f) ||
		!mul_ok(y0c, dx, &base) || !mul_ok(dy, t, &rise) ||
		!add_ok(base, rise, &num) || !mul_ok(num, f, &num) ||
		!sp_cm_div_round(num, dx, &q))
		return SP_CM_OVERFLOW;
	while (scale > sy && q % 10 == 0)
	{
		q /= 10;
		scale--;
	}
	result->coef = q;
	result->scale = scale;
	return SP_CM_OK;
}

sp_cm_status
sp_cm_curve(sp_cm_dec attainment,
			const sp_cm_dec *xs, size_t nx,
			const sp_cm_dec *ys, size_t ny,
			sp_cm_dec *result, size_t *bad)
{
	sp_cm_status st = sp_cm_check_curve(xs, nx, ys, ny, bad);
	size_t		i;

	if (st != SP_CM_OK)
		return st;
	if (sp_cm_cmp(attainment, xs[0]) <= 0)
	{
		*result = ys[0];
		return SP_CM_OK;
	}
	for (i = 1; i < nx; i++)
	{
		int			c = sp_cm_cmp(attainment, xs[i]);

		if (c == 0)
		{
			*result = ys[i];
			return SP_CM_OK;
		}
		if (c < 0)
			return interpolate(attainment, xs[i - 1], xs[i], ys[i - 1], ys[i], result);
	}
	*result = ys[nx - 1];
	return SP_CM_OK;
}
