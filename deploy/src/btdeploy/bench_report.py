"""What `make bench` prints and keeps (issue 13): the detail lines of each part and the summary figures, each with
its bare baseline, ratio, goal and verdict (`bench_stats.Figure`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from btdeploy.bench_stats import Figure, Goal, figure_line, latency_summary

KAZAKHSTAN_PEAK_PER_S = 0.42  # 1M acts a year, 250 days × 8 h, × 3 at the peak hour (issue 13)

# The goals, as ratios to the bare baselines measured in the same run.
P1_THROUGHPUT = Goal("at least", 0.40)
P1_CPU = Goal("at most", 8.0)
P2_P99 = Goal("at most", 3.0)
P3_REBUILD = Goal("at least", 0.5)
P4_SUSTAINED = Goal("at least", 100 * KAZAKHSTAN_PEAK_PER_S)
# Which of the skeleton's figures stand for which goal (all of a goal's must be met for the shape to meet it).
_SHAPE_FIGURES = {
    "P1": ("p1_skeleton", "p1_skeleton_cpu"),
    "P2": ("p2_skeleton_p99",),
    "P3": ("p3_skeleton",),
}
# The same for the skeleton held to the platform's guarantees (P3's rebuild has no such variant).
_GUARANTEED_FIGURES = {
    "P1": ("p1_guaranteed", "p1_guaranteed_cpu"),
    "P2": ("p2_guaranteed_p99",),
}
# What `reach_line` says each skeleton is, and what a goal it meets or misses says.
_WHO = {
    "skeleton": (
        "the card's skeleton, doing none of the platform's work",
        "A goal the skeleton misses says more of this machine in this run than of the platform.",
    ),
    "guaranteed": (
        "the card's skeleton held to the platform's guarantees (receipt numbers without gaps, an outbox, its"
        " relay's Kafka transactions), doing none of the rest of its work",
        "A goal it meets is within reach, in this run, of an implementation of the card that keeps those promises.",
    ),
}


def lat_line(name: str, seconds: list[float]) -> str:
    s = latency_summary(seconds)
    return (
        f"  {name:<42} p50 {s['p50_ms']:8.1f} ms   p99 {s['p99_ms']:8.1f} ms   max {s['max_ms']:8.1f} ms"
        f"   (n {len(seconds)})"
    )


def p1_lines(p1: dict[str, Any]) -> list[str]:
    lines = ["P1 — submissions, closed loop"]
    for label, key in (
        ("gateway", "platform"),
        ("bare endpoint", "bare"),
        ("bare proxy → endpoint", "proxy"),
    ):
        d = p1[key]
        lat = d["latency"]
        lines.append(
            f"  {label:<24} {d['per_second']:8.1f} /s   {d['accepted']} accepted, {d['errors']} errors"
            f"   latency p50 {lat['p50_ms']:.1f} ms  p99 {lat['p99_ms']:.1f} ms"
            f"   the load's client {d.get('client_cpu_ms_per_request', math.nan):.2f} ms CPU a request"
        )
    case = p1["platform"]["submission_to_case"]
    lines.append(
        f"  {'submission → case (under P1 load)':<42} p50 {case['p50_ms']:.1f} ms  p99 {case['p99_ms']:.1f} ms"
    )
    quiet = p1.get("quiet_after_s")
    lines.append(
        "  CPU per submission (ms), per process — platform: total, above its idle; idle CPU (ms/s"
        + (f", once the platform was quiet, after {quiet:.0f} s" if quiet is not None else "")
        + "):"
    )
    above = p1["cpu_ms_per_submission_above_idle"]
    for name, ms in sorted(p1["cpu_ms_per_submission"].items(), key=lambda kv: -kv[1]):
        lines.append(
            f"    {name:<26} {ms:8.2f} {above.get(name, math.nan):8.2f}"
            f"   idle {p1['idle_cpu_ms_per_s'].get(name, math.nan):7.1f} ms/s"
        )
    lines.append(f"    {'total':<26} {p1['cpu_total_ms']:8.2f} {sum(above.values()):8.2f}")
    lines.append("  CPU per submission (ms) — bare:")
    for name, ms in p1["bare_cpu_ms_per_submission"].items():
        lines.append(f"    {name:<26} {ms:8.2f}")
    lines.append(
        f"    {'total':<26} {p1['bare_cpu_total_ms']:8.2f}   (whole PostgreSQL server meanwhile, platform idle "
        f"included: {p1['bare_run_whole_postgres_ms_per_submission']:.2f})"
    )
    proxy_cpu = p1["proxy_cpu_ms_per_submission"]
    lines.append(
        "  CPU per submission (ms) — bare proxy → bare endpoint: "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in proxy_cpu.items())
    )
    lines.append("  memory per process (PSS, MiB): idle → under load")
    for name, idle in p1["memory_idle_mib"].items():
        lines.append(f"    {name:<26} {idle:8.1f} → {p1['memory_load_mib'].get(name, math.nan):8.1f}")
    return lines


def skeleton_lines(sk: dict[str, Any], title: str | None = None) -> list[str]:
    load, lat = sk["load"], sk["load"]["latency"]
    lines = [
        title
        or "The card's skeleton — bare proxy → insert + one Kafka record → three consumers (no goal: the shape's"
        " floor)",
        f"  {'closed loop':<24} {load['per_second']:8.1f} /s   {load['accepted']} accepted, {load['errors']} errors"
        f"   latency p50 {lat['p50_ms']:.1f} ms  p99 {lat['p99_ms']:.1f} ms   not kept: "
        + ", ".join(f"{role} {n}" for role, n in sk["not_kept"].items()),
        f"  CPU per submission (ms), per process (the broker's rest, {sk['broker_rest_ms_per_s']:.1f} ms/s, left out):",
    ]
    for name, ms in sorted(sk["cpu_ms_per_submission"].items(), key=lambda kv: -kv[1]):
        lines.append(f"    {name:<32} {ms:8.2f}")
    lines.append(f"    {'total':<32} {sk['cpu_total_ms']:8.2f}")
    return lines


GUARANTEED_TITLE = (
    "The card's skeleton with the guarantees — bare proxy → receipt number + insert + outbox row in one statement,"
    " a relay's Kafka transaction → three consumers, read_committed (no goal: the floor of the platform's promises)"
)


def act_lines(acts: dict[str, Any]) -> list[str]:
    lines = [
        f"The whole act — {acts['completed']} completed, {acts['failed']} failed, concurrency {acts['concurrency']}: "
        f"{acts['per_second']:.2f} acts/s"
    ]
    lines += [lat_line(name, values) for name, values in acts.pop("_timings").items()]
    return lines


class _Shape(NamedTuple):
    """How a skeleton's figures are named: `key` in their keys, `who` and `what` in their names, `short` where the
    platform is read over it, `label` as that reading's baseline."""

    key: str
    who: str
    what: str
    short: str
    label: str


