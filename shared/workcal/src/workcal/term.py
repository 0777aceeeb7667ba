"""A legal term as data: value, unit, kind, whether the acceptance day counts, and the regulation it comes from."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from workcal.errors import TermError

Unit = Literal["minutes", "hours", "working_hours", "working_days", "calendar_days", "weeks", "months"]
TermKind = Literal["max", "min_wait", "notice"]
UNITS: tuple[str, ...] = get_args(Unit)
TERM_KINDS: tuple[str, ...] = get_args(TermKind)
# Units counted in (working) time rather than in days; the value may be 0 only for these.
MINUTES_PER: dict[str, int] = {"minutes": 1, "hours": 60, "working_hours": 60}
_FIELDS = ("value", "unit", "kind", "acceptance_day_counted", "source")
_UNIT_WORDS = {
    "minutes": ("minute", "minutes"),
    "hours": ("hour", "hours"),
    "working_hours": ("working hour", "working hours"),
    "working_days": ("working day", "working days"),
    "calendar_days": ("calendar day", "calendar days"),
    "weeks": ("week", "weeks"),
    "months": ("month", "months"),
}


@contextmanager
def _as_term_error() -> Iterator[None]:
    # pydantic wraps the TermError of the validator in a ValidationError; callers get the TermError itself.
    try:
        yield
    except ValidationError as exc:
        for error in exc.errors():
            original = (error.get("ctx") or {}).get("error")
            if isinstance(original, TermError):
                raise original from None
        raise TermError(f"malformed term: {exc}") from exc


class Term(BaseModel):
    """A legal term as the catalogue writes it: `{value, unit, acceptance_day_counted, source}` plus its kind.

    kind: "max" — the act must be done by then; "notice" — the applicant must be told by then (computed like
    "max"); "min_wait" — the act may not be done before then. `acceptance_day_counted=None` means the regulation
    is silent (the 2018 group). Anything malformed raises TermError, also through `model_validate`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: int
    unit: Unit
    kind: TermKind = "max"
    acceptance_day_counted: bool | None = None
    source: str

    def __init__(self, **data: Any) -> None:
        with _as_term_error():
            super().__init__(**data)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        with _as_term_error():
            return super().model_validate(obj, **kwargs)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        with _as_term_error():
            return super().model_validate_json(json_data, **kwargs)

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> Any:
        """Plain-language checks before pydantic's own (which would accept True as 1 and "yes" as true)."""
        if isinstance(data, Term):
            return data
        if not isinstance(data, Mapping):
            raise TermError(f"a term is a mapping {{value, unit, source, …}}, got {type(data).__name__}")
        data = {k: v for k, v in data.items() if k != "when"}  # the catalogue's case selector, not the term
        source = data.get("source")
        where = f"the term from {source!r}" if isinstance(source, str) and source.strip() else "a term"
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise TermError(f"{where} has unknown fields: {', '.join(sorted(map(str, unknown)))}")
        for key in ("value", "unit", "source"):
            if key not in data:
                raise TermError(f"{where} lacks its {key}")
        value, unit = data["value"], data["unit"]
        if unit not in UNITS:
            raise TermError(f"{where} has the unknown unit {unit!r}; use one of: {', '.join(UNITS)}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise TermError(f"{where} must be a whole number of {unit}, got {value!r}")
        if value < 0:
            raise TermError(f"a term cannot be negative: {value} {unit} ({where})")
        if value == 0 and unit not in MINUTES_PER:
            raise TermError(f"a term of 0 {unit} is not a term ({where})")
        if data.get("kind", "max") not in TERM_KINDS:
            raise TermError(
                f"{where} has the unknown kind {data['kind']!r}; use one of: {', '.join(TERM_KINDS)}"
            )
        if data.get("acceptance_day_counted") not in (True, False, None):
            raise TermError(
                f"{where}: acceptance_day_counted is true, false or empty, got {data['acceptance_day_counted']!r}"
            )
        if not isinstance(source, str) or not source.strip():
            raise TermError(f"the term {value} {unit} has no source: every term cites its regulation")
        return data

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, kind: TermKind | None = None, source: str | None = None
    ) -> Term:
        """From catalogue data (`{value, unit, acceptance_day_counted, source}`; `when` is ignored). `kind` and
        `source` fill in what the mapping lacks (a step's `max` carries no source of its own)."""
        filled = dict(data)
        if kind is not None:
            filled.setdefault("kind", kind)
        if source is not None and not filled.get("source"):
            filled["source"] = source
        return cls.model_validate(filled)

    def describe(self) -> str:
        """Plain words for messages and worklists: '7 working days (day of acceptance not counted)'."""
        singular, plural = _UNIT_WORDS[self.unit]
        text = f"{self.value} {singular if self.value == 1 else plural}"
        if self.kind == "min_wait":
            text = f"not before {text}"
        if self.unit not in MINUTES_PER and self.acceptance_day_counted is not None:
            counted = "counted" if self.acceptance_day_counted else "not counted"
            text += f" (day of acceptance {counted})"
        return text

    def __str__(self) -> str:
        return f"{self.describe()} [{self.source}]"
