#!/usr/bin/env bash
# Organisation import (issue 11, "org" row): BENCH_ORG_REPS reps (100,000;
# quick 10,000) placed in BENCH_ORG_TEAMS teams (200) on an empty ledger,
#   1. with salesperf.assign() called once per rep in one statement,
#   2. with one INSERT INTO salesperf.membership,
# beside the same INSERT into bench.plain_membership, a plain copy of the
# table (same columns, checks, indexes and foreign keys, no triggers, and
# so no overlap check and no re-attribution of activities).
# The company is lib/setup.sql's (rules, boards, badge rule) without its
# memberships.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

db=bench_org
if [ "${BENCH_QUICK:-0}" = 1 ]; then _org_reps=10000; else _org_reps=100000; fi
reps=${BENCH_ORG_REPS:-$(_scale $_org_reps)}
teams=${BENCH_ORG_TEAMS:-200}
label="$(human "$reps") reps into $(human "$teams") teams, empty ledger"

say "org import: $label"
setup_company "$db" "$reps" "$teams"
q "$db" >/dev/null <<'SQL'
DELETE FROM salesperf.membership;
CREATE TABLE bench.plain_membership (LIKE salesperf.membership INCLUDING ALL);
ALTER TABLE bench.plain_membership
  ADD FOREIGN KEY (rep_id) REFERENCES salesperf.rep (rep_id) ON DELETE CASCADE,
  ADD FOREIGN KEY (unit_id) REFERENCES salesperf.unit (unit_id);
VACUUM ANALYZE salesperf.membership;
VACUUM ANALYZE salesperf.rep;
SQL

# Rep r goes to team 1001 + (r - 1) % teams.
assign_ms=$(time_ms "$db" "SELECT count(salesperf.assign(r, 1001 + (r - 1) % $teams, '2025-01-01 00:00+00'))
                             FROM generate_series(1, $reps) r")
placed=$(val "$db" "SELECT count(*) FROM salesperf.membership")
q "$db" -c "DELETE FROM salesperf.membership" -c "VACUUM ANALYZE salesperf.membership" >/dev/null
insert_ms=$(time_ms "$db" "INSERT INTO salesperf.membership (rep_id, unit_id, during)
                             SELECT r, 1001 + (r - 1) % $teams, tstzrange('2025-01-01 00:00+00', NULL, '[)')
                               FROM generate_series(1, $reps) r")
plain_ms=$(time_ms "$db" "INSERT INTO bench.plain_membership (rep_id, unit_id, during)
                            SELECT r, 1001 + (r - 1) % $teams, tstzrange('2025-01-01 00:00+00', NULL, '[)')
                              FROM generate_series(1, $reps) r")
same=$(val "$db" "SELECT count(*) = 0 FROM (TABLE salesperf.membership EXCEPT ALL TABLE bench.plain_membership) x")
note "org import: assign() placed $(human "$placed") reps; the INSERT wrote the same memberships as the plain copy: $same; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

result "org: assign() per rep in one statement, $label" "$(calc "$assign_ms/1000" 1) s" \
       "$(calc "$plain_ms/1000" 1) s (one INSERT into a plain copy of the table)" \
       "$(calc "$assign_ms/$plain_ms" 1)× the plain INSERT" "≤ 10 s"
result "org: one INSERT INTO salesperf.membership, $label" "$(calc "$insert_ms/1000" 1) s" \
       "$(calc "$plain_ms/1000" 1) s (one INSERT into a plain copy of the table)" \
       "$(calc "$insert_ms/$plain_ms" 1)× the plain INSERT" "≤ 10 s"
drop_db "$db"
