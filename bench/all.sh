#!/usr/bin/env bash
# The runs behind docs/performance.md: fan-out and ingest three times each, Parley and the
# peer interleaved (so that a change in the machine's load hits both alike); idle, many
# rooms and the step test once each. Then the report and the plot. About 40 minutes on 2
# cores once the fixtures exist (python -m bench.fixture --target parley|peer).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
TAG=${TAG:-s2}
R=${REPEAT:-3}
run() { "$PY" -m bench.run "$@" --tag "$TAG" || echo "FAILED: $*"; }
for _ in $(seq "$R"); do
  for t in parley peer; do
    run fanout --target "$t" --loads 5000,10000,20000,35000,50000,75000,100000,150000 \
      --warm 2 --window 8 --drain 2
  done
done
for _ in $(seq "$R"); do
  for t in parley peer; do
    run ingest --target "$t" --loads 500,1000,2000,5000,8000,10000,12000 --warm 2 --window 8 --drain 2
  done
done
for t in parley peer; do run idle --target "$t" --conns "${IDLE:-19000}" --settle 5; done
for t in parley peer; do
  run rooms --target "$t" --rooms "${ROOMS:-1000}" --loads 900,2700,5400,9000,18000 \
    --warm 2 --window 8 --drain 2
done
for t in parley peer; do run step --target "$t" --rate 10 --warm 2 --window 8 --drain 3; done
"$PY" -m bench.report --tag "$TAG" > "bench/results/report-$TAG.md"
"$PY" -m bench.plot --tag "$TAG"
