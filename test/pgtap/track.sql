-- salesperf.track() / untrack(): registration, validation of the condition,
-- ownership, and the activities following the rows of a CRM table.
BEGIN;
SELECT plan(81);

SELECT has_table('salesperf', 'tracked_source', 'tracked_source table exists');
SELECT has_function('salesperf', 'track',
  ARRAY['regclass', 'text', 'name', 'name', 'name', 'name', 'text', 'boolean'], 'track() exists');
SELECT has_function('salesperf', 'untrack', ARRAY['regclass', 'text'], 'untrack() exists');
SELECT has_function('salesperf', 'tracked_row_changed', 'the sync trigger function exists');

INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo'), (3, 'Cy');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (10, NULL, 'Acme', 'company');
SELECT lives_ok($$SELECT salesperf.assign(r, 10, '2024-01-01') FROM generate_series(1, 3) r$$, 'reps in a unit');

CREATE TABLE public.deals (
    id        bigint PRIMARY KEY,
    owner_id  bigint,
    amount    numeric,
    status    text NOT NULL DEFAULT 'open',
    closed_at timestamptz
);
INSERT INTO public.deals VALUES
  (1, 1, 100, 'won', '2024-03-01 10:00+00'),
  (2, 2, 200, 'open', NULL),
  (3, 3, 300, 'won', '2024-03-02 10:00+00');

-- The activities of one kind from one source, as comparable rows.
CREATE FUNCTION pg_temp.acts(k text, src text)
RETURNS TABLE (source_key text, rep_id bigint, amount numeric, occurred_at timestamptz)
LANGUAGE sql AS $$
  SELECT a.source_key, a.rep_id, a.amount, a.occurred_at FROM salesperf.activity a
   WHERE a.kind = k AND a.source = src ORDER BY a.source_key
$$;
CREATE FUNCTION pg_temp.triggers(t regclass) RETURNS bigint
LANGUAGE sql AS $$ SELECT count(*) FROM pg_catalog.pg_trigger g WHERE g.tgrelid = t AND NOT g.tgisinternal $$;

-- ---------------------------------------------------------------------------
-- Bad input: SQLSTATE, a message naming the culprit, and nothing changes.
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'random() > 0.5')$$,
  '42601', 'invalid track condition "random() > 0.5"', 'volatile function in the condition');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'true; DROP TABLE public.deals')$$,
  '42601', 'invalid track condition "true; DROP TABLE public.deals"', 'a second statement');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'EXISTS (SELECT 1 FROM salesperf.rep)')$$,
  '42601', NULL, 'a subquery');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'rep.active')$$,
  '42601', NULL, 'another table');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'amount + 1')$$,
  '42601', 'invalid track condition "amount + 1"', 'not boolean');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'max(amount) > 1')$$, '42601', NULL, 'an aggregate');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'rank() OVER () = 1')$$, '42601', NULL, 'a window function');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'generate_series(1, 2) = 1')$$, '42601', NULL, 'a set-returning function');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => '$1')$$, '42601', NULL, 'a parameter');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'true FROM public.deals')$$, '42601', NULL, 'a FROM clause');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'deals IS NOT NULL')$$, '42601', NULL, 'the whole row');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'status = ''won'') OR (true')$$, '42601', NULL, 'unbalanced parentheses');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at',
                   condition => 'stauts = ''won''')$$,
  '42703', 'column "stauts" of table public.deals does not exist', 'unknown column in the condition');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'salesman', 'closed_at')$$,
  '42703', 'column "salesman" of table public.deals does not exist', 'unknown rep column');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at', 'price')$$,
  '42703', 'column "price" of table public.deals does not exist', 'unknown amount column');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'closed_at', 'closed_at')$$,
  '42846', NULL, 'a rep column that is no id');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_teleported', 'owner_id', 'closed_at')$$,
  '42704', 'unknown activity kind "deal_teleported"', 'unknown kind');
