"""The pure parts of `make bench` (issue 13): percentiles, CPU from a /proc stat line, process trees, ratios and
verdicts, and the sustained-rate decision of P4. No servers, no timing."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from pathlib import Path

import pytest

from btdeploy import (
    bench,
    bench_p3,
    bench_procs,
    bench_rebuild,
    bench_rebuild_scale,
    bench_report,
    bench_results,
)
from btdeploy.bench_rebuild import Rate
from btdeploy.bench_stats import (
    Figure,
    Goal,
    Step,
    figure_line,
    highest_sustained,
    markdown_table,
    percentile,
    ratio,
    sustained,
)
from btkernel.consumer import kept_envelope
from btkernel.envelope import Envelope

# A real line's shape (proc(5)); the command name holds a space and a ')' to prove fields are counted from its end.
STAT = (
    "4242 (postgres: a) b) S 4100 4100 4100 0 -1 4194560 900 0 0 0 "
    "1234 567 89 10 20 0 1 0 5555 123456789 4321 18446744073709551615"
)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 99))


def test_a_stat_line_gives_ppid_and_the_four_cpu_counters() -> None:
    s = bench_procs.parse_stat(STAT)
    assert (s.pid, s.ppid) == (4242, 4100)
    assert (s.utime, s.stime, s.cutime, s.cstime) == (1234, 567, 89, 10)
    assert s.own_ticks == 1234 + 567 + 89 + 10


def test_memory_prefers_pss_and_falls_back_to_rss() -> None:
    assert bench_procs.parse_memory_kib("Rss:  9000 kB\nPss:  2500 kB\nShared_Clean: 1 kB\n") == 2500
    assert bench_procs.parse_memory_kib("Name:\tjava\nVmRSS:\t  81920 kB\n") == 81920
    assert bench_procs.parse_memory_kib("Name:\tkthreadd\n") == 0


def _stat(pid: int, ppid: int, ticks: int) -> bench_procs.StatLine:
    return bench_procs.StatLine(pid, ppid, ticks, 0, 0, 0)


def test_a_group_counts_its_root_and_every_descendant_but_nothing_else() -> None:
    stats = {
        10: _stat(10, 1, 100),  # postmaster
        11: _stat(11, 10, 50),  # a backend
        12: _stat(12, 11, 5),  # its child (parallel worker)
        20: _stat(20, 1, 1000),  # someone else
    }
    assert sorted(bench_procs.tree(10, stats)) == [10, 11, 12]
    assert bench_procs.tree(99, stats) == []
    before = bench_procs.cpu_seconds({"postgres": [10]}, stats)
    assert before["postgres"] == pytest.approx(155 / bench_procs.CLOCK_TICKS)
    # The backend ends and is reaped: its ticks move into the postmaster's cutime, so nothing is lost or doubled.
    after_stats = {10: bench_procs.StatLine(10, 1, 100, 0, 55 + 30, 0), 20: _stat(20, 1, 5000)}
    after = bench_procs.cpu_seconds({"postgres": [10]}, after_stats)
    assert bench_procs.cpu_delta(before, after)["postgres"] == pytest.approx(30 / bench_procs.CLOCK_TICKS)


def test_ratio_goal_and_verdict() -> None:
    assert ratio(20.0, 100.0) == pytest.approx(0.2)
    assert math.isnan(ratio(20.0, 0.0))
    at_least = Goal("at least", 0.40)
    throughput = Figure("p1", "P1 submissions", "/s", 45.0, 100.0, at_least)
    assert throughput.measured == pytest.approx(0.45)
    assert throughput.verdict == "met"
    assert Figure("p1", "P1", "/s", 17.0, 106.0, at_least).verdict == "not met"
    cpu = Figure("cpu", "P1 CPU", "ms", 75.0, 2.5, Goal("at most", 8.0))
    assert cpu.verdict == "not met"
    assert Figure("cpu", "P1 CPU", "ms", 16.0, 2.5, Goal("at most", 8.0)).verdict == "met"
    assert Figure("p1", "P1", "/s", 17.0, math.nan, at_least).verdict == "not measured"
    # No bare figure: the goal judges the figure itself (P4 against 100× the national peak).
    assert Figure("p4", "P4", "/s", 42.0, None, Goal("at least", 42.0)).verdict == "met"
    assert Figure("hop", "hop", "/s", 90.0, 100.0, None).verdict == "(no goal)"


def test_a_figure_line_and_table_say_ratio_goal_and_verdict_in_words() -> None:
    f = Figure("p1", "P1 submissions through the gateway", "/s", 22.0, 110.0, Goal("at least", 0.4))
    line = figure_line(f)
    assert "0.20" in line
    assert "≥ 0.4" in line
    assert line.endswith("not met")
    table = markdown_table([f, Figure("p4", "P4 sustained", "/s", math.nan, None, Goal("at least", 42))])
    assert "| P1 submissions through the gateway | 22.0 /s | 110.0 (bare) | 0.20 | ≥ 0.4 | not met |" in table
    assert "| P4 sustained | n/a /s | — | n/a | ≥ 42 | not measured |" in table
    assert f.as_dict()["measured"] == 0.2


def _step(rate: float, **kw: float) -> Step:
    fields = {
        "offered": 100,
        "receipts": 100,
        "errors": 0,
        "late": 0,
        "receipt_p99_s": 0.2,
        "case_p99_s": 0.3,
    }
    fields |= {"backlog": 0, **kw}
    return Step(rate=rate, **fields)  # type: ignore[arg-type]


def test_a_step_is_sustained_only_under_a_second_both_ways_and_without_backlog() -> None:
    assert sustained(_step(10)) == (True, "kept up")
    assert not sustained(_step(10, receipt_p99_s=1.0))[0]
    slow_cases = sustained(_step(10, case_p99_s=1.4))
    assert not slow_cases[0]
    assert "submission → case p99 1400 ms" in slow_cases[1]
    assert "3 cases not opened" in sustained(_step(10, backlog=3))[1]
    assert not sustained(_step(10, errors=1))[0]
    assert not sustained(_step(10, late=1))[0]
    assert not sustained(_step(10, case_p99_s=math.nan))[0]  # no case opened at all


def test_the_highest_sustained_rate_stops_at_the_first_failed_step() -> None:
    steps = [_step(10), _step(20), _step(30, backlog=40), _step(42)]
    assert highest_sustained(steps) == 20
    assert highest_sustained([_step(10, receipt_p99_s=2.0)]) == 0
    assert highest_sustained([]) == 0
    # A rate tried again after a noisy step is credited when the second attempt kept up; one failed twice ends it.
    retried = [_step(10), _step(20, receipt_p99_s=1.2), _step(20), _step(30, backlog=5), _step(30, backlog=2)]
    assert highest_sustained(retried) == 20


def test_quick_and_default_options_bound_the_run() -> None:
    quick = bench.options(["--quick"])
    assert quick.n == 100
    assert quick.rates == [10.0, 20.0, 42.0]
    assert quick.acts == 10
    assert quick.rebuild_scale == 2000
    full = bench.options(["--n", "50", "--rates", "5,7"])
    assert full.n == 50
    assert full.rates == [5.0, 7.0]
    assert full.rebuild_events == 100
    assert full.concurrency == 16


def test_a_run_is_one_json_line_and_a_table_in_the_readme(tmp_path: Path) -> None:
    figs = [Figure("p1_throughput", "P1", "/s", 20.0, 100.0, Goal("at least", 0.4))]
    args = {"quick": True, "n": 10, "rates": [10.0, 42.0], "p2_rate": 5.0, "gateway": False}
    run = bench_results.record(args, figs, {"p1": {"latency": {"p99_ms": math.nan}}})
    bench_results.write(tmp_path, run, figs)
    bench_results.write(tmp_path, run, figs)
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 2
    stored = json.loads(lines[0])
    assert stored["figures"]["p1_throughput"]["verdict"] == "not met"
    assert stored["details"]["p1"]["latency"]["p99_ms"] is None  # NaN is not JSON
    assert stored["cores"] >= 1
    assert stored["commit"]
    readme = (tmp_path / "README.md").read_text()
    assert readme.count("| P1 | 20.0 /s |") == 2
    assert "`--quick --n 10 --rates 10,42 --p2-rate 5`" in readme


async def test_the_load_submits_as_the_desk_does_with_one_idempotency_key_per_submission() -> None:
    """ADR 0011: a submission with a key rides the gateway's pooled connections and may be retried; the desk sends
    one per form, so the bench's load does too, on both sides, each key its own."""
    import httpx

    from btdeploy import bench_load

    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        return httpx.Response(201, json={"application_id": f"a-{len(seen)}"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://bare") as http:
        send = bench_load.bare_sender(http)
        assert await send(1) == "a-1"
        assert await send(2) == "a-2"
    assert len(set(seen)) == 2
    assert all(bench_load.RUN in key for key in seen)


async def test_a_broken_connection_or_a_timeout_is_an_error_of_the_step_not_the_end_of_the_run() -> None:
    """P4's highest step once ended the whole section (httpx.ReadError from an overloaded gateway), losing the rates
    found kept; now it counts as that step's error, as a refusal does."""
    import httpx

    from btdeploy import bench_load

    def answer(request: httpx.Request) -> httpx.Response:
        n = int(json.loads(request.content)["contact"]["email"].split("-")[1].split("@")[0])
        if n == 2:
            raise httpx.ReadError("connection closed", request=request)
        if n == 3:
            raise httpx.ReadTimeout("timed out", request=request)
        if n == 4:
            return httpx.Response(503, headers={"Retry-After": "1"})
        return httpx.Response(201, json={"application_id": f"a-{n}"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://bare") as http:
        load = await bench_load.closed_loop(bench_load.bare_sender(http), 5, 2, first=1)
    assert sorted(load.accepted_at) == ["a-1", "a-5"]
    assert load.errors == 3


def test_a_rebuilds_printed_line_gives_its_rate_and_how_long_its_swap_held_the_live_tables() -> None:
    said = "records: 100000 events in 8.42 s (11876/s); swapped in, the live tables locked for 14 ms\n"
    assert bench_rebuild.printed(said) == Rate(100_000, 8.42, 14.0)
    # The replay skeleton swaps nothing; a line without a rate is not one.
    assert bench_rebuild.printed("skeleton: 18961 events in 0.35 s\n") == Rate(18_961, 0.35)
    assert bench_rebuild.printed("refused: a rebuild of records is running already") is None
    line = bench_p3._line("rebuild records (registry)", Rate(100_000, 8.42, 14.0), Rate(100_000, 1.0))
    assert line.endswith("× raw 0.12   the live table locked 14 ms")


def test_p3_keeps_the_median_run_of_each_measurement() -> None:
    # Three runs of 20,000 events: 2, 1 and 4 s; the median is the 2 s one whatever the order.
    runs = [Rate(20_000, 2.0), Rate(20_000, 1.0), Rate(20_000, 4.0)]
    assert bench_p3.median_rate(runs) == Rate(20_000, 2.0)
    assert bench_p3.median_rate(list(reversed(runs))) == Rate(20_000, 2.0)
    assert bench_p3.median_rate([Rate(5, 1.0)]) == Rate(5, 1.0)


# P1's figures as both skeleton tests have them: the platform 48/s at 36 ms, the bare endpoint 300/s at 1.5 ms.
P1 = {
    "platform": {"per_second": 48.0},
    "bare": {"per_second": 300.0},
    "cpu_total_ms": 36.0,
    "bare_cpu_total_ms": 1.5,
}


def test_the_skeletons_figures_read_the_platform_against_the_least_the_cards_shape_costs() -> None:
    skeleton = {
        "load": {
            "per_second": 120.0,
            "accepted": 400,
            "errors": 0,
            "latency": {"p50_ms": 1.0, "p99_ms": 2.0},
        },
        "not_kept": {"registry": 0, "fee": 0, "notification": 1},
        "cpu_ms_per_submission": {
            "skeleton proxy": 3.0,
            "kafka (above its rest)": 4.0,
            "skeleton endpoint": 5.0,
        },
        "cpu_total_ms": 12.0,
        "broker_rest_ms_per_s": 40.0,
    }
    results = {
        "p1": P1,
        "p2": {
            "rate": 5.0,
            "seconds": 20.0,
            "platform_case": {"p99_ms": 30.0},
            "platform_backlog": 0,
            "raw_kafka": {"p99_ms": 5.0},
            "raw_sent": 100,
            "raw_lost": 0,
            "skeleton_beside": {
                "accepted": 100,
                "kept": {
                    role: {"p50_ms": 5.0, "p99_ms": 10.0} for role in ("registry", "fee", "notification")
                },
                "not_kept": {"registry": 0, "fee": 2, "notification": 0},
            },
        },
        "p3_scale": {"raw_consume_per_s": 80_000.0, "skeleton_replay_per_s": 40_000.0, "lines": []},
        "skeleton": skeleton,
    }
    figs = {f.key: f for f in bench_report.figures(results)}
    assert figs["p1_skeleton"].measured == pytest.approx(0.4)
    assert figs["p1_skeleton_cpu"].measured == pytest.approx(8.0)
    assert figs["p1_cpu_over_skeleton"].measured == pytest.approx(3.0)
    assert figs["p2_skeleton_p99"].measured == pytest.approx(2.0)
    assert figs["p2_case_over_skeleton"].measured == pytest.approx(3.0)
    assert figs["p3_skeleton"].measured == pytest.approx(0.5)
    # The skeleton's own figures are held to the platform's goals, their verdicts naming the shape; the platform
    # read over the skeleton is judged by none.
    assert [
        figs[k].verdict for k in ("p1_skeleton", "p1_skeleton_cpu", "p2_skeleton_p99", "p3_skeleton")
    ] == ["the shape meets it"] * 4
    assert figs["p1_cpu_over_skeleton"].goal is None
    assert figs["p2_case_over_skeleton"].goal is None
    assert bench_report.shape_reach(list(figs.values())) == {"P1": True, "P2": True, "P3": True}
    text = "\n".join(bench_report.skeleton_lines(skeleton))
    assert "notification 1" in text
    assert "total                               12.00" in text
    report = bench_report.report(results | {"p1": None}, list(figs.values()))
    assert "(2 of 100 not kept)" in report
    assert "held to the goals: P1 met, P2 met, P3 met." in report


def test_a_goal_the_skeleton_misses_is_said_to_be_out_of_reach_on_this_machine_in_this_run(
    tmp_path: Path,
) -> None:
    """P1 needs both of its limits; a skeleton figure not measured leaves its goal not measured, never met."""
    results = {
        "p1": P1,
        # Throughput within P1 (0.43), CPU not (12 ms ÷ 1.5 = 8.0 is the edge; 13.5 ÷ 1.5 = 9 is past it).
        "skeleton": {"load": {"per_second": 130.0}, "cpu_total_ms": 13.5},
        "p2": {
            "platform_case": {"p99_ms": 30.0},
            "raw_kafka": {"p99_ms": 5.0},
            "skeleton_beside": {"kept": {"registry": {"p99_ms": 14.0}}},
        },
    }
    figs = bench_report.figures(results)
    by_key = {f.key: f for f in figs}
    assert by_key["p1_skeleton"].verdict == "the shape meets it"
    assert by_key["p1_skeleton_cpu"].verdict == "the shape misses it"
    assert by_key["p2_skeleton_p99"].verdict == "the shape meets it"  # 14 ÷ 5 = 2.8
    assert by_key["p3_skeleton"].verdict == "not measured"
    reach = bench_report.shape_reach(figs)
    assert reach == {"P1": False, "P2": True, "P3": None}
    assert "P1 missed, P2 met, P3 not measured" in bench_report.reach_line(reach)
    # Kept with the run, and said under its table in the README.
    run = bench_results.record({"n": 1}, figs, {})
    assert run["shape_reach"] == {"P1": False, "P2": True, "P3": None}
    bench_results.write(tmp_path, run, figs)
    assert json.loads((tmp_path / "results.jsonl").read_text())["shape_reach"]["P1"] is False
    readme = (tmp_path / "README.md").read_text()
    assert (
        "| P1 CPU per submission, the card's skeleton | 13.5 ms | 1.50 (bare) | 9.00 | ≤ 8 | the shape misses it |"
        in readme
    )
    assert "held to the goals: P1 missed, P2 met, P3 not measured." in readme


def test_the_skeleton_with_the_guarantees_is_read_apart_from_the_bare_one(tmp_path: Path) -> None:
    """The guaranteed skeleton's figures: the platform's goals held to it, the platform read over it, and its own
    reach line, kept with the run; the bare skeleton's reach is not changed by it."""
    results = {
        "p1": P1,
        "skeleton": {"load": {"per_second": 90.0}, "cpu_total_ms": 9.0},
        # 150 ÷ 300 = 0.5 and 6 ÷ 1.5 = 4: P1 met by the shape with the guarantees; 18 ÷ 5 = 3.6 misses P2.
        "guaranteed": {
            "load": {
                "per_second": 150.0,
                "accepted": 400,
                "errors": 0,
                "latency": {"p50_ms": 1.0, "p99_ms": 2.0},
            },
            "not_kept": {"registry": 0, "fee": 0, "notification": 0},
            "cpu_ms_per_submission": {"guaranteed endpoint": 2.0, "guaranteed proxy": 4.0},
            "cpu_total_ms": 6.0,
            "broker_rest_ms_per_s": 30.0,
        },
        "p2": {
            "rate": 5.0,
            "seconds": 20.0,
            "platform_case": {"p99_ms": 36.0},
            "platform_backlog": 0,
            "raw_kafka": {"p99_ms": 5.0},
            "raw_sent": 100,
            "raw_lost": 0,
            "skeleton_beside": {
                "accepted": 100,
                "kept": {"registry": {"p50_ms": 4.0, "p99_ms": 10.0}},
                "not_kept": {"registry": 0},
            },
            "guaranteed_beside": {
                "accepted": 100,
                "kept": {"registry": {"p50_ms": 9.0, "p99_ms": 18.0}},
                "not_kept": {"registry": 3},
            },
        },
    }
    figs = bench_report.figures(results)
    by_key = {f.key: f for f in figs}
    assert by_key["p1_guaranteed"].measured == pytest.approx(0.5)
    assert by_key["p1_guaranteed_cpu"].measured == pytest.approx(4.0)
    assert by_key["p1_cpu_over_guaranteed"].measured == pytest.approx(6.0)
    assert by_key["p2_guaranteed_p99"].measured == pytest.approx(3.6)
    assert by_key["p2_case_over_guaranteed"].measured == pytest.approx(2.0)
    assert [by_key[k].verdict for k in ("p1_guaranteed", "p1_guaranteed_cpu", "p2_guaranteed_p99")] == [
        "the shape meets it",
        "the shape meets it",
        "the shape misses it",
    ]
    assert by_key["p1_cpu_over_guaranteed"].goal is None
    assert bench_report.shape_reach(figs, "guaranteed") == {"P1": True, "P2": False}
    assert bench_report.shape_reach(figs) == {"P1": False, "P2": True, "P3": None}
    report = bench_report.report(results | {"p1": None, "skeleton": None}, figs)
    assert "the skeleton with the guarantees at the same moments" in report
    assert "(3 of 100 not kept)" in report
    assert "guaranteed proxy" in report
    assert "held to the platform's guarantees (receipt numbers without gaps" in report
    assert "held to the goals: P1 met, P2 missed. A goal it meets is within reach" in report
    run = bench_results.record({"n": 1}, figs, {})
    assert run["guaranteed_reach"] == {"P1": True, "P2": False}
    bench_results.write(tmp_path, run, figs)
    readme = (tmp_path / "README.md").read_text()
    assert "held to the goals: P1 met, P2 missed. A goal it meets" in readme
    assert "held to the goals: P1 missed, P2 met, P3 not measured." in readme


async def test_waiting_until_quiet_ends_on_a_quiet_second_or_at_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P1's idle window and P3 at scale wait for the stack to settle (`bench_procs.wait_until_quiet`): a sleeping
    process is quiet within a second or two; a spinning one keeps it waiting until the limit."""
    monkeypatch.setattr(bench_procs, "QUIET_WAIT_S", 3.0)
    sleeping = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(60)")
    spinning = await asyncio.create_subprocess_exec(sys.executable, "-c", "while True: pass")
    try:
        await asyncio.sleep(0.5)  # past the interpreters' start
        assert await bench_procs.wait_until_quiet({"sleeping": [sleeping.pid]}) < 3.0
        assert await bench_procs.wait_until_quiet({"spinning": [spinning.pid]}) >= 3.0
    finally:
        for process in (sleeping, spinning):
            process.kill()
            await process.wait()


async def test_a_closed_loop_counts_its_clients_cpu_and_the_report_says_it() -> None:
    """On two cores the load's client competes with what it measures: a client at 2 ms a request held the bare
    endpoint to half its rate (ADR 0043). Each closed loop records its client's CPU, and P1's lines say it; the
    client rides the one-pass pool."""
    import httpx

    from btdeploy import bench_load, bench_p1
    from btkernel.http_pool import OnePassPool

    def answer(request: httpx.Request) -> httpx.Response:
        sum(range(20_000))  # some CPU in this process for each request
        return httpx.Response(201, json={"application_id": f"a-{len(request.content)}-{id(request)}"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://bare") as http:
        load = await bench_load.closed_loop(bench_load.bare_sender(http), 40, 4)
    assert load.accepted == 40
    assert load.client_cpu_s > 0
    row = bench_p1.load_dict(load)
    assert row["client_cpu_ms_per_request"] == pytest.approx(1000 * load.client_cpu_s / 40)
    p1 = {
        "platform": row | {"submission_to_case": row["latency"]},
        "bare": row,
        "proxy": row,
        "cpu_ms_per_submission": {},
        "cpu_ms_per_submission_above_idle": {},
        "idle_cpu_ms_per_s": {},
        "cpu_total_ms": 0.0,
        "bare_cpu_ms_per_submission": {},
        "bare_cpu_total_ms": 0.0,
        "bare_run_whole_postgres_ms_per_submission": 0.0,
        "proxy_cpu_ms_per_submission": {},
        "memory_idle_mib": {},
        "memory_load_mib": {},
    }
    lines = bench_report.p1_lines(p1)
    assert f"the load's client {row['client_cpu_ms_per_request']:.2f} ms CPU a request" in lines[1]

    async with bench_load.client("http://127.0.0.1:9", 16) as http:
        pool = http._transport._pool  # type: ignore[attr-defined]
        assert type(pool) is OnePassPool
        assert pool._max_connections == 20


def test_p3_at_scale_keeps_envelopes_as_the_consumer_writes_them() -> None:
    """The rebuild reads and decodes the kept text: with ASCII escapes (`json.dumps`' default) the generated
    envelopes were a quarter longer than what the consumer keeps (`kept_envelope`), and slower to validate."""
    rows = bench_rebuild_scale.kept_rows(bench_rebuild_scale.record_history(30))
    envelope = json.loads(rows[0][5])
    assert rows[0][5] == kept_envelope(Envelope.from_json(envelope))
    assert "\\u" not in rows[0][5]
    assert "Ахметов" in rows[0][5]
