/*
 * test_decimal_sum.c — cmocka tests of the exact decimal accumulator
 * (src/core/decimal_sum.c) used by the pipeline aggregates, and fuzzing of
 * the weighted_pipeline / forecast_summary state decoder.
 *
 * Small expected values are worked out by hand in the comments; random
 * sums are checked against a 128-bit fixed-point reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decimal_sum.h"

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

/* Deterministic pseudo-random numbers for the tests (xorshift64*). */
static uint64_t rng_state = 88172645463325252ULL;

static uint64_t
next_u64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static char *
text_of(const sp_decsum *s)
{
	char	   *buf = malloc(sp_decsum_text_size(s));

	sp_decsum_text(s, buf);
	return buf;
}

static void
assert_text(const sp_decsum *s, const char *expected)
{
	char	   *t = text_of(s);

	assert_string_equal(t, expected);
	free(t);
}

/* Digits of a non-negative value given as "int.frac", like numeric does. */
typedef struct num
{
	uint16_t	d[64];
	int			n;
	int			weight;
	int			dscale;
} num;

static num
parse(const char *s)
{
	num			r;
	char		intpart[300] = "",
				frac[300] = "";
	const char *dot = strchr(s, '.');
	int			ilen,
				flen,
				groups_int,
				groups_frac,
				g;
	char		padded[700];

	if (dot)
	{
		memcpy(intpart, s, dot - s);
		intpart[dot - s] = '\0';
		strcpy(frac, dot + 1);
	}
	else
		strcpy(intpart, s);
	ilen = (int) strlen(intpart);
	flen = (int) strlen(frac);
	r.dscale = flen;
	groups_int = (ilen + 3) / 4;
	groups_frac = (flen + 3) / 4;
	/* left-pad the integer part and right-pad the fraction to groups of 4 */
	memset(padded, '0', sizeof(padded));
	memcpy(padded + groups_int * 4 - ilen, intpart, ilen);
	memcpy(padded + groups_int * 4, frac, flen);
	r.n = groups_int + groups_frac;
	r.weight = groups_int - 1;
	for (g = 0; g < r.n; g++)
	{
		char		four[5];

		memcpy(four, padded + 4 * g, 4);
		four[4] = '\0';
		r.d[g] = (uint16_t) atoi(four);
	}
	return r;
}

static void
add(sp_decsum *s, const char *value)
{
	num			v = parse(value);

	assert_true(sp_decsum_add(s, v.d, v.n, v.weight, v.dscale));
}

static void
add_product(sp_decsum *s, const char *a, const char *b)
{
	num			x = parse(a);
	num			y = parse(b);

	assert_true(sp_decsum_add_product(s, x.d, x.n, x.weight, x.dscale,
									  y.d, y.n, y.weight, y.dscale));
}

static void
test_simple_sums(void **unused)
{
	sp_decsum	s;

	sp_decsum_init(&s, test_alloc, NULL);
	assert_text(&s, "0");
	add(&s, "1234.5678");
	add(&s, "0.01");
	/* 1234.5678 + 0.01 = 1234.5778 */
	assert_text(&s, "1234.5778");
	add(&s, "8765.4222");
	/* 1234.5778 + 8765.4222 = 10000.0000: a carry across two groups */
	assert_text(&s, "10000.0000");
	sp_decsum_free(&s);
}

static void
test_display_scale(void **unused)
{
	sp_decsum	s;

	sp_decsum_init(&s, test_alloc, NULL);
	add(&s, "0.00");
	/* like sum(numeric): the result keeps the largest scale seen */
	assert_text(&s, "0.00");
	add(&s, "100");
	add(&s, "0.5");
	assert_text(&s, "100.50");
	add(&s, "0.000000000000000000000000000000000000001");
	assert_text(&s, "100.500000000000000000000000000000000000001");
	sp_decsum_free(&s);
}

static void
test_products(void **unused)
{
	sp_decsum	s;

	sp_decsum_init(&s, test_alloc, NULL);
	add_product(&s, "1000.00", "0.5");
	/* 1000.00 × 0.5 = 500.000 (scale 2 + 1) */
	assert_text(&s, "500.000");
	add_product(&s, "33.333", "0.25");
	/* 33.333 × 0.25 = 8.33325; 500 + 8.33325 = 508.33325 */
	assert_text(&s, "508.33325");
	add_product(&s, "99999999.9999", "1");
	/* + 99999999.9999 = 100000508.33315 */
	assert_text(&s, "100000508.33315");
	add_product(&s, "0", "0.7");
	add_product(&s, "12", "0");
	assert_text(&s, "100000508.33315");
	sp_decsum_free(&s);
}

