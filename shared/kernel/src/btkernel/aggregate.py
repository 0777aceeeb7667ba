"""The pure base of an event-sourced aggregate: state folded from events, commands recording new ones.

No I/O here: loading and saving belong to the event store (`btkernel.eventstore.PgEventStore`, or the in-memory
one of `btkernel.testing` in unit tests), reached through a unit of work (`btkernel.unit_of_work`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, TypeVar

from btkernel.events.base import Event

A = TypeVar("A", bound="Aggregate")


class Aggregate:
    """Subclasses define `when_<EventClassName>(event)` to fold each event into state, and command methods that
    check the rules (raising `btkernel.errors` exceptions) and then `record(event)`."""

    STREAM_TYPE: ClassVar[str]

    def __init__(self, stream_id: str) -> None:
        self.id = stream_id
        self.version = 0
        self.pending: list[Event] = []

    def apply(self, event: Event) -> None:
        handler = getattr(self, f"when_{type(event).__name__}", None)
        if handler is None:
            raise TypeError(f"{type(self).__name__} cannot apply {type(event).__name__}")
        handler(event)
        self.version += 1

    def record(self, event: Event) -> None:
        self.apply(event)
        self.pending.append(event)

    @property
    def expected_version(self) -> int:
        """The stream's version when it was read: where the pending events go, if nobody appended since."""
        return self.version - len(self.pending)

    def mark_saved(self) -> None:
        """The pending events are stored; the aggregate now stands at `version` in its stream."""
        self.pending = []

    @classmethod
    def fold(cls: type[A], stream_id: str, events: Sequence[Event]) -> A:
        agg = cls(stream_id)
        for e in events:
            agg.apply(e)
        return agg
