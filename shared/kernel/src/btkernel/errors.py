"""Domain errors: refusals a person can act on, as plain exceptions with no web framework behind them.

Domain and use-case code raises these; `btkernel.problems` renders them as RFC 9457 problem details at the edge
(the HTTP status belongs to that mapping, not here). Each carries what went wrong (`detail`), where one field is at
fault its path (`field="body.applicant.iin"`) or several `errors: [{path, reason}]`, a stable machine `code`, and
any extra members the problem body should show (`allowed_roles=...`).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal. `title` is the short, fixed summary of its kind; `detail` is this occurrence."""

    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or ([{"path": field, "reason": detail}] if field else [])
        self.code = code
        self.extra = extra


class InvalidInput(DomainError):
    """The input itself is wrong (a value out of bounds, a missing field), whatever the state of things."""

    title = "Invalid input"


class NotFound(DomainError):
    """What the command names does not exist, or is not visible to the one asking."""

    title = "Not found"


class Forbidden(DomainError):
    """The one asking may not do this (role, site)."""

    title = "Forbidden"


class Conflict(DomainError):
    """The command clashes with the current state (a reused key, a duplicate)."""

    title = "Conflict"


class ConcurrencyConflict(Conflict):
    """Someone else appended to the stream since it was read: reload and retry, or tell the person."""

    title = "Concurrent change"


class RuleViolation(DomainError):
    """The request is well-formed but a rule of the regulations forbids it now."""

    title = "Not allowed by the rules"
