"""The civil-status record (актовая запись): made once, then only amended by further events."""

from __future__ import annotations

from btkernel.events.record import BirthRegistered
from btkernel.eventstore import Aggregate

RECORD_KINDS = {"birth_registration": "birth"}


class Record(Aggregate):
    STREAM_TYPE = "record"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.kind: str | None = None
        self.number: str | None = None

    def when_BirthRegistered(self, e: BirthRegistered) -> None:
        self.kind = "birth"
        self.number = e.record_number
