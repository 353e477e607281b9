#!/usr/bin/env bash
# Every scenario, both targets, three runs each (Parley and the peer interleaved, so that a
# change in the machine's load hits both alike), tagged; then the report and the plot.
# Takes about an hour on 2 cores once the fixtures exist (python -m bench.fixture ...).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
TAG=${TAG:-final}
R=${REPEAT:-3}
SCENARIOS=${SCENARIOS:-"fanout ingest step rooms idle"}
args_fanout="--loads 2000,5000,10000,20000,35000,50000,75000,100000 --warm 2 --window 8 --drain 2"
args_ingest="--loads 100,200,500,1000,2000,5000,10000,15000 --warm 2 --window 8 --drain 2"
args_step="--rate 10 --warm 2 --window 8 --drain 3"
# Full sizes are --rooms 1000 (10,000 clients) and --conns 19000; the figures in
# docs/performance.md used ROOMS=300 and IDLE=5000 (a shared, busy machine).
args_rooms="--rooms ${ROOMS:-1000} --loads 900,2700,5400,9000,18000 --warm 2 --window 8 --drain 2"
args_idle="--conns ${IDLE:-19000} --settle 5"
for s in $SCENARIOS; do
  var="args_$s"
  for i in $(seq "$R"); do
    for t in parley peer; do
      # shellcheck disable=SC2086
      "$PY" -m bench.run "$s" --target "$t" ${!var} --tag "$TAG" || echo "FAILED: $s $t run $i"
    done
  done
done
"$PY" -m bench.report --tag "$TAG" > "bench/results/report-$TAG.md"
"$PY" -m bench.plot --tag "$TAG"
