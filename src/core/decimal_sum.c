/*
 * decimal_sum.c — exact sums of non-negative base-10000 decimals.
 *
 * count[i] accumulates, without carrying, every digit that falls on power
 * lo + i of 10000.  `load` bounds every counter; before an addition could
 * push a counter past LOAD_LIMIT the counters are carried (each brought
 * back to 0..9999), so no counter ever overflows.  Values are never
 * negative, so carrying only moves amounts upwards.
 */
#include "decimal_sum.h"

#include <string.h>

/* Carry before any counter could exceed this (far below 2^63). */
#define LOAD_LIMIT		((int64_t) 1 << 61)
#define DIGIT_MAX		(SP_DEC_BASE - 1)
/* Powers kept free above a value for the carries of up to 2^63 additions. */
#define CARRY_ROOM		6

static int32_t
max_i32(int32_t a, int32_t b)
{
	return a > b ? a : b;
}

static int32_t
min_i32(int32_t a, int32_t b)
{
	return a < b ? a : b;
}

void
sp_decsum_init(sp_decsum *s, sp_dec_alloc_fn alloc, void *alloc_arg)
{
	s->count = NULL;
	s->lo = 0;
	s->len = 0;
	s->dscale = 0;
	s->load = 0;
	s->alloc = alloc;
	s->alloc_arg = alloc_arg;
}

void
sp_decsum_free(sp_decsum *s)
{
	if (s->count != NULL)
		s->alloc(s->alloc_arg, s->count, 0);
	s->count = NULL;
	s->len = 0;
	s->load = 0;
}

/* Makes the counters cover powers plo..phi (both within the supported range). */
static void
ensure_range(sp_decsum *s, int32_t plo, int32_t phi)
{
	int32_t		cur_hi = s->lo + s->len - 1;
	int32_t		new_lo,
				new_hi,
				new_len,
				shift;

	if (s->len > 0 && plo >= s->lo && phi <= cur_hi)
		return;
	if (s->len == 0)
	{
		new_lo = plo;
		new_hi = phi;
	}
	else
	{
		new_lo = min_i32(plo, s->lo);
		new_hi = max_i32(phi, cur_hi);
	}
	/* a little room above for carries, within the supported range */
	new_hi = min_i32(new_hi + 2, SP_DEC_POS_MAX);
	new_len = new_hi - new_lo + 1;
	shift = s->len > 0 ? s->lo - new_lo : 0;

	s->count = s->alloc(s->alloc_arg, s->count, (size_t) new_len * sizeof(int64_t));
	if (s->len > 0 && shift > 0)
		memmove(s->count + shift, s->count, (size_t) s->len * sizeof(int64_t));
	/* zero what is new: below the old block and above it */
	if (s->len > 0)
	{
		memset(s->count, 0, (size_t) shift * sizeof(int64_t));
		memset(s->count + shift + s->len, 0,
			   (size_t) (new_len - shift - s->len) * sizeof(int64_t));
	}
	else
		memset(s->count, 0, (size_t) new_len * sizeof(int64_t));
	s->lo = new_lo;
	s->len = new_len;
}

/* Carries every counter into 0..9999, growing upwards as needed. */
static void
carry(sp_decsum *s)
{
	int64_t		c = 0;
	int32_t		i;

	for (i = 0; i < s->len || c > 0; i++)
	{
		int64_t		v;

		if (i >= s->len)
			ensure_range(s, s->lo + i, s->lo + i);
		v = s->count[i] + c;
		s->count[i] = v % SP_DEC_BASE;
		c = v / SP_DEC_BASE;
	}
	s->load = DIGIT_MAX;
}

/* Makes room for an addition that raises counters by at most `rise`. */
static void
reserve_load(sp_decsum *s, int64_t rise)
{
	if (s->load > LOAD_LIMIT - rise)
		carry(s);
	s->load += rise;
}

static bool
digits_valid(const uint16_t *digits, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (digits[i] > DIGIT_MAX)
			return false;
	return true;
}

/* Drops zero digits at both ends; adjusts weight. */
static void
trim(const uint16_t **digits, int *n, int *weight)
{
	while (*n > 0 && (*digits)[0] == 0)
	{
		(*digits)++;
		(*n)--;
		(*weight)--;
	}
	while (*n > 0 && (*digits)[*n - 1] == 0)
		(*n)--;
}

static bool
powers_supported(int64_t plo, int64_t phi)
{
	return plo >= SP_DEC_POS_MIN && phi <= SP_DEC_POS_MAX - CARRY_ROOM;
}

