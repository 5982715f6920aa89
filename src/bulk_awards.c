/*
 * bulk_awards.c — the capped awards of a bulk insert, computed in C.
 *
 * A capped rule awards a rep's activities of one local day in
 * (occurred_at, activity_id) order until its daily cap is reached.  A new
 * row that comes after its day's last activity (the late triples are
 * re-derived from the ledger instead) earns
 *
 *     least(raw, greatest(0, cap - already - before))
 *
 * where raw is the rule's points + points_per_amount x amount, already what
 * the rule awarded that rep that day so far (salesperf.capped_award) and
 * before the raw points of the day's new rows that come first: the window
 * of rederive_days() and recompute(), which the property tests hold this
 * to.  In SQL this was a window over every capped new row, two sorts and
 * an index probe per row; here it is one pass over the transition table,
 * one sort, and one probe of capped_award per (rep, day) touched.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "bulk_awards.h"
#include "bulk_delta.h"
#include "direct_rows.h"
#include "period_functions.h"

/* One new row under one capped rule. */
typedef struct CappedRow
{
	int64		rep_id;
	DateADT		day;
	int32		rule_id;
	int32		kind;			/* number in the new rows' kind set */
	TimestampTz at;
	int64		activity_id;
	const PointRule *rule;
	Numeric		raw;
	Numeric		earned;			/* NULL: nothing (zero) */
} CappedRow;

typedef struct AwardSum
{
	int64		activity_id;
	Numeric		points;
} AwardSum;

/* What each capped rule already awarded one rep on one day. */
typedef struct DaySums
{
	int			n;
	int			size;
	int32	   *rule_id;
	Numeric    *points;
} DaySums;

/* Order of the window: (rep, day, rule, occurred_at, activity_id). */
static int
window_order(const void *a, const void *b)
{
	const CappedRow *x = *(CappedRow *const *) a;
	const CappedRow *y = *(CappedRow *const *) b;

	if (x->rep_id != y->rep_id)
		return x->rep_id < y->rep_id ? -1 : 1;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->rule_id != y->rule_id)
		return x->rule_id < y->rule_id ? -1 : 1;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->activity_id != y->activity_id)
		return x->activity_id < y->activity_id ? -1 : 1;
	return 0;
}

/* Order of capped_award's primary key: (activity_id, rule_id). */
static int
key_order(const void *a, const void *b)
{
	const CappedRow *x = *(CappedRow *const *) a;
	const CappedRow *y = *(CappedRow *const *) b;

	if (x->activity_id != y->activity_id)
		return x->activity_id < y->activity_id ? -1 : 1;
	if (x->rule_id != y->rule_id)
		return x->rule_id < y->rule_id ? -1 : 1;
	return 0;
}

/*
 * The sums per rule of the stored awards of (rep, day), read through
 * capped_award_rep_day_idx with the scan `scan` (rescanned for each day).
 */
static void
read_day_sums(IndexScanDesc scan, TupleTableSlot *slot, AttrNumber rule_col,
			  AttrNumber points_col, int64 rep_id, DateADT day, DaySums *sums,
			  MemoryContext cxt)
{
	DirectKey	keys[2] = {
		{BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rep_id)},
		{BTEqualStrategyNumber, F_DATE_EQ, DateADTGetDatum(day)}
	};

	salesperf_direct_rescan(scan, 2, keys);
	sums->n = 0;
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		int32		rule_id = DatumGetInt32(slot_getattr(slot, rule_col, &isnull));
		Datum		points = slot_getattr(slot, points_col, &isnull);
		int			i;
		MemoryContext old;

		for (i = 0; i < sums->n && sums->rule_id[i] != rule_id; i++)
			;
		old = MemoryContextSwitchTo(cxt);
		if (i == sums->n)
		{
			if (sums->n == sums->size)
			{
				sums->size = sums->size == 0 ? 4 : sums->size * 2;
				sums->rule_id = sums->rule_id == NULL
					? palloc(sizeof(int32) * sums->size)
					: repalloc(sums->rule_id, sizeof(int32) * sums->size);
				sums->points = sums->points == NULL
					? palloc(sizeof(Numeric) * sums->size)
					: repalloc(sums->points, sizeof(Numeric) * sums->size);
			}
			sums->rule_id[i] = rule_id;
			sums->points[i] = DatumGetNumericCopy(points);
			sums->n++;
		}
		else
			sums->points[i] = DatumGetNumeric(DirectFunctionCall2(numeric_add,
																  NumericGetDatum(sums->points[i]),
																  points));
		MemoryContextSwitchTo(old);
	}
}

