/*
 * bulk_delta.c — what a bulk insert's new rows add to the KPI counters,
 * grouped by (rep, unit, local day, kind), computed in C.
 *
 * Each new row is scored as salesperf.scored_activity scores it: its local
 * day in the configured zone (salesperf.local_day), the unit the rep was in
 * at that moment (membership), the points of the uncapped rules in force
 * (rule_points) plus, when a capped rule is in force, what the capped rules
 * just awarded the row.  Rows of the late (rep, day, kind) triples are left
 * out: those are re-derived from the ledger.  The groups go to the merge
 * statement as the ephemeral relation salesperf_delta, one row per group,
 * with the columns and sums of salesperf.kpi_counter, and what they add to
 * the boards' standings (bulk_standings.c) as salesperf_bulk_standings.
 *
 * In SQL this was a join of the transition table with the memberships, a
 * sort of every new row and a grouping with numeric sums: most of the bulk
 * path's time.  Here it is one pass and a hash table.  The property tests
 * hold the bulk path to recompute(), which scores through the view.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "bulk_awards.h"
#include "bulk_delta.h"
#include "bulk_standings.h"
#include "period_functions.h"
#include "point_rules.h"

/* A (rep, unit, local day, kind) group; zeroed before it is filled. */
typedef struct DeltaKey
{
	int64		rep_id;
	int64		unit_id;		/* 0 when unit_null */
	DateADT		day;
	int32		kind;			/* number in the new rows' kind set */
	bool		unit_null;
} DeltaKey;

typedef struct DeltaGroup
{
	DeltaKey	key;
	int64		activities;
	Numeric		amount;
	Numeric		points;
	TimestampTz last_at;
	TimestampTz last_amount_at;
	TimestampTz last_point_at;
	bool		has_amount_at;
	bool		has_point_at;
} DeltaGroup;

typedef struct LateKey
{
	int64		rep_id;
	DateADT		day;
	int32		kind;
} LateKey;

/* One membership of a rep: [lower, upper), upper NULL when open. */
typedef struct Stint
{
	TimestampTz lower;
	TimestampTz upper;
	bool		open;
	int64		unit_id;
} Stint;

/* A rep's memberships: stints[first .. first + count - 1]. */
typedef struct RepStints
{
	int			first;
	int			count;
} RepStints;

static const char *const zone_sql =
"SELECT s.time_zone FROM salesperf.settings s";

static const char *const stints_sql =
"SELECT m.rep_id, m.unit_id, pg_catalog.lower(m.during), pg_catalog.upper(m.during)"
"  FROM salesperf.membership m"
" WHERE m.rep_id OPERATOR(pg_catalog.=) ANY ($1)"
" ORDER BY m.rep_id";

static HTAB *
blob_table(const char *name, Size keysize, Size entrysize, long size, MemoryContext cxt)
{
	HASHCTL		ctl;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, Max(size, 16), &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

HTAB *
salesperf_late_triples(const NewRowsSummary *rows, const Datum *late, const char *late_nulls,
					   MemoryContext cxt)
{
	Datum	   *reps,
			   *days,
			   *kinds;
	bool	   *nulls;
	int			n,
				n_days,
				n_kinds;
	HTAB	   *set;

	if (late_nulls[0] == 'n')
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(late[0]), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &reps, &nulls, &n);
	deconstruct_array(DatumGetArrayTypeP(late[1]), DATEOID, 4, true, TYPALIGN_INT,
					  &days, &nulls, &n_days);
	deconstruct_array(DatumGetArrayTypeP(late[2]), TEXTOID, -1, false, TYPALIGN_INT,
					  &kinds, &nulls, &n_kinds);
	if (n != n_days || n != n_kinds)
		elog(ERROR, "salesperf: late triples of unequal lengths");
	set = blob_table("salesperf late triples", sizeof(LateKey), sizeof(LateKey), n, cxt);
	for (int i = 0; i < n; i++)
	{
		LateKey		key;

		memset(&key, 0, sizeof(key));
		key.rep_id = DatumGetInt64(reps[i]);
		key.day = DatumGetDateADT(days[i]);
		key.kind = salesperf_new_row_kind(rows, DatumGetTextPP(kinds[i]));
		if (key.kind >= 0)
			hash_search(set, &key, HASH_ENTER, NULL);
	}
	return set;
}

