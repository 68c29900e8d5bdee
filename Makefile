# Everything starts from a fresh machine with python3 and make: the first target that needs the
# virtual environment creates it, installs the project, and compiles the translations.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install translations i18n demo run migrate sandbox test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Compiled catalogs are build output (not committed); rebuilt whenever a .po changes.
translations: install
	$(BIN)/pybabel compile --domain messages --directory locales --use-fuzzy --statistics 2>&1 | tail -n 1

# Extract every marked string, merge it into each language's catalog, compile.
i18n: install
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords N_ --keywords lazy_gettext \
		--no-location --sort-output --project trainee-assistant \
		--msgid-bugs-address "" --copyright-holder "" \
		--output-file locales/messages.pot bot handlers
	$(BIN)/pybabel update --input-file locales/messages.pot --domain messages \
		--output-dir locales --no-fuzzy-matching --ignore-obsolete --width 100
	$(BIN)/python scripts/fill_english_catalog.py
	$(MAKE) translations

demo: translations
	$(BIN)/trainee-bot demo

run: translations
	$(BIN)/trainee-bot run

migrate: install
	$(BIN)/trainee-bot migrate

sandbox: install
	$(BIN)/trainee-bot sandbox

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy bot handlers tests benchmarks

test: translations lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

bench: translations
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
