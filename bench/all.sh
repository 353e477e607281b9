#!/usr/bin/env bash
# Every scenario, both targets, three runs each, tagged; then the report and the plot.
# Takes about 45 minutes on 2 cores once the fixtures exist (python -m bench.fixture).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
TAG=${TAG:-final}
R=${REPEAT:-3}
run() { "$PY" -m bench.run "$@" --repeat "$R" --tag "$TAG"; }
for t in parley peer; do
  run fanout --target "$t" --loads 5000,10000,20000,35000,50000,75000,100000 --warm 2 --window 8 --drain 2
done
for t in parley peer; do
  run ingest --target "$t" --loads 1000,2000,5000,10000,15000 --warm 2 --window 8 --drain 2
done
for t in parley peer; do
  run step --target "$t" --rate 10 --warm 2 --window 8 --drain 3
done
for t in parley peer; do
  run rooms --target "$t" --loads 9000,18000,36000 --warm 2 --window 8 --drain 2
done
for t in parley peer; do
  run idle --target "$t" --conns 19000
done
"$PY" -m bench.report --tag "$TAG" > "bench/results/report-$TAG.md"
"$PY" -m bench.plot --tag "$TAG"
