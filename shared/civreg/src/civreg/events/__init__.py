"""The event catalogue: one pydantic model per event type, its type name carrying its version.

A model's `TYPE` is the CloudEvents `type`; `TOPIC` is where it is published. Published types are contracts:
their JSON Schemas are committed under `shared/civreg/schemas/` and a test refuses incompatible changes — a breaking
change is a new `…v2` type, never an edit.
"""

from btkernel.events.base import CATALOGUE, Event, parse
from civreg.events import agency, application, case, complaint, deadline, fee, notification, record  # noqa: F401  (registers the types)

__all__ = ["CATALOGUE", "Event", "parse"]
