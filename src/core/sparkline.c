/*
 * sparkline.c — the scaling behind salesperf.sparkline(); see sparkline.h.
 */
#include "sparkline.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* U+2581 .. U+2588, lower one eighth block .. full block. */
static const char *const bars[SP_SPARK_LEVELS] = {
	"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
	"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"
};

const char *
sp_spark_bar(int level)
{
	if (level < 0)
		level = 0;
	if (level >= SP_SPARK_LEVELS)
		level = SP_SPARK_LEVELS - 1;
	return bars[level];
}

int
sp_spark_level(double v, double lo, double hi)
{
	double		span = hi - lo;
	double		t;
	int			level;

	if (!(hi > lo))
		return SP_SPARK_FLAT;
	if (isinf(span))
	{
		/*
		 * lo and hi have opposite signs and the width overflows: halve
		 * everything (exact for doubles of this size) and scale that.
		 */
		t = (v / 2 - lo / 2) / (hi / 2 - lo / 2);
	}
	else
		t = (v - lo) / span;

	/*
	 * v - lo <= hi - lo because subtraction rounds monotonically, so t lies
	 * in [0, 1]; the clamps only guard against values outside [lo, hi].
	 */
	if (!(t > 0))
		return 0;
	level = (int) floor(t * SP_SPARK_LEVELS);
	if (level >= SP_SPARK_LEVELS)
		level = SP_SPARK_LEVELS - 1;
	return level;
}

size_t
sp_spark_size(size_t n)
{
	if (n > (SIZE_MAX - 1) / SP_SPARK_BAR_BYTES)
		return 0;
	return n * SP_SPARK_BAR_BYTES + 1;
}

size_t
sp_sparkline(const double *values, const bool *nulls, size_t n,
			 char *out, size_t *bad)
{
	double		lo = 0;
	double		hi = 0;
	bool		seen = false;
	size_t		len = 0;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		double		v;

		if (nulls != NULL && nulls[i])
			continue;
		v = values[i];
		if (!isfinite(v))
		{
			if (bad != NULL)
				*bad = i;
			out[0] = '\0';
			return (size_t) -1;
		}
		if (!seen || v < lo)
			lo = v;
		if (!seen || v > hi)
			hi = v;
		seen = true;
	}

	for (i = 0; i < n; i++)
	{
		if (nulls != NULL && nulls[i])
			out[len++] = ' ';
		else
		{
			memcpy(out + len, bars[sp_spark_level(values[i], lo, hi)], SP_SPARK_BAR_BYTES);
			len += SP_SPARK_BAR_BYTES;
		}
	}
	out[len] = '\0';
	return len;
}
