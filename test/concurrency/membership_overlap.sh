#!/usr/bin/env bash
# Memberships written directly and at once by many sessions (SPEC §4: no
# overlaps).  The overlap check runs in the membership statement triggers
# under the rep locks, not as an exclusion constraint, so this is its race:
# six clients, half of them SERIALIZABLE, each repeatedly inserts a
# membership of a random range for one of three shared reps, records an
# activity inside it in the same transaction, and now and then deletes or
# shortens one.  Passes when
#   * afterwards no two memberships of one rep overlap;
#   * inserts were refused with 23P01 (the race was exercised) and some
#     committed;
#   * the only errors are 23P01, 40001 (SERIALIZABLE) and 25P02 (statements
#     of a transaction already aborted), and the server saw no deadlock;
#   * the counters add up to the ledger and capped_award, kpi_counter and
#     standing equal what recompute() builds.
# Runs against the cluster in PGHOST/PGPORT/PGUSER; creates and drops its
# own database.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=membership_overlap
clients=6
rounds=${SALESPERF_CONC_ROUNDS:-120}
# shellcheck source=common.bash
. "$here/common.bash"

q >/dev/null <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (1, NULL, 'Acme', 'company'), (10, 1, 'Boston', 'team'), (11, 1, 'Denver', 'team'), (12, 1, 'Austin', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ann'), (2, 'Bo'), (3, 'Cy');
INSERT INTO salesperf.point_rule (name, kind, points, daily_cap) VALUES ('calls', 'call', 1, 3);
SELECT salesperf.create_leaderboard('teams', participant => 'unit', unit_kind => 'team', period => 'week');
SELECT salesperf.create_leaderboard('reps', period => 'day');
SQL

for ((c = 1; c <= clients; c++)); do
  {
    echo '\set VERBOSITY sqlstate'
    for ((i = 1; i <= rounds; i++)); do
      rep=$((1 + RANDOM % 3)); unit=$((10 + RANDOM % 3))
      day=$((RANDOM % 40)); hours=$((6 + RANDOM % 90))
      from="timestamptz '2026-01-01 00:00+00' + interval '$day days'"
      if ((c % 2 == 0)); then echo "BEGIN ISOLATION LEVEL SERIALIZABLE;"; else echo "BEGIN;"; fi
      case $((RANDOM % 6)) in
        0) echo "DELETE FROM salesperf.membership WHERE rep_id = $rep AND during && tstzrange($from, $from + interval '$hours hours');" ;;
        1) echo "UPDATE salesperf.membership SET during = tstzrange(lower(during), lower(during) + interval '$hours hours')
                  WHERE rep_id = $rep AND lower(during) >= $from AND lower(during) < $from + interval '3 days';" ;;
        *) echo "INSERT INTO salesperf.membership (rep_id, unit_id, during)
                  VALUES ($rep, $unit, tstzrange($from, $from + interval '$hours hours'));" ;;
      esac
      echo "SELECT salesperf.record($rep, 'call', 1, $from + interval '$((RANDOM % hours)) hours');"
      echo "SELECT pg_sleep($((RANDOM % 3)) / 1000.0);"
      echo "COMMIT;"
    done
  } >"$work/client$c.sql"
done

for ((c = 1; c <= clients; c++)); do
  psql -X -q -At -d "$db" -f "$work/client$c.sql" >"$work/client$c.out" 2>"$work/client$c.err" &
  background_pids+=($!)
done
for pid in "${background_pids[@]}"; do wait "$pid" || true; done
background_pids=()

codes() { cat "$@" | sed -n 's/.*ERROR: *\([0-9A-Z]\{5\}\)$/\1/p' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '; }
error_codes=$(codes "$work"/client*.err)
refused=$(cat "$work"/client*.err | grep -c 'ERROR: *23P01$' || true)
others=$(grep -h 'ERROR' "$work"/client*.err | grep -Ev 'ERROR: *(23P01|40001|25P02)$' || true)
memberships=$(q -c "SELECT count(*) FROM salesperf.membership")
overlapping=$(q -c "SELECT count(*) FROM salesperf.membership a JOIN salesperf.membership b
                     ON b.rep_id = a.rep_id AND b.ctid <> a.ctid AND b.during && a.during")
dl=$(deadlocks)
report=$(derived_report)

summary="$clients clients x $rounds transactions: $memberships memberships left, $refused inserts refused (23P01); errors: ${error_codes:-none}; $(report_value "$report" activities) activities"
[ "$overlapping" = 0 ] || fail "$overlapping pairs of memberships of one rep overlap; $summary"
[ -z "$others" ] || fail "unexpected errors: $(printf '%s\n' "$others" | sort | uniq -c | sort -rn | head -5 | tr -s ' \n' ' '); $summary"
[ "$dl" = 0 ] || fail "$dl deadlocks; $summary"
[ "$refused" -gt 0 ] && [ "$memberships" -gt 0 ] || fail "the race was not exercised; $summary"
check_derived "$report"
echo "$name: ok: $summary; no overlaps, no deadlock; derived state equals recompute()"
