"""Upcasting (btkernel.events.upcast, ADR 0027): an old version read as the newest, through a chain of steps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from btkernel.events import upcast
from btkernel.events.base import Event, parse

V1, V2, V3 = (f"kz.test.upcast.name-given.v{n}" for n in (1, 2, 3))


class NameGiven(Event):
    """Test-only v3: v1 had `name`, v2 split it into `given` and `family`, v3 added `script`."""

    TYPE: ClassVar[str] = V3
    TOPIC: ClassVar[str] = "test.upcast"
    given: str
    family: str
    script: str


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    given, _, family = data.pop("name").partition(" ")
    return {**data, "given": given, "family": family}


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "script": "cyrillic"}


@pytest.fixture(autouse=True)
def steps() -> Iterator[None]:
    upcast.register(V1, V2, _v1_to_v2)
    upcast.register(V2, V3, _v2_to_v3)
    yield
    for source in (V1, V2, "kz.test.upcast.loop.v2"):
        upcast.unregister(source)


def test_an_old_version_is_read_as_the_newest_through_every_step() -> None:
    written = {"name": "Айгерим Сапарова"}
    assert upcast.upcast(V1, written) == (
        V3,
        {"given": "Айгерим", "family": "Сапарова", "script": "cyrillic"},
    )
    assert written == {"name": "Айгерим Сапарова"}  # the stored data is never changed
    event = parse(V1, written)
    assert isinstance(event, NameGiven)
    assert (event.given, event.family, event.script) == ("Айгерим", "Сапарова", "cyrillic")
    assert parse(V2, {"given": "А", "family": "Б"}) == NameGiven(given="А", family="Б", script="cyrillic")


def test_the_newest_version_and_unknown_types_pass_unchanged() -> None:
    data = {"given": "А", "family": "Б", "script": "latin"}
    assert upcast.upcast(V3, data) == (V3, data)
    assert upcast.upcast("kz.test.other.v1", {"x": 1}) == ("kz.test.other.v1", {"x": 1})


def test_a_step_registered_twice_or_a_loop_is_refused() -> None:
    with pytest.raises(TypeError, match="twice"):
        upcast.register(V1, V3, _v2_to_v3)
    with pytest.raises(ValueError, match="loop"):
        upcast.register(V3, V1, _v2_to_v3)
    assert V3 not in upcast.UPCASTERS
