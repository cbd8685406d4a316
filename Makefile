# The two commands of the README: `make serve` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# One pytest worker per core; each takes whole test modules, so module fixtures are built once.
PYTEST_WORKERS ?= auto

.PHONY: serve test install lint format migrations-check messages worker clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Serve the portal with demo data on SQLite and eager Celery at http://127.0.0.1:8000
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	SIGNUP_ENABLED=$${SIGNUP_ENABLED:-1} MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

## Run the whole test suite (lint, migrations check and browser tests included)
test: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## ruff, ruff format, django-upgrade and djLint through the local hooks of .pre-commit-config.yaml
lint: install
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

## After marking messages: extract them into locale/{fr,de}, translate the new ones, compile (GNU gettext)
messages: install
	$(BIN)/python manage.py makemessages -l fr -l de --no-location --ignore=tests --ignore=benchmarks
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules

## A Celery worker and beat for a local broker (set CELERY_BROKER_URL first)
worker: install
	$(BIN)/celery -A aims worker --beat --loglevel=info -Q celery,packs --max-tasks-per-child=20 --max-memory-per-child=1048576

clean:
	rm -rf $(VENV) var db.sqlite3 .pytest_cache .ruff_cache
