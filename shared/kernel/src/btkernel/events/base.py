"""Base class and registry of event types."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from btkernel.events.upcast import upcast

CATALOGUE: dict[str, type[Event]] = {}


class Event(BaseModel):
    """The data of one event. Consumers ignore fields they do not know, so adding an optional field is safe."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        type_name = cls.__dict__.get("TYPE")
        if type_name:
            if type_name in CATALOGUE:
                raise TypeError(f"event type {type_name} registered twice")
            CATALOGUE[type_name] = cls

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse(type_name: str, data: dict[str, Any]) -> Event:
    """The event in its newest version: an older type is upcast first (`btkernel.events.upcast`)."""
    type_name, data = upcast(type_name, data)
    try:
        cls = CATALOGUE[type_name]
    except KeyError:
        raise KeyError(f"unknown event type {type_name}") from None
    return cls.model_validate(data)
