# Two entry points (see README): `make demo` (the main job) and `make test` (the test suite).
# Both run the same idempotent set-up first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_WORKERS ?= 2
# Datasets that are not packages live under $CNNLAB_DATA (one folder each, see `cnnlab data list`); next to a
# checkout that has the shared benchmark datasets, use them unless the caller chose another root.
ifneq ($(wildcard ../shared/datasets),)
export CNNLAB_DATA ?= $(abspath ../shared/datasets)
endif

.PHONY: setup demo test test-slow test-all bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(VENV)/bin/cnnlab demo

test: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

test-slow: setup
	$(PY) -m pytest -q -m slow

test-all: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q -m "slow or not slow"

# Keras/TensorFlow for the comparisons goes into its own venv (benchmarks/.venv-keras); without it the
# benchmarks skip the Keras column with a message. Files starting with _ are helpers, not benchmarks.
bench: setup
	@bash benchmarks/setup_keras.sh || echo "bench: Keras/TensorFlow unavailable; Keras columns are skipped"
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build dist src/*.egg-info
