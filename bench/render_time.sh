#!/usr/bin/env bash
# Time the report's render (scripts/render.R, what `make report` runs) in fresh copies
# of the project, so the user's data/, _output/ and data/results/ are never touched:
#   1. first render, from an empty data/: phantoms drawn, cache built, models trained;
#   2. prose edit: a sentence appended to report.qmd, rendered again in the same copy:
#      data and trained results are reused (target: at most a quarter of the first);
#   3. baseline: a second fresh copy with epochs=1, which separates fixed costs from training.
#   bash bench/render_time.sh [key=value ...]   (parameters for every run; none: the defaults)
# Appends to bench/results/render_time.csv (first vs epochs=1) and
# bench/results/rerender_time.csv (first vs prose edit).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p bench/results
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RETICULATE_PYTHON="$root/.venv/bin/python"
unset REPORT_RETRAIN
label=${*:-default}

fresh_copy() {
  local dest="$work/$1"
  mkdir -p "$dest"
  cp -r report.qmd _quarto.yml _environment R python scripts assets "$dest/"
  ln -s "$root/.venv" "$dest/.venv"
  echo "$dest"
}

# Seconds taken by one render in folder $1 (log in $1/render-$2.log); stops on failure.
timed_render() {
  local dir=$1 name=$2 start end
  shift 2
  start=$(date +%s.%N)
  if ! (cd "$dir" && Rscript scripts/render.R --to html "$@" > "render-$name.log" 2>&1); then
    tail -30 "$dir/render-$name.log" >&2
    echo "render '$name' failed" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

project=$(fresh_copy project)
first=$(timed_render "$project" first "$@")
printf '\nUna frase añadida al texto: solo cambia la prosa.\n' >> "$project/report.qmd"
prose=$(timed_render "$project" prose "$@")
if grep -q "Training " "$project/render-prose.log" || ! grep -q "Reusing cnn results" "$project/render-prose.log"; then
  echo "the prose-edit render did not reuse the stored results:" >&2
  cat "$project/render-prose.log" >&2
  exit 1
fi
baseline=$(timed_render "$(fresh_copy baseline)" baseline "$@" epochs=1)

ratio=$(awk -v a="$first" -v b="$baseline" 'BEGIN { printf "%.2f", a / b }')
prose_ratio=$(awk -v a="$prose" -v b="$first" 'BEGIN { printf "%.2f", a / b }')
now=$(date -u +%FT%TZ)
echo "$now,$(nproc),$label,$first,epochs=1,$baseline,$ratio" >> bench/results/render_time.csv
[ -f bench/results/rerender_time.csv ] || echo "date,cores,parameters,first_s,prose_edit_s,ratio" > bench/results/rerender_time.csv
echo "$now,$(nproc),$label,$first,$prose,$prose_ratio" >> bench/results/rerender_time.csv
echo "parameters: $label; $(nproc) cores"
echo "first render: ${first}s (target <= 300 s); epochs=1 baseline: ${baseline}s; ratio ${ratio}"
echo "prose-edit re-render: ${prose}s; ratio to the first ${prose_ratio} (target <= 0.25)"
