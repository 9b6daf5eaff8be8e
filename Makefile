# Every target builds .venv at the repo root if it is missing, installs the project and runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-clients docs browser lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch==2.13.0 first: the CPU build on this class of machine; stable-baselines3's range accepts it.
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0" || $(PY) -m pip install --quiet torch
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m experiments.demo

# The docs site: generated pages from the code (docs/_gen/hooks.py), warnings are errors.
docs: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet

# Headless Chromium for the docs browser test (Debian's packages; only as root, else the test skips and says why).
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || \
		echo "could not install chromium: the docs browser test will be skipped"

test: install browser docs
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	STACKENV_SITE=site $(PY) -m pytest -q -n 2

# The RLlib recipe (docs/clients/rllib.md) in its own venv: ray[rllib] pins an older gymnasium than .venv has.
CLIENTS_VENV := .venv-clients
test-clients:
	test -x $(CLIENTS_VENV)/bin/python || $(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/python -m pip install --quiet "torch==2.13.0" || $(CLIENTS_VENV)/bin/python -m pip install --quiet torch
	$(CLIENTS_VENV)/bin/python -m pip install --quiet -e . "ray[rllib]>=2.9" pytest
	$(CLIENTS_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/docs/test_clients.py -k rllib

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: install
	$(PY) -m experiments.bench --json results/bench.json

clean:
	rm -rf $(VENV) $(CLIENTS_VENV) results site .pytest_cache
