"""The service-specific details of an application: one model per service of the catalogue (and one for the
amendment variant of any of them), shared by intake's requests, the application and case events, and the
registry that reads them (ADR 0018).

The details carry no discriminator of their own: the application's `service_id` (and `details.variant` ==
"amendment") selects the model, so the JSON every client sends and every stored event holds is unchanged
(`model_for`). What each service *requires* beyond the shape is intake's rule (`intake.domain.details.NEEDS`),
checked at the counter with the reason a person understands; a stored event is read back by shape only.

Dates of birth are judged against the day the caller names (`parse(…, today=day)`, as intake does); an event is
read back with `today=None`, so what was accepted is never judged again against the day it is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from btkernel.bounded import CODE_MAX, LIST_MAX, PLACE_MAX, Code, Id, Place, Reason, text_problem
from civreg import identifiers
from civreg.events.values import PersonName

# No civil-status record a registrar handles today names a person born before this day (configuration: the
# oldest living people and the restoration of pre-war records fit; 1800 is a typing error).
EARLIEST_BIRTH = dt.date(1900, 1, 1)
# How deep the free-form `facts` and `changes` may nest (a changed parent is {"father": {"name": {...}}}).
JSON_DEPTH_MAX = 4
AMENDMENT = "amendment"


def birth_date_problem(born: dt.date, today: dt.date) -> str | None:
    """Why `born` cannot be a date of birth on `today`, or None."""
    if born > today:
        return "the date of birth cannot be in the future"
    if born < EARLIEST_BIRTH:
        return f"the date of birth cannot be before {EARLIEST_BIRTH.isoformat()}"
    return None


def _birth_date(born: dt.date | None, info: ValidationInfo) -> dt.date | None:
    if not isinstance(info.context, dict) or "today" not in info.context:
        # A programming error, not the applicant's: a date is judged against a day named, or explicitly not
        # judged (None: an event read back) — never against an unknown day.
        raise RuntimeError("validate details with `parse(service_id, data, today=…)` or `validate(model, …)`")
    today = info.context["today"]
    if born is not None and isinstance(today, dt.date) and (why := birth_date_problem(born, today)):
        raise ValueError(why)
    return born


def _bounded_json(value: Any, depth: int = 0) -> Any:
    """Free-form values (facts, changes): text of at most a place's length, at most LIST_MAX items per level,
    at most JSON_DEPTH_MAX levels — so no single field can make the application's events too large."""
    if depth > JSON_DEPTH_MAX:
        raise ValueError(f"nested more than {JSON_DEPTH_MAX} levels deep")
    if isinstance(value, str):
        if len(value) > PLACE_MAX:
            raise ValueError(f"a text value may have at most {PLACE_MAX} characters")
        if why := text_problem(value):
            raise ValueError(why)
    elif isinstance(value, dict | list):
        if len(value) > LIST_MAX:
            raise ValueError(f"at most {LIST_MAX} entries")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and (len(key) > CODE_MAX or text_problem(key)):
                raise ValueError(f"the key {key[:CODE_MAX]!r} is not a field name")
            _bounded_json(item, depth + 1)
    return value


BirthDate = Annotated[dt.date, AfterValidator(_birth_date)]
FreeForm = Annotated[dict[str, Any], AfterValidator(_bounded_json)]


class _Strict(BaseModel):
    # A request naming a field no service knows is refused (422 naming it), not silently dropped.
    model_config = ConfigDict(extra="forbid")


class Parent(_Strict):
    # The IIN at a Kazakh site, the PIN at a Kyrgyz one (ADR 0039): judged by the `country` the caller names
    # (`parse(…, country=…)`); either when none is named (an event read back).
    iin: str | None = Field(None, max_length=identifiers.MAX_LENGTH)
    name: PersonName

    @field_validator("iin")
    @classmethod
    def _iin(cls, v: str | None, info: ValidationInfo) -> str | None:
        country = info.context.get("country") if isinstance(info.context, dict) else None
        return None if v is None else identifiers.check(v, country)


class Child(_Strict):
    name: PersonName
    sex: Literal["male", "female"]
    birth_date: BirthDate
    birth_place: Place


class Subject(Parent):
    """The person a record is about (the deceased, a spouse, the person changing the name, the child)."""

    birth_date: BirthDate | None = None


class BirthDetails(_Strict):
    """`birth_registration` (S002/App.1): the child and at least one parent. The review term follows from the
    child's date of birth (1 WD, or 7 WD when filed late), so a birth names no variant."""

    child: Child
    mother: Parent | None = None
    father: Parent | None = None

    @property
    def variant(self) -> str | None:
        return None

    @model_validator(mode="after")
    def _a_parent(self) -> BirthDetails:
        if self.mother is None and self.father is None:
            raise ValueError("at least one parent must be named")
        return self


RecordKind = Literal["birth", "marriage", "divorce", "death", "paternity", "adoption", "name_change"]


