"""The event of a kept envelope validated straight from its JSON (`btkernel.events.kept`, issue 13 P3): the same
event `parse` makes of the decoded JSON, and whatever the one pass does not take decided by `parse`, as before."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from btkernel import bounded
from btkernel.events import kept as kept_module
from btkernel.events import upcast
from btkernel.events.base import Event, parse
from btkernel.events.kept import KeptEvents

MOVED = "kz.test.kept.moved.v2"
MOVED_V1 = "kz.test.kept.moved.v1"
NOTED = "kz.test.kept.noted.v1"
NOTED_V2 = "kz.test.kept.noted.v2"


class Place(BaseModel):
    city: bounded.Place
    district: bounded.ShortText | None = None


class Moved(Event):
    """Test-only: the kinds of field the domain's events have."""

    TYPE: ClassVar[str] = MOVED
    TOPIC: ClassVar[str] = "test.kept"
    who: bounded.Name
    on: dt.date
    at: dt.datetime
    direction: Literal["in", "out"]
    to: Place
    note: bounded.Reason | None = None
    stops: tuple[bounded.ShortText, ...] = ()
    facts: dict[str, Any] = Field(default_factory=dict)
    count: int = 0
    confirmed: bool = False


class Noted(Event):
    TYPE: ClassVar[str] = NOTED
    TOPIC: ClassVar[str] = "test.kept"
    text: bounded.Reason


class NotedAgain(Event):
    TYPE: ClassVar[str] = NOTED_V2
    TOPIC: ClassVar[str] = "test.kept"
    text: bounded.Reason
    source: str


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "who": data["name"], "direction": "in"}


@pytest.fixture(autouse=True)
def steps() -> Iterator[None]:
    upcast.register(MOVED_V1, MOVED, _v1_to_v2)
    yield
    for source in (MOVED_V1, NOTED):
        upcast.unregister(source)


def _kept(type_name: str, data: dict[str, Any]) -> bytes:
    """A kept envelope as the consumer keeps it (`processed_events.envelope`)."""
    envelope = {
        "id": "e-1",
        "type": type_name,
        "source": "/test",
        "subject": "s-1",
        "time": "2026-03-02T09:00:00+00:00",
        "data": data,
        "correlation_id": "c-1",
        "causation_id": None,
        "actor": "exec-1",
    }
    return json.dumps(envelope, ensure_ascii=False).encode()


MOVES: list[dict[str, Any]] = [
    {
        "who": "Айгерим Сапарова",
        "on": "2026-03-01",
        "at": "2026-03-01T10:15:00+06:00",
        "direction": "in",
        "to": {"city": "Алматы", "district": "Алмалинский"},
    },
    {
        "who": "Ерлан",
        "on": "2026-03-02",
        "at": "2026-03-02T04:00:00Z",
        "direction": "out",
        "to": {"city": "Астана"},
        "note": "переезд",
        "stops": ["Караганда", "Балхаш"],
        "facts": {"reason": "work", "nested": {"level": [1, 2.5, None, True]}},
        "count": 3,
        "confirmed": True,
        "unknown_later_field": "ignored by the event",
    },
]


def test_a_kept_event_is_the_event_parse_makes_and_after_the_first_it_takes_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = KeptEvents()
    assert events.event(_kept(MOVED, MOVES[0])) == parse(MOVED, MOVES[0])
    assert events.types == (MOVED,)
    decided_by_parse: list[str] = []

    def counted(type_name: str, data: dict[str, Any]) -> Event:
        decided_by_parse.append(type_name)
        return parse(type_name, data)

    monkeypatch.setattr(kept_module, "parse", counted)
    for data in MOVES:
        read = events.event(_kept(MOVED, data))
        assert isinstance(read, Moved)
        assert read == parse(MOVED, data)
    assert decided_by_parse == []
    # A second type joins the first in the one pass.
    assert events.event(_kept(NOTED, {"text": "а"})) == Noted(text="а")
    assert events.event(_kept(NOTED, {"text": "б"})) == Noted(text="б")
    assert events.event(_kept(MOVED, MOVES[1])) == parse(MOVED, MOVES[1])
    # As text, as the catch-up rounds read it (`envelope::text`), as well as the first pass's bytes.
    assert events.event(_kept(MOVED, MOVES[1]).decode()) == parse(MOVED, MOVES[1])
    assert decided_by_parse == [NOTED]
    assert events.types == (MOVED, NOTED)


def _error_of(call: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.errors(include_url=False)


@pytest.mark.parametrize(
    "broken",
    [
        {**MOVES[0], "direction": "sideways"},
        {**MOVES[0], "who": "Айгерим\u0000"},
        {**MOVES[0], "on": "not a date"},
        {key: value for key, value in MOVES[0].items() if key != "to"},
    ],
    ids=["literal", "nul", "date", "missing"],
)
def test_data_the_event_refuses_is_refused_with_the_error_parse_gives(broken: dict[str, Any]) -> None:
    events = KeptEvents()
    events.event(_kept(MOVED, MOVES[0]))  # learnt: the one pass is tried first and fails
    assert _error_of(lambda: events.event(_kept(MOVED, broken))) == _error_of(lambda: parse(MOVED, broken))


def test_an_older_version_and_an_unknown_type_are_left_to_parse() -> None:
    events = KeptEvents()
    events.event(_kept(MOVED, MOVES[0]))
    older = {key: value for key, value in MOVES[0].items() if key not in ("who", "direction")}
    older["name"] = "Айгерим"
    read = events.event(_kept(MOVED_V1, older))
    assert read == parse(MOVED_V1, older)
    assert isinstance(read, Moved)
    assert read.who == "Айгерим"
    with pytest.raises(KeyError, match=re.escape("unknown event type kz.test.kept.nobody.v1")):
        events.event(_kept("kz.test.kept.nobody.v1", {}))
    assert events.types == (MOVED,)


def test_a_type_that_became_an_older_version_after_it_was_learnt_is_upcast() -> None:
    events = KeptEvents()
    assert events.event(_kept(NOTED, {"text": "а"})) == Noted(text="а")
    upcast.register(NOTED, NOTED_V2, lambda data: {**data, "source": "upcast"})
    assert events.event(_kept(NOTED, {"text": "б"})) == NotedAgain(text="б", source="upcast")
