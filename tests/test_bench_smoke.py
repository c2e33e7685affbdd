"""Every ``make bench`` part runs, end to end, at a tiny size.

A bench part is only run by hand, so a change elsewhere broke one twice without anyone
noticing until the next measurement (the paging part crashed on an empty latency list;
the fan-out part's seeding used the store's old synchronous calls). This runs each part
as ``make bench`` does (real processes on loopback: the fake platform APIs, secbot, the
baselines), with a handful of requests, channels and incidents instead of thousands, and
checks what each reports: the numbers are meaningless at this size, but a part that
crashes, hangs, loses or doubles a tip fails here.
"""

from __future__ import annotations

import pytest

from bench import parts


@pytest.fixture
def tiny(monkeypatch):
    for name, value in {
        "LEVELS": (64,),  # the level the targets are read at
        "SLASH_BODIES": 20,
        "CLICK_BODIES": 20,
        "TEAMS_BODIES": 20,
        "STARTUP_RUNS": 1,
        "STARTUP_IDLE_S": 0.1,
        "FANOUT_CHANNELS": 30,
        "FANOUT_CONCURRENCY": 4,
        "FANOUT_TRIALS": 1,
        "FANOUT_LARGE_CHANNELS": 40,
        "PAGING_INCIDENTS": 2,
    }.items():
        monkeypatch.setattr(parts, name, value)


async def test_every_bench_part_runs_at_a_tiny_size(tiny, capsys):
    assert set(parts.ALL) == {"slack", "fanout", "fanout-100k", "paging", "teams", "startup"}
    results = {name: await part(0.2) for name, part in parts.ALL.items()}

    slack = results["slack"]
    for kind in ("commands", "clicks"):
        [ours] = slack["ours"][kind]
        assert ours["requests"] > 0 and ours["left_kept"] == 0  # every one handled
        assert slack[f"compare_{kind}"][0]["concurrency"] == 64
    [teams] = results["teams"]["compare"]
    assert teams["concurrency"] == 64
    fanout = results["fanout"]
    assert (fanout["delivered"], fanout["duplicates"]) == (30, 0)
    assert fanout["throughput_ratio"] is not None
    large = results["fanout-100k"]
    assert (large["channels"], large["delivered"], large["duplicates"]) == (40, 40, 0)
    assert large["peak_rss_mib"] > 0
    paging = results["paging"]
    assert paging["paged"] == 2 and paging["escalations"] == 2
    assert results["startup"]["runs"][0]["startup_s"] > 0
    # The summary of targets reads every part's figures.
    met = {row["target"]: row["met"] for row in parts.targets(results)}
    assert met and set(met.values()) <= {"yes", "NO"}
    assert "tip fan-out" in capsys.readouterr().out
