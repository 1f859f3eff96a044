"""bench.inbound's yardstick and arithmetic: the peer bot files the residents' reports, and the figures
(ratio, percentiles, medians over repeats) come out right. The benchmark itself runs in bench/."""

from __future__ import annotations

import random
import sys
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench import peer_data, residents
from bench.harness import BotProcess
from bench.inbound import ROSTER, redis_unreachable, repeated, report
from bench.peer_bot import READY as PEER_READY
from bench.residents import SLOWEST, Sample, summarize
from bot.cli import read_roster
from bot.sandbox_world import groups_for, personas_for
from sandbox.server import Sandbox, SandboxServer

REDIS_URL = "redis://127.0.0.1:6379/0"
GRID_1_WORKER = 1011  # examples/roster.yaml: 王芳, the worker of 1号楼's grid


def bot_result(updates_per_s: float, p99: float) -> dict:
    return {"closed_loop": {"updates_per_s": updates_per_s, "bot_cpu_ms_per_update": 2.0},
            "open_loop": {"latency": {"p50_ms": p99 / 4, "p95_ms": p99 / 2, "p99_ms": p99}}}


def test_the_ratio_is_gridbots_throughput_over_the_peers_and_only_postgresql_has_a_ratio_target():
    result = report("postgresql", 100, bot_result(300, 40.0), bot_result(400, 20.0))
    assert result["throughput_ratio_vs_peer"] == 0.75
    assert result["open_loop_latency_ms"] == {"gridbot": {"p50_ms": 10.0, "p95_ms": 20.0, "p99_ms": 40.0},
                                              "peer": {"p50_ms": 5.0, "p95_ms": 10.0, "p99_ms": 20.0}}
    assert result["targets"] == {"gridbot_open_loop_p99_at_most_100ms": True, "ratio_at_least_1.0": False}
    sqlite = report("sqlite", 100, bot_result(300, 120.0), bot_result(200, 20.0))
    assert sqlite["throughput_ratio_vs_peer"] == 1.5
    assert sqlite["targets"] == {"gridbot_open_loop_p99_at_most_100ms": False}


def test_one_run_is_reported_as_it_is():
    single = report("sqlite", 100, bot_result(300, 12.0), bot_result(200, 9.0))
    assert repeated([single]) is single


def test_several_runs_give_the_median_ratio_and_the_worst_p99():
    runs = [report("postgresql", 100, bot_result(rate, p99), bot_result(400, 9.0), order)
            for rate, p99, order in ((360, 12.0, ("gridbot", "peer")), (440, 105.0, ("peer", "gridbot")),
                                     (420, 9.0, ("gridbot", "peer")))]
    result = repeated(runs)
    assert [run["throughput_ratio_vs_peer"] for run in result["runs"]] == [0.9, 1.1, 1.05]
    assert [run["order"] for run in result["runs"]][1] == ["peer", "gridbot"]
    assert [run["gridbot_open_loop_p99_ms"] for run in result["runs"]] == [12.0, 105.0, 9.0]
    assert result["median_throughput_ratio_vs_peer"] == 1.05
    assert result["targets"] == {"gridbot_open_loop_p99_at_most_100ms_in_every_run": False,
                                 "median_ratio_at_least_1.0": True}


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


def test_the_peer_reads_building_unit_and_category_from_every_opening_the_residents_send():
    community = peer_data.load_community(ROSTER)
    for i in range(len(residents.BUILDINGS) * len(residents.PROBLEMS)):
        text = residents.opening(i)
        building = peer_data.find_building(community, text)
        assert building is not None and text.startswith(building.name), text
        assert peer_data.suggest_category(community, text) is not None, text
        if "单元" in text:
            assert peer_data.find_unit(building, text) == text.split("单元")[0][-1], text
    assert peer_data.find_building(community, "8号楼车库的灯坏了").name == "8号车库"  # the longest name wins
    assert peer_data.find_building(community, "3栋门口").name == "3号楼"


@pytest.fixture
async def redis_url() -> str:
    problem = await redis_unreachable(REDIS_URL)
    if problem:
        pytest.skip(f"the peer bot needs Redis at {REDIS_URL}: {problem}")
    return REDIS_URL


async def test_the_peer_files_each_residents_report_and_asks_about_a_recent_one_of_the_same_kind(
        empty_database_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(residents, "REPLY_TIMEOUT", 15.0)  # a step the peer fails fails the test soon
    community = read_roster(ROSTER)
    sandbox = Sandbox(personas_for(community), groups=groups_for(community), personas_started=True)
    prefix = f"test-peer-{uuid.uuid4().hex[:12]}"
    # residents 0, 30 and 60 all report in 1号楼; 0 and 60 the same kind of problem in the same unit: 60 is
    # asked whether it is the same one, and files a new one (仍要新建)
    people = (0, 30, 60)
    async with SandboxServer(sandbox=sandbox) as server:
        peer = BotProcess(server.base_url, empty_database_url, log_path=tmp_path / "peer.log",
                          command=[sys.executable, "-m", "bench.peer_bot"], ready_marker=PEER_READY,
                          env={"REDIS_URL": redis_url, "FSM_KEY_PREFIX": prefix})
        await peer.start()
        inbox = residents.Inbox(sandbox)
        try:
            driver = residents.Driver(sandbox, inbox)
            samples: list[Sample] = []
            for i in people:
                await residents.report_dialog(driver, residents.RESIDENT_BASE + i, residents.opening(i),
                                              random.Random(i), samples)
            await residents.settled(sandbox, quiet=0.3)  # the filings' notices to the grid worker too
        finally:
            inbox.close()
            await peer.stop()
    assert "Traceback" not in peer.log_text()
    filed = [m.data["text"] for i in people for m in inbox.messages[residents.RESIDENT_BASE + i]
             if residents.FILED in m.data.get("text", "")]
    assert len(filed) == len(people)
    notices = [m.data["text"] for m in inbox.messages[GRID_1_WORKER]]
    assert len(notices) == len(people) and all(text.startswith("新工单") for text in notices)
    asked = [m.data["text"] for m in inbox.messages[residents.RESIDENT_BASE + 60]]
    assert any("已经有人反映过同类问题" in text for text in asked)
    engine = create_async_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(peer_data.Ticket)) == len(people)
    finally:
        await engine.dispose()
    client = Redis.from_url(redis_url)
    try:
        assert [key async for key in client.scan_iter(f"{prefix}:*")] == []  # every dialog ended
    finally:
        await client.aclose()