bool
sp_decsum_add(sp_decsum *s, const uint16_t *digits, int ndigits,
			  int weight, int dscale)
{
	int64_t    *top;
	int			i;

	if (ndigits < 0 || dscale < 0 || dscale > SP_DEC_DSCALE_MAX ||
		!digits_valid(digits, ndigits))
		return false;
	trim(&digits, &ndigits, &weight);
	if (ndigits > 0)
	{
		if (!powers_supported((int64_t) weight - ndigits + 1, weight))
			return false;
		reserve_load(s, DIGIT_MAX);
		ensure_range(s, weight - ndigits + 1, weight);
		top = s->count + (weight - s->lo);
		for (i = 0; i < ndigits; i++)
			top[-i] += digits[i];
	}
	if (dscale > s->dscale)
		s->dscale = dscale;
	return true;
}

bool
sp_decsum_add_product(sp_decsum *s,
					  const uint16_t *a, int na, int weight_a, int dscale_a,
					  const uint16_t *b, int nb, int weight_b, int dscale_b)
{
	int			dscale;
	int			weight;
	int			i,
				j;

	if (na < 0 || nb < 0 || dscale_a < 0 || dscale_b < 0 ||
		!digits_valid(a, na) || !digits_valid(b, nb))
		return false;
	dscale = dscale_a + dscale_b;
	if (dscale > SP_DEC_DSCALE_MAX)
		return false;
	trim(&a, &na, &weight_a);
	trim(&b, &nb, &weight_b);
	if (na > 0 && nb > 0)
	{
		int64_t		rise;

		weight = weight_a + weight_b;
		if (!powers_supported((int64_t) weight - (na - 1) - (nb - 1), weight))
			return false;
		/* each power receives at most min(na, nb) digit products */
		rise = (int64_t) (na < nb ? na : nb) * DIGIT_MAX * DIGIT_MAX;
		reserve_load(s, rise);
		ensure_range(s, weight - (na - 1) - (nb - 1), weight);
		for (i = 0; i < na; i++)
		{
			int64_t    *row;
			int64_t		ai = a[i];

			if (ai == 0)
				continue;
			row = s->count + (weight - i - s->lo);
			for (j = 0; j < nb; j++)
				row[-j] += ai * b[j];
		}
	}
	if (dscale > s->dscale)
		s->dscale = dscale;
	return true;
}

bool
sp_decsum_merge(sp_decsum *s, const sp_decsum *other)
{
	int32_t		i;
	int64_t    *dst;

	if (other->len > 0)
	{
		reserve_load(s, other->load);
		ensure_range(s, other->lo, other->lo + other->len - 1);
		dst = s->count + (other->lo - s->lo);
		for (i = 0; i < other->len; i++)
			dst[i] += other->count[i];
		if (s->load > LOAD_LIMIT)
			carry(s);
	}
	if (other->dscale > s->dscale)
		s->dscale = other->dscale;
	return true;
}

bool
sp_decsum_is_zero(const sp_decsum *s)
{
	int32_t		i;

	for (i = 0; i < s->len; i++)
		if (s->count[i] != 0)
			return false;
	return true;
}

/*
 * Carried digits of the sum, lowest power first, into out (which holds
 * s->len + CARRY_ROOM entries); *out_lo is the power of out[0].  Trims zero
 * digits at both ends and returns how many remain.
 */
static int32_t
carried_digits(const sp_decsum *s, uint16_t *out, int32_t *out_lo)
{
	int64_t		c = 0;
	int32_t		n = 0;
	int32_t		first = 0;
	int32_t		i;

	for (i = 0; i < s->len || c > 0; i++)
	{
		int64_t		v = (i < s->len ? s->count[i] : 0) + c;

		out[n++] = (uint16_t) (v % SP_DEC_BASE);
		c = v / SP_DEC_BASE;
	}
	while (n > 0 && out[n - 1] == 0)
		n--;
	while (first < n && out[first] == 0)
		first++;
	if (first > 0)
		memmove(out, out + first, (size_t) (n - first) * sizeof(uint16_t));
	*out_lo = s->lo + first;
	return n - first;
}

static uint16_t *
scratch_digits(const sp_decsum *s)
{
	return s->alloc(s->alloc_arg, NULL,
					(size_t) (s->len + CARRY_ROOM) * sizeof(uint16_t));
}

size_t
sp_decsum_text_size(const sp_decsum *s)
{
	int64_t		int_powers = (int64_t) s->lo + s->len + CARRY_ROOM;

	if (int_powers < 1)
		int_powers = 1;
	/* integer digits, point, decimals, NUL */
	return (size_t) (4 * int_powers + 1 + s->dscale + 1);
}

