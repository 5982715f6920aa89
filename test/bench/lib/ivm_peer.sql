-- The peer: pg_ivm's incrementally maintained views over a plain ledger,
-- as a user who knows PostgreSQL would build the part of salesperf that
-- pg_ivm can express.  bench.ivm_activity has the ledger's columns,
-- defaults and indexes (like bench.plain_activity); two IMMVs keep
--   bench.ivm_counter  activities and amount per (rep, UTC day, kind), and
--   bench.ivm_board    points per (rep, UTC month), with an index for the top.
-- Points follow the bench's rules without the daily cap on call time (an
-- IMMV cannot cap), so the board is the uncapped one; it has no ties by
-- who reached a score first, no teams and no zero-score reps.
--
--   psql -v with_views=1 -f test/bench/lib/ivm_peer.sql   table and views
--   psql -v with_views=0 ...                               the table only
--   psql -v with_views=only ...                            the views only
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\if :{?with_views}
\else
\set with_views 1
\endif
SELECT :'with_views' <> 'only' AS make_table, :'with_views' <> '0' AS make_views \gset
\if :make_table
CREATE EXTENSION IF NOT EXISTS pg_ivm;
CREATE TABLE bench.ivm_activity (LIKE salesperf.activity INCLUDING ALL);
\endif
\if :make_views
SELECT pgivm.create_immv('bench.ivm_counter', $$
    SELECT rep_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, kind,
           count(*) AS activities, sum(amount) AS amount
      FROM bench.ivm_activity
     GROUP BY rep_id, (occurred_at AT TIME ZONE 'UTC')::date, kind $$);
SELECT pgivm.create_immv('bench.ivm_board', $$
    SELECT rep_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC') AS month,
           sum(CASE kind WHEN 'call' THEN 1 + 0.01 * amount
                         WHEN 'email' THEN 0.5
                         WHEN 'meeting' THEN 5
                         WHEN 'visit' THEN 8
                         WHEN 'lead_converted' THEN 10
                         WHEN 'deal_won' THEN 50 + 0.001 * amount
                         WHEN 'bonus' THEN amount
                         ELSE 0 END) AS points
      FROM bench.ivm_activity
     GROUP BY rep_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC') $$);
CREATE INDEX ivm_board_top_idx ON bench.ivm_board (month, points DESC);
ANALYZE bench.ivm_board;
\endif
