# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip -q --disable-pip-version-check
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run serve-prod test install install-dev migrate messages lint bandit layers audit-deps bench clean

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

migrate: install messages
	$(PY) manage.py migrate --noinput -v0

# Translations: the compiled .mo files are committed, so a machine without gettext still runs.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
messages: $(MO_FILES)
locale/%.mo: locale/%.po
	@if command -v msgfmt >/dev/null 2>&1; then msgfmt --check -o $@ $<; \
	else echo "msgfmt not found: using the committed $@"; fi

# Serve the demo working group. With CELERY_BROKER_URL (or REDIS_URL) set, a Celery worker
# with beat runs beside the web server and stops with it (Ctrl-C).
run: migrate
	@$(PY) manage.py seed_demo
	@set -e; worker=""; \
	export SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}"; \
	if [ -n "$$CELERY_BROKER_URL$$REDIS_URL" ]; then \
	  $(VENV)/bin/celery -A workinggroup worker --beat --loglevel=INFO --concurrency=2 & worker=$$!; \
	fi; \
	trap '[ -n "$$worker" ] && kill $$worker 2>/dev/null; exit 0' EXIT INT TERM; \
	echo ""; echo "Working Group Exchange: http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Serve as production does, on this machine only: gunicorn (2 workers) and a Celery worker
# with beat, DEBUG=False, WhiteNoise static files, against PostgreSQL and Redis on loopback
# (DATABASE_URL and CELERY_BROKER_URL, see README). Secrets are made once into var/prod/: a
# SECRET_KEY file and a keyring from create_keyring. Plain HTTP on 127.0.0.1 only: the
# settings relax TLS because every ALLOWED_HOSTS entry is a loopback address. The worker is
# restarted when it exits, as a supervisor would (Celery's exits when Redis goes away).
PROD_DIR := var/prod
serve-prod: install messages
	@if [ -z "$$DATABASE_URL" ] || [ -z "$$CELERY_BROKER_URL" ]; then \
	  echo "serve-prod needs DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis), e.g."; \
	  echo "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/wgx CELERY_BROKER_URL=redis://127.0.0.1:6379/1 make serve-prod"; \
	  exit 2; fi
	@mkdir -p $(PROD_DIR) && chmod 700 $(PROD_DIR)
	@[ -s $(PROD_DIR)/secret-key ] || { umask 077; $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $(PROD_DIR)/secret-key; }
	@[ -s $(PROD_DIR)/keyring.json ] || { export DEBUG=True WG_VAR_DIR=$(PROD_DIR)/bootstrap; \
	  $(PY) manage.py migrate --noinput -v0 && $(PY) manage.py create_keyring $(PROD_DIR)/keyring.json; }
	@set -e; \
	export DEBUG=False SECRET_KEY_FILE=$(PROD_DIR)/secret-key WG_KEYRING=$(PROD_DIR)/keyring.json \
	  WG_VAR_DIR=$(PROD_DIR) ALLOWED_HOSTS=127.0.0.1,localhost SITE_URL=http://127.0.0.1:$(PORT); \
	$(PY) manage.py migrate --noinput -v0; \
	$(PY) manage.py collectstatic --noinput -v0; \
	$(PY) manage.py seed_demo --loopback-demo; \
	( trap 'kill $$c 2>/dev/null; wait $$c; exit 0' INT TERM; \
	  while :; do \
	    $(VENV)/bin/celery -A workinggroup worker --beat --loglevel=WARNING --concurrency=2 \
	      --schedule $(PROD_DIR)/celerybeat-schedule & c=$$!; wait $$c; \
	    echo "serve-prod: the Celery worker exited; restarting it in 1 s"; sleep 1; \
	  done ) & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null; exit 0' EXIT INT TERM; \
	echo ""; \
	echo "Working Group Exchange, production settings: http://127.0.0.1:$(PORT)/"; \
	echo "Plain HTTP on 127.0.0.1 only (no TLS): do not expose this port beyond this machine."; \
	$(VENV)/bin/gunicorn workinggroup.wsgi --workers 2 --bind 127.0.0.1:$(PORT) \
	  --access-logfile - --graceful-timeout 10 --no-control-socket

lint: install-dev
	$(VENV)/bin/ruff check .

# Static security scan: fails on findings of medium or high severity and confidence; a
# finding is accepted only with a `# nosec BXXX` comment that says why (docs/security.md).
bandit: install-dev
	$(VENV)/bin/bandit -q -c pyproject.toml -r . --severity-level medium --confidence-level medium

# Known vulnerabilities in the pinned requirements (needs network access to PyPI), then bandit.
audit-deps: install-dev bandit
	$(VENV)/bin/pip-audit --strict -r requirements.txt
	$(VENV)/bin/pip-audit --strict -r requirements-dev.txt

# The layering and where rest_framework may be imported (pyproject.toml, docs/architecture.md).
layers: install-dev
	$(VENV)/bin/lint-imports --no-logo

test: install-dev messages
	$(VENV)/bin/ruff check .
	$(MAKE) --no-print-directory bandit
	$(MAKE) --no-print-directory layers
	$(PY) -m pytest

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .import_linter_cache
