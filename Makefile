# The absolute interpreter path matters: reticulate, embedded through rpy2 in the
# tests, derives libpython from it.
# Two commands do everything: `make report` and `make test` (both run setup first; test runs lint first).
#   make report PARAMS="data=folder data_dir=data/mine epochs=20"
#   make pdf    PARAMS="n_per_class=200"

PARAMS ?=
PYTEST_ARGS ?=

.PHONY: setup report pdf notebook lab site lint test bench mutation requirements renv-lock readme-params clean

setup:
	@bash scripts/setup.sh

report: setup
	Rscript scripts/render.R --to html $(PARAMS)

pdf: setup
	Rscript scripts/render.R --to pdf $(PARAMS)

# The Jupyter twin: _output/report.ipynb, generated from report.qmd (never edited by
# hand) and executed by the R kernel (IRkernel) with nbclient; same PARAMS, same
# _output/ files as `make report`; `make site` publishes it beside the HTML.
#   make notebook PARAMS="n_per_class=200 epochs=5"
notebook: setup
	.venv/bin/python scripts/make_notebook.py $(PARAMS)

# JupyterLab on the notebook twin (generated unexecuted when absent; Run All renders the report), served on
# 127.0.0.1 with a token; it prints the address to open. The container serves it on all its interfaces
# (LAB_IP=0.0.0.0), published to the host's 127.0.0.1 only: docker run -p 127.0.0.1:8888:8888 ... make lab
LAB_IP ?= 127.0.0.1
lab: setup
	@test -f _output/report.ipynb || .venv/bin/python scripts/make_notebook.py --no-execute $(PARAMS)
	.venv/bin/jupyter lab --no-browser --ip=$(LAB_IP) --port=8888 $(if $(filter 0,$(shell id -u)),--allow-root) \
	  --LabApp.default_url=/lab/tree/_output/report.ipynb

# The published site (GitHub Pages): the HTML report as index.html (with a link that opens the notebook
# twin on Binder, where the repository is known), the PDF and the
# notebook when rendered, and the outputs a reader may want to check or reuse.
# The report's other forms, then the files a render publishes (assets/output_files.csv, their one list).
SITE_FILES = report.pdf report.ipynb $(shell tail -n +2 assets/output_files.csv | cut -d, -f1)
site:
	@test -f _output/report.html || { echo "site: no _output/report.html; run 'make report' first" >&2; exit 1; }
	rm -rf _site && mkdir -p _site
	cp _output/report.html _site/index.html
	@python3 scripts/site_launch_link.py _site/index.html
	@for f in $(SITE_FILES); do if [ -f "_output/$$f" ]; then cp "_output/$$f" _site/; fi; done
	@echo "site: $$(ls _site | wc -l) files in _site/"

# The linters, configured once: ruff (ruff.toml; pinned in requirements-lint.txt, installed into .venv)
# over the Python code, lintr (.lintr; Debian's r-cran-lintr) over the R code and report.qmd.
lint: setup
	.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-lint.txt
	.venv/bin/ruff check .
	Rscript scripts/lint_r.R

test: setup lint
	$(CURDIR)/.venv/bin/python -m pytest $(PYTEST_ARGS)

bench: setup
	.venv/bin/python bench/organize_speed.py
	.venv/bin/python bench/prepare_speed.py
	.venv/bin/python bench/memory_flat.py
	Rscript bench/training_throughput.R
	Rscript bench/multilabel_epoch.R 1024 128 2 5
	Rscript bench/multilabel_evaluation.R 25596 2797 2000
	.venv/bin/python bench/real_nih_auroc.py
	bash bench/render_time.sh
	.venv/bin/python bench/nih_byte_rates.py
	for k in 1 4 12; do .venv/bin/python bench/nih_rehearsal.py run $$k; done

# Mutation testing against the fast tier (TESTING.md): mutmut over the Python modules
# that compute or train, then the declared edits to R/; about an hour on 2 cores.
mutation: setup
	.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	nice -n 10 .venv/bin/python scripts/mutate_py.py
	nice -n 10 .venv/bin/python scripts/mutate_r.py
	nice -n 10 .venv/bin/python scripts/mutate_js.py

# The pinned Python sets (requirements.txt: NumPy 2; requirements-numpy1.txt: NumPy 1), resolved
# by uv from requirements.in (and requirements-numpy1.in) with wheels checked for every platform
# each set serves; scripts/requirements_set.py says which one the set-up installs.
requirements: setup
	.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	.venv/bin/python scripts/pin_requirements.py

renv-lock: setup
	Rscript scripts/write_renv_lock.R

# README.md's parameter tables, from python/chestxray/support/report_params.yml and report.qmd's
# defaults (a test fails when they are out of date).
readme-params: setup
	Rscript scripts/write_readme_params.R

# Everything derived (outputs, site, image cache and file hashes, demo phantoms, stored
# training results, benchmark data); never the NIH downloads and extracted images in
# data/nih (raw data, hours to fetch) nor a user's own image folders.
clean:
	rm -rf _output _site data/cache data/demo data/results data/bench-learning data/bench-nih