/* Reference: unsigned 128-bit integer printed with `scale` decimals. */
static void
u128_text(unsigned __int128 v, int scale, char *out)
{
	char		rev[64];
	int			n = 0,
				i,
				o = 0;

	do
	{
		rev[n++] = (char) ('0' + (int) (v % 10));
		v /= 10;
	} while (v > 0);
	while (n <= scale)
		rev[n++] = '0';
	for (i = n - 1; i >= 0; i--)
	{
		out[o++] = rev[i];
		if (i == scale && scale > 0)
			out[o++] = '.';
	}
	out[o] = '\0';
}

static void
test_random_products_against_reference(void **unused)
{
	int			round;

	for (round = 0; round < 50; round++)
	{
		sp_decsum	s;
		unsigned __int128 ref = 0;	/* units of 1e-6 */
		char		expected[80];
		int			i;

		sp_decsum_init(&s, test_alloc, NULL);
		for (i = 0; i < 2000; i++)
		{
			uint64_t	cents = next_u64() % UINT64_C(100000000000000);	/* < 1e12 */
			uint64_t	prob = next_u64() % 10001;	/* 0.0000 .. 1.0000 */
			char		a[40],
						p[40];

			snprintf(a, sizeof(a), "%llu.%02llu",
					 (unsigned long long) (cents / 100), (unsigned long long) (cents % 100));
			snprintf(p, sizeof(p), "%llu.%04llu",
					 (unsigned long long) (prob / 10000), (unsigned long long) (prob % 10000));
			add_product(&s, a, p);
			ref += (unsigned __int128) cents * prob;
		}
		u128_text(ref, 6, expected);
		assert_text(&s, expected);
		sp_decsum_free(&s);
	}
}

static void
test_forced_carry(void **unused)
{
	sp_decsum	s;
	int			i;

	sp_decsum_init(&s, test_alloc, NULL);
	for (i = 0; i < 1000; i++)
		add(&s, "9999.9999");
	/* pretend the counters are near their limit: the next add must carry */
	s.load = INT64_C(1) << 61;
	add(&s, "0.0001");
	assert_true(s.load < 20000);
	for (i = 0; i < s.len; i++)
		assert_true(s.count[i] >= 0 && s.count[i] <= 9999);
	/* 1000 × 9999.9999 + 0.0001 = 9999999.9000 + 0.0001 */
	assert_text(&s, "9999999.9001");
	sp_decsum_free(&s);
}

static void
test_extreme_powers(void **unused)
{
	sp_decsum	s;
	uint16_t	one = 1;
	char	   *t;
	size_t		len;

	sp_decsum_init(&s, test_alloc, NULL);
	/* 10000^30000 = 1 followed by 120000 zeros, and 10^-16000 */
	assert_true(sp_decsum_add(&s, &one, 1, 30000, 0));
	assert_true(sp_decsum_add(&s, &one, 1, -4000, 16000));
	t = text_of(&s);
	len = strlen(t);
	assert_int_equal(len, 1 + 120000 + 1 + 16000);
	assert_int_equal(t[0], '1');
	assert_int_equal(t[120000], '0');
	assert_int_equal(t[120001], '.');
	assert_int_equal(t[len - 1], '1');
	assert_int_equal(t[len - 2], '0');
	free(t);

	/* beyond the supported powers, or bad digits: refused, nothing added */
	assert_false(sp_decsum_add(&s, &one, 1, SP_DEC_POS_MAX, 0));
	assert_false(sp_decsum_add(&s, &one, 1, SP_DEC_POS_MIN - 1, 0));
	{
		uint16_t	bad = 10000;

		assert_false(sp_decsum_add(&s, &bad, 1, 0, 0));
		assert_false(sp_decsum_add(&s, &one, 1, 0, SP_DEC_DSCALE_MAX + 1));
	}
	/* the product of two extreme numerics still fits */
	assert_true(sp_decsum_add_product(&s, &one, 1, 32767, 0, &one, 1, 32767, 0));
	assert_true(sp_decsum_add_product(&s, &one, 1, -4096, 16383, &one, 1, -4096, 16383));
	sp_decsum_free(&s);
}

