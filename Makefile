# Two commands on a fresh machine (each sets itself up, a no-op the second time):
#   make demo   cluster scikit-learn's digits with FcDEC and print acc/nmi/ari
#   make test   run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.deckeras-installed

.PHONY: setup demo test bench clean
setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(PY) main.py --method FcDEC --dataset digits --seed 0 --batch-size 128 --pretrain-epochs 80 --maxiter 800 --save-dir results/demo

# two processes, a test file each at a time (its fixtures are built once); plain
# `pytest` runs in one process. The 15 slowest tests are listed at the end, so
# every CI log shows where the suite's time goes on that host.
test: setup
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=15

clean:
	rm -rf $(VENV) .pytest_cache