_SHAPES = {
    "skeleton": _Shape(
        "skeleton",
        "the card's skeleton",
        " (proxy → insert + Kafka → 3 consumers)",
        "the skeleton",
        "skeleton",
    ),
    "guaranteed": _Shape(
        "guaranteed",
        "the card's skeleton with the guarantees",
        " (receipt numbers, outbox, relay transactions)",
        "the skeleton with the guarantees",
        "with the guarantees",
    ),
}


def _p1_shape(skeleton: str, sk: dict[str, Any], p1: dict[str, Any]) -> list[Figure]:
    """A skeleton's P1 figures: its throughput and CPU held to P1's goals, and the platform's CPU read over its."""
    key, who, what, short, label = _SHAPES[skeleton]
    nan = math.nan
    return [
        Figure(
            f"p1_{key}",
            f"P1 {who}{what}",
            "/s",
            sk.get("load", {}).get("per_second", nan),
            p1.get("bare", {}).get("per_second", nan),
            P1_THROUGHPUT,
            shape=True,
        ),
        Figure(
            f"p1_{key}_cpu",
            f"P1 CPU per submission, {who}",
            "ms",
            sk.get("cpu_total_ms", nan),
            p1.get("bare_cpu_total_ms", nan),
            P1_CPU,
            shape=True,
        ),
        Figure(
            f"p1_cpu_over_{key}",
            f"P1 CPU per submission, the platform over {short}",
            "ms",
            p1.get("cpu_total_ms", nan),
            sk.get("cpu_total_ms", nan),
            None,
            bare_name=label,
        ),
    ]


