-- pgbench: one activity per transaction for one of the four reps of one
-- team, at a random moment of the current month.  E-mails earn points under
-- a daily cap, so most e-mails re-derive the rep's day.
\set rep random(1, 4)
\set k random(1, 3)
\set amount random(0, 900)
\set secs random(0, 2419199)
SELECT salesperf.record(:rep, (ARRAY['call', 'email', 'deal_won'])[:k], :amount,
                        salesperf.period_start(now(), 'month') + :secs * interval '1 second');
