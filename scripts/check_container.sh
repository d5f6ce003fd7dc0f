#!/usr/bin/env bash
# Check the project's container for real: build the Dockerfile, then inside the image render the demo
# report into a folder of this machine (as `docker run -v "$PWD/_output:/home/jovyan/_output"` does),
# run `make test`, and run the notebook twin through JupyterLab's own server (started on 127.0.0.1
# with a token: scripts/run_notebook_on_server.py). About half an hour on 2 cores; not part of
# `make test` (it needs podman or docker).
#
#   bash scripts/check_container.sh            # podman (rootful, vfs storage, chroot isolation)
#   CONTAINER_TIMES=/tmp/times.txt bash scripts/check_container.sh
#
# The image starts FROM debian:trixie. Where no registry can be reached, import a local Debian first
# (on the team's machines: ../shared/tools/freshbox/container-base.sh trixie). podman's own `run` cannot
# set its resource limits on those machines, so the image is run with buildah, as `docker run` would.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=chestxray-report
OUT=$(mktemp -d /tmp/chestxray-container.XXXXXX)
TIMES=${CONTAINER_TIMES:-$OUT/times.txt}
podman=(podman --storage-driver vfs)
buildah=(buildah --storage-driver vfs)
container=''

step() {  # step NAME COMMAND...: run it, print and record its time
  local name=$1 t0=$SECONDS; shift
  echo "check_container: $name ..."
  "$@"
  echo "$name: $((SECONDS - t0)) s" | tee -a "$TIMES"
}
in_image() {  # in_image [buildah run options] -- COMMAND...: `docker run --rm [options] IMAGE COMMAND`: a fresh
  local options=() status=0  # container each time, through the image's entrypoint, as the image's user
  while [ "$1" != -- ]; do options+=("$1"); shift; done
  shift
  [[ " ${options[*]} " == *" --user "* ]] || options=(--user 1000:1000 "${options[@]}")  # the image's USER
  container=$("${buildah[@]}" from "localhost/$IMAGE")
  "${buildah[@]}" run --isolation chroot "${options[@]}" "$container" -- chestxray-entrypoint "$@" ||
    status=$?
  cleanup
  return "$status"
}
cleanup() { [ -z "$container" ] || "${buildah[@]}" rm "$container" >/dev/null 2>&1 || true; container=''; }
trap cleanup EXIT

command -v podman >/dev/null && command -v buildah >/dev/null ||
  { echo "check_container: needs podman and buildah (Debian: apt-get install podman buildah uidmap)" >&2; exit 1; }
"${podman[@]}" image exists docker.io/library/debian:trixie || "${podman[@]}" pull docker.io/library/debian:trixie ||
  { echo "check_container: no debian:trixie image and no registry; import one first" >&2; exit 1; }

step "docker build" "${podman[@]}" build --isolation chroot -t "$IMAGE" .
echo "image size: $("${podman[@]}" image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.2f GB", $1 / 1e9}')" |
  tee -a "$TIMES"

# docker run --rm -v "$PWD/_output:/home/jovyan/_output" chestxray-report  (the default command: make report)
mkdir -p "$OUT/_output" && chown 1000:1000 "$OUT/_output"
step "make report (default command, _output mounted)" \
  in_image --volume "$OUT/_output:/home/jovyan/_output" -- make report
for file in report.html model.keras metrics.json predictions.csv; do
  [ -s "$OUT/_output/$file" ] || { echo "check_container: $file missing from the mounted _output" >&2; exit 1; }
done
echo "mounted _output: $(ls "$OUT/_output" | wc -l) files, owned by uid $(stat -c %u "$OUT/_output/report.html")" |
  tee -a "$TIMES"

# docker run --user "$(id -u):$(id -g)" (a Linux host user whose uid is not 1000): the outputs are that user's.
mkdir -p "$OUT/other" && chown 12345:12345 "$OUT/other"
step "make report as uid 12345 (tiny parameters)" in_image --user 12345:12345 --volume "$OUT/other:/home/jovyan/_output" \
  -- make report PARAMS="n_per_class=24 image_size=48 epochs=2"
[ "$(stat -c %u "$OUT/other/report.html")" = 12345 ] || { echo "check_container: outputs not owned by 12345" >&2; exit 1; }
# A folder Docker created as root: a clear message, nothing rendered.
mkdir -p "$OUT/root-owned"
if in_image --volume "$OUT/root-owned:/home/jovyan/_output" -- make report 2>"$OUT/root-owned.err"; then
  echo "check_container: a root-owned _output was accepted" >&2; exit 1
fi
grep -q "is not writable by uid 1000" "$OUT/root-owned.err" && cat "$OUT/root-owned.err"

step "make test" in_image -- make test PYTEST_ARGS="-p no:cacheprovider"

# docker run --rm -p 127.0.0.1:8888:8888 chestxray-report make lab, then Run All in the browser: here the
# server runs on 127.0.0.1 inside the image and the notebook is run through its kernel API.
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
lab_check="set -e
LAB_IP=127.0.0.1 make lab >/tmp/lab.log 2>&1 &
.venv/bin/python -c 'import time, urllib.request
for _ in range(90):
    try:
        urllib.request.urlopen(\"http://127.0.0.1:8888/api/status?token=$token\"); break
    except OSError:
        time.sleep(2)
else:
    raise SystemExit(\"JupyterLab did not answer within 3 minutes\")'

grep -m1 -o 'http://127.0.0.1:8888/lab[^ ]*token=.*' /tmp/lab.log
.venv/bin/python scripts/run_notebook_on_server.py http://127.0.0.1:8888 $token _output/report.ipynb \
  n_per_class=24 image_size=48 epochs=2 seed=7
.venv/bin/python -c 'import json; p = json.load(open(\"_output/metrics.json\"))[\"parameters\"]; assert (p[\"n_per_class\"], p[\"epochs\"]) == (24, 2), p'"
step "notebook through the Jupyter server" \
  in_image --env "JUPYTER_TOKEN=$token" -- bash -c "$lab_check"

echo "check_container: all passed; times in $TIMES"
