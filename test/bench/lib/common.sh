# Shared by the benchmark scripts in test/bench/: sizes, psql helpers and
# the results files.  Sourced, never run.  run.sh exports PG* for the
# throwaway cluster plus BENCH_RESULTS, BENCH_NOTES and BENCH_TEMPLATE (the
# database, salesperf installed, that fresh databases are copied from)
# before running a benchmark script.
#
# Sizes (environment):
#   BENCH_QUICK=1       small sizes for a run of a few minutes
#   BENCH_SCALE=f       multiply every row and rep count below by f
#   BENCH_P1_ROWS       P1 bulk INSERT rows              (1,000,000; quick 100,000)
#   BENCH_P1_REPS       reps of the P1 company           (1,000)
#   BENCH_P2_SECONDS    pgbench duration of each P2 run   (20; quick 5)
#   BENCH_P2_CLIENTS / BENCH_P2_THREADS                   (8 / 2)
#   BENCH_BIG_REPS      reps for P3, P6, P7              (100,000; quick 10,000)
#   BENCH_BIG_ROWS      ledger rows for P3, P6, P7       (10,000,000; quick 500,000)
#   BENCH_BIG_BUDGET    seconds the P3 load may take before it stops adding
#                       months and measures what it has (5400; quick 600)
#   BENCH_RUNS          timed calls of a fast read (median taken) (50)
#   BENCH_ALT_RUNS      timed runs of a ledger-scanning alternative (3)
#   BENCH_P6_TIMEOUT    seconds before recompute() is cancelled (3600)
#   BENCH_BACK_DATED    share of the P1, P2 and P3 activities entered late,
#                       dated into days the ledger already holds (0.05)

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  _p1_rows=100000; _p2_seconds=5; _big_reps=10000; _big_rows=500000; _budget=600; _runs=20
else
  _p1_rows=1000000; _p2_seconds=20; _big_reps=100000; _big_rows=10000000; _budget=5400; _runs=50
fi
_scale() { awk -v n="$1" -v f="${BENCH_SCALE:-1}" 'BEGIN { v = int(n * f + 0.5); print (v < 1 ? 1 : v) }'; }

BENCH_P1_ROWS=${BENCH_P1_ROWS:-$(_scale $_p1_rows)}
BENCH_P1_REPS=${BENCH_P1_REPS:-1000}
BENCH_P2_SECONDS=${BENCH_P2_SECONDS:-$_p2_seconds}
BENCH_P2_CLIENTS=${BENCH_P2_CLIENTS:-8}
BENCH_P2_THREADS=${BENCH_P2_THREADS:-2}
BENCH_BIG_REPS=${BENCH_BIG_REPS:-$(_scale $_big_reps)}
BENCH_BIG_ROWS=${BENCH_BIG_ROWS:-$(_scale $_big_rows)}
BENCH_BIG_BUDGET=${BENCH_BIG_BUDGET:-$_budget}
BENCH_RUNS=${BENCH_RUNS:-$_runs}
BENCH_ALT_RUNS=${BENCH_ALT_RUNS:-3}
BENCH_P6_TIMEOUT=${BENCH_P6_TIMEOUT:-3600}
BENCH_BACK_DATED=${BENCH_BACK_DATED:-0.05}

BENCH_RESULTS=${BENCH_RESULTS:-/dev/null}
BENCH_NOTES=${BENCH_NOTES:-/dev/null}

PGBENCH=$( (${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config} --bindir || pg_config --bindir) 2>/dev/null )/pgbench

# psql against database $1, stopping at the first error.
q() { local db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# One value (unaligned, tuples only).
val() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
# Wall-clock milliseconds of one statement, as psql's \timing reports it.
time_ms() {
  local out
  out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c '\timing on' -c "$2") || return 1
  printf '%s\n' "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}

fresh_db() {
  PGOPTIONS='-c client_min_messages=warning' \
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $1" \
         -c "CREATE DATABASE $1 TEMPLATE ${BENCH_TEMPLATE:-template1}"
}
drop_db() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; }

# A company of $2 reps in $3 teams with rules and leaderboards (lib/setup.sql).
setup_company() {
  fresh_db "$1"
  q "$1" -v reps="$2" -v teams="$3" -f "$BENCH_DIR/lib/setup.sql" >/dev/null
}

say() { printf '%s\n' "$*" >&2; }
note() { say "  $*"; printf '%s\n' "$*" >>"$BENCH_NOTES"; }

# Arithmetic on decimals.
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }

# How many times faster the first time is than the second ("3× faster",
# or "2.5× slower" when it is not).
faster() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    r = a / b
    if (r >= 1) printf "%s× faster", (r >= 10 ? sprintf("%.0f", r) : sprintf("%.1f", r))
    else printf "%.1f× slower", 1 / r }'
}

# result WORKLOAD SALESPERF ALTERNATIVE RATIO GOAL
result() {
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$BENCH_RESULTS"
  say "  => $1: salesperf $2 | alternative $3 | $4 | goal: $5"
}

# Thousands separators for a count.
human() { printf '%s' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
