# gridbot — the two commands README promises: `make test` and `make run`.
SHELL := /bin/bash
# uv from PATH, else the copy pip installs for python3 (installed on first use).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif

.PHONY: install test lint run sandbox bench bench-quick reliability clean

install:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

lint: install
	$(UV) run ruff check .
	$(UV) run lint-imports

test: lint
	$(UV) run pytest $(PYTEST_ARGS)

# The reliability suite (issue 5) at bench size: kill -9 mid-burst, 20% Bot API faults, a 30 s database
# outage, each with hundreds of residents (`make test` runs the same tests small).
reliability: install
	GRIDBOT_SUITE_SIZE=full $(UV) run pytest -m reliability -s $(PYTEST_ARGS)

run: install
	$(UV) run gridbot run

sandbox: install
	$(UV) run gridbot sandbox

# Benchmarks (bench/RESULTS.md): full sizes take a while; bench-quick runs each in under a minute.
bench: install
	$(UV) run python -m bench $(BENCH_ARGS)

bench-quick: install
	$(UV) run python -m bench --quick $(BENCH_ARGS)

clean:
	rm -rf .venv .pytest_cache .ruff_cache gridbot.db gridbot.db-wal gridbot.db-shm
