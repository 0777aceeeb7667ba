"""Who is acting and on behalf of which request: carried from the HTTP request into every event it causes."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Actor:
    """The person (or system) on whose behalf a command runs, as the gateway vouched for it."""

    id: str
    name: str
    role: str
    site: str | None = None

    @classmethod
    def system(cls, service: str) -> Actor:
        return cls(id=f"system:{service}", name=service, role="system", site=None)


@dataclass(frozen=True)
class RequestContext:
    """Correlation id groups everything one original request caused; causation id names the direct cause."""

    correlation_id: str
    causation_id: str | None = None
    request_id: str | None = None
    actor: Actor | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def caused_by(self, event_id: str) -> RequestContext:
        return replace(self, causation_id=event_id)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "bt_request_context", default=None
)


def new_context(actor: Actor | None = None) -> RequestContext:
    rid = str(uuid.uuid4())
    return RequestContext(correlation_id=rid, request_id=rid, actor=actor)


def current() -> RequestContext:
    ctx = _current.get()
    return ctx if ctx is not None else new_context()


def bind(ctx: RequestContext) -> contextvars.Token[RequestContext | None]:
    import structlog

    structlog.contextvars.bind_contextvars(
        correlation_id=ctx.correlation_id, causation_id=ctx.causation_id, request_id=ctx.request_id
    )
    return _current.set(ctx)


def unbind(token: contextvars.Token[RequestContext | None]) -> None:
    import structlog

    _current.reset(token)
    structlog.contextvars.unbind_contextvars("correlation_id", "causation_id", "request_id")
