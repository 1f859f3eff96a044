"""bench.inbound --repeat: every run's figures and the medians (the benchmark itself runs in bench/)."""

from __future__ import annotations

from bench.inbound import SLOWEST, Sample, repeated, summarize


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
    assert [r["open_loop_slowest"] for r in result["runs"]] == [None, None, None]  # not in these runs
    assert result["median_throughput_ratio_vs_echo"] == 0.65
    assert result["targets"] == {"median_ratio_at_least_0.6": True,
                                 "open_loop_p99_at_most_50ms_in_every_run": False, "open_loop_p99_ms": 55.0}


def test_the_slowest_updates_are_listed_with_when_they_were_queued():
    samples = [Sample(n, "text", queued_at=10 + n / 100, replied_at=10 + n / 100 + 0.003,
                      fetched_at=10 + n / 100) for n in range(50)]
    samples[20].replied_at += 0.2  # a pause: this one and the next waited for the bot
    samples[21].replied_at += 0.19
    samples[21].fetched_at += 0.18
    slowest = summarize(samples)["slowest"]
    assert len(slowest) == SLOWEST
    assert slowest[:2] == [[0.2, 203.0, 0.0], [0.21, 193.0, 180.0]]
    assert all(latency == 3.0 for _, latency, _ in slowest[2:])
