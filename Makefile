# Two commands do everything on a fresh Linux machine with Python 3.11:
#   make run   — install into .venv, migrate SQLite, load demo data, run web + Celery worker/beat (no Redis, no Docker)
#   make test  — run the whole test suite against PostgreSQL and Redis (falls back to SQLite with a warning)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/dms
REDIS ?= redis://127.0.0.1:6379/0

.PHONY: run test install lint messages schema bench bench-load bench-faults

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo "Open http://127.0.0.1:$(PORT)/ — users advisor, parts, warranty, storekeeper, inspector, director, admin; password demo12345"
	@trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/celery -A dms worker --beat --loglevel=INFO --concurrency=2 --scheduler django_celery_beat.schedulers:DatabaseScheduler & \
	  $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	@if $(BIN)/python -c "import psycopg2,sys; psycopg2.connect('$(PG_URL)'.replace('/dms','/postgres'), connect_timeout=3)" 2>/dev/null; then \
	  export DATABASE_URL="$(PG_URL)"; echo "Tests on PostgreSQL ($(PG_URL))"; \
	else \
	  export DATABASE_URL="sqlite:///$(CURDIR)/var/test.sqlite3"; mkdir -p var; \
	  echo "WARNING: PostgreSQL is not reachable at $(PG_URL): running on SQLite and skipping PostgreSQL-only tests."; \
	fi; \
	if $(BIN)/python -c "import redis; redis.Redis.from_url('$(REDIS)', socket_timeout=2).ping()" 2>/dev/null; then \
	  export TEST_REDIS_URL="$(REDIS)"; \
	else echo "WARNING: Redis is not reachable at $(REDIS): end-to-end Celery tests are skipped."; fi; \
	DJANGO_ALLOW_ASYNC_UNSAFE=1 $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

# Issue 16 item 2: the API's contract, committed; tests/core/test_openapi_contract.py fails while the code's schema
# differs from it. Run after a change to the API on purpose, and list a breaking one in docs/API_CHANGELOG.md.
schema: install
	@# PostgreSQL's column ranges (the schema's integer bounds come from the database backend; SQLite's differ)
	DJANGO_SETTINGS_MODULE=dms.settings.test DATABASE_URL="$(PG_URL)" \
	  $(BIN)/python manage.py spectacular --lang en --validate --fail-on-warn --file docs/openapi.yaml

# The project's catalogue (locale/) holds dms/ and templates/; every app keeps its own (<app>/locale/).
# tests/hardening/test_translations.py fails while any text in the code has no translation.
APPS := orders parts service claims notifications
messages: install
	$(BIN)/python manage.py makemessages -l ru -l en -l zh_Hans --no-obsolete --ignore=.venv --ignore=var \
	  --ignore=tests --ignore=bench $(foreach app,$(APPS),--ignore=$(app))
	for app in $(APPS); do (cd $$app && ../$(BIN)/python ../manage.py makemessages -l ru -l en -l zh_Hans --no-obsolete); done
	$(BIN)/python manage.py compilemessages --ignore=.venv

# Every bench/*.py with its defaults (bench/load.py: 50 clients × 60 s; bench/faults.py: three scenarios, ~1.5 min).
# load.py and faults.py ignore DATABASE_URL: they run on their own PostgreSQL (5440) and Redis (6390), see README.
bench: install
	@for script in bench/*.py; do echo "== $$script"; DATABASE_URL="$(PG_URL)" $(BIN)/python $$script || exit 1; done

# make bench-load BENCH_SECONDS=20 BENCH_CLIENTS=50 — the load test alone; make bench-faults — the fault scenarios alone.
BENCH_SECONDS ?= 60
BENCH_CLIENTS ?= 50
bench-load: install
	$(BIN)/python bench/load.py --seconds $(BENCH_SECONDS) --clients $(BENCH_CLIENTS)

bench-faults: install
	$(BIN)/python bench/faults.py
