-- Tracking CRM tables: salesperf.track() watches the CRM's own deals and
-- leads, and the ledger follows every insert, update and delete of their
-- rows, whatever statement made it.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
-- The CRM's tables live in schema public.
SET search_path = public;
\set SHOW_CONTEXT never

-- Ada and Bo sell in Paris, Cy in Berlin.
INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo'), (3, 'Cy');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (10, NULL, 'Acme', 'company'), (20, 10, 'Paris', 'team'), (21, 10, 'Berlin', 'team');
SELECT salesperf.assign(1, 20, '2024-01-01'), salesperf.assign(2, 20, '2024-01-01'),
       salesperf.assign(3, 21, '2024-01-01');

-- The CRM's deals, two of them already won.
CREATE TABLE deals (
    id        bigint PRIMARY KEY,
    owner_id  bigint,
    amount    numeric,
    status    text NOT NULL DEFAULT 'open',
    closed_at timestamptz
);
INSERT INTO deals VALUES
  (1, 1, 1000, 'won',  '2024-03-04 10:00'),
  (2, 1,  500, 'open', NULL),
  (3, 2,  800, 'won',  '2024-03-05 16:00'),
  (4, 3,  300, 'lost', '2024-03-06 09:00');

-- What the ledger holds for the deals, and March's numbers per rep and team.
CREATE FUNCTION pg_temp.won_deals()
RETURNS TABLE (deal text, rep_id bigint, amount numeric, occurred_at timestamptz, source text)
LANGUAGE sql AS $$
  SELECT a.source_key, a.rep_id, a.amount, a.occurred_at, a.source
    FROM salesperf.activity a WHERE a.kind = 'deal_won' ORDER BY a.source_key::int
$$;
CREATE FUNCTION pg_temp.march()
RETURNS TABLE (who text, deals_won numeric, revenue numeric)
LANGUAGE sql AS $$
  SELECT r.name, salesperf.kpi_value('deals_won', 'rep', r.rep_id, 'month', '2024-03-15'),
         salesperf.kpi_value('revenue', 'rep', r.rep_id, 'month', '2024-03-15')
    FROM salesperf.rep r
  UNION ALL
  SELECT u.name, salesperf.kpi_value('deals_won', 'unit', u.unit_id, 'month', '2024-03-15'),
         salesperf.kpi_value('revenue', 'unit', u.unit_id, 'month', '2024-03-15')
    FROM salesperf.unit u
$$;

-- A deal is a won deal while its status is 'won': its owner, closing time
-- and amount make the activity, its id the key.  The deals already won are
-- recorded at once (backfill); track() says how many.
SELECT salesperf.track('deals', 'deal_won', rep_column => 'owner_id',
                       occurred_column => 'closed_at', amount_column => 'amount',
                       condition => $$status = 'won'$$);
SELECT * FROM pg_temp.won_deals();
SELECT * FROM pg_temp.march();

-- The registration keeps the condition as validated, normalized; the key
-- defaulted to the primary key.  Four statement triggers watch the table.
SELECT source, kind, source_name, rep_column, occurred_column, amount_column,
       key_column, condition, trigger_name
  FROM salesperf.tracked_source;
SELECT tgname FROM pg_catalog.pg_trigger WHERE tgrelid = 'deals'::regclass ORDER BY tgname;

-- A new won deal appears; a new open one does not.
INSERT INTO deals VALUES (5, 3, 1200, 'won', '2024-03-07 14:00'), (6, 2, 400, 'open', NULL);
SELECT * FROM pg_temp.won_deals();

-- Deal 2 is won: it appears, on the day it closed.
UPDATE deals SET status = 'won', closed_at = '2024-03-08 11:00' WHERE id = 2;
SELECT * FROM pg_temp.won_deals();
SELECT * FROM pg_temp.march();

-- Deal 1 was worth more than first entered: its amount follows.
UPDATE deals SET amount = 1500 WHERE id = 1;
SELECT deal, amount FROM pg_temp.won_deals() WHERE deal = '1';
SELECT * FROM pg_temp.march() WHERE who IN ('Ada', 'Paris');

-- Deal 3 is reopened: it disappears, and Bo's revenue with it.
UPDATE deals SET status = 'open' WHERE id = 3;
SELECT * FROM pg_temp.won_deals();
SELECT * FROM pg_temp.march() WHERE who IN ('Bo', 'Paris');

