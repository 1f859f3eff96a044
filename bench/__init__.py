"""Benchmarks (issue 5): each module runs with `uv run python -m bench.<name> [--quick]`; results go
to bench/out/*.json and, written up with the machine and date, to bench/RESULTS.md."""
