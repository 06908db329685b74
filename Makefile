# One command per job; every target bootstraps .venv from the pinned requirements when missing.
# Checkov lives in its own venv, .venv/checkov: its bc-python-hcl2 and our python-hcl2 both
# install a top-level `hcl2` package, so one environment can only hold one of them.
VENV         := .venv
PY           := $(VENV)/bin/python
CHECKOV_VENV := $(VENV)/checkov
STAMP        := $(VENV)/.installed

.PHONY: test lint compile tf-check

$(STAMP): requirements.txt requirements-checkov.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet pip==26.3
	$(PY) -m pip install --quiet -r requirements.txt
	test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet pip==26.3
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) lint
	$(PY) -m pytest -q

# Regenerate compiled/*.yaml from pipelines/ (deterministic; tests/pipelines checks it is current).
compile: $(STAMP)
	$(PY) -m pipelines.compile

# Terraform checks without a Terraform binary: hcl2 parse, structure, fmt layout, checkov (offline).
tf-check: $(STAMP)
	$(PY) -m pytest -q tests/terraform
