#!/usr/bin/env bash
# `make demo` / `make demo-stop`: a throwaway cluster with a demo company.
# The company's history ends a few minutes before now; DEMO_NOW (a moment,
# read in Europe/Paris time, e.g. DEMO_NOW='2027-03-01 00:03' make demo)
# pretends the clock says something else, to see the pages at any moment.
set -euo pipefail
cd "$(dirname "$0")/../.."
state=.demo-cluster

case "${1:-start}" in
start)
  if [ -f "$state" ]; then
    echo "salesperf: a demo cluster is already running; restarting it"
    bash test/harness/cluster.sh stop "$state"
  fi
  bash test/harness/cluster.sh start "$state"
  # shellcheck disable=SC1090
  . "$state"
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE salesperf_demo" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -v demo_now="${DEMO_NOW:-}" -d salesperf_demo -f demo/company.sql >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d salesperf_demo -f demo/pipeline.sql >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d salesperf_demo -f demo/motivation.sql >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d salesperf_demo -f demo/commission.sql >/dev/null
  psql -X -v ON_ERROR_STOP=1 -d salesperf_demo -f demo/show.sql
  psql -X -v ON_ERROR_STOP=1 -d salesperf_demo -f demo/show_pipeline.sql
  psql -X -v ON_ERROR_STOP=1 -d salesperf_demo -f demo/show_motivation.sql
  psql -X -v ON_ERROR_STOP=1 -d salesperf_demo -f demo/show_commission.sql
  cat <<MSG

The demo company lives in database salesperf_demo. Connect with:

    psql -h $PGHOST -p $PGPORT -U $PGUSER salesperf_demo

Stop and remove the cluster with:  make demo-stop
MSG
  ;;
stop)
  bash test/harness/cluster.sh stop "$state"
  echo "salesperf: demo cluster stopped and removed"
  ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
