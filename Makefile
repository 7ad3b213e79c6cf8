# Two commands on a fresh machine with only python3 and make:
#   make run   -> installs into .venv and opens the dashboard on the demo seller
#   make test  -> installs and runs every test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
ADDRESS ?= 127.0.0.1
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint fmt install install-dev e2e-browser redis sandbox bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	DASHBOARD_DEMO=1 $(BIN)/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT) --server.headless true

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
# Installed with apt-get when missing and we are root; otherwise tests/e2e say why they skip (under CI=true they fail).
e2e-browser:
	@[ -x $(CHROMIUM) ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "e2e-browser: installing Debian's chromium for the browser tests"; \
	  log=$$(mktemp); { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >$$log 2>&1 \
	    || { tail -n 5 $$log; echo "e2e-browser: apt-get could not install chromium; the browser tests will be skipped (failed under CI=true)"; }; \
	  rm -f $$log; \
	else echo "e2e-browser: $(CHROMIUM) is missing and this is not root with apt-get; the browser tests will be skipped (failed under CI=true)"; fi

# Style (ruff) and the architecture's import contracts (import-linter) first: both are cheap and fail fast.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

fmt: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The job queue's Redis test runs a real redis-server on a loopback port (Debian's package, installed like Chromium).
redis:
	@command -v redis-server >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "redis: installing Debian's redis-server for the job queue's Redis test"; \
	  log=$$(mktemp); { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >$$log 2>&1 \
	    || { tail -n 5 $$log; echo "redis: apt-get could not install redis-server; its test will be skipped (failed under CI=true)"; }; \
	  rm -f $$log; \
	else echo "redis: redis-server is missing and this is not root with apt-get; its test will be skipped (failed under CI=true)"; fi

test: lint e2e-browser redis
	$(BIN)/python -m pytest -q -n 3 --durations=25

sandbox: install
	$(BIN)/python -m sandbox --port 8765

bench: install-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
