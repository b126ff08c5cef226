PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
# Every package, pinned with its hashes (`make lock` refreshes both files from pyproject.toml).
LOCK = requirements.lock
RUNTIME_LOCK = requirements-runtime.lock
# The dates the time-sensitive tests run again at (libfaketime moves the whole process clock;
# monotonic time stays real so timeouts and sleeps keep their length: tests/faketime/).
FAKE_DATES = '2029-06-15 10:00:00' '2024-02-29 23:30:00'
# Test databases and files on tmpfs where there is one (a third faster than on disk here).
TEST_TMP := $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo /tmp)/destek-tests
PYTEST = $(BIN)/python -m pytest

.PHONY: install demo test test-sqlite test-postgresql test-dates test-dates-sqlite \
	test-dates-postgresql lint lock bench clean

$(STAMP): pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/destek demo

# The whole suite twice: on SQLite and on a throwaway PostgreSQL the tests start (tests/pg.py),
# side by side (each run is one Python process: two cores take both at once); then the
# time-sensitive tests on both stores at each of FAKE_DATES. Output is kept per run.
test: $(STAMP)
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgresql
	$(MAKE) --no-print-directory -j2 --output-sync=target test-dates-sqlite test-dates-postgresql

test-sqlite test-postgresql: test-%: $(STAMP)
	DESTEK_TEST_DB=$* $(PYTEST) --basetemp=$(TEST_TMP)-$*

test-dates: $(STAMP)
	$(MAKE) --no-print-directory -j2 --output-sync=target test-dates-sqlite test-dates-postgresql

test-dates-sqlite test-dates-postgresql: test-dates-%: $(STAMP)
	@for d in $(FAKE_DATES); do \
	  echo "time-sensitive tests on $* at $$d"; \
	  PYTHONPATH=$(CURDIR)/tests/faketime FAKETIME_DONT_FAKE_MONOTONIC=1 DESTEK_TEST_DB=$* \
	    faketime "$$d" \
	    $(PYTEST) -m time_sensitive --basetemp=$(TEST_TMP)-dates-$* || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check sla handlers storage bot
	$(BIN)/mypy sla handlers storage bot

# Refresh the locks (needs the package index): newest versions allowed by pyproject.toml.
lock:
	$(PY) -m venv .venv-lock
	.venv-lock/bin/pip install -q uv
	printf 'setuptools>=68\n' | .venv-lock/bin/uv pip compile pyproject.toml - --extra test \
	  --generate-hashes --universal --python-version 3.11 --upgrade -o $(LOCK)
	printf 'setuptools>=68\n' | .venv-lock/bin/uv pip compile pyproject.toml - -c $(LOCK) \
	  --generate-hashes --universal --python-version 3.11 -o $(RUNTIME_LOCK)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sla.py

clean:
	rm -rf $(VENV) .venv-lock *.egg-info build dist
