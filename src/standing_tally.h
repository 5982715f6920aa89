/*
 * standing_tally.h — score bands of the standings written without SQL
 * statements (the one-row path's direct writes; see standing_tally.c).
 */
#ifndef SALESPERF_STANDING_TALLY_H
#define SALESPERF_STANDING_TALLY_H

#include "postgres.h"
#include "datatype/timestamp.h"

#include "direct_rows.h"

typedef struct TallyChanges TallyChanges;

extern TallyChanges *salesperf_tally_changes(void);

/*
 * A standing of `board`, period `ps`, went from old_score to new_score
 * (sort scores; *_null: no score, or no row).  own: its participant is its
 * own contributor (only those are counted in bands).
 */
extern void salesperf_tally_change(TallyChanges *c, int32 board, TimestampTz ps, bool own,
								   Datum old_score, bool old_null, Datum new_score, bool new_null);

/*
 * Inside the batch: nets the changes per band and inserts them into the
 * tally (a table of the batch).  false when this write is the one that
 * merges bands instead: call salesperf_tally_changes_by_sql after the batch.
 */
extern bool salesperf_tally_changes_direct(TallyChanges *c, DirectWrites *w, DirectTable *tally);

/* After the batch: the merge (when due) and the note of ended periods. */
extern void salesperf_tally_changes_by_sql(TallyChanges *c, bool write_bands);

#endif
