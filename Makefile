# `make run` and `make test` each do all set-up on a fresh machine: virtualenv, Python
# dependencies, front-end assets, development keys (instance/), database migration, demo data.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run test setup assets db clean

run: setup db
	MARAC_ENV=development $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: setup
	MARAC_ENV=test $(BIN)/python -m pytest $(PYTEST_ARGS)

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
