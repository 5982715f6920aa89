/*
 * decimal_sum.h — exact sums of non-negative decimal numbers (no PostgreSQL
 * headers).
 *
 * The pipeline aggregates (won amounts in sales_velocity, amount ×
 * probability in weighted_pipeline, the category totals of
 * forecast_summary) must add money exactly, whatever the order of the rows
 * and however a parallel plan splits them.  A numeric value is a list of
 * base-10000 digits with a weight (the power of 10000 of the first digit);
 * this accumulator keeps one 64-bit counter per power of 10000 and adds
 * each digit of a value (or each digit product of a product of two values)
 * into its counter, without carrying.  Carries are propagated only when a
 * counter could come near overflow and when the result is read, so an
 * addition costs a handful of integer additions and the result is exact.
 *
 * Only non-negative values are accepted: every caller rejects negative
 * amounts and probabilities before adding.
 *
 * Counters are kept in memory obtained from a caller-supplied allocator so
 * that the SQL glue can place them in the aggregate's memory context.
 */
#ifndef SALESPERF_DECIMAL_SUM_H
#define SALESPERF_DECIMAL_SUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_DEC_BASE		10000

/*
 * Supported range of powers of 10000.  A PostgreSQL numeric has at most
 * 131072 digits before the point and 16383 after it, i.e. powers -4096 ..
 * 32767; a product of two of them lies within twice that.  The margins
 * leave room for carries.
 */
#define SP_DEC_POS_MIN	(-8200)
#define SP_DEC_POS_MAX	65600
#define SP_DEC_DSCALE_MAX	32766	/* sum of two numeric display scales */

/*
 * Allocator: returns a block of `size` bytes holding the first bytes of
 * `old` (like realloc); with size 0 it frees `old` and returns NULL.  It
 * never returns NULL for a non-zero size (it aborts or raises instead).
 */
typedef void *(*sp_dec_alloc_fn) (void *arg, void *old, size_t size);

typedef struct sp_decsum
{
	int64_t    *count;			/* count[i] weighs 10000^(lo + i) */
	int32_t		lo;				/* power of count[0] */
	int32_t		len;			/* counters in use (0 = the sum is zero) */
	int32_t		dscale;			/* display scale: largest seen */
	int64_t		load;			/* upper bound of every counter */
	sp_dec_alloc_fn alloc;
	void	   *alloc_arg;
} sp_decsum;

void		sp_decsum_init(sp_decsum *s, sp_dec_alloc_fn alloc, void *alloc_arg);
void		sp_decsum_free(sp_decsum *s);

/*
 * Adds sum(digits[i] * 10000^(weight - i)) shown with `dscale` decimals.
 * Digits must be 0..9999.  Returns false (and adds nothing) when the value
 * lies outside the supported range or a digit is invalid.
 */
bool		sp_decsum_add(sp_decsum *s, const uint16_t *digits, int ndigits,
						  int weight, int dscale);

/* Adds the product a × b; the display scale is dscale_a + dscale_b. */
bool		sp_decsum_add_product(sp_decsum *s,
								  const uint16_t *a, int na, int weight_a, int dscale_a,
								  const uint16_t *b, int nb, int weight_b, int dscale_b);

/* Adds another sum into s (the combine step of a parallel plan). */
bool		sp_decsum_merge(sp_decsum *s, const sp_decsum *other);

/* True when the sum is zero. */
bool		sp_decsum_is_zero(const sp_decsum *s);

/*
 * Decimal text of the sum with exactly `dscale` digits after the point
 * ("1234.50", "0", "0.000").  sp_decsum_text_size() is the buffer size
 * needed, terminating NUL included.  Does not change the sum.
 */
size_t		sp_decsum_text_size(const sp_decsum *s);
void		sp_decsum_text(const sp_decsum *s, char *buf);

/*
 * Serialized form (big-endian): int32 dscale, int32 lo, int32 n, then n
 * uint16 digits 0..9999, lowest power first, carried and trimmed of zero
 * digits at both ends.  sp_decsum_encoded_bound() is an upper bound of its
 * size; sp_decsum_encode() returns the end of what it wrote.
 */
size_t		sp_decsum_encoded_bound(const sp_decsum *s);
uint8_t    *sp_decsum_encode(const sp_decsum *s, uint8_t *out);

/*
 * Reads a serialized sum at *p (not beyond end) into s, which must be
 * initialised and empty; advances *p.  Returns NULL on success, otherwise
 * a short description of what is wrong with the bytes.
 */
const char *sp_decsum_decode(sp_decsum *s, const uint8_t **p, const uint8_t *end);

/* Big-endian helpers shared by the state codecs of the pipeline aggregates. */
uint8_t    *sp_put_u8(uint8_t *out, uint8_t v);
uint8_t    *sp_put_u32(uint8_t *out, uint32_t v);
uint8_t    *sp_put_u64(uint8_t *out, uint64_t v);
uint8_t    *sp_put_f64(uint8_t *out, double v);
bool		sp_get_u8(const uint8_t **p, const uint8_t *end, uint8_t *v);
bool		sp_get_u32(const uint8_t **p, const uint8_t *end, uint32_t *v);
bool		sp_get_u64(const uint8_t **p, const uint8_t *end, uint64_t *v);
bool		sp_get_f64(const uint8_t **p, const uint8_t *end, double *v);

/*
 * Weighted pipeline and forecast summary states: a row count and `nsums`
 * exact sums (1 for weighted_pipeline, 5 for forecast_summary).
 */
#define SP_SUMS_MAX		5
#define SP_STATE_VERSION	1

typedef struct sp_sums_state
{
	int64_t		rows;			/* rows seen */
	int64_t		added;			/* values added to the sums */
	int			nsums;
	sp_decsum	sum[SP_SUMS_MAX];
} sp_sums_state;

void		sp_sums_init(sp_sums_state *st, int nsums, sp_dec_alloc_fn alloc, void *alloc_arg);
bool		sp_sums_merge(sp_sums_state *st, const sp_sums_state *other);
size_t		sp_sums_encoded_bound(const sp_sums_state *st);
/* Writes the state; returns the number of bytes written. */
size_t		sp_sums_encode(const sp_sums_state *st, uint8_t kind, uint8_t *out);

/*
 * Decodes a whole blob made by sp_sums_encode with the same kind and
 * number of sums into an initialised, empty state.  NULL on success, else
 * what is wrong.
 */
const char *sp_sums_decode(sp_sums_state *st, uint8_t kind, const uint8_t *blob, size_t len);

#endif