void
sp_decsum_text(const sp_decsum *s, char *buf)
{
	uint16_t   *d = NULL;
	int32_t		n = 0;
	int32_t		dlo = 0;
	int32_t		top;
	int32_t		p;
	int			k;
	char	   *o = buf;

	if (s->len > 0)
	{
		d = scratch_digits(s);
		n = carried_digits(s, d, &dlo);
	}
	top = n > 0 ? dlo + n - 1 : -1;

	/* integer part */
	if (top < 0)
		*o++ = '0';
	else
	{
		for (p = top; p >= 0; p--)
		{
			unsigned	v = (p >= dlo && p < dlo + n) ? d[p - dlo] : 0;
			char		four[4];
			int			j;

			for (j = 3; j >= 0; j--)
			{
				four[j] = (char) ('0' + v % 10);
				v /= 10;
			}
			if (p == top)
			{
				/* no leading zeros on the first group */
				j = 0;
				while (j < 3 && four[j] == '0')
					j++;
				for (; j < 4; j++)
					*o++ = four[j];
			}
			else
			{
				memcpy(o, four, 4);
				o += 4;
			}
		}
	}

	/* exactly dscale decimals */
	if (s->dscale > 0)
	{
		*o++ = '.';
		for (k = 0; k < s->dscale; k++)
		{
			int32_t		power = -(k / 4) - 1;
			unsigned	v = (power >= dlo && power < dlo + n) ? d[power - dlo] : 0;
			int			place = 3 - k % 4;

			while (place-- > 0)
				v /= 10;
			*o++ = (char) ('0' + v % 10);
		}
	}
	*o = '\0';
	if (d != NULL)
		s->alloc(s->alloc_arg, d, 0);
}

/* ---- big-endian helpers ------------------------------------------------ */

uint8_t *
sp_put_u8(uint8_t *out, uint8_t v)
{
	*out = v;
	return out + 1;
}

uint8_t *
sp_put_u32(uint8_t *out, uint32_t v)
{
	out[0] = (uint8_t) (v >> 24);
	out[1] = (uint8_t) (v >> 16);
	out[2] = (uint8_t) (v >> 8);
	out[3] = (uint8_t) v;
	return out + 4;
}

uint8_t *
sp_put_u64(uint8_t *out, uint64_t v)
{
	out = sp_put_u32(out, (uint32_t) (v >> 32));
	return sp_put_u32(out, (uint32_t) v);
}

uint8_t *
sp_put_f64(uint8_t *out, double v)
{
	uint64_t	bits;

	memcpy(&bits, &v, sizeof(bits));
	return sp_put_u64(out, bits);
}

bool
sp_get_u8(const uint8_t **p, const uint8_t *end, uint8_t *v)
{
	if (end - *p < 1)
		return false;
	*v = **p;
	(*p)++;
	return true;
}

bool
sp_get_u32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	const uint8_t *b = *p;

	if (end - b < 4)
		return false;
	*v = ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) |
		((uint32_t) b[2] << 8) | (uint32_t) b[3];
	*p = b + 4;
	return true;
}

bool
sp_get_u64(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint32_t	hi,
				lo;

	if (!sp_get_u32(p, end, &hi))
		return false;
	if (!sp_get_u32(p, end, &lo))
	{
		*p -= 4;
		return false;
	}
	*v = ((uint64_t) hi << 32) | lo;
	return true;
}

bool
sp_get_f64(const uint8_t **p, const uint8_t *end, double *v)
{
	uint64_t	bits;

	if (!sp_get_u64(p, end, &bits))
		return false;
	memcpy(v, &bits, sizeof(bits));
	return true;
}

/* ---- serialized sums ----------------------------------------------------- */

size_t
sp_decsum_encoded_bound(const sp_decsum *s)
{
	return 12 + 2 * (size_t) (s->len + CARRY_ROOM);
}

uint8_t *
sp_decsum_encode(const sp_decsum *s, uint8_t *out)
{
	uint16_t   *d = NULL;
	int32_t		n = 0;
	int32_t		dlo = 0;
	int32_t		i;

	if (s->len > 0)
	{
		d = scratch_digits(s);
		n = carried_digits(s, d, &dlo);
	}
	if (n == 0)
		dlo = 0;
	out = sp_put_u32(out, (uint32_t) s->dscale);
	out = sp_put_u32(out, (uint32_t) dlo);
	out = sp_put_u32(out, (uint32_t) n);
	for (i = 0; i < n; i++)
	{
		*out++ = (uint8_t) (d[i] >> 8);
		*out++ = (uint8_t) d[i];
	}
	if (d != NULL)
		s->alloc(s->alloc_arg, d, 0);
	return out;
}