static void
test_merge(void **unused)
{
	sp_decsum	a,
				b,
				all,
				empty;
	char	   *ta,
			   *tall;
	int			i;

	sp_decsum_init(&a, test_alloc, NULL);
	sp_decsum_init(&b, test_alloc, NULL);
	sp_decsum_init(&all, test_alloc, NULL);
	sp_decsum_init(&empty, test_alloc, NULL);
	for (i = 0; i < 500; i++)
	{
		char		v[40];

		snprintf(v, sizeof(v), "%llu.%03llu",
				 (unsigned long long) (next_u64() % 1000000000),
				 (unsigned long long) (next_u64() % 1000));
		add(i % 3 ? &a : &b, v);
		add(&all, v);
	}
	add(&b, "0");				/* a value with no digits */
	assert_true(sp_decsum_merge(&a, &b));
	assert_true(sp_decsum_merge(&a, &empty));
	ta = text_of(&a);
	tall = text_of(&all);
	assert_string_equal(ta, tall);
	free(ta);
	free(tall);

	/* merging into an empty sum copies it */
	assert_true(sp_decsum_merge(&empty, &all));
	ta = text_of(&empty);
	tall = text_of(&all);
	assert_string_equal(ta, tall);
	free(ta);
	free(tall);
	sp_decsum_free(&a);
	sp_decsum_free(&b);
	sp_decsum_free(&all);
	sp_decsum_free(&empty);
}

/* ---- serialized states ---------------------------------------------------- */

static uint8_t *
encode_sums(const sp_sums_state *st, uint8_t kind, size_t *len)
{
	uint8_t    *buf = malloc(sp_sums_encoded_bound(st));

	*len = sp_sums_encode(st, kind, buf);
	assert_true(*len <= sp_sums_encoded_bound(st));
	return buf;
}

static void
free_sums(sp_sums_state *st)
{
	int			i;

	for (i = 0; i < SP_SUMS_MAX; i++)
		sp_decsum_free(&st->sum[i]);
}

static void
make_forecast_state(sp_sums_state *st)
{
	sp_sums_init(st, 5, test_alloc, NULL);
	add(&st->sum[0], "1000.00");
	add(&st->sum[1], "33.333");
	add(&st->sum[3], "5");
	add(&st->sum[3], "0.0000001");
	st->rows = 7;
	st->added = 4;
}

