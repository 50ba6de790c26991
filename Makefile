# groundswell: `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO   := demo
EXTRAS ?= test,lint,report,web,train,accurate,spark

.PHONY: demo test test-fast lint venv clean bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[$(EXTRAS)]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

demo: venv
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/groundswell simulate --posts 20000 --seed 7 --format twitter-v2 --out $(DEMO)/sim
	$(BIN)/groundswell ingest $(DEMO)/sim --db $(DEMO)/groundswell.duckdb
	$(BIN)/groundswell info --db $(DEMO)/groundswell.duckdb
	$(BIN)/groundswell classify --db $(DEMO)/groundswell.duckdb
	$(BIN)/groundswell analyze --hashtag metoo --db $(DEMO)/groundswell.duckdb
	$(BIN)/groundswell report --hashtag metoo --db $(DEMO)/groundswell.duckdb --output $(DEMO)/report.html --brief $(DEMO)/brief.md

test: venv lint
	$(BIN)/python -m pytest -q

# ruff (pycodestyle, pyflakes, import order, bugbear, pyupgrade) and strict mypy over src/:
# their configuration is in pyproject.toml; either one's error fails `make test`.
lint: venv
	$(BIN)/ruff check src
	$(BIN)/mypy

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) $(DEMO) build *.egg-info .pytest_cache
