# The two commands of the README: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DATABASE_URL ?= sqlite:///$(CURDIR)/var/app.db

.PHONY: install setup run test lint bench

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Migrate the database and deploy every diagram in bpmn/ (unchanged files are not new versions).
setup: install
	$(BIN)/python -m app migrate
	$(BIN)/python -m app deploy bpmn

# The API fires due deadlines itself (TIMER_WORKER=in-process): one command, one process. With
# PostgreSQL and several API workers, set TIMER_WORKER=off and run `python -m app worker` processes.
run: setup
	TIMER_WORKER=$${TIMER_WORKER:-in-process} $(BIN)/python -m app serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check app tests migrations bench

test: lint
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/lifecycle.py
