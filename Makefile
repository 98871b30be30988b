# The two commands of the README: `make run` (web UI) and `make test`.
VENV ?= .venv
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test index install lint chromium
run: $(STAMP)  ## install if needed, build the models and the index on first use, serve on 127.0.0.1:7860
	$(VENV)/bin/corridor-bot serve

test: $(STAMP) chromium  ## the whole test suite (real models, real FAISS index, real pipeline, a real browser)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest

index: $(STAMP)
	$(VENV)/bin/corridor-bot index

lint: $(STAMP)
	$(VENV)/bin/ruff check .

install: $(STAMP)

chromium:  ## Debian's Chromium for the browser test (Playwright drives it; nothing is downloaded at test time)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(VENV)/bin/python -m pip install --quiet -e '.[llm,test]'
	rm -f $(VENV)/.installed-* && touch $@
