# Two entry points (see README): `make demo` and `make test`. Both create .venv and install everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= How do honeybees tell each other where the flowers are?
# `make mutation` (opt-in, not part of `make test`): mutants tested at once, time limit (s), minimum score (%)
MUTATION_JOBS ?= 2
MUTATION_TIMEOUT ?= 5400
MUTATION_MIN ?= 90

.PHONY: install demo test check bench mutation

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: this version is a CPU wheel here; an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[generate,dense,train,pdf,docx,pptx,rtf,sql,openai,langchain,ray,dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/ragcli index sample_corpus
	$(BIN)/ragcli query "$(QUESTION)"

# the code checks, then the whole suite (what CI runs)
test: check
	$(BIN)/python -m pytest

check: install
	$(BIN)/ruff check ragcli tests bench
	$(BIN)/ruff format --check ragcli tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

mutation: install
	$(BIN)/python scripts/mutation.py run --jobs $(MUTATION_JOBS) --timeout $(MUTATION_TIMEOUT) --fail-under $(MUTATION_MIN)
