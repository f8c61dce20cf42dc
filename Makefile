# Two commands: `make run` (the whole console, zero setup) and `make test` (lint, types, tests).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Development defaults; a deployment sets these (README, "Configuration").
export DJANGO_DEBUG ?= 1
export PYTHONUNBUFFERED := 1

.PHONY: install run test lint migrate clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_demo
	$(PY) manage.py run_console

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# Without REDIS_URL the suite gets its own embedded Redis on a port apart from `make run`'s.
test: lint
	mkdir -p var
	$(PY) -m camsconsole.embedded_redis --port 6391 -- $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
