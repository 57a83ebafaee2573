# `make run` and `make test` each do all set-up on a fresh machine: virtualenv, Python
# dependencies, front-end assets, development keys (instance/), database migration, demo data.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run test serve serve-env setup assets db clean

run: setup db
	MARAC_ENV=development $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: setup
	MARAC_ENV=test $(BIN)/python -m pytest $(PYTEST_ARGS)

# `make serve`: the production stack on this machine (README.md, "Production stack"): migrations and the
# first data key, then gunicorn (gunicorn.conf.py) and the RQ worker side by side; Ctrl-C stops both.
# It needs DATABASE_URL (PostgreSQL), REDIS_URL and the production secrets, from the environment or
# from SERVE_ENV (values already in the environment win). `make serve-env` writes one with new
# secrets; DEMO=1 adds the demo data first (a trial database only).
SERVE_ENV ?= $(HOME)/.config/marac/serve.env
SERVE_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/marac_serve
SERVE_REDIS_URL ?= redis://127.0.0.1:6379/0
WITH_SERVE_ENV = $(if $(wildcard $(SERVE_ENV)),$(BIN)/dotenv -f "$(SERVE_ENV)" run --no-override --,)

serve: setup
	@$(WITH_SERVE_ENV) bash -c '\
	  : "$${DATABASE_URL:?make serve needs DATABASE_URL (or SERVE_ENV; make serve-env writes one)}"; \
	  : "$${REDIS_URL:?make serve needs REDIS_URL (rate limits and the job queue)}"; \
	  set -e; export MARAC_ENV=production; \
	  $(BIN)/flask db upgrade; \
	  $(BIN)/flask keys init; \
	  if [ -n "$(DEMO)" ]; then MARAC_ENV=development $(BIN)/flask demo seed; fi; \
	  $(BIN)/gunicorn -c gunicorn.conf.py & web=$$!; \
	  $(BIN)/flask jobs worker & worker=$$!; \
	  trap "kill -TERM $$web $$worker 2>/dev/null || true" INT TERM; \
	  wait -n || true; \
	  kill -TERM $$web $$worker 2>/dev/null || true; \
	  wait'

# New production-like secrets for `make serve`, in a private file outside the repository (never
# overwritten). Edit DATABASE_URL and REDIS_URL there if yours differ.
serve-env: $(VENV)/.installed
	@test ! -e "$(SERVE_ENV)" || { echo "$(SERVE_ENV) exists: not overwritten"; exit 1; }
	@mkdir -p "$(dir $(SERVE_ENV))"
	@umask 077 && { \
	  echo "# make serve: secrets of a production-like trial. Private (mode 0600); never in the repository."; \
	  echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))')"; \
	  echo "MARAC_KEK=$$($(BIN)/python -c 'import config; print(config.new_key_b64())')"; \
	  echo "MARAC_AUDIT_KEY=$$($(BIN)/python -c 'import config; print(config.new_key_b64())')"; \
	  echo "DATABASE_URL=$(SERVE_DATABASE_URL)"; \
	  echo "REDIS_URL=$(SERVE_REDIS_URL)"; \
	  echo "# No SMTP relay here: emails are written to the log."; \
	  echo "MAIL_BACKEND=log"; \
	} > "$(SERVE_ENV)"
	@echo "Wrote $(SERVE_ENV). Create its database if need be (createdb -h 127.0.0.1 -U postgres marac_serve), then: make serve DEMO=1"

setup: $(VENV)/.installed static/.built

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/.built: node_modules/.installed assets/scss/app.scss
	mkdir -p static/css static/js static/govuk/assets
	node_modules/.bin/sass --load-path=node_modules --style=compressed --no-source-map --quiet-deps \
		assets/scss/app.scss static/css/app.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/js/
	cp -r node_modules/govuk-frontend/dist/govuk/assets/images static/govuk/assets/
	touch $@

assets: static/.built

# Development database: migrate to the latest revision, make the first data key, add demo data.
db: setup
	MARAC_ENV=development $(BIN)/flask db upgrade
	MARAC_ENV=development $(BIN)/flask keys init
	MARAC_ENV=development $(BIN)/flask demo seed

clean:
	rm -rf $(VENV) node_modules static .pytest_cache
