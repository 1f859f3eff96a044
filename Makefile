# gridbot — the two commands README promises: `make test` and `make run`.
SHELL := /bin/bash
# uv from PATH, else the copy pip installs for python3 (installed on first use).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif

.PHONY: install fonts browser test lint run sandbox bench bench-quick reliability clean

# The weekly summary's charts are labelled in Chinese: a CJK font (handlers/chart_font.py finds it with
# fontconfig). Where fontconfig lists none for zh-cn, Debian's fonts-wqy-microhei (~5 MB) is installed
# with apt-get (as root, else with sudo); without apt-get the charts are still drawn, with a warning.
CJK_FONT_PACKAGES := fonts-wqy-microhei fontconfig
SUDO := $(shell [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && echo sudo)

install: fonts
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

fonts:
	@if fc-list :lang=zh-cn file 2>/dev/null | grep -q .; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "installing a CJK font for the weekly charts: $(CJK_FONT_PACKAGES)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y --no-install-recommends $(CJK_FONT_PACKAGES) >/dev/null 2>&1 \
	  || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y --no-install-recommends $(CJK_FONT_PACKAGES); } \
	  || echo "warning: could not install $(CJK_FONT_PACKAGES): the charts' Chinese will show as boxes" >&2; \
	else \
	  echo "warning: no CJK font and no apt-get: install a CJK font (e.g. WenQuanYi Micro Hei or Noto Sans CJK SC) for the charts" >&2; \
	fi

# The staff console's browser tests drive Debian's chromium (never a browser Playwright downloads): where
# /usr/bin/chromium (or $$GRIDBOT_CHROMIUM) is missing, `make test` installs it with apt-get, as `fonts`
# does the CJK font; without it the browser tests are skipped (they fail where GRIDBOT_REQUIRE_BROWSER=1).
BROWSER_PACKAGES := chromium

browser: fonts
	@if [ -x "$${GRIDBOT_CHROMIUM:-/usr/bin/chromium}" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "installing a browser for the console's browser tests: $(BROWSER_PACKAGES)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y --no-install-recommends $(BROWSER_PACKAGES) >/dev/null 2>&1 \
	  || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y --no-install-recommends $(BROWSER_PACKAGES); } \
	  || echo "warning: could not install $(BROWSER_PACKAGES): the browser tests will be skipped" >&2; \
	else \
	  echo "warning: no chromium and no apt-get: install chromium or set GRIDBOT_CHROMIUM, else the browser tests are skipped" >&2; \
	fi

lint: install
	$(UV) run ruff check .
	$(UV) run lint-imports

test: lint browser
	$(UV) run pytest $(PYTEST_ARGS)

# The reliability suite (issue 5) at bench size: kill -9 mid-burst, 20% Bot API faults, a 30 s database
# outage, each with hundreds of residents (`make test` runs the same tests small).
reliability: install
	GRIDBOT_SUITE_SIZE=full $(UV) run pytest -m reliability -s $(PYTEST_ARGS)

# `make run` on an empty database loads both example communities, a street office (信江街道) with two:
# 兴康社区 (examples/roster.yaml) and 翠湖社区 (examples/cuihu.yaml, estates and 271 places). A
# ROSTER_FILE in the environment or in .env is used instead.
EXAMPLE_ROSTERS := examples/roster.yaml,examples/cuihu.yaml
ROSTER_DEFAULT = $(if $(shell grep -s '^ROSTER_FILE=' .env),,ROSTER_FILE="$${ROSTER_FILE:-$(EXAMPLE_ROSTERS)}")

run: install
	$(ROSTER_DEFAULT) $(UV) run gridbot run

sandbox: install
	$(ROSTER_DEFAULT) $(UV) run gridbot sandbox

# Benchmarks (bench/RESULTS.md): full sizes take a while; bench-quick runs each in under a minute.
bench: install
	$(UV) run python -m bench $(BENCH_ARGS)

bench-quick: install
	$(UV) run python -m bench --quick $(BENCH_ARGS)

clean:
	rm -rf .venv .pytest_cache .ruff_cache gridbot.db gridbot.db-wal gridbot.db-shm
