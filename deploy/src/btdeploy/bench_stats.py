"""The arithmetic of `make bench` (issue 13, "Goals, as ratios measured in one run"): percentiles, a figure beside
its bare baseline with the ratio, the goal and a verdict, and the sustained-rate decision. Pure functions, so the
unit tests pin them; the machine only supplies the numbers. A verdict is text, never an exit code: the bench never
fails on timing.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Direction = Literal["at least", "at most"]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p99, max and mean in milliseconds (NaN when empty), as stored in the results file."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": float(len(ms)),
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms, default=math.nan),
        "mean_ms": statistics.fmean(ms) if ms else math.nan,
    }


def ratio(platform: float, bare: float) -> float:
    """platform ÷ bare; NaN when either is missing or the bare figure is zero."""
    if bare == 0 or math.isnan(bare) or math.isnan(platform):
        return math.nan
    return platform / bare


@dataclass(frozen=True)
class Goal:
    """The issue's goal for a ratio: `direction` `value` (e.g. at least 0.40 of the bare throughput)."""

    direction: Direction
    value: float

    def met_by(self, measured: float) -> bool | None:
        """None when nothing was measured (a NaN ratio): neither met nor missed."""
        if math.isnan(measured):
            return None
        return measured >= self.value if self.direction == "at least" else measured <= self.value

    def __str__(self) -> str:
        return f"{'≥' if self.direction == 'at least' else '≤'} {self.value:g}"


def verdict(measured: float, goal: Goal | None, *, shape: bool = False) -> str:
    if goal is None:
        return "(no goal)"
    met = goal.met_by(measured)
    if met is None:
        return "not measured"
    if shape:
        return "the shape meets it" if met else "the shape misses it"
    return "met" if met else "not met"


@dataclass(frozen=True)
class Figure:
    """One line of the summary: the platform's figure, the bare one (or the reference the goal is relative to), and
    the goal on their ratio (or on the figure itself when `bare` is None: P4 against Kazakhstan's peak)."""

    key: str
    name: str
    unit: str
    platform: float
    bare: float | None
    goal: Goal | None  # None: shown for reading the others (the gateway's hop), judged by nothing
    bare_name: str = "bare"
    # The figure is the card's skeleton's, held to the platform's goal: whether this machine allows the goal to
    # any implementation of the shape in this run, not a verdict on the platform (its verdict names the shape).
    shape: bool = False

    @property
    def measured(self) -> float:
        """What the goal judges: the ratio, or the figure itself when there is no bare figure."""
        return self.platform if self.bare is None else ratio(self.platform, self.bare)

    @property
    def verdict(self) -> str:
        return verdict(self.measured, self.goal, shape=self.shape)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "unit": self.unit,
            "platform": _json_number(self.platform),
            "bare": None if self.bare is None else _json_number(self.bare),
            "bare_name": self.bare_name,
            "measured": _json_number(self.measured),
            "goal": None if self.goal is None else str(self.goal),
            "verdict": self.verdict,
        }


def _json_number(x: float) -> float | None:
    # JSON has no NaN; a figure not measured is null in the results file.
    return None if math.isnan(x) else round(x, 4)


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    if math.isnan(x):
        return "n/a"
    return f"{x:,.1f}" if abs(x) >= 10 else f"{x:.2f}"


def _goal(goal: Goal | None) -> str:
    return "—" if goal is None else str(goal)


def figure_line(f: Figure) -> str:
    """`P1 throughput  22.0 /s  bare 120.0 /s  ratio 0.18  goal ≥ 0.4  not met`."""
    what = "ratio" if f.bare is not None else "figure"
    bare = f"{f.bare_name} {_num(f.bare)} {f.unit}" if f.bare is not None else ""
    return (
        f"{f.name:<44} {_num(f.platform):>10} {f.unit:<12} {bare:<34} "
        f"{what} {_num(f.measured):>7}   goal {_goal(f.goal):<8} {f.verdict}"
    )


def markdown_table(figures: Sequence[Figure]) -> str:
    rows = [
        "| figure | platform | bare | ratio | goal | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        bare = f"{_num(f.bare)} ({f.bare_name})" if f.bare is not None else "—"
        rows.append(
            f"| {f.name} | {_num(f.platform)} {f.unit} | {bare} | {_num(f.measured)} | {_goal(f.goal)} | {f.verdict} |"
        )
    return "\n".join(rows)


# -- the sustained-rate search (P4) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One open-loop step of the P4 search: `rate` arrivals per second offered for `seconds`."""

    rate: float
    offered: int
    receipts: int  # 201 answers
    errors: int
    late: int  # arrivals the load generator could not send on time (too many outstanding)
    receipt_p99_s: float
    case_p99_s: float  # submission → case opened in the registry, of the cases opened
    backlog: int  # receipts without a case once the catch-up allowance has passed


P99_LIMIT_S = 1.0


def sustained(step: Step, limit_s: float = P99_LIMIT_S) -> tuple[bool, str]:
    """Whether the platform kept up with `step`, and if not, why (issue 13, P4: receipt p99 and submission → case
    p99 under a second, and no growing backlog: every receipted case opened within the catch-up allowance)."""
    reasons = []
    if step.errors or step.late:
        reasons.append(f"{step.errors} errors, {step.late} sent late")
    if not step.receipts:
        reasons.append("no receipt")
    if not step.receipt_p99_s < limit_s:
        reasons.append(f"receipt p99 {step.receipt_p99_s * 1000:.0f} ms")
    if not step.case_p99_s < limit_s:
        reasons.append(f"submission → case p99 {step.case_p99_s * 1000:.0f} ms")
    if step.backlog:
        reasons.append(f"{step.backlog} cases not opened after the catch-up")
    return (not reasons, "; ".join(reasons) or "kept up")


def highest_sustained(steps: Sequence[Step], limit_s: float = P99_LIMIT_S) -> float:
    """The highest rate sustained before the first rate that was not, in the order offered (increasing, so a rate
    above a failed one is not credited even if it happened to pass); a rate counts as sustained when any attempt
    at it was (a step is tried again once on the shared machine before the search stops); 0 when none was."""
    best = 0.0
    for rate in dict.fromkeys(step.rate for step in steps):
        if not any(sustained(s, limit_s)[0] for s in steps if s.rate == rate):
            break
        best = rate
    return best
