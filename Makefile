# The two commands of the quick start: `make demo` and `make test`. Each creates .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kassa demo

# The suite runs in PYTEST_WORKERS processes (pytest-xdist, a test file per process at a time), then the
# tests that stop or restart PostgreSQL run alone. Exit status 5 is "no test selected" (PYTEST_ARGS
# naming files without such tests).
PYTEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not exclusive" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m exclusive $(PYTEST_ARGS) || [ $$? -eq 5 ]

bench: $(STAMP)
	$(BIN)/python bench/api_bench.py

clean:
	rm -rf $(VENV) kassa-data .pytest_cache