def _p2_shape(skeleton: str, p99: float, p2: dict[str, Any]) -> list[Figure]:
    """A skeleton's P2 figures, from its open loop beside the platform's: its p99 held to P2's goal, and the
    platform's p99 read over it."""
    key, who, _what, short, label = _SHAPES[skeleton]
    nan = math.nan
    return [
        Figure(
            f"p2_{key}_p99",
            f"P2 {who}, same moments: submission → kept p99",
            "ms",
            p99,
            p2.get("raw_kafka", {}).get("p99_ms", nan),
            P2_P99,
            bare_name="raw aiokafka",
            shape=True,
        ),
        Figure(
            f"p2_case_over_{key}",
            f"P2 submission → case opened p99, over {short} beside it",
            "ms",
            p2.get("platform_case", {}).get("p99_ms", nan),
            p99,
            None,
            bare_name=label,
        ),
    ]


def figures(results: dict[str, Any]) -> list[Figure]:
    nan = math.nan
    p1, p2, p4 = (results.get(k) or {} for k in ("p1", "p2", "p4"))
    # The goal judges P3 at scale when it ran: at a few hundred events both rates are mostly start-up.
    p3 = results.get("p3_scale") or results.get("p3") or {}
    thr = p1.get("platform", {}).get("per_second", nan)
    bare_thr = p1.get("bare", {}).get("per_second", nan)
    acts = results.get("acts") or {}
    sk = results.get("skeleton") or {}
    beside = p2.get("skeleton_beside") or {}
    sk_p99 = beside.get("kept", {}).get("registry", {}).get("p99_ms", nan)
    gs = results.get("guaranteed") or {}
    gs_p99 = (p2.get("guaranteed_beside") or {}).get("kept", {}).get("registry", {}).get("p99_ms", nan)
    return [
        Figure("p1_throughput", "P1 submissions through the gateway", "/s", thr, bare_thr, P1_THROUGHPUT),
        Figure(
            "p1_hop",
            "P1 bare proxy → bare endpoint (the hop's price)",
            "/s",
            p1.get("proxy", {}).get("per_second", nan),
            bare_thr,
            None,
        ),
        Figure(
            "p1_cpu",
            "P1 CPU per submission, all processes",
            "ms",
            p1.get("cpu_total_ms", nan),
            p1.get("bare_cpu_total_ms", nan),
            P1_CPU,
        ),
        *_p1_shape("skeleton", sk, p1),
        *_p1_shape("guaranteed", gs, p1),
        Figure(
            "p2_case_p99",
            f"P2 submission → case opened p99 at {p2.get('rate', nan)}/s",
            "ms",
            p2.get("platform_case", {}).get("p99_ms", nan),
            p2.get("raw_kafka", {}).get("p99_ms", nan),
            P2_P99,
            bare_name="raw aiokafka",
        ),
        Figure(
            "p2_transaction_p99",
            "P2 raw aiokafka, a transaction per record (the relay's floor)",
            "ms",
            p2.get("raw_kafka_transactions", {}).get("p99_ms", nan),
            p2.get("raw_kafka", {}).get("p99_ms", nan),
            None,
            bare_name="raw aiokafka",
        ),
        Figure(
            "p2_case_over_floor",
            "P2 submission → case opened p99, over the relay's floor",
            "ms",
            p2.get("platform_case", {}).get("p99_ms", nan),
            p2.get("raw_kafka_transactions", {}).get("p99_ms", nan),
            None,
            bare_name="a transaction per record",
        ),
        *_p2_shape("skeleton", sk_p99, p2),
        *_p2_shape("guaranteed", gs_p99, p2),
        Figure(
            "p3_rebuild",
            f"P3 rebuild known_records ({p3.get('record_events', 0)} events)",
            "ev/s",
            p3.get("rebuild_known_records_per_s", nan),
            p3.get("raw_consume_per_s", nan),
            P3_REBUILD,
            bare_name="raw consumer",
        ),
        Figure(
            "p3_skeleton",
            "P3 the card's skeleton: intake's history read, decoded, copied",
            "ev/s",
            p3.get("skeleton_replay_per_s", nan),
            p3.get("raw_consume_per_s", nan),
            P3_REBUILD,
            bare_name="raw consumer",
            shape=True,
        ),
        Figure(
            "p3_rebuild_records",
            "P3 rebuild records (registry, own streams)",
            "ev/s",
            p3.get("rebuild_records_per_s", nan),
            p3.get("raw_consume_per_s", nan),
            None,
            bare_name="raw consumer",
        ),
        Figure(
            "p4_sustained",
            "P4 sustained rate (p99 < 1 s, no backlog)",
            "/s",
            p4.get("sustained_per_s", nan),
            None,
            P4_SUSTAINED,
        ),
        Figure(
            "acts", "Whole acts (submission … hand-over)", "acts/s", acts.get("per_second", nan), None, None
        ),
    ]


