# `make run` and `make test` do all the set-up themselves on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-postgres lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	SECBOT_MODE=development $(PY) app.py

# The whole suite on SQLite (the embedded default).
test: $(STAMP)
	$(PY) -m pytest

# The same suite on PostgreSQL: a throwaway server the tests start from Debian's postgresql
# package (apt-get install postgresql; .ci/run does). Tests that check something only SQLite
# has skip, saying so.
test-postgres: $(STAMP)
	SECBOT_TEST_DATABASE=postgres $(PY) -m pytest

# ruff, mypy (strict on bot/core and bot/settings: pyproject [tool.mypy]), the layer and
# no-circle contracts (pyproject [tool.importlinter]), the content lint and the playbook lint.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m content.library.lint
	$(PY) -m incidents.playbook_lint

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
