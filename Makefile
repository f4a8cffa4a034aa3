# SampleMind: `make run` serves the product, `make test` checks it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
LAUNCH := $(BIN)/python -m samplemind.launch

export SAMPLEMIND_PORT := $(PORT)
export PATH := $(BIN):$(PATH)

.PHONY: run dev test bench lint format install system-deps stop clean

# Served as in production (gunicorn, DEBUG off, WhiteNoise), over plain HTTP on 127.0.0.1.
LOCAL := SAMPLEMIND_HTTPS=$${SAMPLEMIND_HTTPS:-false} LOG_FORMAT=$${LOG_FORMAT:-plain} \
	LOG_REQUESTS=$${LOG_REQUESTS:-true}

run: install ## Start database, Redis, web, worker and beat; a process that dies is restarted; Ctrl-C stops everything
	DEBUG=$${DEBUG:-false} $(LOCAL) $(LAUNCH) --prepare --port $(PORT) -- \
		python -m samplemind.supervise -f Procfile

dev: install ## Like run, with DEBUG on and Django's autoreloading server
	DEBUG=$${DEBUG:-true} $(LOCAL) $(LAUNCH) --prepare --port $(PORT) -- \
		python -m samplemind.supervise -f Procfile.dev

test: install ## Lint, then run the whole test suite against real services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LAUNCH) -- pytest $(PYTEST_ARGS)

bench: install ## Run the benchmarks and print their figures
	$(LAUNCH) -- python -m benchmarks

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

install: system-deps $(VENV)/.installed

system-deps:
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq redis-server >/dev/null; }
	@# Only the binary is needed: the private Redis listens on a unix socket (--port 0),
	@# so a system Redis service, if any, keeps running untouched.
	@# gcc, make and curl rebuild the embedded pgvector for this CPU.
	@command -v gcc >/dev/null && command -v curl >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq build-essential curl >/dev/null; }
	@# The browser tests drive Debian's chromium (never a downloaded browser).
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq chromium >/dev/null; }

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	scripts/portable-pgvector.sh $(BIN)/python
	touch $@

stop: ## Stop the private PostgreSQL and Redis if something left them running
	$(BIN)/python -c "from samplemind import embedded as e; e.stop_redis(); e.stop_postgres()"

clean: stop
	rm -rf $(VENV) var
