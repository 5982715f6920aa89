/*
 * board_head.h — the first standings of a rep board, read from the
 * standings index (see board_head.c).
 */
#ifndef SALESPERF_BOARD_HEAD_H
#define SALESPERF_BOARD_HEAD_H

#include "postgres.h"

#include "board_facts.h"

/* A rep's name and active flag, kept with a board's facts. */
typedef struct KeptParticipant
{
	int64		rep_id;			/* hash key */
	bool		active;
	Datum		name;			/* text */
} KeptParticipant;

typedef struct HeadRow
{
	int64		participant_id;
	Datum		name;			/* text */
	Datum		score;			/* numeric, as display_score() shows it */
	Datum		sort_score;		/* numeric; ranks sort on it descending */
	bool		positive;		/* sort_score is above zero */
} HeadRow;

/*
 * Up to n first standings of active reps in board order for the facts'
 * period, into rows (allocated in the current memory context); the count
 * read, or -1 when this transaction must read them with SQL instead
 * (SERIALIZABLE, row-level security, no SELECT privilege).
 */
extern int	salesperf_board_head_read(const BoardFacts *facts, int n, HeadRow *rows);

/* score as display_score() shows it on a board of these facts. */
extern Datum salesperf_board_display_score(const BoardFacts *facts, Datum score);

#endif
