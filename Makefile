# newsdesk: `make run` shows the demo corpus as stories and serves the reader; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DB ?= demo.db
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-pg install install-test demo lint bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml
	$(PIP) install -q -e '.[nlp]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[nlp,eval,test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	rm -f $(DB) $(DB)-wal $(DB)-shm
	$(VENV)/bin/newsdesk --db $(DB) ingest --no-progress $$($(PY) -c 'import newsdesk.data as d; print(d.demo_path())')
	$(VENV)/bin/newsdesk --db $(DB) stats

run: demo
	$(VENV)/bin/newsdesk --db $(DB) stories --limit 20
	$(VENV)/bin/newsdesk --db $(DB) serve --host $(HOST) --port $(PORT)

test: install-test
	$(VENV)/bin/pytest -q

# The tests with a throw-away PostgreSQL cluster, so the PostgreSQL variants run too.
test-pg: install-test
	@eval "$$(scripts/pg-test-cluster.sh start)"; \
	trap 'scripts/pg-test-cluster.sh stop "$$NEWSDESK_TEST_PG_DIR"' EXIT; \
	$(VENV)/bin/pytest -q

lint: install-test
	$(VENV)/bin/ruff check src tests benchmarks

bench: install-test
	$(PY) benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(DB) $(DB)-wal $(DB)-shm .pytest_cache test-artifacts
