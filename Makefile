PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/destek demo

# The whole suite twice: on SQLite, then on a throwaway PostgreSQL the tests start (tests/pg.py).
test: $(STAMP)
	bash scripts/system-deps.sh
	DESTEK_TEST_DB=sqlite $(BIN)/python -m pytest
	DESTEK_TEST_DB=postgresql $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check sla handlers
	$(BIN)/mypy sla handlers

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sla.py

clean:
	rm -rf $(VENV) *.egg-info
