# Everything starts from a fresh machine with python3 and make: the first target that needs the
# virtual environment creates it, installs exactly what requirements.lock names (hashes
# checked), then the project itself, and compiles the translations.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements.lock
# The resolver used by `make lock` only; installing needs nothing but pip.
UV_VERSION := 0.13.9
LOCK_VENV := .venv-lock
PYTEST_ARGS ?=
# Test processes side by side (pytest-xdist): most tests wait on a server (the Telegram
# stand-in, PostgreSQL, Redis), so three keep two cores busy. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 3

.PHONY: install lock translations i18n demo run migrate sandbox test lint typecheck unit bench clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	@# setuptools' advice on editable installs (mind folders named like the package) is
	@# about this very layout; it is not a fault.
	PYTHONWARNINGS="ignore:Editable installation" \
		$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Refresh the lock on purpose: the newest releases inside pyproject.toml's ranges, for every
# platform, with hashes. Review the diff, run `make test`, commit both files together.
lock:
	test -x $(LOCK_VENV)/bin/uv || ($(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION))
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml requirements-tools.in --extra test \
		--generate-hashes --universal --python-version 3.11 --quiet -o $(LOCK)
	@# The container image's lock: the same pins, without the tests' and linters' packages.
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml requirements-tools.in -c $(LOCK) \
		--generate-hashes --universal --python-version 3.11 --quiet -o requirements-prod.lock

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
	$(BIN)/mypy bot handlers sandbox tests benchmarks

test: translations lint typecheck
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: translations
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(LOCK_VENV) data .mypy_cache .ruff_cache .pytest_cache
