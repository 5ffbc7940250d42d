# The two commands of this project are `make demo` and `make test`;
# everything they need (venv, packages, the local cloud) is set up here.

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed
# Tests and the demo use the local cloud unless OS_CLOUD names another.
CLOUD_UP := if [ -z "$$OS_CLOUD" ]; then tools/devcloud up; fi

.PHONY: venv cloud demo test unit functional bench docs build clean

venv: $(STAMP)

$(STAMP): requirements.txt test-requirements.txt setup.cfg
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -r requirements.txt -r test-requirements.txt
	$(PIP) install -e .
	touch $@

cloud:
	tools/devcloud up

demo: venv
	@$(CLOUD_UP)
	tools/demo

test: venv
	@$(CLOUD_UP)
	$(PY) -m pytest tests

unit: venv
	$(PY) -m pytest -q tests/unit

functional: venv
	@$(CLOUD_UP)
	$(PY) -m pytest tests/functional

bench: venv
	@$(CLOUD_UP)
	$(PY) bench/run.py

docs: venv
	$(PIP) install -r doc/requirements.txt
	$(VENV)/bin/sphinx-build -E -W --keep-going -b html doc/source doc/build/html

build: venv
	$(PIP) install build
	$(PY) -m build

clean:
	rm -rf build dist doc/build *.egg-info
