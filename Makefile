# Two commands on a fresh machine with only python3 and make:
#   make run   -> installs into .venv and opens the dashboard on the demo seller
#   make test  -> installs and runs every test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test install install-dev sandbox bench clean

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
	DASHBOARD_DEMO=1 $(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true

test: install-dev
	$(BIN)/python -m pytest -q

sandbox: install
	$(BIN)/python -m sandbox --port 8765

bench: install-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
