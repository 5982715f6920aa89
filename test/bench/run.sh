#!/usr/bin/env bash
# `make bench`: the SPEC §15 benchmarks on a throwaway cluster, which is
# always removed.  Runs every test/bench/*.sh (but this file) and then every
# test/bench/*.sql, each in its own database, and prints a table of each
# figure beside the honest alternative measured in the same run.  The table
# also goes to test/bench/results/latest.md.  Benchmarks are measurements,
# never pass/fail tests: a goal missed is reported, not failed.
#
#   BENCH_QUICK=1 make bench      small sizes, a few minutes
#   BENCH_ONLY="p1 p3" make bench  only the files whose name contains a word
#   PG_IVM_SRC=DIR make bench      also measure pg_ivm (the peer, built from
#                                  its source in DIR, github:sraoss/pg_ivm)
#                                  in P1, P2 and P3; skipped with a note
#                                  when PG_IVM_SRC is not set
# Sizes and repetitions: see test/bench/lib/common.sh.
#
# A *.sql benchmark runs with psql -X -v ON_ERROR_STOP=1 -f in a fresh
# database where salesperf is already installed, with psql variables quick (0/1)
# and scale.  It reports by printing markdown table rows
#   | P4 workload | salesperf | alternative | ratio | goal |
# on stdout or in a NOTICE; other output is shown as it is.
set -uo pipefail
cd "$(dirname "$0")/../.."
bench=test/bench
mkdir -p "$bench/results"

state=$(mktemp /tmp/salesperf-bench-state.XXXXXX)
work=$(mktemp -d /tmp/salesperf-bench.XXXXXX)
trap 'bash test/harness/cluster.sh stop "$state"; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

export BENCH_RESULTS=$work/results.tsv BENCH_NOTES=$work/notes.txt
: >"$BENCH_RESULTS"; : >"$BENCH_NOTES"

# The library is preloaded and the extension installed once in a template
# database that every benchmark database is copied from: the whole run
# measures the salesperf that was installed when it started, even if a new
# build is installed meanwhile.
# pg_ivm is built from a copy of its source and installed beside
# salesperf; it is preloaded, as its documentation asks.
preload=salesperf
export BENCH_IVM=0
ivm_note="pg_ivm: not measured (set PG_IVM_SRC to its source directory)"
if [ -n "${PG_IVM_SRC:-}" ]; then
  pg_config=${PG_CONFIG:-$(command -v pg_config || echo /usr/lib/postgresql/15/bin/pg_config)}
  rm -rf "$work/pg_ivm" && cp -r "$PG_IVM_SRC" "$work/pg_ivm" \
    && make -C "$work/pg_ivm" USE_PGXS=1 PG_CONFIG="$pg_config" >"$work/pg_ivm.log" 2>&1 \
    && make -C "$work/pg_ivm" USE_PGXS=1 PG_CONFIG="$pg_config" install >>"$work/pg_ivm.log" 2>&1 \
    || { tail -20 "$work/pg_ivm.log"; echo "could not build pg_ivm from $PG_IVM_SRC" >&2; exit 1; }
  preload=salesperf,pg_ivm
  BENCH_IVM=1
  ivm_note="pg_ivm: $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$work/pg_ivm/pg_ivm.control"), built from $PG_IVM_SRC"
fi
bash test/harness/cluster.sh start "$state" shared_buffers=2GB work_mem=64MB maintenance_work_mem=1GB \
    max_wal_size=8GB synchronous_commit=off checkpoint_timeout=30min \
    shared_preload_libraries=$preload || exit 1
# shellcheck disable=SC1090
. "$state"
export BENCH_TEMPLATE=bench_template
. "$bench/lib/common.sh"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $BENCH_TEMPLATE" \
  && q "$BENCH_TEMPLATE" -c "CREATE EXTENSION salesperf" || exit 1

started=$(date -u '+%Y-%m-%d %H:%M UTC')
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain -- sql src 2>/dev/null)" ] && revision="$revision with uncommitted changes to sql/ or src/"
pg_version=$(psql -X -At -d postgres -c "SHOW server_version")
quick=; [ "${BENCH_QUICK:-0}" = 1 ] && quick=" (BENCH_QUICK=1)"
machine="$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM"
echo "salesperf benchmarks: salesperf $revision, PostgreSQL $pg_version on 127.0.0.1:$PGPORT, $machine"
echo "sizes: P1 $(human "$BENCH_P1_ROWS") rows; P2 4 pgbench runs of ${BENCH_P2_SECONDS} s; P3/P6/P7 $(human "$BENCH_BIG_REPS") reps, $(human "$BENCH_BIG_ROWS") activities$quick"

selected() {
  [ -z "${BENCH_ONLY:-}" ] && return 0
  local w; for w in $BENCH_ONLY; do case "$(basename "$1")" in *"$w"*) return 0 ;; esac; done
  return 1
}

load_note() { note "load average (1, 5, 15 min) $1: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"; }
load_note "at start"
note "$ivm_note"
failed=()
for script in "$bench"/*.sh; do
  [ "$(basename "$script")" = run.sh ] && continue
  selected "$script" || continue
  echo; echo "== $(basename "$script")"
  s0=$(date +%s)
  bash "$script" || failed+=("$(basename "$script")")
  echo "   ($(( $(date +%s) - s0 )) s)"
done

for file in "$bench"/*.sql; do
  [ -f "$file" ] || continue
  selected "$file" || continue
  name=$(basename "$file" .sql)
  echo; echo "== $name.sql"
  s0=$(date +%s)
  db="bench_$(printf '%s' "$name" | tr -c 'a-z0-9_\n' '_')"
  fresh_db "$db" || { failed+=("$name.sql"); continue; }
  psql -X -v ON_ERROR_STOP=1 -d "$db" -v quick="${BENCH_QUICK:-0}" -v scale="${BENCH_SCALE:-1}" \
       -f "$file" >"$work/$name.out" 2>&1
  rc=$?
  cat "$work/$name.out"
  sed -n 's/^\(psql:[^ ]* \)\{0,1\}NOTICE: *//; /^ *|[[:space:]]*P[0-9]/p' "$work/$name.out" \
    | sed 's/^ *| *//; s/ *| *$//; s/ *| */\t/g' >>"$BENCH_RESULTS"
  [ $rc -eq 0 ] || failed+=("$name.sql")
  drop_db "$db"
  echo "   ($(( $(date +%s) - s0 )) s)"
done

load_note "at end"

{
  echo "## salesperf benchmarks"
  echo
  echo "$started · salesperf $revision · PostgreSQL $pg_version · $machine · throwaway cluster with fsync=off,"
  echo "synchronous_commit=off, shared_buffers=2GB, work_mem=64MB${quick:+ · quick sizes$quick}"
  echo
  echo "| workload | salesperf | alternative | ratio | goal |"
  echo "|---|---|---|---|---|"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$BENCH_RESULTS"
  if [ -s "$BENCH_NOTES" ]; then
    echo
    sed 's/^/- /' "$BENCH_NOTES"
  fi
  if [ ${#failed[@]} -gt 0 ]; then
    echo
    echo "Did not finish: ${failed[*]}"
  fi
} >"$work/latest.md"
cp "$work/latest.md" "$bench/results/latest.md"
echo
cat "$work/latest.md"
[ ${#failed[@]} -eq 0 ]
