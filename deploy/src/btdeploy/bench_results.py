"""Where `make bench` keeps its figures (issue 13: "Keep the figures of each run in a results file the README
points to, so the next change is compared with this one"): one JSON object per run appended to
`docs/bench/results.jsonl` (commit, date, cores, arguments, every figure), and the run's summary table appended to
`docs/bench/README.md`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from btdeploy import paths
from btdeploy.bench_report import reach_line, shape_reach
from btdeploy.bench_stats import Figure, markdown_table


def default_dir() -> Path:
    return paths.repo_root() / "docs" / "bench"


def commit() -> str:
    """The checkout's commit, with `+dirty` when it has uncommitted changes (the figures are then of those)."""
    root = paths.repo_root()
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _clean(value: Any) -> Any:
    """NaN → null, recursively: JSON has no NaN."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def record(args: dict[str, Any], figures: Sequence[Figure], details: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = _clean(
        {
            "commit": commit(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "cores": os.cpu_count(),
            "args": args,
            "figures": {f.key: f.as_dict() for f in figures},
            # Per goal, whether the card's skeleton met it in this run: whether the machine allowed it at all.
            "shape_reach": shape_reach(figures),
            # The same for the skeleton held to the platform's guarantees: whether keeping them allowed it.
            "guaranteed_reach": shape_reach(figures, "guaranteed"),
            "details": details,
        }
    )
    return cleaned


def _option(key: str, value: Any) -> str:
    """An argument as it would be typed: `--quick`, `--rates 10,20,42`."""
    flag = f"--{key.replace('_', '-')}"
    if isinstance(value, bool):
        return flag if value else ""
    if isinstance(value, list):
        return f"{flag} {','.join(f'{v:g}' for v in value)}"
    return f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}"


def write(directory: Path, run: dict[str, Any], figures: Sequence[Figure]) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    jsonl, readme = directory / "results.jsonl", directory / "README.md"
    with jsonl.open("a", encoding="utf-8") as f:
        f.write(json.dumps(run, ensure_ascii=False) + "\n")
    with readme.open("a", encoding="utf-8") as f:
        args = " ".join(_option(k, v) for k, v in run["args"].items())
        f.write(
            f"\n### {run['date']} · {run['commit'][:12]}{'+dirty' if run['commit'].endswith('+dirty') else ''} · {run['cores']} cores\n\n`{' '.join(args.split())}`\n\n"
            f"{markdown_table(figures)}\n"
        )
        for key, skeleton in (("shape_reach", "skeleton"), ("guaranteed_reach", "guaranteed")):
            if line := reach_line(run.get(key, {}), skeleton):
                f.write(f"\n{line}\n")
    return jsonl, readme
