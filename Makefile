# gridbot — the two commands README promises: `make test` and `make run`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")

.PHONY: install test lint run sandbox bench clean

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

install: | $(UV)
	$(UV) sync --frozen

lint: install
	$(UV) run ruff check .
	$(UV) run lint-imports

test: lint
	$(UV) run pytest $(PYTEST_ARGS)

run: install
	$(UV) run gridbot run

sandbox: install
	$(UV) run gridbot sandbox

clean:
	rm -rf .venv .pytest_cache .ruff_cache gridbot.db gridbot.db-wal gridbot.db-shm
