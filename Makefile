# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip -q --disable-pip-version-check
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-dev migrate messages lint bandit layers audit-deps bench clean

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
