# nvpolicy — the two commands a fresh clone needs: `make render ENV=prod` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NVPOLICY := $(BIN)/nvpolicy
ENV ?= prod

# NAMESPACE is honoured only when given on the make command line, never from the
# shell's environment, so an exported NAMESPACE cannot silently retarget prod.
ifeq ($(origin NAMESPACE),command line)
SET_NAMESPACE := --set namespace=$(NAMESPACE)
endif

.PHONY: install browser render render-all validate lint diff publish test check bench clean dist

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Debian's Chromium for the HTML report's browser test (tests/test_flowmodel_report.py); idempotent,
# installs only as root and only when absent. Without it that test is skipped with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	    { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium >/dev/null; }; }; } || \
	  echo "chromium is not installed and cannot be (needs root and apt-get): the browser test will be skipped"

render: install
	$(NVPOLICY) render --env $(ENV) $(SET_NAMESPACE)

render-all: install
	$(NVPOLICY) render --all

# Validate manifests (a deploy repo's files, an export): make validate FILES=rendered/prod
FILES ?= rendered
validate: install
	$(NVPOLICY) validate $(FILES)

test: install
	$(BIN)/python -m pytest

check: install
	$(BIN)/ruff check compiler tests bench docs
	$(BIN)/mypy
	$(BIN)/mypy --strict bench

# Benchmarks (not part of `make test`): N services × 3 environments, see bench/run.py.
N ?= 1000
REPS ?= 3
$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench: install $(VENV)/.bench-installed
	$(BIN)/python bench/run.py --n $(N) --reps $(REPS)

# A wheel and an sdist in dist/ (PyPA build): pip install dist/nvpolicy-*.whl, or pipx install.
dist: install
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf rendered dist build .pytest_cache .mypy_cache .ruff_cache

lint: install
	$(NVPOLICY) lint --env $(ENV) $(SET_NAMESPACE)

BASE ?= origin/main
diff: install
	$(NVPOLICY) diff --env $(ENV) --base $(BASE)

DEPLOY_REPO ?= ../deploy
publish: install
	$(NVPOLICY) publish --env $(ENV) --repo $(DEPLOY_REPO)