def shape_reach(figs: Sequence[Figure], skeleton: str = "skeleton") -> dict[str, bool | None]:
    """Per goal, whether the card's skeleton (`skeleton`: "skeleton", or "guaranteed" for the one held to the
    platform's guarantees) met it in this run (None: not measured). A goal the bare skeleton misses says more of
    this machine in this run than of the platform, which does all the skeleton does and more; one the guaranteed
    skeleton meets could be met by an implementation that keeps the platform's promises. A skeleton's p99 has its
    own noise (a stall may fall on its arrivals and not the platform's), so it is a reading, not a bound."""
    by_key = {f.key: f for f in figs}
    reach: dict[str, bool | None] = {}
    for goal, keys in (_GUARANTEED_FIGURES if skeleton == "guaranteed" else _SHAPE_FIGURES).items():
        shown = [by_key[k] for k in keys if k in by_key]
        met = [f.goal.met_by(f.measured) if f.goal is not None else None for f in shown]
        reach[goal] = None if None in met or len(met) < len(keys) else all(met)
    return reach


def reach_line(reach: dict[str, bool | None], skeleton: str = "skeleton") -> str | None:
    """`This machine in this run — the card's skeleton, …, held to the goals: P1 met, P2 missed, P3 met. …`; None
    when that skeleton was not measured (`--no-skeleton`)."""
    if all(met is None for met in reach.values()):
        return None
    said = {True: "met", False: "missed", None: "not measured"}
    parts = ", ".join(f"{goal} {said[met]}" for goal, met in reach.items())
    who, meaning = _WHO[skeleton]
    return f"This machine in this run — {who}, held to the goals: {parts}. {meaning}"


def report(results: dict[str, Any], figs: list[Figure]) -> str:
    lines: list[str] = []
    if results.get("p1"):
        lines += p1_lines(results["p1"])
    if p2 := results.get("p2"):
        lines.append(
            f"P2 — at {p2['rate']}/s for {p2['seconds']} s: submission → case p99 "
            f"{p2['platform_case']['p99_ms']:.1f} ms (backlog {p2['platform_backlog']}); raw aiokafka p99 "
            f"{p2['raw_kafka']['p99_ms']:.1f} ms ({p2['raw_lost']} of {p2['raw_sent']} not received)"
        )
        if tx := p2.get("raw_kafka_transactions"):
            lines.append(
                f"  raw aiokafka, a transaction per record, read_committed: p50 {tx['p50_ms']:.1f} ms, p99 "
                f"{tx['p99_ms']:.1f} ms ({p2['raw_transactions_lost']} not received)"
            )
        for key, who in (
            ("skeleton", "the card's skeleton"),
            ("guaranteed", "the skeleton with the guarantees"),
        ):
            if beside := p2.get(f"{key}_beside"):
                lines.append(f"  {who} at the same moments, submission → kept:")
                for role, s in beside["kept"].items():
                    lines.append(
                        f"    {role:<32} p50 {s['p50_ms']:8.1f} ms   p99 {s['p99_ms']:8.1f} ms   "
                        f"({beside['not_kept'][role]} of {beside['accepted']} not kept)"
                    )
    if p4 := results.get("p4"):
        lines.append("P4 — open-loop steps:")
        lines += [
            f"  {s['rate']:>6}/s  {'kept up' if s['sustained'] else 'NOT: ' + s['why']}" for s in p4["steps"]
        ]
    if results.get("skeleton"):
        lines += skeleton_lines(results["skeleton"])
    if results.get("guaranteed"):
        lines += skeleton_lines(results["guaranteed"], GUARANTEED_TITLE)
    if results.get("acts"):
        lines += act_lines(results["acts"])
    if p3 := results.get("p3"):
        lines.append("P3 — rebuild (events generated through the gateway):")
        lines += [f"  {line}" for line in p3.pop("lines")]
    if p3 := results.get("p3_scale"):
        lines.append(
            "P3 at scale — rebuild (events written straight into scratch databases and a scratch topic):"
        )
        lines += [f"  {line}" for line in p3.pop("lines")]
    lines.append("")
    lines.append("Summary (ratios measured in this run; the machine is shared, so compare runs with care):")
    lines += [figure_line(f) for f in figs]
    for skeleton in _WHO:
        if line := reach_line(shape_reach(figs, skeleton), skeleton):
            lines.append(line)
    return "\n".join(lines)
