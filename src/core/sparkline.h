/*
 * sparkline.h — a row of bars (▁▂▃▄▅▆▇█) drawn from a series of numbers,
 * so that a trend reads in psql (no PostgreSQL headers).
 *
 * Scaling: the range from the smallest to the largest non-NULL value is cut
 * into eight bins of equal width; a value is drawn with the bar of its bin
 * (the smallest value with ▁, the largest with █; a value exactly on a bin
 * edge takes the higher bar).  When every non-NULL value is equal there is
 * no scale, and each is drawn with the middle bar ▄.  A NULL element is
 * drawn as a space, so the result always has one character per element.
 * Values must be finite: the caller decides what NaN and infinities mean
 * (the SQL function refuses them).
 */
#ifndef SALESPERF_SPARKLINE_H
#define SALESPERF_SPARKLINE_H

#include <stdbool.h>
#include <stddef.h>

#define SP_SPARK_LEVELS		8	/* ▁ .. █ */
#define SP_SPARK_FLAT		3	/* ▄: every value equal */
#define SP_SPARK_BAR_BYTES	3	/* each bar is three bytes of UTF-8 */

/* The UTF-8 text of bar `level` (0 = ▁ … 7 = █). */
const char *sp_spark_bar(int level);

/*
 * The bar level (0..7) of a finite value v in the finite range [lo, hi],
 * lo <= hi; SP_SPARK_FLAT when lo == hi.  Safe across the whole double
 * range: hi - lo may exceed DBL_MAX.
 */
int			sp_spark_level(double v, double lo, double hi);

/*
 * Bytes a sparkline of n elements may need, terminating NUL included
 * (3 per element + 1); 0 when that does not fit in a size_t.
 */
size_t		sp_spark_size(size_t n);

/*
 * Draws values[0..n-1] into out (at least sp_spark_size(n) bytes) and
 * NUL-terminates it; nulls may be NULL (no NULL elements), else nulls[i]
 * marks a NULL element (values[i] is then ignored).  Returns the length
 * written (without the NUL).  If a non-NULL value is NaN or infinite,
 * draws nothing, stores its index in *bad (when bad is not NULL) and
 * returns (size_t) -1.
 */
size_t		sp_sparkline(const double *values, const bool *nulls, size_t n,
						 char *out, size_t *bad);

#endif