-- Deal 5 changes hands from Cy (Berlin) to Bo (Paris): so does its revenue.
UPDATE deals SET owner_id = 2 WHERE id = 5;
SELECT deal, rep_id FROM pg_temp.won_deals() WHERE deal = '5';
SELECT * FROM pg_temp.march();

-- A won deal without an owner credits nobody until it gets one.
INSERT INTO deals VALUES (7, NULL, 200, 'won', '2024-03-09 09:00');
SELECT count(*) AS activities_for_deal_7 FROM pg_temp.won_deals() WHERE deal = '7';
UPDATE deals SET owner_id = 3 WHERE id = 7;
SELECT * FROM pg_temp.won_deals() WHERE deal = '7';

-- A deleted deal takes its activity with it.
DELETE FROM deals WHERE id = 1;
SELECT * FROM pg_temp.won_deals();
SELECT * FROM pg_temp.march() WHERE who IN ('Ada', 'Acme');

-- Bulk: 90 deals arrive open, then one UPDATE wins 60 of them.  The ledger
-- sees each CRM statement as one batch: its statement triggers fire once per
-- statement, not once per deal (counted here by a trigger of our own).  An
-- insert becomes one INSERT ... ON CONFLICT DO UPDATE on the ledger, which
-- fires its insert and update triggers once each; an update also deletes,
-- in one statement, the activities of deals no longer won.
CREATE TABLE ledger_statements (op text);
CREATE FUNCTION count_ledger_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.ledger_statements VALUES (TG_OP);
    RETURN NULL;
END
$$;
CREATE TRIGGER zz_count AFTER INSERT OR UPDATE OR DELETE ON salesperf.activity
    FOR EACH STATEMENT EXECUTE FUNCTION count_ledger_statement();
INSERT INTO deals (id, owner_id, amount)
SELECT i, 1 + i % 3, 10 * i FROM generate_series(101, 190) AS i;
SELECT op, count(*) AS statements FROM ledger_statements GROUP BY op ORDER BY op;
TRUNCATE ledger_statements;
UPDATE deals SET status = 'won', closed_at = '2024-03-20 12:00' WHERE id BETWEEN 101 AND 160;
SELECT op, count(*) AS statements FROM ledger_statements GROUP BY op ORDER BY op;
DROP TRIGGER zz_count ON salesperf.activity;
SELECT rep_id, count(*) AS deals, sum(amount) AS amount
  FROM pg_temp.won_deals() WHERE deal::int > 100 GROUP BY rep_id ORDER BY rep_id;
SELECT * FROM pg_temp.march();

-- An update that touches nothing the ledger holds leaves the activities as
-- they are (the same row versions).
CREATE TEMP TABLE before AS SELECT activity_id, xmin::text AS version FROM salesperf.activity;
UPDATE deals SET status = status;
SELECT count(*) AS rewritten_activities
  FROM salesperf.activity a JOIN before b USING (activity_id) WHERE a.xmin::text <> b.version;

-- A table can be tracked once per kind: every lead is a lead created, and a
-- converted one is also a lead converted, at its conversion time.  Without an
-- amount column, each counts 1.
CREATE TABLE leads (
    lead_id      integer PRIMARY KEY,
    rep          integer NOT NULL,
    created      timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'new',
    converted_at timestamptz
);
INSERT INTO leads VALUES
  (1, 1, '2024-03-01 09:00', 'new', NULL),
  (2, 1, '2024-03-01 10:00', 'converted', '2024-03-11 10:00'),
  (3, 2, '2024-03-02 09:00', 'new', NULL);
SELECT salesperf.track('leads', 'lead_created', 'rep', 'created');
SELECT salesperf.track('leads', 'lead_converted', 'rep', 'converted_at',
                       condition => $$status = 'converted' AND converted_at IS NOT NULL$$);
INSERT INTO leads VALUES (4, 2, '2024-03-03 09:00', 'new', NULL), (5, 2, '2024-03-03 11:00', 'new', NULL);
UPDATE leads SET status = 'converted', converted_at = '2024-03-12 15:00' WHERE lead_id IN (3, 4);
SELECT kind, source_key, rep_id, amount, occurred_at, source
  FROM salesperf.activity WHERE source = 'public.leads' ORDER BY kind, source_key;
