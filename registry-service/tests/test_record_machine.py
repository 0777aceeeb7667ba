"""Property: a civil-status record is made once and then only amended by events; an annulled record takes no
further change; replaying its events gives the same record (S002/App.10; every regulation's amendments, 7 WD)."""

from __future__ import annotations

import contextlib
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from btkernel.problems import Conflict, RuleViolation
from civreg.events.record import RecordRegistered
from civreg.events.values import Person, PersonName
from registry.domain.record import ACTIVE, ANNULLED, Record

NOW = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
FIRST = RecordRegistered(
    record_id="r1",
    kind="death",
    record_number="o1/death/2026/000001",
    registry_office_id="o1",
    registered_at=NOW,
    case_id="k0",
    subject=Person(name=PersonName(surname="Сейтов", first_name="Болат")),
    facts={"died_on": "2026-03-01", "place": "Алматы"},
)
CHANGES = st.dictionaries(st.sampled_from(["died_on", "place", "cause"]), st.text(max_size=5), max_size=2)
COMMANDS = st.one_of(st.tuples(st.just("amend"), CHANGES), st.tuples(st.just("annul"), st.just({})))


@settings(max_examples=300, deadline=None)
@given(st.lists(COMMANDS, max_size=10))
def test_records_are_amended_by_events_never_overwritten(commands: list[tuple[str, dict[str, str]]]) -> None:
    record = Record.fold("r1", [FIRST])
    for i, (name, changes) in enumerate(commands):
        before = record.status
        with contextlib.suppress(RuleViolation, Conflict):
            if name == "amend":
                record.amend(
                    case_id=f"k{i}", by="ex", change="correction", changes=changes, reason="ошибка", at=NOW
                )
            else:
                record.annul(case_id=f"k{i}", by="ex", reason="суд", at=NOW)
        assert record.status in (ACTIVE, ANNULLED)
        assert not (before == ANNULLED and record.status != ANNULLED)
    kinds = [type(e).__name__ for e in record.pending]
    assert kinds.count("RecordAnnulled") <= 1
    if "RecordAnnulled" in kinds:
        assert kinds[-1] == "RecordAnnulled"  # nothing after annulment
    # Each amendment carries what it replaced, so the original is always recoverable from the history.
    replay = Record.fold("r1", [FIRST])
    for e in record.pending:
        if type(e).__name__ == "RecordAmended":
            assert e.previous == {k: replay.facts.get(k) for k in e.changes}  # type: ignore[attr-defined]
        replay.apply(e)
    assert replay.state() == record.state()
    assert replay.number == FIRST.record_number
