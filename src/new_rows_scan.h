/*
 * new_rows_scan.h — one pass over a bulk insert's new ledger rows.
 */
#ifndef SALESPERF_NEW_ROWS_SCAN_H
#define SALESPERF_NEW_ROWS_SCAN_H

#include "commands/trigger.h"
#include "utils/hsearch.h"

typedef struct NewRowsSummary
{
	int64	   *reps;			/* distinct rep ids, ascending */
	int			rep_count;
	bool		bad_row;		/* a negative, NaN or infinite amount, or an
								 * infinite occurred_at */
	int			kind_count;		/* distinct kinds, numbered 0.. */
	char	  **kind_names;		/* by number */
	Datum		kinds;			/* text[] of them, by number */
	HTAB	   *kind_numbers;	/* text * -> number */
} NewRowsSummary;

extern void salesperf_scan_new_rows(TriggerData *trigdata, NewRowsSummary *summary);

/* The number of a kind the scan saw; -1 for any other. */
extern int	salesperf_new_row_kind(const NewRowsSummary *summary, text *kind);

#endif
