/*
 * pipeline_agg.h — helpers shared by the pipeline aggregates' SQL glue
 * (velocity_agg.c, forecast_agg.c, quantiles_agg.c): reading numeric
 * arguments as base-10000 digits, checking amounts and probabilities, and
 * turning exact sums back into numeric values.
 *
 * Include after postgres.h.
 */
#ifndef SALESPERF_PIPELINE_AGG_H
#define SALESPERF_PIPELINE_AGG_H

#include "fmgr.h"
#include "utils/numeric.h"

#include "decimal_sum.h"

/* Digits kept inline; longer values are copied to palloc'd memory. */
#define PIPELINE_INLINE_DIGITS 32

typedef enum PipelineSpecial
{
	PIPELINE_FINITE,
	PIPELINE_NAN,
	PIPELINE_PINF,
	PIPELINE_NINF
} PipelineSpecial;

/* A numeric argument seen as sign, weight, display scale and digits. */
typedef struct PipelineNumeric
{
	Datum		datum;			/* the argument, for error messages */
	PipelineSpecial special;
	bool		negative;		/* a nonzero value below zero */
	int			weight;			/* power of 10000 of digits[0] */
	int			dscale;			/* decimal places shown */
	int			ndigits;
	const uint16 *digits;		/* each 0..9999 */
	uint16		inline_digits[PIPELINE_INLINE_DIGITS];
} PipelineNumeric;

/* Reads a numeric Datum without copying it (packed varlenas included). */
extern void pipeline_numeric_read(Datum value, PipelineNumeric *num);

/* ERROR 22003 unless the value is a finite, non-negative amount. */
extern void pipeline_check_amount(const PipelineNumeric *num);

/* ERROR 22003 unless 0 ≤ value ≤ 1. */
extern void pipeline_check_probability(const PipelineNumeric *num);

/* Adds a (checked) value, or the product of two, to an exact sum. */
extern void pipeline_sum_add(sp_decsum *sum, const PipelineNumeric *num);
extern void pipeline_sum_add_product(sp_decsum *sum, const PipelineNumeric *a,
									 const PipelineNumeric *b);

/* The exact sum as a numeric (with the largest display scale added). */
extern Numeric pipeline_sum_numeric(const sp_decsum *sum);

/* Allocator for sp_decsum: arg is the MemoryContext to allocate in. */
extern void *pipeline_alloc(void *arg, void *old, size_t size);

/* The aggregate memory context; ERROR when not called as an aggregate. */
extern MemoryContext pipeline_agg_context(FunctionCallInfo fcinfo, const char *fn);

/* ERROR for a serialized state that cannot be read. */
extern void pipeline_bad_state(const char *aggregate, const char *why) pg_attribute_noreturn();

#endif
