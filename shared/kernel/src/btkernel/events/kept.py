"""The event of a kept envelope, validated straight from the envelope's JSON (issue 13 P3, ADR 0027 "Batches").

A rebuild reads each kept envelope (`processed_events.envelope`, the JSON the consumer kept) only for its event.
Decoding the JSON into dicts and strings and then validating the `data` dict (`parse`) builds every value twice;
pydantic-core can validate the JSON text into the event class in one pass, building only the event, and skip the
envelope's other fields without making objects of them: 17 against 24 µs a record event, and a `known_records`
rebuild 6–8 % faster (docs/adr/0043).

The same event class decides, with the same rules: the event classes read only JSON (they are written by
`Event.to_data`, `model_dump(mode="json")`), for which pydantic's JSON and Python modes accept the same values.
Anything the one pass does not take is left to `parse` of the decoded JSON, exactly as before: an older version (its
upcasters run first), an unknown type, data the class refuses (the error reads as it always did), and a type seen
for the first time.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import pydantic_core
from pydantic import Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from btkernel.events.base import CATALOGUE, Event, parse
from btkernel.events.upcast import UPCASTERS


class KeptEvents:
    """The events of kept envelopes, one at a time (`event`). The one pass is a union of the newest types seen so
    far, tagged by the envelope's `type`: learnt as they come (a projection reads a few types of one topic, and
    building a type's part costs ~1 ms, against ~30 ms for the whole catalogue)."""

    def __init__(self) -> None:
        self._types: tuple[str, ...] = ()
        self._adapter: TypeAdapter[Any] | None = None

    @property
    def types(self) -> tuple[str, ...]:
        """The types read in one pass."""
        return self._types

    def event(self, raw: str | bytes) -> Event:
        """The event of the kept envelope `raw` (its JSON), in its newest version."""
        if self._adapter is not None:
            try:
                kept = self._adapter.validate_json(raw)
            except ValidationError:
                pass  # decided below, by `parse`, which refuses it as it always did if it is refused
            else:
                # An upcaster registered since the type was learnt makes it an older version: upcast by `parse`.
                if kept["type"] not in UPCASTERS:
                    event: Event = kept["data"]
                    return event
        decoded = pydantic_core.from_json(raw)
        event = parse(decoded["type"], decoded["data"])
        self._learn(decoded["type"])
        return event

    def _learn(self, type_name: str) -> None:
        if type_name in self._types or type_name not in CATALOGUE or type_name in UPCASTERS:
            return
        self._types = (*self._types, type_name)
        parts = tuple(_part(i, t) for i, t in enumerate(self._types))
        shape: Any = parts[0] if len(parts) == 1 else Annotated[Union[parts], Field(discriminator="type")]  # noqa: UP007
        self._adapter = TypeAdapter(shape)


def _part(n: int, type_name: str) -> Any:
    """A kept envelope of `type_name`, its `data` that type's event. Its other fields are not named: they are
    checked by nothing here and made into no object."""
    return TypedDict(f"Kept{n}", {"type": Literal[type_name], "data": CATALOGUE[type_name]})  # type: ignore[operator]