class ActDetails(_Strict):
    """The fields every service but birth may state: the variant selecting the review term (S002 per service),
    the subject and the other parties of the act, the record it concerns (amendment, repeat certificate,
    annulment, the birth record a paternity, adoption or name change changes), and the changes. Each service's
    model below says which of them it needs (checked by intake, `intake.domain.details.NEEDS`)."""

    variant: Code | None = None
    subject: Subject | None = None
    parties: list[Subject] = Field(default_factory=list, max_length=LIST_MAX)
    facts: FreeForm = Field(default_factory=dict)
    record_id: Id | None = None
    birth_record_id: Id | None = None
    record_kind: RecordKind | None = None
    change: Literal["amendment", "addition", "correction"] | None = None
    changes: FreeForm = Field(default_factory=dict)
    reason: Reason | None = None
    from_abroad: bool = False
    # Which result is asked for where the regulation offers a choice: a repeat certificate or a справка
    # (S002/App.3 p.3), a death certificate or a death справка (S002/App.7 p.3).
    document: (
        Literal["repeat_certificate", "civil_status_spravka", "death_certificate", "death_spravka"] | None
    ) = None


class MarriageDetails(ActDetails):
    """`marriage_registration` (S002/App.2): the subject and the other spouse in `parties`; `facts` as stated
    (e.g. the surnames chosen)."""


class DivorceDetails(ActDetails):
    """`divorce_registration` (S002/App.9): the ground as `variant` (mutual consent, court decision, a spouse
    missing, incapable or imprisoned), the subject and the other spouse in `parties`."""


class DeathDetails(ActDetails):
    """`death_registration` (S002/App.7): the deceased as `subject`, `facts.died_on` (YYYY-MM-DD); `document`
    death_certificate or death_spravka."""


class PaternityDetails(ActDetails):
    """`paternity_registration` (S002/App.4): the child as `subject` and the child's birth record
    (`birth_record_id`), into which paternity is entered; `changes` the birth record gets."""


class AdoptionDetails(ActDetails):
    """`adoption_registration` (S002/App.5): the adopted child as `subject`, optionally the birth record it
    changes (`birth_record_id`) and the `changes`."""


class NameChangeDetails(ActDetails):
    """`name_change_registration` (S002/App.8): the person as `subject` and the `changes` of the name."""


class RestorationDetails(ActDetails):
    """`restoration_of_records` (S002/App.6, editions 2016 and 2019): the `record_kind` to restore and its
    `subject`."""


class RepeatCertificateDetails(ActDetails):
    """`repeat_certificates` (S002/App.3): the `record_id` to copy, the `document` asked for (a repeat
    certificate or a справка), `from_abroad` for the desk."""


class AnnulmentDetails(ActDetails):
    """`annulment_of_records` (S002/App.10): the `record_id` to annul and the `reason` (the court decision)."""


class AmendmentDetails(ActDetails):
    """The `amendment` variant of any registration service (7 WD, e.g. S002/App.1 p.5(3)): the `record_id`
    amended, the kind of `change`, the `changes` and the `reason`."""


class OtherDetails(BaseModel):
    """The details of a service this version of the catalogue does not know (a newer producer's, or a service
    withdrawn): kept as given, so its events stay readable by everyone who does not need them; only the
    variant is read. Intake never accepts them: it refuses an unknown service first."""

    model_config = ConfigDict(extra="allow")

    variant: str | None = None


class AgencyFormDetails(OtherDetails):
    """A service a partner agency decides (`decided_by`, ADR 0040; S003): the window takes no form of its own
    (the checklist's documents are the application), so nothing beyond the variant is accepted; read back, its
    events are OtherDetails like any service without a model here."""

    model_config = ConfigDict(extra="forbid")


# The one table: which model the details of each service are. A test checks it covers the catalogue.
BY_SERVICE: dict[str, type[BirthDetails] | type[ActDetails]] = {
    "birth_registration": BirthDetails,
    "marriage_registration": MarriageDetails,
    "divorce_registration": DivorceDetails,
    "death_registration": DeathDetails,
    "paternity_registration": PaternityDetails,
    "adoption_registration": AdoptionDetails,
    "name_change_registration": NameChangeDetails,
    "restoration_of_records": RestorationDetails,
    "repeat_certificates": RepeatCertificateDetails,
    "annulment_of_records": AnnulmentDetails,
}

ServiceDetails = (
    BirthDetails
    | MarriageDetails
    | DivorceDetails
    | DeathDetails
    | PaternityDetails
    | AdoptionDetails
    | NameChangeDetails
    | RestorationDetails
    | RepeatCertificateDetails
    | AnnulmentDetails
    | AmendmentDetails
    | OtherDetails
)


def model_for(service_id: str, variant: object = None) -> type[BirthDetails] | type[ActDetails]:
    """The details model of a service; the amendment variant of any service is its own model."""
    if variant == AMENDMENT:
        return AmendmentDetails
    try:
        return BY_SERVICE[service_id]
    except KeyError:
        raise ValueError(f"no details model for service {service_id!r}") from None