SELECT throws_ok($$SELECT salesperf.track(NULL, 'deal_won', 'owner_id', 'closed_at')$$, '22004', NULL, 'NULL source');
SELECT throws_ok($$SELECT salesperf.track('public.deals', NULL, 'owner_id', 'closed_at')$$, '22004', NULL, 'NULL kind');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', NULL)$$, '22004', NULL,
  'NULL occurred column');
SELECT throws_ok($$SELECT salesperf.untrack(NULL, 'deal_won')$$, '22004', NULL, 'untrack of NULL');
SELECT throws_ok($$SELECT salesperf.untrack('public.deals', 'deal_won')$$,
  '42704', 'table public.deals is not tracked for kind "deal_won"', 'untrack of what is not tracked');

CREATE TABLE public.no_key (rep bigint, at timestamptz);
CREATE TABLE public.two_keys (a int, b int, rep bigint, at timestamptz, PRIMARY KEY (a, b));
CREATE TABLE public.loose_key (ref text, rep bigint, at timestamptz);
CREATE VIEW public.won_deals AS SELECT * FROM public.deals WHERE status = 'won';
SELECT throws_ok($$SELECT salesperf.track('public.no_key', 'call', 'rep', 'at')$$,
  '42P10', 'table public.no_key has no primary key', 'no primary key and no key column');
SELECT throws_ok($$SELECT salesperf.track('public.two_keys', 'call', 'rep', 'at')$$,
  '42P10', NULL, 'a two-column primary key and no key column');
SELECT throws_ok($$SELECT salesperf.track('public.loose_key', 'call', 'rep', 'at', key_column => 'ref')$$,
  '42P10', 'column "ref" of table public.loose_key is not unique', 'a key column without a unique index');
SELECT throws_ok($$SELECT salesperf.track('public.won_deals', 'deal_won', 'owner_id', 'closed_at')$$,
  '42809', NULL, 'a view');
SELECT throws_ok($$SELECT salesperf.track('salesperf.activity', 'bonus', 'rep_id', 'occurred_at')$$,
  '42809', NULL, 'the ledger itself');

CREATE ROLE regress_salesperf_stranger;
-- An admin who does not own the table: what is refused is the ownership.
SELECT salesperf.grant_access('regress_salesperf_stranger', 'admin');
SELECT throws_ok($$SET LOCAL ROLE regress_salesperf_stranger;
                   SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at')$$,
  '42501', 'must be owner of table public.deals to change how salesperf tracks it', 'only the owner may track');

SELECT is((SELECT count(*) FROM salesperf.tracked_source), 0::bigint, 'no registration after the errors');
SELECT is(pg_temp.triggers('public.deals'), 0::bigint, 'no trigger after the errors');
SELECT is((SELECT count(*) FROM salesperf.activity), 0::bigint, 'no activity after the errors');

-- ---------------------------------------------------------------------------
-- Normalization: what is stored is the analysed expression, deparsed.
SELECT is(salesperf.check_track('public.deals', $$status IN ('won', 'closed') AND amount > 0$$),
  $$((status = ANY (ARRAY['won'::text, 'closed'::text])) AND (amount > (0)::numeric))$$,
  'a condition is stored normalized');
SELECT is(salesperf.check_track('public.deals', NULL), NULL, 'no condition, no text');

-- Names resolve under pg_catalog only: a function elsewhere must be
-- qualified, and a look-alike cannot capture a built-in.
CREATE FUNCTION public.is_big(numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 250';
CREATE SCHEMA lookalike;
CREATE FUNCTION lookalike.lower(character varying) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'won'$$;
SET search_path = lookalike, "$user", public;
SELECT throws_ok($$SELECT salesperf.check_track('public.deals', 'is_big(amount)')$$,
  '42883', NULL, 'an unqualified function outside pg_catalog is not found');
SELECT is(salesperf.check_track('public.deals', 'public.is_big(amount)'), 'public.is_big(amount)',
  'a qualified one is kept qualified');
CREATE TABLE public.tickets (id int PRIMARY KEY, agent bigint, at timestamptz, state varchar);
SELECT is(salesperf.check_track('public.tickets', $$lower(state) = 'won'$$),
  $$(lower((state)::text) = 'won'::text)$$, 'lower() is pg_catalog.lower, not the look-alike');
SELECT is(salesperf.track('public.tickets', 'visit', 'agent', 'at', condition => $$lower(state) = 'won'$$),
  0::bigint, 'track a table with a varchar column');
INSERT INTO public.tickets VALUES (1, 1, '2024-03-01', 'OPEN'), (2, 1, '2024-03-01', 'Won');
SELECT results_eq($$SELECT source_key FROM pg_temp.acts('visit', 'public.tickets')$$,
  ARRAY['2'], 'the sync runs the validated expression, under the pinned search_path');
RESET search_path;

-- ---------------------------------------------------------------------------
-- Sync: deals won while status = 'won'.
SELECT is(salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at', 'amount',
                          condition => $$status = 'won'$$), 2::bigint, 'backfill records the two won deals');
