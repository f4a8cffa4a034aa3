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

.PHONY: run dev test bench model lint format install system-deps test-deps train-deps stop clean

# Served as in production (gunicorn, DEBUG off, WhiteNoise), over plain HTTP on 127.0.0.1.
LOCAL := SAMPLEMIND_HTTPS=$${SAMPLEMIND_HTTPS:-false} LOG_FORMAT=$${LOG_FORMAT:-plain} \
	LOG_REQUESTS=$${LOG_REQUESTS:-true}

run: install ## Start database, Redis, web, worker and beat; a process that dies is restarted; Ctrl-C stops everything
	DEBUG=$${DEBUG:-false} $(LOCAL) $(LAUNCH) --prepare --port $(PORT) -- \
		python -m samplemind.supervise -f Procfile

dev: install ## Like run, with DEBUG on and Django's autoreloading server
	DEBUG=$${DEBUG:-true} $(LOCAL) $(LAUNCH) --prepare --port $(PORT) -- \
		python -m samplemind.supervise -f Procfile.dev

test: install test-deps ## Lint, then run the whole test suite against real services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LAUNCH) -- pytest $(PYTEST_ARGS)

bench: install train-deps $(VENV)/.trained ## Run the benchmarks and print their figures
	$(LAUNCH) -- python -m benchmarks

model: install train-deps $(VENV)/.trained ## Render the training data, validate and retrain the classifier, key scorer and tempo chooser
	$(BIN)/python -m library.analysis.training

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
	@# Matched renders stretch and shift with Rubber Band (studio.rendering, via pyrubberband).
	@command -v rubberband >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq rubberband-cli >/dev/null; }
	@# The browser tests drive Debian's chromium (never a downloaded browser).
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The classifier's tests render GM notes with fluidsynth (TimGM6mb, 6 MB) and speak with espeak-ng.
test-deps:
	@command -v fluidsynth >/dev/null && command -v espeak-ng >/dev/null && \
		test -f /usr/share/sounds/sf2/TimGM6mb.sf2 || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq fluidsynth timgm6mb-soundfont espeak-ng >/dev/null; }

# Training and the analysis benchmark render every GM soundfont the model card lists.
train-deps: test-deps
	@test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 && test -f /usr/share/sounds/sf2/sf_GMbank.sf2 && \
		test -f /usr/share/sounds/sf2/OPL-3_FM_128M.sf2 && \
		test -f /usr/share/sounds/sf3/MuseScore_General_Full.sf3 || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq fluid-soundfont-gm musescore-general-soundfont \
		opl3-soundfont csound-soundfont >/dev/null; }

$(VENV)/.trained: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev,embedded,bench,train]'
	touch $@

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,embedded]'
	scripts/portable-pgvector.sh $(BIN)/python
	touch $@

stop: ## Stop the private PostgreSQL and Redis if something left them running
	$(BIN)/python -c "from samplemind import embedded as e; e.stop_redis(); e.stop_postgres()"

clean: stop
	rm -rf $(VENV) var
