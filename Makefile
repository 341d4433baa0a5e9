# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip -q --disable-pip-version-check
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-dev migrate lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	$(PY) manage.py migrate --noinput -v0

# Serve the demo working group. With CELERY_BROKER_URL (or REDIS_URL) set, a Celery worker
# with beat runs beside the web server and stops with it (Ctrl-C).
run: migrate
	@$(PY) manage.py seed_demo
	@set -e; worker=""; \
	if [ -n "$$CELERY_BROKER_URL$$REDIS_URL" ]; then \
	  $(VENV)/bin/celery -A workinggroup worker --beat --loglevel=INFO --concurrency=2 & worker=$$!; \
	fi; \
	trap '[ -n "$$worker" ] && kill $$worker 2>/dev/null; exit 0' EXIT INT TERM; \
	echo ""; echo "Working Group Exchange: http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"; \
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .

test: install-dev
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
