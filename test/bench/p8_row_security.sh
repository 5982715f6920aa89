#!/usr/bin/env bash
# P8: the cost of row-level security.  The same query, one rep's month of
# the ledger (count and sum of salesperf.activity for one rep_id and a
# month), run BENCH_P8_RUNS times inside the server by three logins:
#   reader    level reader: the policy's first arm is true, nothing filtered
#   rep       level rep, linked to the rep (salesperf.rep.db_role)
#   manager   level rep, manager of the rep's team
# and, for reference, as the superuser (row-level security does not apply).
# Each run is planned and executed (EXECUTE in a DO block), so the figure
# includes the policy's InitPlans (the level look-up and the visible reps).
# Reports the median per run; the plan of the rep's query goes to the notes.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

db=bench_p8
reps=1000
rows=${BENCH_P8_ROWS:-$([ "${BENCH_QUICK:-0}" = 1 ] && echo 200000 || echo 1000000)}
runs=${BENCH_P8_RUNS:-300}
logins=(bench_p8_reader bench_p8_rep bench_p8_manager)

say "P8: row-level security, $(human "$rows") activities of $reps reps, median of $runs runs"
setup_company "$db" "$reps" 10
cleanup() {
  drop_db "$db" >/dev/null 2>&1 || true
  for r in "${logins[@]}"; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
for r in "${logins[@]}"; do
  psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" -c "CREATE ROLE $r LOGIN" >/dev/null
done
q "$db" -c "INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key)
            SELECT * FROM bench.activities(1, $rows, $reps, now() - interval '365 days', now())" \
        -c "UPDATE salesperf.rep SET db_role = 'bench_p8_rep' WHERE rep_id = 42" \
        -c "UPDATE salesperf.rep SET db_role = 'bench_p8_manager' WHERE rep_id = 43" \
        -c "UPDATE salesperf.unit SET manager_rep_id = 43 WHERE unit_id = salesperf.unit_of(42)" \
        -c "SELECT salesperf.grant_access('bench_p8_reader', 'reader'),
                   salesperf.grant_access('bench_p8_rep', 'rep'),
                   salesperf.grant_access('bench_p8_manager', 'rep')" \
        -c "VACUUM ANALYZE" >/dev/null

query="SELECT count(*), sum(a.amount) FROM salesperf.activity a
        WHERE a.rep_id = 42 AND a.occurred_at >= date_trunc('month', now() - interval '1 month')
          AND a.occurred_at < date_trunc('month', now())"

# Median milliseconds of $runs plans and executions of the query as login $1.
median_ms() {
  psql -X -q -At -v ON_ERROR_STOP=1 -U "$1" -d "$db" <<SQL
CREATE TEMP TABLE t (ms double precision);
DO \$\$
DECLARE
    t0 timestamptz;
    r  record;
BEGIN
    FOR i IN 1 .. $runs + 20 LOOP
        t0 := clock_timestamp();
        EXECUTE \$q\$ $query \$q\$ INTO r;
        IF i > 20 THEN  -- the first runs warm the caches
            INSERT INTO t VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
        END IF;
    END LOOP;
END
\$\$;
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3) FROM t;
SQL
}

owner=$(median_ms "${PGUSER:-postgres}")
reader=$(median_ms bench_p8_reader)
rep=$(median_ms bench_p8_rep)
manager=$(median_ms bench_p8_manager)
rows_rep=$(psql -X -q -At -U bench_p8_rep -d "$db" -c "$query" | cut -d'|' -f1)
rows_reader=$(psql -X -q -At -U bench_p8_reader -d "$db" -c "$query" | cut -d'|' -f1)
note "P8: the same query as the superuser (no policy applies): $owner ms"
note "P8: one rep's month = $rows_reader activities as reader, $rows_rep as the rep (must be equal)"
note "P8: plan as the rep login:"
psql -X -q -At -U bench_p8_rep -d "$db" -c "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) $query" \
  | sed 's/^/      /' | tee -a "$BENCH_NOTES" >&2
result "P8 one rep's month, rep login (reader)" "$rep ms" "$reader ms" "$(calc "$rep / $reader")x" \
       "filter is an index probe"
result "P8 one rep's month, manager login (reader)" "$manager ms" "$reader ms" "$(calc "$manager / $reader")x" \
       "filter is an index probe"