const char *
sp_decsum_decode(sp_decsum *s, const uint8_t **p, const uint8_t *end)
{
	uint32_t	u_dscale,
				u_lo,
				u_n;
	int32_t		dscale,
				lo,
				n,
				i;
	const uint8_t *b;

	if (!sp_get_u32(p, end, &u_dscale) || !sp_get_u32(p, end, &u_lo) ||
		!sp_get_u32(p, end, &u_n))
		return "truncated sum header";
	dscale = (int32_t) u_dscale;
	lo = (int32_t) u_lo;
	n = (int32_t) u_n;
	if (dscale < 0 || dscale > SP_DEC_DSCALE_MAX)
		return "display scale out of range";
	if (n < 0 || n > SP_DEC_POS_MAX - SP_DEC_POS_MIN)
		return "digit count out of range";
	if (n > 0 && !powers_supported(lo, (int64_t) lo + n - 1))
		return "digits out of range";
	if (n == 0 && lo != 0)
		return "empty sum with a position";
	if ((size_t) (end - *p) < 2 * (size_t) n)
		return "truncated sum digits";
	b = *p;
	for (i = 0; i < n; i++)
	{
		unsigned	v = ((unsigned) b[2 * i] << 8) | b[2 * i + 1];

		if (v > DIGIT_MAX)
			return "digit out of range";
		if ((i == 0 || i == n - 1) && v == 0)
			return "untrimmed digits";
	}
	if (n > 0 && lo < 0)
	{
		/* no nonzero decimal beyond the display scale */
		unsigned	low = ((unsigned) b[0] << 8) | b[1];
		int			places = 4 * -lo;

		while (low % 10 == 0)
		{
			low /= 10;
			places--;
		}
		if (places > dscale)
			return "digits beyond the display scale";
	}
	if (n > 0)
	{
		ensure_range(s, lo, lo + n - 1);
		for (i = 0; i < n; i++)
			s->count[lo - s->lo + i] = ((int64_t) b[2 * i] << 8) | b[2 * i + 1];
		s->load = DIGIT_MAX;
	}
	s->dscale = dscale;
	*p = b + 2 * (size_t) n;
	return NULL;
}

/* ---- weighted pipeline / forecast summary states ---------------------- */

void
sp_sums_init(sp_sums_state *st, int nsums, sp_dec_alloc_fn alloc, void *alloc_arg)
{
	int			i;

	st->rows = 0;
	st->added = 0;
	st->nsums = nsums;
	for (i = 0; i < SP_SUMS_MAX; i++)
		sp_decsum_init(&st->sum[i], alloc, alloc_arg);
}

bool
sp_sums_merge(sp_sums_state *st, const sp_sums_state *other)
{
	int			i;

	if (st->nsums != other->nsums ||
		st->rows > INT64_MAX - other->rows ||
		st->added > INT64_MAX - other->added)
		return false;
	st->rows += other->rows;
	st->added += other->added;
	for (i = 0; i < st->nsums; i++)
		if (!sp_decsum_merge(&st->sum[i], &other->sum[i]))
			return false;
	return true;
}

size_t
sp_sums_encoded_bound(const sp_sums_state *st)
{
	size_t		size = 3 + 8 + 8;
	int			i;

	for (i = 0; i < st->nsums; i++)
		size += sp_decsum_encoded_bound(&st->sum[i]);
	return size;
}

size_t
sp_sums_encode(const sp_sums_state *st, uint8_t kind, uint8_t *out)
{
	uint8_t    *o = out;
	int			i;

	o = sp_put_u8(o, SP_STATE_VERSION);
	o = sp_put_u8(o, kind);
	o = sp_put_u8(o, (uint8_t) st->nsums);
	o = sp_put_u64(o, (uint64_t) st->rows);
	o = sp_put_u64(o, (uint64_t) st->added);
	for (i = 0; i < st->nsums; i++)
		o = sp_decsum_encode(&st->sum[i], o);
	return (size_t) (o - out);
}

const char *
sp_sums_decode(sp_sums_state *st, uint8_t kind, const uint8_t *blob, size_t len)
{
	const uint8_t *p = blob;
	const uint8_t *end = blob + len;
	uint8_t		version,
				got_kind,
				nsums;
	uint64_t	rows,
				added;
	int			i;

	if (!sp_get_u8(&p, end, &version))
		return "empty state";
	if (version != SP_STATE_VERSION)
		return "unsupported state version";
	if (!sp_get_u8(&p, end, &got_kind) || !sp_get_u8(&p, end, &nsums) ||
		!sp_get_u64(&p, end, &rows) || !sp_get_u64(&p, end, &added))
		return "truncated state header";
	if (got_kind != kind)
		return "state of another aggregate";
	if (nsums != st->nsums)
		return "wrong number of sums";
	if (rows > (uint64_t) INT64_MAX || added > rows)
		return "row counts out of range";
	st->rows = (int64_t) rows;
	st->added = (int64_t) added;
	for (i = 0; i < st->nsums; i++)
	{
		const char *why = sp_decsum_decode(&st->sum[i], &p, end);

		if (why != NULL)
			return why;
	}
	if (p != end)
		return "trailing bytes after state";
	return NULL;
}
