-- pgbench: retries of twenty idempotency keys, so clients collide on them.
\set key random(1, 20)
\set rep random(1, 4)
\set secs random(0, 2419199)
SELECT salesperf.record(:rep, 'deal_won', 1000,
                        salesperf.period_start(now(), 'month') + :secs * interval '1 second',
                        'crm', 'deal-' || :key);