static void
test_state_round_trip(void **unused)
{
	sp_sums_state st,
				back;
	size_t		len;
	uint8_t    *blob;
	int			i;

	make_forecast_state(&st);
	blob = encode_sums(&st, 'F', &len);
	sp_sums_init(&back, 5, test_alloc, NULL);
	assert_null(sp_sums_decode(&back, 'F', blob, len));
	assert_int_equal(back.rows, 7);
	assert_int_equal(back.added, 4);
	for (i = 0; i < 5; i++)
	{
		char	   *x = text_of(&st.sum[i]);
		char	   *y = text_of(&back.sum[i]);

		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	assert_text(&back.sum[2], "0");
	assert_text(&back.sum[3], "5.0000001");

	/* another aggregate's kind, or a different number of sums, is refused */
	free_sums(&back);
	sp_sums_init(&back, 5, test_alloc, NULL);
	assert_non_null(sp_sums_decode(&back, 'W', blob, len));
	free_sums(&back);
	sp_sums_init(&back, 1, test_alloc, NULL);
	assert_non_null(sp_sums_decode(&back, 'F', blob, len));
	free_sums(&back);
	free_sums(&st);
	free(blob);
}

static void
test_state_rejects_noncanonical(void **unused)
{
	/* version 1, kind W, 1 sum, rows 1, added 1, then one sum */
	uint8_t		good[] = {1, 'W', 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 2,				/* dscale 2 */
		0xff, 0xff, 0xff, 0xff, /* lo = -1 */
	0, 0, 0, 1, 0x13, 0x88};	/* one digit 5000: 0.50 */
	uint8_t		blob[sizeof(good)];
	sp_sums_state st;

	sp_sums_init(&st, 1, test_alloc, NULL);
	assert_null(sp_sums_decode(&st, 'W', good, sizeof(good)));
	assert_text(&st.sum[0], "0.50");
	free_sums(&st);

	/* a digit below the display scale: 0.5000 shown with 1 decimal is fine, */
	memcpy(blob, good, sizeof(good));
	blob[22] = 1;
	sp_sums_init(&st, 1, test_alloc, NULL);
	assert_null(sp_sums_decode(&st, 'W', blob, sizeof(blob)));
	free_sums(&st);
	/* but 0.5001 with 2 decimals is corrupt */
	blob[22] = 2;
	blob[sizeof(blob) - 1] = 0x89;
	sp_sums_init(&st, 1, test_alloc, NULL);
	assert_non_null(sp_sums_decode(&st, 'W', blob, sizeof(blob)));
	free_sums(&st);

	/* digit 10000 */
	memcpy(blob, good, sizeof(good));
	blob[sizeof(blob) - 2] = 0x27;
	blob[sizeof(blob) - 1] = 0x10;
	sp_sums_init(&st, 1, test_alloc, NULL);
	assert_non_null(sp_sums_decode(&st, 'W', blob, sizeof(blob)));
	free_sums(&st);

	/* an untrimmed zero digit */
	memcpy(blob, good, sizeof(good));
	blob[sizeof(blob) - 2] = 0;
	blob[sizeof(blob) - 1] = 0;
	sp_sums_init(&st, 1, test_alloc, NULL);
	assert_non_null(sp_sums_decode(&st, 'W', blob, sizeof(blob)));
	free_sums(&st);

	/* added > rows, and an unknown version */
	memcpy(blob, good, sizeof(good));
	blob[18] = 2;
	sp_sums_init(&st, 1, test_alloc, NULL);
	assert_non_null(sp_sums_decode(&st, 'W', blob, sizeof(blob)));
	free_sums(&st);
	memcpy(blob, good, sizeof(good));
	blob[0] = 2;
	sp_sums_init(&st, 1, test_alloc, NULL);
	assert_non_null(sp_sums_decode(&st, 'W', blob, sizeof(blob)));
	free_sums(&st);
}

/* A decoded state must be usable: read and merge it without crashing. */
static void
exercise(sp_sums_state *st)
{
	sp_sums_state other;
	int			i;

	sp_sums_init(&other, st->nsums, test_alloc, NULL);
	add(&other.sum[0], "1.5");
	assert_true(sp_sums_merge(&other, st));
	for (i = 0; i < st->nsums; i++)
		free(text_of(&other.sum[i]));
	free_sums(&other);
}

static void
test_decoder_fuzz(void **unused)
{
	sp_sums_state st;
	size_t		len,
				cut,
				i;
	uint8_t    *blob;
	uint8_t		junk[512];
	int			round,
				v;

	/* every truncation of a valid blob is refused */
	make_forecast_state(&st);
	blob = encode_sums(&st, 'F', &len);
	free_sums(&st);
	for (cut = 0; cut < len; cut++)
	{
		sp_sums_init(&st, 5, test_alloc, NULL);
		assert_non_null(sp_sums_decode(&st, 'F', blob, cut));
		free_sums(&st);
	}

	/* every value of every byte: refused or a usable state */
	for (i = 0; i < len; i++)
	{
		uint8_t		saved = blob[i];

		for (v = 0; v < 256; v++)
		{
			blob[i] = (uint8_t) v;
			sp_sums_init(&st, 5, test_alloc, NULL);
			if (sp_sums_decode(&st, 'F', blob, len) == NULL)
				exercise(&st);
			free_sums(&st);
		}
		blob[i] = saved;
	}
	free(blob);

	/* random blobs, some with a plausible header */
	for (round = 0; round < 20000; round++)
	{
		size_t		n = next_u64() % sizeof(junk);

		for (i = 0; i < n; i++)
			junk[i] = (uint8_t) next_u64();
		if (round % 2 && n > 3)
		{
			junk[0] = 1;
			junk[1] = 'W';
			junk[2] = 1;
		}
		sp_sums_init(&st, 1, test_alloc, NULL);
		if (sp_sums_decode(&st, 'W', junk, n) == NULL)
			exercise(&st);
		free_sums(&st);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_sums),
		cmocka_unit_test(test_display_scale),
		cmocka_unit_test(test_products),
		cmocka_unit_test(test_random_products_against_reference),
		cmocka_unit_test(test_forced_carry),
		cmocka_unit_test(test_extreme_powers),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_rejects_noncanonical),
		cmocka_unit_test(test_decoder_fuzz),
	};

	return cmocka_run_group_tests_name("decimal_sum", tests, NULL, NULL);
}
