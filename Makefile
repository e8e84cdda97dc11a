# Two commands do all the set-up: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs clean chromium

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cxbench demo --out demo-output

# The report's browser tests drive Debian's chromium (Playwright's own browser download needs the internet).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing Debian's chromium for tests/test_report.py"; \
	    $$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get update -qq && \
	    $$( [ "$$(id -u)" -eq 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest -n 2 --dist loadgroup

docs: $(STAMP)
	$(BIN)/cxbench docs --out docs/metrics.md
	$(BIN)/cxbench docs --page contract --out docs/contract.md

clean:
	rm -rf $(VENV) demo-output .pytest_cache spark-warehouse
