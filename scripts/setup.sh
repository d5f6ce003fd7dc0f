#!/usr/bin/env bash
# Install what the project needs, skipping what is already there:
# Debian packages (R, pandoc, LaTeX for PDF, Chromium for the browser check of the
# HTML report, IRkernel for the notebook), then .venv from the pinned set that R's
# reticulate can use (requirements.txt or requirements-numpy1.txt), then the
# R kernel for Jupyter registered inside .venv (`make notebook`).
# Safe to re-run; fast when nothing is missing.
#   bash scripts/setup.sh          everything (make setup)
#   bash scripts/setup.sh system   the Debian packages only (the Dockerfile's root step)
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  r-base-core
  r-cran-reticulate r-cran-knitr r-cran-rmarkdown r-cran-ggplot2 r-cran-jsonlite r-cran-yaml r-cran-proc
  r-cran-irkernel r-cran-glue r-cran-withr r-cran-lintr
  pandoc
  texlive-xetex texlive-latex-recommended texlive-fonts-recommended lmodern poppler-utils
  chromium libatomic1
  python3 python3-venv python3-dev
  git
)
# chromium and libatomic1: the browser check of the HTML report (playwright's driver, a node binary,
# needs libatomic). git: the notebook's Colab cell and its test clone the project. r-cran-lintr: `make lint`.

missing_packages() {
  local pkg
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

install_debian_packages() {
  local missing
  missing=$(missing_packages | tr '\n' ' ')
  [ -z "${missing// /}" ] && return 0
  local apt=(apt-get install -y --no-install-recommends $missing)
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: $missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${apt[@]}"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "setup: installing Debian packages with sudo: $missing"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive "${apt[@]}"
  else
    echo "setup: these Debian packages are missing; install them and re-run:" >&2
    echo "  sudo apt-get update && sudo ${apt[*]}" >&2
    exit 1
  fi
}

# The venv is built on Debian's python3: R loads Debian's libpython through
# reticulate, so the interpreter and the packages must match it. Which pinned set
# (NumPy 2 or NumPy 1) follows from the reticulate R has: scripts/requirements_set.py.
# Nothing is compiled: the sets install wheels only (their own --only-binary line) but for
# rpy2's R interface, which PyPI ships as source alone and which is built in cffi's ABI
# mode (RPY2_CFFI_MODE=ABI: it loads R's library at run time, with no C compiler or headers).
setup_venv() {
  local stamp=.venv/.requirements-installed reticulate requirements
  reticulate=$(Rscript -e 'cat(format(packageVersion("reticulate")))') ||
    { echo "setup: R's reticulate package is missing (Debian: r-cran-reticulate)" >&2; exit 1; }
  requirements=$(/usr/bin/python3 scripts/requirements_set.py "$reticulate")
  if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
    return 0
  fi
  echo "setup: creating .venv from $requirements"
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv .venv
  RPY2_CFFI_MODE=ABI .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e python
  cp "$requirements" "$stamp"
}

# The R kernel for Jupyter (IRkernel's own installspec), registered inside .venv so that
# the notebook's executor (nbclient, run by .venv/bin/python) finds it and nothing global changes.
register_r_kernel() {
  local kernel=.venv/share/jupyter/kernels/ir/kernel.json output
  [ -f "$kernel" ] && return 0
  echo "setup: registering the R kernel for Jupyter (IRkernel) in .venv"
  if ! output=$(PATH="$PWD/.venv/bin:$PATH" Rscript -e 'IRkernel::installspec(prefix = ".venv")' 2>&1) || [ ! -f "$kernel" ]; then
    echo "$output" >&2
    echo "setup: could not register the R kernel in .venv (IRkernel::installspec failed)" >&2
    exit 1
  fi
}

case ${1:-all} in
  system) install_debian_packages ;;
  all) install_debian_packages; setup_venv; register_r_kernel ;;
  *) echo "usage: bash scripts/setup.sh [system]" >&2; exit 2 ;;
esac