SELECT results_eq($$SELECT * FROM pg_temp.acts('deal_won', 'public.deals')$$,
  $$VALUES ('1', 1::bigint, 100::numeric, '2024-03-01 10:00+00'::timestamptz),
           ('3', 3::bigint, 300::numeric, '2024-03-02 10:00+00'::timestamptz)$$, 'backfilled activities');
SELECT is(pg_temp.triggers('public.deals'), 4::bigint, 'four triggers');
SELECT results_eq($$SELECT key_column::text COLLATE "default", condition FROM salesperf.tracked_source WHERE kind = 'deal_won'$$,
  $$VALUES ('id', '(status = ''won''::text)')$$, 'the key is the primary key, the condition normalized');
SELECT throws_ok($$SELECT salesperf.track('public.deals', 'deal_won', 'owner_id', 'closed_at')$$,
  '42710', 'table public.deals is already tracked for kind "deal_won"', 'tracking twice');

UPDATE public.deals SET status = 'won', closed_at = '2024-03-03 10:00+00' WHERE id = 2;
UPDATE public.deals SET amount = 150 WHERE id = 1;
UPDATE public.deals SET status = 'lost' WHERE id = 3;
SELECT results_eq($$SELECT * FROM pg_temp.acts('deal_won', 'public.deals')$$,
  $$VALUES ('1', 1::bigint, 150::numeric, '2024-03-01 10:00+00'::timestamptz),
           ('2', 2::bigint, 200::numeric, '2024-03-03 10:00+00'::timestamptz)$$,
  'won appears, amount follows, lost disappears');
SELECT is(salesperf.kpi_value('revenue', 'company', NULL, 'month', '2024-03-15'), 350::numeric,
  'revenue follows the deals');

UPDATE public.deals SET id = 20 WHERE id = 2;
SELECT results_eq($$SELECT source_key FROM pg_temp.acts('deal_won', 'public.deals')$$,
  ARRAY['1', '20'], 'a changed key moves the activity');
UPDATE public.deals SET owner_id = 3 WHERE id = 1;
SELECT results_eq($$SELECT rep_id FROM pg_temp.acts('deal_won', 'public.deals') WHERE source_key = '1'$$,
  ARRAY[3::bigint], 'a new owner takes the activity');
UPDATE public.deals SET amount = NULL WHERE id = 1;
SELECT results_eq($$SELECT amount FROM pg_temp.acts('deal_won', 'public.deals') WHERE source_key = '1'$$,
  ARRAY[0::numeric], 'a NULL amount counts 0');
UPDATE public.deals SET closed_at = NULL WHERE id = 1;
SELECT results_eq($$SELECT source_key FROM pg_temp.acts('deal_won', 'public.deals')$$,
  ARRAY['20'], 'without a time it is no activity');
DELETE FROM public.deals WHERE id = 20;
SELECT is((SELECT count(*) FROM pg_temp.acts('deal_won', 'public.deals')), 0::bigint, 'a deleted deal loses its activity');

-- One statement, many rows.
INSERT INTO public.deals (id, owner_id, amount, status, closed_at)
SELECT i, 1 + i % 3, i, CASE WHEN i % 2 = 0 THEN 'won' ELSE 'open' END, '2024-03-10 10:00+00'
  FROM generate_series(100, 299) i;
