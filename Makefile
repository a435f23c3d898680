# Two entry points: `make run` (set up, then start the bot) and `make test` (set up, then every check).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

.PHONY: setup run chat test lint bench
setup: $(STAMP)

run: $(STAMP)
	$(BIN)/bot

chat: $(STAMP)
	$(BIN)/bot chat

lint: $(STAMP)
	$(BIN)/ruff check bot adapters memory tests bench examples
	$(BIN)/ruff format --check bot adapters memory tests bench examples
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile
	$(BIN)/docker-compose -f docker-compose.yml config --quiet

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.throughput --baseline
	$(BIN)/python -m bench.long_conversation --baseline
	$(BIN)/python -m bench.reply_latency
	$(BIN)/python -m bench.recall
	$(BIN)/python -m bench.small_talk
	$(BIN)/python -m bench.quality --data bench/quality/data/memory_bot_qa.json --model scripted --judge-model scripted --report /tmp/memory-quality.json
	$(BIN)/python -m bench.faults
