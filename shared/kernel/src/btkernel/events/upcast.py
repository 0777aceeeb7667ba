"""Upcasting: an old version of an event type read as its newest version, so only the newest needs a handler.

A domain registers each step once (`register("…v1", "…v2", fn)`); `upcast` applies the chain wherever stored or
received events are read — `btkernel.events.base.parse`, `btkernel.eventstore.load`, the consumer before it
filters by type (ADR 0027). Stored events are never rewritten: the history keeps what was written, and a reader
sees it in today's shape. A step is a pure function of the data (no clock, no I/O), so every reader and every
rebuild upcasts alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Data = dict[str, Any]
Step = Callable[[Data], Data]


@dataclass(frozen=True)
class Upcaster:
    source: str
    target: str
    step: Step


UPCASTERS: dict[str, Upcaster] = {}


def register(source: str, target: str, step: Step) -> None:
    """`source` is read as `target` through `step`; once per source type (a second registration is a bug)."""
    if source == target:
        raise ValueError(f"an upcaster must change the type ({source})")
    if source in UPCASTERS:
        raise TypeError(f"upcaster for {source} registered twice")
    UPCASTERS[source] = Upcaster(source, target, step)
    # A chain that comes back to where it started would never end: refuse it when it is made.
    seen = {source}
    current = target
    while (following := UPCASTERS.get(current)) is not None:
        if following.target in seen:
            del UPCASTERS[source]
            raise ValueError(f"upcasters loop through {source}")
        seen.add(following.target)
        current = following.target


def upcast(type_name: str, data: Data) -> tuple[str, Data]:
    """The newest type and data of an event written as `type_name`; unchanged when no upcaster names it."""
    while (upcaster := UPCASTERS.get(type_name)) is not None:
        data = upcaster.step(
            dict(data)
        )  # a copy: a step may change what it is given, never the caller's data
        type_name = upcaster.target
    return type_name, data


def unregister(source: str) -> None:
    """For tests that register a throw-away step."""
    UPCASTERS.pop(source, None)
