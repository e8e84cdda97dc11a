# Two commands do all the set-up: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cxbench demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

docs: $(STAMP)
	$(BIN)/cxbench docs --out docs/metrics.md
	$(BIN)/cxbench docs --page contract --out docs/contract.md

clean:
	rm -rf $(VENV) demo-output .pytest_cache spark-warehouse
