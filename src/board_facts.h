/*
 * board_facts.h — what a board read needs to know about a board, kept per
 * backend (see board_facts.c).
 */
#ifndef SALESPERF_BOARD_FACTS_H
#define SALESPERF_BOARD_FACTS_H

#include "postgres.h"
#include "datatype/timestamp.h"

typedef struct BoardFacts
{
	int32		board_id;
	bool		rep_board;		/* participants are reps (not units) */
	bool		money;			/* the KPI is in currency: shown rounded */
	bool		ratio;			/* a ratio KPI: shown to 4 places */
	bool		all_time;		/* period 'all': no previous period */
	int32		currency_scale;
	TimestampTz period_start;	/* of the period containing the moment asked */
	TimestampTz previous_start; /* of the one before (unless all_time) */
	struct HTAB *participants;	/* kept reps' names and active flags (see
								 * board_head.c); NULL: read them */
	MemoryContext kept_in;		/* where to keep what goes into it */
} BoardFacts;

/*
 * The facts of the board named `name` for the period containing `at`, from
 * the backend's cache while they are exact, else read; false for an
 * unknown board.  Called inside an SPI connection.
 */
extern bool salesperf_board_facts(text *name, TimestampTz at, BoardFacts *facts);

#endif
