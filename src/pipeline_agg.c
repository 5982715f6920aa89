/*
 * pipeline_agg.c — numeric plumbing shared by the pipeline aggregates.
 *
 * The aggregates add money exactly with the decimal_sum core.  To feed it
 * without building a numeric per row, a numeric argument is read in its
 * stored form: a 16-bit header (sign, display scale, and in the short
 * form the weight), a 16-bit weight in the long form, then base-10000
 * digits, most significant first.  That on-disk format is part of
 * PostgreSQL's pg_upgrade compatibility promise and has been stable since
 * 9.1 (short form) and 14 (infinities).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "pipeline_agg.h"

/* Header bits of the stored numeric format. */
#define NUM_SIGN_MASK		0xC000
#define NUM_NEG				0x4000
#define NUM_SHORT			0x8000
#define NUM_SPECIAL			0xC000
#define NUM_EXT_MASK		0xF000
#define NUM_NAN				0xC000
#define NUM_PINF			0xD000
#define NUM_NINF			0xF000
#define NUM_DSCALE_MASK		0x3FFF
#define NUM_SHORT_NEG		0x2000
#define NUM_SHORT_DSCALE	0x1F80
#define NUM_SHORT_DSCALE_SHIFT 7
#define NUM_SHORT_WNEG		0x0040
#define NUM_SHORT_WEIGHT	0x003F

void
pipeline_numeric_read(Datum value, PipelineNumeric *num)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(value);
	const char *data = VARDATA_ANY(v);
	Size		size = VARSIZE_ANY_EXHDR(v);
	uint16		header;
	Size		header_size;
	uint16	   *digits;
	int			i;

	num->datum = value;
	num->special = PIPELINE_FINITE;
	num->negative = false;
	num->weight = 0;
	num->dscale = 0;
	num->ndigits = 0;
	num->digits = num->inline_digits;

	if (size < sizeof(uint16))
		elog(ERROR, "invalid numeric datum of %zu bytes", size);
	memcpy(&header, data, sizeof(uint16));

	if ((header & NUM_SIGN_MASK) == NUM_SPECIAL)
	{
		switch (header & NUM_EXT_MASK)
		{
			case NUM_PINF:
				num->special = PIPELINE_PINF;
				break;
			case NUM_NINF:
				num->special = PIPELINE_NINF;
				break;
			default:
				num->special = PIPELINE_NAN;
				break;
		}
		return;
	}
	if (header & NUM_SHORT)
	{
		header_size = sizeof(uint16);
		num->negative = (header & NUM_SHORT_NEG) != 0;
		num->dscale = (header & NUM_SHORT_DSCALE) >> NUM_SHORT_DSCALE_SHIFT;
		num->weight = header & NUM_SHORT_WEIGHT;
		if (header & NUM_SHORT_WNEG)
			num->weight -= NUM_SHORT_WEIGHT + 1;
	}
	else
	{
		int16		weight;

		header_size = 2 * sizeof(uint16);
		if (size < header_size)
			elog(ERROR, "invalid numeric datum of %zu bytes", size);
		num->negative = (header & NUM_SIGN_MASK) == NUM_NEG;
		num->dscale = header & NUM_DSCALE_MASK;
		memcpy(&weight, data + sizeof(uint16), sizeof(int16));
		num->weight = weight;
	}
	num->ndigits = (int) ((size - header_size) / sizeof(uint16));
	digits = num->ndigits <= PIPELINE_INLINE_DIGITS ? num->inline_digits :
		palloc(num->ndigits * sizeof(uint16));
	memcpy(digits, data + header_size, num->ndigits * sizeof(uint16));
	num->digits = digits;

	/* a "negative" zero is zero */
	if (num->negative)
	{
		for (i = 0; i < num->ndigits; i++)
			if (digits[i] != 0)
				break;
		if (i == num->ndigits)
			num->negative = false;
	}
}

static char *
numeric_text(Datum value)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, value));
}

void
pipeline_check_amount(const PipelineNumeric *num)
{
	if (num->special != PIPELINE_FINITE || num->negative)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("invalid deal amount %s", numeric_text(num->datum)),
				 errdetail("Deal amounts must be finite and not negative.")));
}

/* Digit of the value at power p of 10000 (0 outside the stored digits). */
static unsigned
digit_at(const PipelineNumeric *num, int p)
{
	int			i = num->weight - p;

	return (i >= 0 && i < num->ndigits) ? num->digits[i] : 0;
}

void
pipeline_check_probability(const PipelineNumeric *num)
{
	bool		valid = num->special == PIPELINE_FINITE && !num->negative;

	if (valid)
	{
		int			i;

		/* value ≤ 1: nothing at powers ≥ 1, and at most exactly 1 at power 0 */
		for (i = 0; i < num->ndigits && valid; i++)
		{
			int			p = num->weight - i;

			if (num->digits[i] != 0 && (p > 0 || (p < 0 && digit_at(num, 0) == 1)))
				valid = false;
		}
		if (digit_at(num, 0) > 1)
			valid = false;
	}
	if (!valid)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("probability %s is outside the range 0 to 1",
						numeric_text(num->datum))));
}

static void
sum_out_of_range(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value out of range for an exact pipeline sum")));
}

void
pipeline_sum_add(sp_decsum *sum, const PipelineNumeric *num)
{
	if (!sp_decsum_add(sum, num->digits, num->ndigits, num->weight, num->dscale))
		sum_out_of_range();
}

void
pipeline_sum_add_product(sp_decsum *sum, const PipelineNumeric *a,
						 const PipelineNumeric *b)
{
	if (!sp_decsum_add_product(sum,
							   a->digits, a->ndigits, a->weight, a->dscale,
							   b->digits, b->ndigits, b->weight, b->dscale))
		sum_out_of_range();
}

Numeric
pipeline_sum_numeric(const sp_decsum *sum)
{
	char	   *text = palloc(sp_decsum_text_size(sum));

	sp_decsum_text(sum, text);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in,
											   CStringGetDatum(text),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

void *
pipeline_alloc(void *arg, void *old, size_t size)
{
	if (size == 0)
	{
		if (old != NULL)
			pfree(old);
		return NULL;
	}
	if (old == NULL)
		return MemoryContextAlloc((MemoryContext) arg, size);
	return repalloc(old, size);
}

MemoryContext
pipeline_agg_context(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fn);
	return aggcontext;
}

void
pipeline_bad_state(const char *aggregate, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid serialized %s state: %s", aggregate, why)));
}