bool
salesperf_is_late_triple(HTAB *late_triples, int64 rep_id, DateADT day, int kind)
{
	LateKey		key;

	if (late_triples == NULL)
		return false;
	memset(&key, 0, sizeof(key));
	key.rep_id = rep_id;
	key.day = day;
	key.kind = kind;
	return hash_search(late_triples, &key, HASH_FIND, NULL) != NULL;
}

pg_tz *
salesperf_settings_zone(void)
{
	bool		isnull;

	if (SPI_execute(zone_sql, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "salesperf: salesperf.settings must have one row");
	return salesperf_zone_named(DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[0],
															 SPI_tuptable->tupdesc, 1, &isnull)));
}

/* The position of rep_id in the statement's sorted, distinct reps. */
static int
rep_position(const NewRowsSummary *rows, int64 rep_id)
{
	int			lo = 0,
				hi = rows->rep_count - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (rows->reps[mid] == rep_id)
			return mid;
		if (rows->reps[mid] < rep_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	elog(ERROR, "salesperf: rep " INT64_FORMAT " of a new row was not seen by the first pass", rep_id);
	return -1;					/* keep the compiler quiet */
}

/* The memberships of the statement's reps, by position in rows->reps. */
static RepStints *
load_stints(const NewRowsSummary *rows, Stint **stints_out, MemoryContext cxt)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(rows->rep_count, 1));
	Datum		arg;
	Oid			argtype = INT8ARRAYOID;
	RepStints  *by_rep;
	Stint	   *stints;
	int			current = -1;

	for (int i = 0; i < rows->rep_count; i++)
		elems[i] = Int64GetDatum(rows->reps[i]);
	arg = PointerGetDatum(construct_array(elems, rows->rep_count, INT8OID, 8, FLOAT8PASSBYVAL,
										  TYPALIGN_DOUBLE));
	if (SPI_execute_with_args(stints_sql, 1, &argtype, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "salesperf: could not read memberships");

	by_rep = MemoryContextAllocZero(cxt, sizeof(RepStints) * Max(rows->rep_count, 1));
	stints = MemoryContextAlloc(cxt, sizeof(Stint) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		rep = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		Datum		upper;

		stints[i].unit_id = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
		/* Half-open with a finite start (membership_half_open). */
		stints[i].lower = DatumGetTimestampTz(SPI_getbinval(row, desc, 3, &isnull));
		upper = SPI_getbinval(row, desc, 4, &isnull);
		stints[i].open = isnull;
		stints[i].upper = isnull ? 0 : DatumGetTimestampTz(upper);
		if (current < 0 || rows->reps[current] != rep)
		{
			current = rep_position(rows, rep);
			by_rep[current].first = (int) i;
		}
		by_rep[current].count++;
	}
	*stints_out = stints;
	return by_rep;
}

/* The unit the rep at `position` was in at `at`; false when none. */
static bool
unit_at(const RepStints *by_rep, const Stint *stints, int position, TimestampTz at,
		int64 *unit_id)
{
	const RepStints *rep = &by_rep[position];

	for (int i = rep->first; i < rep->first + rep->count; i++)
	{
		const Stint *s = &stints[i];

		if (at >= s->lower && (s->open || at < s->upper))
		{
			*unit_id = s->unit_id;
			return true;
		}
	}
	return false;
}

static bool
is_zero(Numeric value, Datum zero)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(value), zero)) == 0;
}

/* a + b, allocated in cxt, computed in the current (per-row) context. */
static Numeric
sum_into(MemoryContext cxt, Numeric a, Numeric b)
{
	Datum		sum = DirectFunctionCall2(numeric_add, NumericGetDatum(a), NumericGetDatum(b));
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Numeric		copy = DatumGetNumericCopy(sum);

	MemoryContextSwitchTo(old);
	return copy;
}

/* The kinds' ranks in the database's default collation, by number. */
static int *kind_ranks;

