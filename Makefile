# Sodium — developer entry points. Every target works from a fresh clone.
#
#   make run     migrate, seed the demo practice, serve http://127.0.0.1:8000 with a Celery
#                worker and beat on the embedded (SQLite) broker; Ctrl-C stops all three
#   make test    the test suite (PYTEST_ARGS="-k portal -x" to pass options through)
#   make lint    ruff check + ruff format --check + the import contracts (lint-imports)
#   make format  apply ruff's fixes and formatting
#   make bench   run every bench/*.py
#   make clean   remove var/ (local database, media, broker, screenshots) and caches

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
# uv itself when it is on PATH, otherwise the copy that `make uv` installs with pip.
UV ?= $(shell uv --version >/dev/null 2>&1 && echo uv || echo "$(PYTHON) -m uv")
# --frozen: install exactly what uv.lock says and never rewrite the lock file.
UVRUN := $(UV) run --frozen
PYTEST_ARGS ?=
CHROMIUM := /usr/bin/chromium

.PHONY: help uv sync chromium migrate seed run test lint format bench clean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

uv:
	@if ! $(UV) --version >/dev/null 2>&1; then \
	  echo "==> installing uv with pip"; \
	  export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1; \
	  $(PYTHON) -m pip install --quiet uv \
	    || $(PYTHON) -m pip install --quiet --user --break-system-packages uv; \
	fi

sync: uv
	$(UV) sync --frozen --compile-bytecode

# Browser tests drive Debian's chromium (never a Playwright-downloaded browser).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> installing Debian's chromium"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -q; \
	    apt-get install -y -q --no-install-recommends chromium fonts-liberation; \
	  else \
	    echo "warning: $(CHROMIUM) is missing and this is not root; install Debian's chromium" \
	         "package (apt-get install chromium) for the browser tests." >&2; \
	  fi; \
	fi

migrate: sync
	$(UVRUN) python manage.py migrate --noinput

seed: migrate
	$(UVRUN) python manage.py seed_demo

# DEBUG serves static files itself, so no collectstatic here.
run: seed
	bin/run-dev

# In parallel, one process per core (pytest-xdist; a test class or module stays on one
# process, and each process has its own test database and Celery keys).
PYTEST_WORKERS ?= auto

test: sync chromium
	$(UVRUN) pytest -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

lint: sync
	$(UVRUN) ruff check .
	$(UVRUN) ruff format --check .
	$(UVRUN) lint-imports

format: sync
	$(UVRUN) ruff check --fix .
	$(UVRUN) ruff format .

# Every bench/*.py except helpers whose names start with an underscore.
bench: sync
	@shopt -s nullglob; \
	files=(); for f in bench/*.py; do [[ "$$(basename "$$f")" == _* ]] || files+=("$$f"); done; \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks in bench/"; exit 0; fi; \
	for f in "$${files[@]}"; do \
	  echo "==> $$f"; \
	  $(UVRUN) python "$$f"; \
	done

# Keeps .venv and .env (the generated development secret key).
clean:
	rm -rf var .pytest_cache .ruff_cache screenshots test-results staticfiles
	find . -path ./.venv -prune -o -path ./.git -prune -o \
	  -type d -name __pycache__ -prune -exec rm -rf {} +