static Numeric
day_sum(const DaySums *sums, int32 rule_id, Numeric zero)
{
	for (int i = 0; i < sums->n; i++)
		if (sums->rule_id[i] == rule_id)
			return sums->points[i];
	return zero;
}

static int
numeric_compare(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a), NumericGetDatum(b)));
}

static Numeric
numeric_minus(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_sub, NumericGetDatum(a), NumericGetDatum(b)));
}

static Numeric
numeric_plus(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(a), NumericGetDatum(b)));
}

static TupleDesc
awards_descriptor(void)
{
	TupleDesc	desc = CreateTemplateTupleDesc(6);

	TupleDescInitEntry(desc, 1, "activity_id", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 2, "rule_id", INT4OID, -1, 0);
	TupleDescInitEntry(desc, 3, "rep_id", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 4, "day", DATEOID, -1, 0);
	TupleDescInitEntry(desc, 5, "kind", TEXTOID, -1, 0);
	TupleDescInitEntry(desc, 6, "points", NUMERICOID, -1, 0);
	return desc;
}

void
salesperf_register_bulk_awards(TriggerData *trigdata, const NewRowsSummary *rows,
							   const RuleSet *rules, HTAB *late_triples, pg_tz *zone,
							   BulkAwards *awards)
{
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext work = AllocSetContextCreate(cxt, "salesperf bulk awards", ALLOCSET_DEFAULT_SIZES);
	MemoryContext step = AllocSetContextCreate(work, "salesperf bulk awards step",
											   ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(work);
	Tuplestorestate *store = trigdata->tg_newtable;
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	int			id_col = SPI_fnumber(desc, "activity_id");
	int			rep_col = SPI_fnumber(desc, "rep_id");
	int			kind_col = SPI_fnumber(desc, "kind");
	int			amount_col = SPI_fnumber(desc, "amount");
	int			at_col = SPI_fnumber(desc, "occurred_at");
	RuleSet   **kind_rules = palloc(sizeof(RuleSet *) * Max(rows->kind_count, 1));
	Datum	   *kind_texts = palloc(sizeof(Datum) * Max(rows->kind_count, 1));
	CappedRow **capped;
	long		n = 0,
				size = 1024;
	Numeric		zero = int64_to_numeric(0);
	HASHCTL		ctl;
	TupleDesc	out_desc;
	long		awarded = 0;

	if (id_col <= 0 || rep_col <= 0 || kind_col <= 0 || amount_col <= 0 || at_col <= 0)
		elog(ERROR, "salesperf: salesperf.activity lacks a column the bulk path reads");
	for (int k = 0; k < rows->kind_count; k++)
	{
		kind_rules[k] = salesperf_point_rules_of_kind(rules, rows->kind_names[k], work);
		kind_texts[k] = CStringGetTextDatum(rows->kind_names[k]);
	}

	/* Every (new row, capped rule in force) pair but the late ones. */
	capped = palloc(sizeof(CappedRow *) * size);
	tuplestore_select_read_pointer(store, 0);
	tuplestore_rescan(store);
	while (tuplestore_gettupleslot(store, true, false, slot))
	{
		bool		isnull;
		int			kind = salesperf_new_row_kind(rows, DatumGetTextPP(slot_getattr(slot, kind_col,
																					  &isnull)));
		const RuleSet *of_kind;
		TimestampTz at;
		int64		rep_id;
		DateADT		day;
		Numeric		amount;

		if (kind < 0)
			elog(ERROR, "salesperf: a new row's kind was not seen by the first pass");
		of_kind = kind_rules[kind];
		at = DatumGetTimestampTz(slot_getattr(slot, at_col, &isnull));
		if (!salesperf_capped_rule_in_force(of_kind, rows->kind_names[kind], at))
			continue;
		rep_id = DatumGetInt64(slot_getattr(slot, rep_col, &isnull));
		day = salesperf_local_date(at, zone);
		if (salesperf_is_late_triple(late_triples, rep_id, day, kind))
			continue;
		amount = DatumGetNumeric(slot_getattr(slot, amount_col, &isnull));
		for (int r = 0; r < of_kind->count; r++)
		{
			const PointRule *rule = &of_kind->rules[r];
			CappedRow  *c;

			if (!rule->capped || !salesperf_point_rule_in_force(rule, at))
				continue;
			if (n == size)
			{
				size *= 2;
				capped = repalloc_huge(capped, sizeof(CappedRow *) * size);
			}
			c = palloc(sizeof(CappedRow));
			c->rep_id = rep_id;
			c->day = day;
			c->rule_id = rule->rule_id;
			c->kind = kind;
			c->at = at;
			c->activity_id = DatumGetInt64(slot_getattr(slot, id_col, &isnull));
			c->rule = rule;
			c->raw = numeric_plus(rule->points,
								  DatumGetNumeric(DirectFunctionCall2(numeric_mul,
																	  NumericGetDatum(rule->points_per_amount),
																	  NumericGetDatum(amount))));
			c->earned = NULL;
			capped[n++] = c;
		}
	}
	ExecDropSingleTupleTableSlot(slot);

	/* The window: each (rep, day, rule) in order, after what it already awarded. */
	qsort(capped, n, sizeof(CappedRow *), window_order);
	if (n > 0)
	{
		Relation	rel,
					index;
		IndexScanDesc scan;
		TupleTableSlot *award_row;
		AttrNumber	rule_col,
					points_col;
		DaySums		sums = {0};
		Numeric		before = zero;

		salesperf_direct_read_begin();
		rel = salesperf_open_relation("capped_award");
		index = salesperf_open_relation("capped_award_rep_day_idx");
		award_row = table_slot_create(rel, NULL);
		rule_col = attnameAttNum(rel, "rule_id", false);
		points_col = attnameAttNum(rel, "points", false);
		scan = index_beginscan(rel, index, GetActiveSnapshot(), 2, 0);
		for (long i = 0; i < n; i++)
		{
			CappedRow  *c = capped[i];
			CappedRow  *prev = i > 0 ? capped[i - 1] : NULL;
			Numeric		left;

			if (prev == NULL || prev->rep_id != c->rep_id || prev->day != c->day)
			{
				MemoryContextReset(step);
				sums.n = sums.size = 0;
				sums.rule_id = NULL;
				sums.points = NULL;
				read_day_sums(scan, award_row, rule_col, points_col, c->rep_id, c->day, &sums,
							  step);
			}
			if (prev == NULL || prev->rep_id != c->rep_id || prev->day != c->day ||
				prev->rule_id != c->rule_id)
				before = zero;

			left = numeric_minus(numeric_minus(c->rule->daily_cap,
											   day_sum(&sums, c->rule_id, zero)),
								 before);
			if (numeric_compare(left, zero) < 0)
				left = zero;
			c->earned = numeric_compare(c->raw, left) <= 0 ? c->raw : left;
			if (numeric_compare(c->earned, zero) == 0)
				c->earned = NULL;
			else
				awarded++;
			before = numeric_plus(before, c->raw);
		}
		index_endscan(scan);
		ExecDropSingleTupleTableSlot(award_row);
		relation_close(index, NoLock);
		relation_close(rel, NoLock);
		salesperf_direct_read_end();
	}

	/* The awards, in capped_award's key order, and summed per activity. */
	qsort(capped, n, sizeof(CappedRow *), key_order);
	MemoryContextSwitchTo(cxt);
	out_desc = awards_descriptor();
	awards->store = tuplestore_begin_heap(false, false, work_mem);
	awards->count = awarded;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(AwardSum);
	ctl.hcxt = cxt;
	awards->by_activity = hash_create("salesperf bulk awards", Max(Min(awarded, 1000000), 16), &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (long i = 0; i < n; i++)
	{
		CappedRow  *c = capped[i];
		Datum		values[6];
		bool		nulls[6] = {false};
		AwardSum   *sum;
		bool		found;

		if (c->earned == NULL)
			continue;
		values[0] = Int64GetDatum(c->activity_id);
		values[1] = Int32GetDatum(c->rule_id);
		values[2] = Int64GetDatum(c->rep_id);
		values[3] = DateADTGetDatum(c->day);
		values[4] = kind_texts[c->kind];
		values[5] = NumericGetDatum(c->earned);
		tuplestore_putvalues(awards->store, out_desc, values, nulls);

		sum = hash_search(awards->by_activity, &c->activity_id, HASH_ENTER, &found);
		sum->points = found ? numeric_plus(sum->points, c->earned)
			: DatumGetNumericCopy(NumericGetDatum(c->earned));
	}
	salesperf_register_store(BULK_AWARDS_RELATION, out_desc, awards->store);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
}

bool
salesperf_bulk_award_of(const BulkAwards *awards, int64 activity_id, Numeric *points)
{
	AwardSum   *sum;

	if (awards == NULL || awards->by_activity == NULL)
		return false;
	sum = hash_search(awards->by_activity, &activity_id, HASH_FIND, NULL);
	if (sum == NULL)
		return false;
	*points = sum->points;
	return true;
}

void
salesperf_end_bulk_awards(BulkAwards *awards)
{
	if (SPI_unregister_relation(BULK_AWARDS_RELATION) != SPI_OK_REL_UNREGISTER)
		elog(ERROR, "salesperf: could not unregister the bulk awards");
	tuplestore_end(awards->store);
	awards->store = NULL;
}
