#!/usr/bin/env bash
# Time `make report` with the default demo parameters, from an empty data/ and
# _output/ (phantoms generated, cache built, model trained), against a plain
# baseline measured in the same run: the same render with epochs=1, which
# separates fixed costs (start-up, data, render) from training.
#   bash bench/render_time.sh        (results appended to bench/results/render_time.csv)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
run() {
  rm -rf data/demo data/cache _output
  local start end
  start=$(date +%s.%N)
  Rscript scripts/render.R --to html "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}
full=$(run)
baseline=$(run epochs=1)
ratio=$(awk -v a="$full" -v b="$baseline" 'BEGIN { printf "%.2f", a / b }')
echo "$(date -u +%FT%TZ),$(nproc),default,$full,epochs=1,$baseline,$ratio" | tee -a bench/results/render_time.csv
echo "default render: ${full}s on $(nproc) cores (target <= 300 s); epochs=1 baseline: ${baseline}s; ratio ${ratio}"
