# Daily Papers — the README's two commands are `make run` and `make test`; the rest are helpers.

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
DP          := $(VENV)/bin/dailypapers
HOST        ?= 127.0.0.1
PORT        ?= 8000
SHARED_DATA ?= ../shared/data
# The days and categories fetched live for the demo when ../shared/data is not there.
DEMO_CATEGORIES ?= cs.CL cs.LG cs.CV
DEMO_DAYS       ?= 3

.PHONY: run test install system-deps demo-data lint typecheck test-sqlite test-postgresql bench bench-web bench-community clean

## run: set up, load the demo corpus and serve http://$(HOST):$(PORT)
run: install
	$(DP) init
	$(MAKE) --no-print-directory demo-data
	$(DP) serve --host $(HOST) --port $(PORT)

## test: install everything (Python and Debian packages) and run the suite on SQLite and PostgreSQL
test: install system-deps lint typecheck
	$(PY) -m pytest -q -p no:cacheprovider --db=sqlite
	$(PY) -m pytest -q -p no:cacheprovider --db=postgresql

install: $(VENV)/.installed

# torch is pinned first: without the pin pip resolves a CUDA build of several GB; 2.13.0 is a CPU build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 || \
	  $(PY) -m pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
	$(PY) -m pip install --quiet -e '.[all,test]'
	touch $@

system-deps:
	sh scripts/system-deps.sh

demo-data:
	@if [ -d "$(SHARED_DATA)" ]; then \
	  echo "Loading the demo corpus from $(SHARED_DATA) (arXiv, Hugging Face and listing sources)"; \
	  $(DP) ingest "$(SHARED_DATA)/arxiv" "$(SHARED_DATA)/hf-daily-papers" "$(SHARED_DATA)/seed"; \
	else \
	  since=$$($(PY) -c "import datetime as d; print(d.date.today() - d.timedelta(days=$(DEMO_DAYS)))"); \
	  echo "$(SHARED_DATA) not found: fetching papers since $$since from arXiv ($(DEMO_CATEGORIES))"; \
	  $(DP) fetch arxiv $(foreach c,$(DEMO_CATEGORIES),--category $(c)) --since $$since || true; \
	  $(DP) fetch hf --date yesterday || true; \
	fi

lint: install
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench

typecheck: install
	$(PY) -m mypy

test-sqlite: install
	$(PY) -m pytest -q --db=sqlite

test-postgresql: install system-deps
	$(PY) -m pytest -q --db=postgresql

bench: install
	$(PY) bench/ingest.py

## bench-web: requests/s and latency of the site at 100,000 papers (installs wrk when missing)
bench-web: install
	sh scripts/system-deps.sh bench
	$(PY) bench/web.py

## bench-community: 200 clients upvoting and commenting for 60 s, on SQLite and PostgreSQL, then exact counts
bench-community: install system-deps
	$(PY) bench/community.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache test-artifacts