static int
kind_collation_order(const void *a, const void *b)
{
	const char *x = *(char *const *) a;
	const char *y = *(char *const *) b;

	return varstr_cmp(x, strlen(x), y, strlen(y), DEFAULT_COLLATION_OID);
}

static int *
collation_ranks(const NewRowsSummary *rows)
{
	char	  **names = palloc(sizeof(char *) * Max(rows->kind_count, 1));
	int		   *ranks = palloc(sizeof(int) * Max(rows->kind_count, 1));

	memcpy(names, rows->kind_names, sizeof(char *) * rows->kind_count);
	qsort(names, rows->kind_count, sizeof(char *), kind_collation_order);
	for (int r = 0; r < rows->kind_count; r++)
		for (int k = 0; k < rows->kind_count; k++)
			if (rows->kind_names[k] == names[r])
				ranks[k] = r;
	return ranks;
}

/*
 * The counter upsert's ORDER BY (rep_id, day, kind, unit_id; NULLs last),
 * so that its sort finds the rows already in order.
 */
static int
group_order(const void *a, const void *b)
{
	const DeltaKey *x = &(*(DeltaGroup *const *) a)->key;
	const DeltaKey *y = &(*(DeltaGroup *const *) b)->key;

	if (x->rep_id != y->rep_id)
		return x->rep_id < y->rep_id ? -1 : 1;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->kind != y->kind)
		return kind_ranks[x->kind] < kind_ranks[y->kind] ? -1 : 1;
	if (x->unit_null != y->unit_null)
		return x->unit_null ? 1 : -1;
	if (x->unit_id != y->unit_id)
		return x->unit_id < y->unit_id ? -1 : 1;
	return 0;
}

