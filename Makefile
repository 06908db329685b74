# One command per job; every target bootstraps .venv from the pinned requirements when missing.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test lint tf-check

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet pip==26.3
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) lint
	$(PY) -m pytest -q

# Terraform checks without a Terraform binary: hcl2 parse, structure, fmt layout, checkov (offline).
tf-check: $(STAMP)
	$(PY) -m pytest -q tests/terraform
