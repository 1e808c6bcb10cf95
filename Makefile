# The two commands of the README: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DATABASE_URL ?= sqlite:///$(CURDIR)/var/app.db

.PHONY: install assets setup run test lint bench

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The web pages' static assets (the case diagram: bpmn-js bundled by esbuild) from the committed
# package-lock.json, into app/web/static/build/ (gitignored). Rebuilt only when the lock file, the
# build script or src/ changed (the stamp). Without npm, or when npm fails (offline), the pages still
# work without the diagram; the browser tests then skip (CI's E2E_REQUIRED=1 makes them fail instead).
FRONTEND := app/web/frontend
ASSETS_STAMP := app/web/static/build/.stamp
$(ASSETS_STAMP): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json $(FRONTEND)/build.mjs $(wildcard $(FRONTEND)/src/*)
	@if command -v npm >/dev/null 2>&1; then \
		echo "building the web assets with npm ($(FRONTEND) -> app/web/static/build)"; \
		if npm ci --prefix $(FRONTEND) --no-audit --no-fund && npm run build --prefix $(FRONTEND); then \
			touch $@; \
		else \
			echo "WARNING: the web assets did not build (see npm's output above): the pages work without the diagram."; \
		fi; \
	else \
		echo "npm not found: the case diagram is not built; the pages work without it and say so."; \
		echo "  Install Node.js and npm, then run 'make assets' (the browser tests are skipped meanwhile)."; \
	fi

assets: $(ASSETS_STAMP)

# Build the assets, migrate the database and deploy every diagram in bpmn/ (unchanged files are not new versions).
setup: install assets
	$(BIN)/python -m app migrate
	$(BIN)/python -m app deploy bpmn

# The API fires due deadlines itself (TIMER_WORKER=in-process): one command, one process. With
# PostgreSQL and several API workers, set TIMER_WORKER=off and run `python -m app worker` processes.
run: setup
	TIMER_WORKER=$${TIMER_WORKER:-in-process} $(BIN)/python -m app serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check app tests migrations bench

# The browser tests (tests/e2e) need the assets and /usr/bin/chromium; they skip, saying why, without them.
test: lint assets
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/lifecycle.py
