# One command per job; every target bootstraps .venv from the pinned requirements when missing.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test lint bench compile demo up reliability

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet pip==26.3
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) lint
	$(PY) -m pytest -q

# Cold start of both functions against the shape of Google's documented sample (see README).
bench: $(STAMP)
	$(PY) -m benchmarks.cold_start
	$(PY) -m benchmarks.warm_throughput

# Full-size fault storm (10,000 object deliveries + drift alerts) and hostile inputs (corpus +
# 1,000 generated events); `make test` runs both smaller.
reliability: $(STAMP)
	$(PY) -m benchmarks.fault_storm --deliveries 10000
	$(PY) -m benchmarks.hostile --examples 1000

# Regenerate compiled/*.yaml from pipelines/ (deterministic; tests/pipelines checks it is current).
compile: $(STAMP)
	$(PY) -m pipelines.compile

# The whole loop locally: data lands -> training run; data drifts -> retraining run (see README).
demo: $(STAMP) compile
	$(PY) -m local.demo

# The same local stack, kept running until Ctrl-C; prints how to drop a file and send an alert.
up: $(STAMP) compile
	$(PY) -m local.up
