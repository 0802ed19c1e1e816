# Quick start: `make run` (set up and start the app with its worker) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Development defaults for `make run`: debug pages, sandbox dealers, and the browser allowed
# to reach this app's own port on loopback (the sandbox dealers), nothing else private.
RUN_ENV := DEBUG=$${DEBUG:-1} ALLOWED_PRIVATE_HOSTS=$${ALLOWED_PRIVATE_HOSTS:-$(HOST):$(PORT),localhost:$(PORT)} SANDBOX_BASE_URL=$${SANDBOX_BASE_URL:-http://$(HOST):$(PORT)}
# The scale-out pass of `make test` runs against these real engines.
SCALEOUT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
SCALEOUT_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-fast test-scaleout setup bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

setup: $(VENV)/.installed
	$(RUN_ENV) $(PY) manage.py ensure_browser

run: setup
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py load_sandbox_dealers
	$(RUN_ENV) $(PY) manage.py ensure_demo_user
	$(RUN_ENV) $(PY) manage.py runapp --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m pytest
	$(MAKE) test-scaleout

# The non-browser suite, plus the real-consumer task path and the end-to-end journey,
# against PostgreSQL and Redis-backed Huey.
test-scaleout: setup
	DATABASE_URL=$(SCALEOUT_DATABASE_URL) REDIS_URL=$(SCALEOUT_REDIS_URL) $(PY) -m pytest -p no:cacheprovider \
		-m "not browser" tests
	DATABASE_URL=$(SCALEOUT_DATABASE_URL) REDIS_URL=$(SCALEOUT_REDIS_URL) $(PY) -m pytest -p no:cacheprovider \
		tests/test_worker_browser.py tests/test_e2e.py

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var staticfiles
