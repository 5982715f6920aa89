/*
 * previous_ranks.h — final ranks of an ended board period (previous_ranks.c).
 */
#ifndef SALESPERF_PREVIOUS_RANKS_H
#define SALESPERF_PREVIOUS_RANKS_H

#include "postgres.h"
#include "datatype/timestamp.h"

typedef void (*PreviousRankSink) (void *arg, int64 participant, int64 rank);

/*
 * Hands sink each of ids[0..n) that ranked on the board at the end of the
 * period starting prev, with that rank.
 */
extern void salesperf_previous_ranks_emit(int32 board_id, TimestampTz prev, const int64 *ids, int n,
										  PreviousRankSink sink, void *arg);

#endif
