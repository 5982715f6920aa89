/*
 * new_rows_scan.c — what the bulk insert path needs to know of its new rows
 * before it writes anything: the reps to lock, whether a row is bad, and
 * the kinds the rows have (numbered, for bulk_delta.c).
 *
 * Read in one pass over the transition table, in C: asking SQL for each
 * (the distinct reps, a validation join, the distinct kinds) read the whole
 * table three times, most of it sorting a million rep ids and kinds.  A bad
 * row is only detected here; the SQL check (validate_sql in
 * ledger_trigger.c) then names it, so a bulk insert reports exactly what it
 * did before.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "new_rows_scan.h"
#include "rep_locks.h"

/* A kind and its number, in the summary's kind set. */
typedef struct KindEntry
{
	text	   *kind;			/* key: compared by content */
	int			number;
} KindEntry;

static uint32
kind_hash(const void *key, Size keysize)
{
	text	   *kind = *(text *const *) key;

	return DatumGetUInt32(hash_any((const unsigned char *) VARDATA_ANY(kind),
								   VARSIZE_ANY_EXHDR(kind)));
}

static bool
same_text(text *a, text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

static int
kind_compare(const void *key1, const void *key2, Size keysize)
{
	return same_text(*(text *const *) key1, *(text *const *) key2) ? 0 : 1;
}

int
salesperf_new_row_kind(const NewRowsSummary *summary, text *kind)
{
	KindEntry  *entry = hash_search(summary->kind_numbers, &kind, HASH_FIND, NULL);

	return entry == NULL ? -1 : entry->number;
}

static int
column_number(TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "salesperf: salesperf.activity has no column \"%s\"", name);
	return attnum;
}

void
salesperf_scan_new_rows(TriggerData *trigdata, NewRowsSummary *summary)
{
	Tuplestorestate *rows = trigdata->tg_newtable;
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	int			rep_col = column_number(desc, "rep_id");
	int			kind_col = column_number(desc, "kind");
	int			amount_col = column_number(desc, "amount");
	int			at_col = column_number(desc, "occurred_at");
	int64		capacity = tuplestore_tuple_count(rows);
	Datum		zero = NumericGetDatum(int64_to_numeric(0));
	HASHCTL		ctl;
	int			kinds_allocated = 16;
	Datum	   *kinds = palloc(sizeof(Datum) * kinds_allocated);
	text	   *last_kind = NULL;
	int64	   *reps;
	int64		rep_count = 0;

	ctl.keysize = sizeof(text *);
	ctl.entrysize = sizeof(KindEntry);
	ctl.hash = kind_hash;
	ctl.match = kind_compare;
	ctl.hcxt = CurrentMemoryContext;
	summary->kind_numbers = hash_create("salesperf new row kinds", 16, &ctl,
										HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	summary->kind_count = 0;
	summary->bad_row = false;
	reps = palloc(sizeof(int64) * Max(capacity, 1));

	tuplestore_select_read_pointer(rows, 0);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		rep = slot_getattr(slot, rep_col, &isnull);
		Datum		amount;
		Datum		at;
		text	   *kind;
		KindEntry  *entry;
		bool		found;

		/* Rows come in runs of one rep often enough to skip repeats here. */
		if (!isnull && (rep_count == 0 || reps[rep_count - 1] != DatumGetInt64(rep)))
		{
			if (rep_count == capacity)
				elog(ERROR, "salesperf: more new rows than the transition table counted");
			reps[rep_count++] = DatumGetInt64(rep);
		}

		amount = slot_getattr(slot, amount_col, &isnull);
		if (!isnull)
		{
			/* Unpacked once (a short header is copied), freed at once. */
			Numeric		value = DatumGetNumeric(amount);

			if (numeric_is_nan(value) || numeric_is_inf(value) ||
				DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(value), zero)))
				summary->bad_row = true;
			if ((Pointer) value != DatumGetPointer(amount))
				pfree(value);
		}
		at = slot_getattr(slot, at_col, &isnull);
		if (!isnull && TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(at)))
			summary->bad_row = true;

		kind = DatumGetTextPP(slot_getattr(slot, kind_col, &isnull));
		if (isnull)
			continue;			/* NOT NULL: never */
		if (last_kind != NULL && same_text(kind, last_kind))
			continue;
		entry = hash_search(summary->kind_numbers, &kind, HASH_ENTER, &found);
		if (!found)
		{
			if (summary->kind_count == kinds_allocated)
			{
				kinds_allocated *= 2;
				kinds = repalloc(kinds, sizeof(Datum) * kinds_allocated);
			}
			kinds[summary->kind_count] = datumCopy(PointerGetDatum(kind), false, -1);
			entry->kind = (text *) DatumGetPointer(kinds[summary->kind_count]);
			entry->number = summary->kind_count++;
		}
		last_kind = entry->kind;
	}
	ExecDropSingleTupleTableSlot(slot);

	rep_count = salesperf_sort_distinct_ids(reps, rep_count);
	if (rep_count > PG_INT32_MAX)
		elog(ERROR, "salesperf: too many reps in one statement");
	summary->reps = reps;
	summary->rep_count = (int) rep_count;

	summary->kind_names = palloc(sizeof(char *) * Max(summary->kind_count, 1));
	for (int i = 0; i < summary->kind_count; i++)
		summary->kind_names[i] = TextDatumGetCString(kinds[i]);
	summary->kinds = PointerGetDatum(construct_array(kinds, summary->kind_count, TEXTOID, -1,
													 false, TYPALIGN_INT));
}
