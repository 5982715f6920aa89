/*
 * track.h — shared by the parts of salesperf.track(): the condition
 * validator (track_condition.c) and the row sync trigger (track_trigger.c).
 */
#ifndef SALESPERF_TRACK_H
#define SALESPERF_TRACK_H

#include "utils/relcache.h"

/* The search_path every tracking statement is analysed and run under. */
#define TRACK_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * Pin search_path to TRACK_SEARCH_PATH; returns the GUC nest level to give
 * back to AtEOXact_GUC(true, level) when done.  An error unwinds it.
 */
extern int	track_pin_search_path(void);

/*
 * Validate `condition` as one boolean SQL expression over the columns of
 * `rel` and return its normalized text (names resolved under the pinned
 * search_path).  Raises 42601 for anything else, 42703 for unknown columns.
 */
extern char *track_normalize_condition(Relation rel, const char *condition);

/* Raise 42501 unless the current user owns the table (or is superuser). */
extern void track_check_owner(Oid relid);

#endif							/* SALESPERF_TRACK_H */