SELECT is((SELECT count(*) FROM pg_temp.acts('deal_won', 'public.deals')), 100::bigint, 'bulk insert: 100 won');
UPDATE public.deals SET status = CASE status WHEN 'won' THEN 'open' ELSE 'won' END WHERE id >= 100;
SELECT results_eq($$SELECT count(*), sum(amount) FROM pg_temp.acts('deal_won', 'public.deals')$$,
  $$SELECT count(*), sum(amount) FROM public.deals WHERE status = 'won' AND closed_at IS NOT NULL$$,
  'bulk flip: the ledger holds exactly the won deals');
SELECT is(salesperf.kpi_value('deals_won', 'company', NULL, 'month', '2024-03-15'), 100::numeric,
  'and the counters agree');
DELETE FROM public.deals WHERE id BETWEEN 100 AND 149;
SELECT results_eq($$SELECT count(*), sum(amount) FROM pg_temp.acts('deal_won', 'public.deals')$$,
  $$SELECT count(*), sum(amount) FROM public.deals WHERE status = 'won' AND closed_at IS NOT NULL$$,
  'bulk delete');

-- A second kind on the same table, without condition or amount.
SELECT is(salesperf.track('public.deals', 'meeting', 'owner_id', 'closed_at', backfill => false), 0::bigint,
  'without backfill nothing is recorded');
INSERT INTO public.deals VALUES (7, 1, 70, 'open', '2024-03-11 10:00+00');
SELECT results_eq($$SELECT * FROM pg_temp.acts('meeting', 'public.deals')$$,
  $$VALUES ('7', 1::bigint, 1::numeric, '2024-03-11 10:00+00'::timestamptz)$$, 'every new row, amount 1');
SELECT is((SELECT count(*) FROM salesperf.tracked_source WHERE source = 'public.deals'::regclass), 2::bigint,
  'two registrations on one table');

-- A registration edited by hand cannot smuggle anything in: the condition is
-- validated again before it runs.
UPDATE salesperf.tracked_source SET condition = 'true; DELETE FROM salesperf.rep' WHERE kind = 'deal_won';
SELECT throws_ok($$INSERT INTO public.deals VALUES (8, 1, 80, 'won', '2024-03-11 10:00+00')$$,
  '42601', NULL, 'a tampered condition is refused at run time');
UPDATE salesperf.tracked_source SET condition = '(status = ''won''::text)' WHERE kind = 'deal_won';

-- Odd names: a quoted schema, table and columns; a text key that is not the
-- primary key.
CREATE SCHEMA "CRM";
CREATE TABLE "CRM"."Calls" (
    "Call Id"   integer PRIMARY KEY,
    "Ref"       text NOT NULL UNIQUE,
    "Agent"     bigint,
    "Started"   timestamptz,
    "Seconds"   integer,
    "Answered?" boolean
);
INSERT INTO "CRM"."Calls" VALUES (1, 'c-1', 1, '2024-03-05 09:00+00', 60, true),
                                 (2, 'c-2', 2, '2024-03-05 09:05+00', 30, false);
SELECT is(salesperf.track('"CRM"."Calls"', 'call', 'Agent', 'Started', 'Seconds', 'Ref',
                          condition => '"Answered?"'), 1::bigint, 'quoted names work');
UPDATE "CRM"."Calls" SET "Answered?" = true, "Seconds" = 45 WHERE "Call Id" = 2;
SELECT results_eq($$SELECT * FROM pg_temp.acts('call', '"CRM"."Calls"')$$,
  $$VALUES ('c-1', 1::bigint, 60::numeric, '2024-03-05 09:00+00'::timestamptz),
           ('c-2', 2::bigint, 45::numeric, '2024-03-05 09:05+00'::timestamptz)$$,
  'source is the quoted qualified name, key the Ref column');

