"""bench.inbound --repeat: every run's figures and the medians (the benchmark itself runs in bench/)."""

from __future__ import annotations

from bench.inbound import repeated


def run(rate: float, echo: float, p99: float) -> dict:
    return {"gridbot": {"closed_loop": {"updates_per_s": rate, "bot_cpu_ms_per_update": 2.0},
                        "open_loop": {"latency": {"p99_ms": p99}}},
            "echo_bot": {"closed_loop": {"updates_per_s": echo, "bot_cpu_ms_per_update": 1.5}},
            "throughput_ratio_vs_echo": round(rate / echo, 3), "targets": {}}


def test_one_run_is_reported_as_it_is():
    single = run(300, 600, 12.0)
    assert repeated([single]) is single


def test_several_runs_give_the_median_ratio_and_the_worst_p99():
    result = repeated([run(300, 600, 12.0), run(420, 600, 55.0), run(390, 600, 9.0)])
    assert [r["throughput_ratio_vs_echo"] for r in result["runs"]] == [0.5, 0.7, 0.65]
    assert result["median_throughput_ratio_vs_echo"] == 0.65
    assert result["targets"] == {"median_ratio_at_least_0.6": True,
                                 "open_loop_p99_at_most_50ms_in_every_run": False, "open_loop_p99_ms": 55.0}