def parse(service_id: str, data: Any, *, today: dt.date | None, country: str | None = "KZ") -> ServiceDetails:
    """`data` as the details of `service_id`; dates of birth judged on `today`, or not at all when None (an
    event read back: what was accepted stays readable); persons' numbers by the rules of `country` (KZ: IIN,
    KG: PIN, ADR 0039), or either when None."""
    if isinstance(data, BirthDetails | ActDetails | OtherDetails):
        return cast(ServiceDetails, data)
    variant = data.get("variant") if isinstance(data, dict) else None
    if service_id not in BY_SERVICE and variant != AMENDMENT and _decided_elsewhere(service_id):
        return AgencyFormDetails.model_validate(data)
    context = {"today": today, "country": country}
    parsed = model_for(service_id, variant).model_validate(data, context=context)
    # Every model of BY_SERVICE and AmendmentDetails is a member of the union (a test checks it).
    return cast(ServiceDetails, parsed)


def _decided_elsewhere(service_id: str) -> bool:
    """Whether a partner agency decides the service in some country's edition (ADR 0040)."""
    from civreg import catalogue  # the catalogue reads the details' models: imported when used

    return any(s.id == service_id and s.decided_by for s in catalogue.load().services)


def stated_variant(details: ServiceDetails | Mapping[str, Any]) -> str | None:
    """The variant the details state (a birth states none); also for details still as JSON."""
    variant = details.get("variant") if isinstance(details, Mapping) else details.variant
    return variant if isinstance(variant, str) else None


class CarriesDetails(BaseModel):
    """Base of the events that carry an application's `details`: typed by the event's `service_id` (ADR 0018)."""

    @model_validator(mode="before")
    @classmethod
    def _typed_details(cls, data: Any) -> Any:
        return typed_details(data)


def typed_details(data: Any) -> Any:
    """For an event's `mode="before"` model validator: its `details` dict parsed by its `service_id`, so the
    union is never guessed from the shape (the act models share their fields); never judged against today."""
    if not (isinstance(data, dict) and isinstance(service_id := data.get("service_id"), str)):
        return data
    given = data.get("details")
    variant = given.get("variant") if isinstance(given, dict) else None
    if service_id not in BY_SERVICE and variant != AMENDMENT and isinstance(given, dict):
        return {**data, "details": OtherDetails.model_validate(given)}
    return {**data, "details": parse(service_id, given, today=None, country=None)}


def _person(surname: str, first_name: str, iin: str, born: str) -> dict[str, Any]:
    return {"iin": iin, "name": {"surname": surname, "first_name": first_name}, "birth_date": born}


_MOTHER = _person("Жұмабаева", "Әсел", "960214400019", "1996-02-14")
_HUSBAND = _person("Сейітов", "Марат", "940703300027", "1994-07-03")
_WIFE = _person("Сейітова", "Айгүл", "900517400045", "1990-05-17")
_RECORD = "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"

# One JSON example per service, and one of the amendment variant (keyed "amendment"): shown in the OpenAPI
# document under `details`; a test checks each is accepted as its service's details.
EXAMPLES: dict[str, dict[str, Any]] = {
    "birth_registration": {
        "child": {
            "name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"},
            "sex": "male",
            "birth_date": "2026-01-15",
            "birth_place": "Алматы",
        },
        "mother": {"iin": _MOTHER["iin"], "name": _MOTHER["name"]},
    },
    "marriage_registration": {
        "subject": _WIFE,
        "parties": [_HUSBAND],
        "facts": {"surname_chosen": "Сейітова"},
    },
    "divorce_registration": {"variant": "court_decision", "subject": _WIFE, "parties": [_HUSBAND]},
    "death_registration": {
        "subject": _person("Ахметов", "Ерлан", "481120300033", "1948-11-20"),
        "facts": {"died_on": "2026-01-10", "place": "Алматы"},
        "document": "death_certificate",
    },
    "paternity_registration": {
        "subject": {"name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"}, "birth_date": "2026-01-15"},
        "birth_record_id": _RECORD,
        "parties": [_HUSBAND],
        "changes": {"father": {"iin": _HUSBAND["iin"], "name": _HUSBAND["name"]}},
    },
    "adoption_registration": {
        "subject": {"name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"}, "birth_date": "2026-01-15"},
        "parties": [_WIFE, _HUSBAND],
        "changes": {"surname": "Сейітов"},
    },
    "name_change_registration": {"subject": _WIFE, "changes": {"surname": "Жұмабаева"}},
    "restoration_of_records": {"variant": "court_decision", "subject": _WIFE, "record_kind": "birth"},
    "repeat_certificates": {"record_id": _RECORD, "document": "repeat_certificate"},
    "annulment_of_records": {
        "variant": "court_decision",
        "record_id": _RECORD,
        "reason": "решение Алмалинского районного суда г. Алматы от 12.01.2026",
    },
    AMENDMENT: {
        "variant": AMENDMENT,
        "record_id": _RECORD,
        "change": "correction",
        "changes": {"child": {"birth_place": "Алматы"}},
        "reason": "ошибка в месте рождения",
    },
}
