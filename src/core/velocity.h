/*
 * velocity.h — sales velocity arithmetic (no PostgreSQL headers).
 *
 *   velocity = N × win_rate × avg_won_amount ÷ avg_cycle_days   (per day)
 *
 * N counts every row; win_rate = won ÷ (won + lost) over closed rows whose
 * outcome is known; the average won amount and the average sales cycle
 * (fractional days from opened_at to closed_at) are taken over won rows,
 * each ignoring rows where its input is NULL, as SQL's avg() does.
 *
 * The state keeps only exact quantities — counts, the sum of won amounts
 * (an exact decimal sum) and the sum of cycle lengths in microseconds (a
 * 128-bit integer) — so combining partial states in any order gives the
 * same state, and the doubles derived from it are the same for every plan.
 */
#ifndef SALESPERF_VELOCITY_H
#define SALESPERF_VELOCITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decimal_sum.h"

#define SP_VELOCITY_KIND	'V'
#define SP_USECS_PER_DAY	INT64_C(86400000000)

typedef struct sp_velocity_state
{
	int64_t		rows;			/* N: every row */
	int64_t		won;			/* closed rows with won = true */
	int64_t		lost;			/* closed rows with won = false */
	int64_t		amount_rows;	/* won rows with an amount */
	int64_t		cycle_rows;		/* won rows with both timestamps */
	uint64_t	cycle_hi;		/* sum of won cycles in microseconds: */
	uint64_t	cycle_lo;		/* cycle_hi × 2^64 + cycle_lo */
	sp_decsum	won_amount;		/* exact sum of won amounts */
} sp_velocity_state;

typedef struct sp_velocity_result
{
	bool		has_win_rate;
	double		win_rate;
	bool		has_cycle;
	double		avg_cycle_days;
	bool		has_velocity;
	double		per_day;
	double		per_month;		/* per_day × 365.25 ÷ 12 */
} sp_velocity_result;

void		sp_velocity_init(sp_velocity_state *st, sp_dec_alloc_fn alloc, void *alloc_arg);

/* Adds one won cycle of `usecs` ≥ 0 microseconds. */
void		sp_velocity_add_cycle(sp_velocity_state *st, uint64_t usecs);

/* The combine step; false if a count would overflow. */
bool		sp_velocity_merge(sp_velocity_state *st, const sp_velocity_state *other);

/* Sum of cycles in days as a double (deterministic for a given sum). */
double		sp_velocity_cycle_days_sum(const sp_velocity_state *st);

/*
 * The velocity from the state and the average won amount (computed
 * exactly by the caller from won_amount and amount_rows, then converted;
 * has_avg_amount false when there is no won amount).  Undefined factors
 * leave their has_ flag false; the velocity is undefined when any factor
 * is, or when the average cycle is 0.
 */
void		sp_velocity_compute(const sp_velocity_state *st, bool has_avg_amount,
								double avg_amount, sp_velocity_result *out);

/* Serialized state (big-endian, starts with a version byte). */
size_t		sp_velocity_encoded_bound(const sp_velocity_state *st);
size_t		sp_velocity_encode(const sp_velocity_state *st, uint8_t *out);
const char *sp_velocity_decode(sp_velocity_state *st, const uint8_t *blob, size_t len);

#endif
