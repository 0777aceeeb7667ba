"""The civil-status record (актовая запись): made once, then only amended by further events — never overwritten.
Its history is its event stream; annulment (S002/App.10) is one more event, not a deletion."""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.aggregate import Aggregate
from btkernel.errors import Conflict, RuleViolation
from civreg.events.record import BirthRegistered, RecordAmended, RecordAnnulled, RecordRegistered

# The kind of record each registration service makes. Restoration makes a record of the restored kind;
# repeat certificates and annulment make none.
RECORD_KINDS = {
    "birth_registration": "birth",
    "marriage_registration": "marriage",
    "divorce_registration": "divorce",
    "death_registration": "death",
    "paternity_registration": "paternity",
    "adoption_registration": "adoption",
    "name_change_registration": "name_change",
}
KINDS = ("birth", "marriage", "divorce", "death", "paternity", "adoption", "name_change")
ACTIVE = "active"
ANNULLED = "annulled"


def record_number(office_id: str, kind: str, year: int, seq: int) -> str:
    """The record's number: the next of the office, kind and year (S002/App.1 p.5(4))."""
    return f"{office_id}/{kind}/{year}/{seq:06d}"


def fold_name(*names: str) -> str:
    """Names as search compares them: case-folded (А = а, Ә = ә, Ұ = ұ), ё as е, one space between words."""
    return " | ".join(" ".join(n.casefold().replace("ё", "е").split()) for n in names if n)


class Record(Aggregate):
    STREAM_TYPE = "record"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.kind: str | None = None
        self.number: str | None = None
        self.status: str | None = None
        self.case_id: str | None = None
        self.facts: dict[str, Any] = {}
        self.amendments: list[RecordAmended] = []

    # -- commands --

    def amend(
        self,
        *,
        case_id: str,
        by: str,
        change: str,
        changes: dict[str, Any],
        reason: str,
        at: dt.datetime,
    ) -> None:
        """Amendment, addition or correction, or the effect of another act (paternity, adoption, name change on
        the birth record). The previous values travel in the event, so annulment can give them back."""
        if self.status != ACTIVE:
            raise RuleViolation(
                f"record {self.number} is {self.status}; it cannot be amended", code="annulled"
            )
        if not changes:
            raise RuleViolation("an amendment must change something", field="body.details.changes")
        previous = {k: self.facts.get(k) for k in changes}
        self.record(
            RecordAmended(
                record_id=self.id,
                case_id=case_id,
                amended_at=at,
                amended_by=by,
                change=change,
                changes=changes,
                reason=reason,
                previous=previous,
            )
        )

    def annul(self, *, case_id: str, by: str, reason: str, at: dt.datetime) -> None:
        if self.status == ANNULLED:
            raise Conflict(f"record {self.number} is already annulled", code="already_annulled")
        self.record(
            RecordAnnulled(record_id=self.id, case_id=case_id, annulled_at=at, annulled_by=by, reason=reason)
        )

    def amendment_by(self, case_id: str) -> RecordAmended | None:
        return next((a for a in self.amendments if a.case_id == case_id), None)

    # -- folding --

    def when_BirthRegistered(self, e: BirthRegistered) -> None:
        self.kind = "birth"
        self.number = e.record_number
        self.status = ACTIVE
        self.case_id = e.case_id
        self.facts = {
            "child_name": e.child_name.model_dump(mode="json"),
            "child_sex": e.child_sex,
            "child_birth_date": e.child_birth_date.isoformat(),
            "child_birth_place": e.child_birth_place,
            "child_iin": e.child_iin,
            "mother": e.mother.model_dump(mode="json") if e.mother else None,
            "father": e.father.model_dump(mode="json") if e.father else None,
        }

    def when_RecordRegistered(self, e: RecordRegistered) -> None:
        self.kind = e.kind
        self.number = e.record_number
        self.status = ACTIVE
        self.case_id = e.case_id
        self.facts = {"subject": e.subject.model_dump(mode="json"), **e.facts}

    def when_RecordAmended(self, e: RecordAmended) -> None:
        self.facts = {**self.facts, **e.changes}
        self.amendments.append(e)

    def when_RecordAnnulled(self, e: RecordAnnulled) -> None:
        self.status = ANNULLED

    def state(self) -> dict[str, Any]:
        return {"kind": self.kind, "number": self.number, "status": self.status, "facts": self.facts}