SELECT r.name,
       salesperf.kpi_value('leads_generated', 'rep', r.rep_id, 'month', '2024-03-15') AS leads,
       salesperf.kpi_value('leads_converted', 'rep', r.rep_id, 'month', '2024-03-15') AS converted,
       round(salesperf.kpi_value('conversion_rate', 'rep', r.rep_id, 'month', '2024-03-15'), 3) AS rate
  FROM salesperf.rep r WHERE r.rep_id IN (1, 2) ORDER BY r.rep_id;

-- Renaming the table keeps its activities' source: the name it was tracked by.
ALTER TABLE leads RENAME TO prospects;
INSERT INTO prospects VALUES (6, 3, '2024-03-04 09:00', 'new', NULL);
SELECT kind, source_key, source FROM salesperf.activity WHERE source_key = '6' AND kind = 'lead_created';
ALTER TABLE prospects RENAME TO leads;

-- Bad input: an ERROR with a specific SQLSTATE, and nothing changes (no
-- registration, no trigger, no activity, the deals table still there, and
-- the same deals).
CREATE TEMP TABLE baseline AS
SELECT (SELECT string_agg(t.source || '/' || t.kind, ', ' ORDER BY t.tracked_id) FROM salesperf.tracked_source t) AS registrations,
       (SELECT count(*) FROM pg_catalog.pg_trigger g WHERE g.tgname LIKE 'salesperf\_track\_%') AS triggers,
       (SELECT count(*) FROM salesperf.activity) AS activities,
       (SELECT count(*) FROM salesperf.kpi_counter) AS counters,
       to_regclass('public.deals') IS NOT NULL AS deals_exist,
       (SELECT sum(d.amount) FROM deals d) AS deal_amounts;
CREATE FUNCTION pg_temp.unchanged() RETURNS text
LANGUAGE sql AS $$
  SELECT CASE WHEN b::text = n::text THEN 'nothing changed' ELSE 'CHANGED: ' || n::text END
    FROM baseline b,
         (SELECT (SELECT string_agg(t.source || '/' || t.kind, ', ' ORDER BY t.tracked_id) FROM salesperf.tracked_source t),
                 (SELECT count(*) FROM pg_catalog.pg_trigger g WHERE g.tgname LIKE 'salesperf\_track\_%'),
                 (SELECT count(*) FROM salesperf.activity),
                 (SELECT count(*) FROM salesperf.kpi_counter),
                 to_regclass('public.deals') IS NOT NULL,
                 (SELECT sum(d.amount) FROM public.deals d)) n
$$;
SELECT * FROM baseline;
CREATE TABLE notes (body text);
CREATE VIEW won_view AS SELECT * FROM deals WHERE status = 'won';
CREATE ROLE regress_salesperf_intruder;
GRANT USAGE ON SCHEMA salesperf TO regress_salesperf_intruder;

\pset tuples_only on
\set VERBOSITY sqlstate
-- unknown columns, as argument or in the condition (42703)
SELECT salesperf.track('deals', 'deal_lost', 'salesman', 'closed_at');
SELECT pg_temp.unchanged();
SELECT salesperf.track('deals', 'deal_lost', 'owner_id', 'closed_at', condition => $$stauts = 'lost'$$);
SELECT pg_temp.unchanged();
-- conditions that are not one safe boolean expression over the row (42601):
-- not boolean, a subquery, a second statement, another table, a volatile
-- function, an aggregate, a syntax error
SELECT salesperf.track('deals', 'deal_lost', 'owner_id', 'closed_at', condition => 'amount');
SELECT pg_temp.unchanged();
SELECT salesperf.track('deals', 'deal_lost', 'owner_id', 'closed_at',
                       condition => $$id IN (SELECT lead_id FROM leads)$$);