-- Partitioned tables are tracked as a whole.
CREATE TABLE public.visit_log (id int PRIMARY KEY, rep bigint, at timestamptz) PARTITION BY RANGE (id);
CREATE TABLE public.visit_log_1 PARTITION OF public.visit_log FOR VALUES FROM (0) TO (1000);
SELECT lives_ok($$SELECT salesperf.track('public.visit_log', 'visit', 'rep', 'at')$$, 'a partitioned table');
INSERT INTO public.visit_log VALUES (1, 1, '2024-03-06'), (2, 2, '2024-03-06');
UPDATE public.visit_log SET rep = 3 WHERE id = 2;
SELECT results_eq($$SELECT source_key, rep_id FROM pg_temp.acts('visit', 'public.visit_log')$$,
  $$VALUES ('1', 1::bigint), ('2', 3::bigint)$$, 'rows of its partitions are followed');

-- Someone else writing the table: the sync runs with their rights.
-- (The writer level, as README asks of a role writing a tracked table.)
CREATE ROLE regress_salesperf_writer;
SELECT salesperf.grant_access('regress_salesperf_writer', 'writer');
GRANT SELECT, INSERT, UPDATE ON public.deals TO regress_salesperf_writer;
SET LOCAL ROLE regress_salesperf_writer;
INSERT INTO public.deals VALUES (9, 2, 90, 'won', '2024-03-12 10:00+00');
RESET ROLE;
SELECT results_eq($$SELECT rep_id, amount FROM pg_temp.acts('deal_won', 'public.deals') WHERE source_key = '9'$$,
  $$VALUES (2::bigint, 90::numeric)$$, 'a writer who is not the owner is followed too');
SELECT throws_ok($$SET LOCAL ROLE regress_salesperf_writer;
                   SELECT salesperf.untrack('public.deals', 'deal_won')$$, '42501', NULL,
  'but cannot untrack');

-- Maintained counters equal a rebuild from the ledger.
CREATE TEMP TABLE maintained AS SELECT * FROM salesperf.kpi_counter;
SELECT lives_ok('SELECT salesperf.recompute()', 'recompute');
SELECT set_eq('SELECT * FROM maintained', 'SELECT * FROM salesperf.kpi_counter',
  'counters maintained through track() equal recompute()');

-- TRUNCATE and untrack.
TRUNCATE public.visit_log;
SELECT is((SELECT count(*) FROM pg_temp.acts('visit', 'public.visit_log')), 0::bigint,
  'truncate removes the activities');
SELECT lives_ok($$SELECT salesperf.untrack('public.deals', 'deal_won')$$, 'untrack');
SELECT is(pg_temp.triggers('public.deals'), 4::bigint, 'the other registration keeps its triggers');
SELECT is((SELECT count(*) FROM pg_temp.acts('deal_won', 'public.deals')) > 0, true,
  'activities stay as history');
UPDATE public.deals SET status = 'lost';
SELECT is((SELECT count(*) FROM pg_temp.acts('deal_won', 'public.deals')) > 0, true,
  'and later changes no longer reach them');
SELECT lives_ok($$SELECT salesperf.untrack('public.deals', 'meeting')$$, 'untrack the second kind');
SELECT is(pg_temp.triggers('public.deals'), 0::bigint, 'no trigger left');

-- A dropped table's registration is removed by the next track().
DROP TABLE public.tickets;
CREATE UNIQUE INDEX ON public.loose_key (ref);
SELECT lives_ok($$SELECT salesperf.track('public.loose_key', 'message', 'rep', 'at', key_column => 'ref')$$,
  'a unique key column');
SELECT is((SELECT count(*) FROM salesperf.tracked_source WHERE kind = 'visit' AND source_name = 'public.tickets'),
  0::bigint, 'the dropped table''s registration is gone');

-- Misuse of the trigger function.
CREATE TABLE public.misuse (id int PRIMARY KEY);
CREATE TRIGGER misuse AFTER INSERT ON public.misuse FOR EACH ROW EXECUTE FUNCTION salesperf.tracked_row_changed();
SELECT throws_ok($$INSERT INTO public.misuse VALUES (1)$$, '39P01', NULL, 'as a row trigger it refuses to run');

SELECT * FROM finish();
ROLLBACK;
