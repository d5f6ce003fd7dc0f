# The absolute interpreter path matters: reticulate, embedded through rpy2 in the
# tests, derives libpython from it.
# Two commands do everything: `make report` and `make test` (both run setup first).
#   make report PARAMS="data=folder data_dir=data/mine epochs=20"
#   make pdf    PARAMS="n_per_class=200"

PARAMS ?=
PYTEST_ARGS ?=

.PHONY: setup report pdf test bench renv-lock clean

setup:
	@bash scripts/setup.sh

report: setup
	Rscript scripts/render.R --to html $(PARAMS)

pdf: setup
	Rscript scripts/render.R --to pdf $(PARAMS)

test: setup
	$(CURDIR)/.venv/bin/python -m pytest $(PYTEST_ARGS)

bench: setup
	.venv/bin/python bench/organize_speed.py
	.venv/bin/python bench/prepare_speed.py
	.venv/bin/python bench/memory_flat.py
	Rscript bench/training_throughput.R
	.venv/bin/python bench/real_nih_auroc.py
	bash bench/render_time.sh

renv-lock: setup
	Rscript scripts/write_renv_lock.R

clean:
	rm -rf _output data/cache
