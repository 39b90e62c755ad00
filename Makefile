# newsdesk: `make run` shows the demo corpus as stories and serves the reader; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DB ?= demo.db
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-pg install install-test demo lint bench clean fuzz crash

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

# The demo's outlet file (invented attributes) goes in first. Page dumps name no outlet: they
# are ingested after the rest, each with --source naming the outlet whose page it is.
demo: install
	rm -f $(DB) $(DB)-wal $(DB)-shm
	$(VENV)/bin/newsdesk --db $(DB) outlets import $$($(PY) -c 'import newsdesk.data as d; print(d.demo_outlets_path())')
	set -e; news=$$($(PY) -c 'import newsdesk.data as d; print(d.demo_path())'); \
	$(VENV)/bin/newsdesk --db $(DB) ingest --no-progress $$(ls -d "$$news"/* | grep -v '[.]txt$$'); \
	$(VENV)/bin/newsdesk --db $(DB) ingest --no-progress --source "Bayview Gazette" "$$news"/bayview-gazette-*.txt; \
	$(VENV)/bin/newsdesk --db $(DB) ingest --no-progress --source "The Granite Star" "$$news"/granite-star-*.txt; \
	$(VENV)/bin/newsdesk --db $(DB) ingest --no-progress --source "Riverside Daily" "$$news"/riverside-daily-*.txt
	$(VENV)/bin/newsdesk --db $(DB) stats

run: demo
	$(VENV)/bin/newsdesk --db $(DB) stories --limit 20
	$(VENV)/bin/newsdesk --db $(DB) blindspots --by lean
	$(VENV)/bin/newsdesk --db $(DB) serve --host $(HOST) --port $(PORT)

test: install-test
	$(VENV)/bin/pytest -q

# Longer hostile-input runs than CI's: FUZZ_EXAMPLES documents per reader, random seeds.
FUZZ_EXAMPLES ?= 500
fuzz: install-test
	NEWSDESK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) NEWSDESK_FUZZ_SLACK=1 NEWSDESK_FUZZ_RANDOM=1 $(VENV)/bin/pytest -q -s tests/test_fuzz.py

# kill -9 at CRASH_KILLS random points of a CRASH_ITEMS-item ingest, resume, compare with a clean run.
CRASH_ITEMS ?= 20000
CRASH_KILLS ?= 10
crash: install-test
	$(PY) benchmarks/crash.py --items $(CRASH_ITEMS) --kills $(CRASH_KILLS)

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
