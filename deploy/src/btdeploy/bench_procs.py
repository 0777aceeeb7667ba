"""CPU and memory per process for `make bench` (issue 13, P1 "CPU per submission, all processes included"), read
from /proc: a process's CPU is utime+stime of itself and of every live descendant, plus cutime+cstime (what its
reaped children used), so a PostgreSQL backend that ends inside the window is still counted, once, by its
postmaster. Memory is PSS (/proc/<pid>/smaps_rollup), summed over the tree: RSS would count PostgreSQL's shared
buffers once per backend; VmRSS is the fallback where smaps_rollup is missing.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")


@dataclass(frozen=True)
class StatLine:
    """The fields of /proc/<pid>/stat the bench needs; CPU in clock ticks."""

    pid: int
    ppid: int
    utime: int
    stime: int
    cutime: int
    cstime: int

    @property
    def own_ticks(self) -> int:
        return self.utime + self.stime + self.cutime + self.cstime


def parse_stat(line: str) -> StatLine:
    """One /proc/<pid>/stat line (proc(5)). The command name is in parentheses and may hold spaces or ')', so the
    fields are counted from its last ')'."""
    pid_part, _, rest = line.partition(" (")
    fields = rest[rest.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    return StatLine(
        pid=int(pid_part),
        ppid=int(fields[1]),
        utime=int(fields[11]),
        stime=int(fields[12]),
        cutime=int(fields[13]),
        cstime=int(fields[14]),
    )


def parse_memory_kib(text: str) -> int:
    """Pss from smaps_rollup, or VmRSS from status, in KiB (0 when neither is there: a kernel thread, a zombie)."""
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("Pss", "VmRSS"):
            found[key] = int(value.split()[0])
    return found.get("Pss", found.get("VmRSS", 0))


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def all_stats() -> dict[int, StatLine]:
    stats = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (text := _read(entry / "stat")) is not None:
            stats[int(entry.name)] = parse_stat(text)
    return stats


def tree(root: int, stats: Mapping[int, StatLine]) -> list[int]:
    """`root` and its live descendants among `stats` (root first); empty when root is gone."""
    if root not in stats:
        return []
    children: dict[int, list[int]] = {}
    for s in stats.values():
        children.setdefault(s.ppid, []).append(s.pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def cpu_seconds(roots: Mapping[str, Iterable[int]], stats: Mapping[int, StatLine]) -> dict[str, float]:
    """CPU seconds used so far by each named group of process trees."""
    return {
        name: sum(stats[pid].own_ticks for root in pids for pid in tree(root, stats)) / CLOCK_TICKS
        for name, pids in roots.items()
    }


def cpu_delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def memory_mib(roots: Mapping[str, Iterable[int]], stats: Mapping[int, StatLine]) -> dict[str, float]:
    """Memory of each named group, its trees summed, in MiB."""
    result = {}
    for name, pids in roots.items():
        kib = 0
        for root in pids:
            for pid in tree(root, stats):
                text = _read(PROC / str(pid) / "smaps_rollup") or _read(PROC / str(pid) / "status") or ""
                kib += parse_memory_kib(text)
        result[name] = kib / 1024
    return result


class PeakMemory:
    """Samples the groups' memory every `interval_s` in a thread while a load runs; `peak` per group."""

    def __init__(self, roots: Mapping[str, Iterable[int]], interval_s: float = 1.0) -> None:
        self.roots = {name: list(pids) for name, pids in roots.items()}
        self.interval_s = interval_s
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)

    def _run(self) -> None:
        while True:
            for name, mib in memory_mib(self.roots, all_stats()).items():
                self.peak[name] = max(self.peak.get(name, 0.0), mib)
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


# A busy platform behind a measurement (a warm-up's events still being projected, the consumers catching up, a
# relay's transactions) is noise in it: P1's idle window and P3 at scale start when the stack's processes together
# use less than this share of a core over a second, or after QUIET_WAIT_S.
QUIET_SHARE = 0.15
QUIET_WAIT_S = 60.0


async def wait_until_quiet(roots: Mapping[str, Iterable[int]]) -> float:
    """Seconds waited until the process trees of `roots` together used less than QUIET_SHARE of a core over a
    second (at most QUIET_WAIT_S)."""
    started = time.monotonic()
    before = sum(cpu_seconds(roots, all_stats()).values())
    while time.monotonic() - started < QUIET_WAIT_S:
        await asyncio.sleep(1.0)
        now = sum(cpu_seconds(roots, all_stats()).values())
        if now - before < QUIET_SHARE:
            break
        before = now
    return time.monotonic() - started
