# `make serve` and `make test` work on a fresh clone: both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=

.PHONY: install serve test bench clean review-ui

install: $(STAMP)

# torch first, pinned: a bare requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/moderation convert toxicity  # the ONNX graph the service serves; built once, offline
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/moderation serve --host 127.0.0.1 --port 8000

# The review console on http://127.0.0.1:8501, against the API of `make serve`.
review-ui: $(STAMP)
	$(BIN)/moderation review-ui --api-url $${MODERATION_API_URL:-http://127.0.0.1:8000}

# PYTEST_ARGS: a subset, e.g. `make test PYTEST_ARGS=tests/test_pii.py` (default: every test).
test: $(STAMP)
	$(BIN)/moderation policy lint policies/
	$(BIN)/moderation policy test policies/
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/http_load.py
	$(BIN)/python benchmarks/policy_eval.py
	$(BIN)/python benchmarks/nsfw_runtime.py
	$(BIN)/python benchmarks/image_views.py
	$(BIN)/python benchmarks/frame_sampling.py
	$(BIN)/python benchmarks/second_nsfw_model.py
	$(BIN)/python benchmarks/toxicity_runtime.py
	$(BIN)/python benchmarks/hostile_text.py

clean:
	rm -rf $(VENV) var .pytest_cache