SELECT pg_temp.unchanged();
SELECT salesperf.track('deals', 'deal_lost', 'owner_id', 'closed_at', condition => $$true; DROP TABLE deals$$);
SELECT pg_temp.unchanged();
SELECT salesperf.track('deals', 'deal_lost', 'owner_id', 'closed_at', condition => $$leads.status = 'lost'$$);
SELECT pg_temp.unchanged();
SELECT salesperf.track('deals', 'deal_lost', 'owner_id', 'closed_at', condition => 'random() > 0.5');
SELECT pg_temp.unchanged();
SELECT salesperf.track('deals', 'deal_lost', 'owner_id', 'closed_at', condition => 'sum(amount) > 0');
SELECT pg_temp.unchanged();
SELECT salesperf.track('deals', 'deal_lost', 'owner_id', 'closed_at', condition => $$status = = 'lost'$$);
SELECT pg_temp.unchanged();
-- unknown kind (42704)
SELECT salesperf.track('deals', 'deal_teleported', 'owner_id', 'closed_at');
SELECT pg_temp.unchanged();
-- NULL where a value is needed (22004)
SELECT salesperf.track(NULL, 'deal_lost', 'owner_id', 'closed_at');
SELECT pg_temp.unchanged();
SELECT salesperf.track('deals', 'deal_lost', NULL, 'closed_at');
SELECT pg_temp.unchanged();
-- the same table and kind twice (42710)
SELECT salesperf.track('deals', 'deal_won', 'owner_id', 'closed_at', 'amount', condition => $$status = 'won'$$);
SELECT pg_temp.unchanged();
-- untracking what is not tracked (42704)
SELECT salesperf.untrack('deals', 'deal_lost');
SELECT pg_temp.unchanged();
-- no key: no primary key and no key_column (42P10)
SELECT salesperf.track('notes', 'message', 'body', 'body');
SELECT pg_temp.unchanged();
-- not a table (42809)
SELECT salesperf.track('won_view', 'deal_lost', 'owner_id', 'closed_at');
SELECT pg_temp.unchanged();
SELECT salesperf.track('salesperf.activity', 'bonus', 'rep_id', 'occurred_at');
SELECT pg_temp.unchanged();
-- a tracked table refuses rows the ledger would refuse: a rep salesperf does
-- not know (42704), a negative amount (22003)
INSERT INTO deals VALUES (8, 99, 100, 'won', '2024-03-21 10:00');
SELECT pg_temp.unchanged();
UPDATE deals SET amount = -100 WHERE id = 2;
SELECT pg_temp.unchanged();
-- only the table's owner may track or untrack it (42501)
SET ROLE regress_salesperf_intruder;
SELECT salesperf.track('deals', 'deal_lost', 'owner_id', 'closed_at', condition => $$status = 'lost'$$);
SELECT salesperf.untrack('deals', 'deal_won');
RESET ROLE;
SELECT pg_temp.unchanged();
\set VERBOSITY default
\pset tuples_only off

-- The maintained counters equal a rebuild from the ledger.
CREATE TEMP TABLE maintained AS SELECT * FROM salesperf.kpi_counter;
SELECT salesperf.recompute();
SELECT (SELECT count(*) FROM (SELECT * FROM maintained EXCEPT ALL SELECT * FROM salesperf.kpi_counter) d)
     + (SELECT count(*) FROM (SELECT * FROM salesperf.kpi_counter EXCEPT ALL SELECT * FROM maintained) d)
       AS differences;

-- untrack() removes the registration and the triggers; the activities
-- recorded so far stay as history, and later changes no longer reach them.
SELECT salesperf.untrack('deals', 'deal_won');
SELECT source, kind FROM salesperf.tracked_source ORDER BY tracked_id;
SELECT count(*) AS deal_triggers FROM pg_catalog.pg_trigger WHERE tgrelid = 'deals'::regclass;
UPDATE deals SET status = 'lost' WHERE id = 5;
SELECT * FROM pg_temp.won_deals() WHERE deal::int < 100;

-- Truncating a tracked table removes its activities, as deleting every row
-- would.
TRUNCATE leads;
SELECT count(*) AS lead_activities FROM salesperf.activity WHERE source = 'public.leads';

-- Clean up, and leave the default state for the files that follow.
SELECT salesperf.untrack('leads', 'lead_created'), salesperf.untrack('leads', 'lead_converted');
DROP OWNED BY regress_salesperf_intruder;
DROP ROLE regress_salesperf_intruder;
DROP VIEW won_view;
DROP TABLE deals, leads, notes, ledger_statements;
DROP FUNCTION count_ledger_statement();
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