static TupleDesc
delta_descriptor(void)
{
	TupleDesc	desc = CreateTemplateTupleDesc(10);

	TupleDescInitEntry(desc, 1, "rep_id", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 2, "unit_id", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 3, "day", DATEOID, -1, 0);
	TupleDescInitEntry(desc, 4, "kind", TEXTOID, -1, 0);
	TupleDescInitEntry(desc, 5, "activities", INT8OID, -1, 0);
	TupleDescInitEntry(desc, 6, "amount", NUMERICOID, -1, 0);
	TupleDescInitEntry(desc, 7, "points", NUMERICOID, -1, 0);
	TupleDescInitEntry(desc, 8, "last_at", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(desc, 9, "last_amount_at", TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(desc, 10, "last_point_at", TIMESTAMPTZOID, -1, 0);
	return desc;
}

void
salesperf_register_bulk_delta(TriggerData *trigdata, const NewRowsSummary *rows,
							  const RuleSet *rules, HTAB *late_triples, pg_tz *zone,
							  const BulkAwards *awards, BulkDelta *registered)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "salesperf bulk delta",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext rowcxt = AllocSetContextCreate(cxt, "salesperf bulk delta row",
												 ALLOCSET_SMALL_SIZES);
	MemoryContext old;
	RuleSet   **kind_rules = palloc(sizeof(RuleSet *) * Max(rows->kind_count, 1));
	Stint	   *stints;
	RepStints  *by_rep = load_stints(rows, &stints, cxt);
	int			last_rep_position = -1;
	Tuplestorestate *store = trigdata->tg_newtable;
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	int			id_col = SPI_fnumber(desc, "activity_id");
	int			rep_col = SPI_fnumber(desc, "rep_id");
	int			kind_col = SPI_fnumber(desc, "kind");
	int			amount_col = SPI_fnumber(desc, "amount");
	int			at_col = SPI_fnumber(desc, "occurred_at");
	Datum		zero = NumericGetDatum(int64_to_numeric(0));
	HTAB	   *groups = blob_table("salesperf bulk delta groups", sizeof(DeltaKey),
									sizeof(DeltaGroup),
									(long) Min(tuplestore_tuple_count(store), 1000000), cxt);
	size_t	   *kind_lengths = palloc(sizeof(size_t) * Max(rows->kind_count, 1));
	Datum	   *kind_texts = palloc(sizeof(Datum) * Max(rows->kind_count, 1));
	int			last_kind_number = -1;
	HASH_SEQ_STATUS seq;
	DeltaGroup *group;
	DeltaGroup **sorted;
	long		group_count;
	long		n_sorted = 0;
	BulkStandings *standings = salesperf_bulk_standings_begin(cxt);
	TupleDesc	delta_desc;
	Tuplestorestate *delta;

	if (id_col <= 0 || rep_col <= 0 || kind_col <= 0 || amount_col <= 0 || at_col <= 0)
		elog(ERROR, "salesperf: salesperf.activity lacks a column the bulk path reads");
	for (int i = 0; i < rows->kind_count; i++)
	{
		kind_rules[i] = salesperf_point_rules_of_kind(rules, rows->kind_names[i], cxt);
		kind_lengths[i] = strlen(rows->kind_names[i]);
		kind_texts[i] = CStringGetTextDatum(rows->kind_names[i]);
	}

	tuplestore_select_read_pointer(store, 0);
	tuplestore_rescan(store);
	while (tuplestore_gettupleslot(store, true, false, slot))
	{
		bool		isnull;
		int64		activity_id;
		text	   *kind;
		Numeric		amount;
		TimestampTz at;
		Numeric		points;
		DeltaKey	key;
		bool		found;
		const char *kind_name;

		MemoryContextReset(rowcxt);
		old = MemoryContextSwitchTo(rowcxt);

		memset(&key, 0, sizeof(key));
		activity_id = DatumGetInt64(slot_getattr(slot, id_col, &isnull));
		key.rep_id = DatumGetInt64(slot_getattr(slot, rep_col, &isnull));
		kind = DatumGetTextPP(slot_getattr(slot, kind_col, &isnull));
		amount = DatumGetNumeric(slot_getattr(slot, amount_col, &isnull));
		at = DatumGetTimestampTz(slot_getattr(slot, at_col, &isnull));

		/* Rows of one kind come in runs: compare with the last one first. */
		if (last_kind_number < 0 ||
			VARSIZE_ANY_EXHDR(kind) != kind_lengths[last_kind_number] ||
			memcmp(VARDATA_ANY(kind), rows->kind_names[last_kind_number],
				   kind_lengths[last_kind_number]) != 0)
		{
			last_kind_number = salesperf_new_row_kind(rows, kind);
			if (last_kind_number < 0)
				elog(ERROR, "salesperf: a new row's kind was not seen by the first pass");
		}
		key.kind = last_kind_number;
		kind_name = rows->kind_names[key.kind];
		key.day = salesperf_local_date(at, zone);

		if (salesperf_is_late_triple(late_triples, key.rep_id, key.day, key.kind))
		{
			MemoryContextSwitchTo(old);
			continue;
		}
		if (last_rep_position < 0 || rows->reps[last_rep_position] != key.rep_id)
			last_rep_position = rep_position(rows, key.rep_id);
		key.unit_null = !unit_at(by_rep, stints, last_rep_position, at, &key.unit_id);

		points = salesperf_uncapped_points(kind_rules[key.kind], kind_name, amount, at);
		if (salesperf_capped_rule_in_force(kind_rules[key.kind], kind_name, at))
		{
			Numeric		award;

			if (salesperf_bulk_award_of(awards, activity_id, &award))
				points = DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(points),
															 NumericGetDatum(award)));
		}

		group = hash_search(groups, &key, HASH_ENTER, &found);
		if (!found)
		{
			MemoryContextSwitchTo(cxt);
			group->activities = 1;
			group->amount = DatumGetNumericCopy(NumericGetDatum(amount));
			group->points = DatumGetNumericCopy(NumericGetDatum(points));
			group->last_at = at;
			group->has_amount_at = !is_zero(amount, zero);
			group->last_amount_at = at;
			group->has_point_at = !is_zero(points, zero);
			group->last_point_at = at;
		}
		else
		{
			Numeric		was;

			group->activities++;
			was = group->amount;
			group->amount = sum_into(cxt, was, amount);
			pfree(was);
			was = group->points;
			group->points = sum_into(cxt, was, points);
			pfree(was);
			group->last_at = Max(group->last_at, at);
			if (!is_zero(amount, zero))
			{
				group->last_amount_at = group->has_amount_at ? Max(group->last_amount_at, at) : at;
				group->has_amount_at = true;
			}
			if (!is_zero(points, zero))
			{
				group->last_point_at = group->has_point_at ? Max(group->last_point_at, at) : at;
				group->has_point_at = true;
			}
		}
		MemoryContextSwitchTo(old);
	}
	ExecDropSingleTupleTableSlot(slot);

	/*
	 * The groups, in the counters' key order, as the rows of an ephemeral
	 * relation; and what each adds to the rep boards.
	 */
	group_count = hash_get_num_entries(groups);
	sorted = MemoryContextAlloc(cxt, sizeof(DeltaGroup *) * Max(group_count, 1));
	hash_seq_init(&seq, groups);
	while ((group = hash_seq_search(&seq)) != NULL)
		sorted[n_sorted++] = group;
	kind_ranks = collation_ranks(rows);
	qsort(sorted, n_sorted, sizeof(DeltaGroup *), group_order);
	kind_ranks = NULL;

	delta_desc = delta_descriptor();
	delta = tuplestore_begin_heap(false, false, work_mem);
	for (long i = 0; i < n_sorted; i++)
	{
		Datum		values[10];
		bool		nulls[10] = {false};
		KpiCounterRow counter;

		group = sorted[i];

		values[0] = Int64GetDatum(group->key.rep_id);
		values[1] = Int64GetDatum(group->key.unit_id);
		nulls[1] = group->key.unit_null;
		values[2] = DateADTGetDatum(group->key.day);
		values[3] = kind_texts[group->key.kind];
		values[4] = Int64GetDatum(group->activities);
		values[5] = NumericGetDatum(group->amount);
		values[6] = NumericGetDatum(group->points);
		values[7] = TimestampTzGetDatum(group->last_at);
		values[8] = TimestampTzGetDatum(group->last_amount_at);
		nulls[8] = !group->has_amount_at;
		values[9] = TimestampTzGetDatum(group->last_point_at);
		nulls[9] = !group->has_point_at;
		tuplestore_putvalues(delta, delta_desc, values, nulls);

		MemoryContextReset(rowcxt);
		old = MemoryContextSwitchTo(rowcxt);
		memset(&counter, 0, sizeof(counter));
		counter.kind = DatumGetTextPP(kind_texts[group->key.kind]);
		counter.activities = group->activities;
		counter.amount = values[5];
		counter.points = values[6];
		counter.last[0] = group->last_at;
		counter.last[1] = group->last_amount_at;
		counter.last_null[1] = !group->has_amount_at;
		counter.last[2] = group->last_point_at;
		counter.last_null[2] = !group->has_point_at;
		salesperf_bulk_standings_add(standings, group->key.rep_id, group->key.unit_null,
									 group->key.unit_id, group->key.day, &counter);
		MemoryContextSwitchTo(old);
	}
	registered->standings = salesperf_bulk_standings_register(standings);

	salesperf_register_store(BULK_DELTA_RELATION, delta_desc, delta);
	registered->delta = delta;
	MemoryContextDelete(cxt);
}

void
salesperf_register_store(const char *name, TupleDesc desc, Tuplestorestate *store)
{
	EphemeralNamedRelation enr = palloc0(sizeof(EphemeralNamedRelationData));

	enr->md.name = pstrdup(name);
	enr->md.reliddesc = InvalidOid;
	enr->md.tupdesc = desc;
	enr->md.enrtype = ENR_NAMED_TUPLESTORE;
	enr->md.enrtuples = tuplestore_tuple_count(store);
	enr->reldata = store;
	if (SPI_register_relation(enr) != SPI_OK_REL_REGISTER)
		elog(ERROR, "salesperf: could not register the ephemeral relation %s", name);
}

void
salesperf_end_bulk_delta(BulkDelta *registered)
{
	if (SPI_unregister_relation(BULK_DELTA_RELATION) != SPI_OK_REL_UNREGISTER ||
		SPI_unregister_relation(BULK_STANDINGS_RELATION) != SPI_OK_REL_UNREGISTER)
		elog(ERROR, "salesperf: could not unregister the bulk delta");
	tuplestore_end(registered->delta);
	tuplestore_end(registered->standings);
	registered->delta = registered->standings = NULL;
}
