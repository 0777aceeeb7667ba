"""The request screen (`btkernel.limits`): body cap before the body is read, storable text everywhere, and the
bounded types of request models — each refusal a problem naming the field, and the handler never reached."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Form, Path, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError

from btkernel import problems
from btkernel.bounded import NAME_MAX, Id, Name
from btkernel.limits import MAX_JSON_DEPTH, RequestLimits
from btkernel.service import create_app
from btkernel.settings import ServiceSettings
from civreg.events.record import BirthRegistered, RecordAnnulled, RecordRegistered
from civreg.events.values import Person, PersonName

CAP = 4096


class Child(BaseModel):
    name: PersonName
    facts: dict[str, Any] = {}


def make_app() -> tuple[FastAPI, list[Any]]:
    """A small app with the screen in front; `reached` records every request a handler saw."""
    reached: list[Any] = []
    app = FastAPI()
    app.add_middleware(RequestLimits, max_body_bytes=CAP)
    problems.install(app)

    @app.post("/children")
    async def post_child(child: Child) -> dict[str, str]:
        reached.append(child)
        return {"surname": child.name.surname}

    @app.get("/records")
    async def records(number: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
        reached.append(number)
        return {"number": number}

    @app.get("/applications/{application_id}")
    async def application(application_id: Annotated[Id, Path()]) -> dict[str, str]:
        reached.append(application_id)
        return {"id": application_id}

    @app.post("/token")
    async def token(username: Annotated[str, Form(max_length=100)]) -> dict[str, str]:
        reached.append(username)
        return {"username": username}

    return app, reached


@pytest.fixture
def app() -> tuple[FastAPI, list[Any]]:
    return make_app()


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def error_paths(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return [e["path"] for e in response.json()["errors"]]


GOOD = {"name": {"surname": "Касымова", "first_name": "Әлия"}}


async def test_a_good_request_passes_with_its_body_intact(app: tuple[FastAPI, list[Any]]) -> None:
    fastapi_app, reached = app
    async with client(fastapi_app) as c:
        r = await c.post("/children", json=GOOD)
    assert r.status_code == 200, r.text
    assert r.json() == {"surname": "Касымова"}
    assert len(reached) == 1


async def test_a_declared_length_over_the_cap_is_refused_before_reading(
    app: tuple[FastAPI, list[Any]],
) -> None:
    fastapi_app, reached = app
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(4):
            pulled += 1
            yield b"x" * CAP

    async with client(fastapi_app) as c:
        r = await c.post(
            "/children",
            content=body(),
            headers={"content-length": str(4 * CAP), "content-type": "application/json"},
        )
    assert r.status_code == 413
    assert error_paths(r) == ["body"]
    assert r.headers["connection"] == "close"
    assert pulled == 0, "the body was read although its declared length was over the cap"
    assert reached == []


async def test_a_chunked_body_is_cut_as_soon_as_it_passes_the_cap(app: tuple[FastAPI, list[Any]]) -> None:
    fastapi_app, reached = app
    pulled = 0
    chunk = 1024

    async def body() -> AsyncIterator[bytes]:  # 100 MB if anyone read it all
        nonlocal pulled
        for _ in range(100 * 1024):
            pulled += 1
            yield b" " * chunk

    async with client(fastapi_app) as c:
        r = await c.post("/children", content=body(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["status"] == 413
    assert pulled <= CAP // chunk + 2
    assert reached == []


async def test_a_body_exactly_at_the_cap_is_accepted(app: tuple[FastAPI, list[Any]]) -> None:
    fastapi_app, reached = app
    text = json.dumps(GOOD)
    padded = text + " " * (CAP - len(text.encode()))
    async with client(fastapi_app) as c:
        r = await c.post("/children", content=padded.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert len(reached) == 1


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/records?number=%00", "query.number"),
        ("/records?number=ok&other=a%00b", "query.other"),
        ("/records?number=%ED%A0%80", "query.number"),  # an encoded surrogate is not UTF-8
        ("/records?number=%FF", "query.number"),
        ("/applications/%00", "path"),
        ("/applications/a%ED%A0%80", "path"),
    ],
)
async def test_nul_and_invalid_text_in_path_and_query_name_the_place(
    app: tuple[FastAPI, list[Any]], url: str, field: str
) -> None:
    fastapi_app, reached = app
    async with client(fastapi_app) as c:
        r = await c.get(url)
    assert r.status_code == 422, r.text
    assert error_paths(r) == [field]
    assert reached == []


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ('{"name": {"surname": "a\\u0000b", "first_name": "x"}}', "body.name.surname", "NUL"),
        ('{"name": {"surname": "\\ud800", "first_name": "x"}}', "body.name.surname", "surrogate"),
        (
            '{"name": {"surname": "a", "first_name": "x"}, "facts": {"x": ["ok", "\\u0000"]}}',
            "body.facts.x[1]",
            "NUL",
        ),
        ('{"name": {"surname": "a", "first_name": "x"}, "facts": {"k\\u0000": 1}}', "body.facts", "key"),
    ],
)
async def test_nul_and_lone_surrogates_in_json_strings_name_the_field(
    app: tuple[FastAPI, list[Any]], body: str, field: str, reason: str
) -> None:
    fastapi_app, reached = app
    async with client(fastapi_app) as c:
        r = await c.post("/children", content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert error_paths(r) == [field]
    assert reason in r.json()["errors"][0]["reason"]
    assert reached == []


async def test_invalid_utf8_in_a_json_body_is_refused(app: tuple[FastAPI, list[Any]]) -> None:
    fastapi_app, reached = app
    body = b'{"name": {"surname": "\xff", "first_name": "x"}}'
    async with client(fastapi_app) as c:
        r = await c.post("/children", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert error_paths(r) == ["body"]
    assert reached == []


async def test_pathological_nesting_is_a_422_not_a_recursion_error(app: tuple[FastAPI, list[Any]]) -> None:
    fastapi_app, reached = app
    async with client(fastapi_app) as c:
        shallow = await c.post(
            "/children",
            content=("[" * (MAX_JSON_DEPTH + 5) + "]" * (MAX_JSON_DEPTH + 5)).encode(),
            headers={"content-type": "application/json"},
        )
        deep = await c.post(
            "/children", content=b"[" * 2000 + b"]" * 2000, headers={"content-type": "application/json"}
        )
    for r in (shallow, deep):
        assert r.status_code == 422, r.text
        assert "nested deeper" in r.json()["errors"][0]["reason"]
    assert reached == []


async def test_nul_in_a_form_field_names_the_field(app: tuple[FastAPI, list[Any]]) -> None:
    fastapi_app, reached = app
    async with client(fastapi_app) as c:
        r = await c.post("/token", data={"username": "op\x00erator"})
        ok = await c.post("/token", data={"username": "operator"})
    assert r.status_code == 422
    assert error_paths(r) == ["body.username"]
    assert ok.status_code == 200
    assert reached == ["operator"]


async def test_invalid_json_is_left_to_the_app_to_describe(app: tuple[FastAPI, list[Any]]) -> None:
    fastapi_app, _ = app
    async with client(fastapi_app) as c:
        r = await c.post("/children", content=b'{"name": ', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


async def test_max_lengths_are_refused_naming_the_field(app: tuple[FastAPI, list[Any]]) -> None:
    fastapi_app, reached = app
    long_name = {"name": {"surname": "Ә" * (NAME_MAX + 1), "first_name": "x"}}
    async with client(fastapi_app) as c:
        surname = await c.post("/children", json=long_name)
        number = await c.get("/records", params={"number": "1" * 201})
        ident = await c.get("/applications/" + "a" * 101)
    assert surname.status_code == 422
    assert error_paths(surname) == ["body.name.surname"]
    assert error_paths(number) == ["query.number"]
    assert error_paths(ident) == ["path.application_id"]
    assert reached == []


def test_person_names_are_bounded_but_read_back_as_before() -> None:
    assert PersonName(surname=" Касымова ", first_name="Әлия").surname == "Касымова"
    assert PersonName(surname="А", first_name="Б", patronymic=None).patronymic is None
    assert PersonName(surname="А", first_name="Б", patronymic=" ").patronymic is None
    with pytest.raises(ValidationError):
        PersonName(surname="А", first_name="Б", patronymic="Ә" * (NAME_MAX + 1))
    for bad in ("", "Ә" * (NAME_MAX + 1), "a\x00", "\ud800"):
        with pytest.raises(ValidationError):
            PersonName(surname=bad, first_name="Б")
    with pytest.raises(ValidationError):
        Person(iin="1" * 500, name=PersonName(surname="А", first_name="Б"))


def test_a_blank_patronymic_reads_as_none_inside_pydantic_core_with_the_errors_and_schema_of_a_name() -> None:
    """Issue 13 P3: a Python validator made a blank patronymic None, called three times for every birth event a
    rebuild validated (~1.7 µs of ~10.5). pydantic-core does it now, with nothing else changed."""
    for blank in ("", " ", "\u3000", " " * (NAME_MAX + 50)):
        assert PersonName(surname="А", first_name="Б", patronymic=blank).patronymic is None
        text = json.dumps({"surname": "А", "first_name": "Б", "patronymic": blank})
        assert PersonName.model_validate_json(text).patronymic is None
    assert PersonName(surname="А", first_name="Б", patronymic=" Нұрланұлы ").patronymic == "Нұрланұлы"
    assert PersonName(surname="А", first_name="Б").patronymic is None
    # Refused as a surname is refused: the same error, at the field.
    for bad in ("Ә" * (NAME_MAX + 1), "a\x00", 5):
        with pytest.raises(ValidationError) as as_patronymic:
            PersonName(surname="А", first_name="Б", patronymic=bad)  # type: ignore[arg-type]
        with pytest.raises(ValidationError) as as_surname:
            PersonName(surname=bad, first_name="Б")  # type: ignore[arg-type]
        (p,), (s,) = as_patronymic.value.errors(), as_surname.value.errors()
        assert (p["loc"], p["type"], p["msg"]) == (("patronymic",), s["type"], s["msg"])
    # Described as before (the events' committed schemas and the request bodies' OpenAPI): a name, or null.
    described = PersonName.model_json_schema(mode="serialization")["properties"]["patronymic"]
    assert {k: v for k, v in described.items() if k not in ("default", "title")} == TypeAdapter(
        Name | None
    ).json_schema()
    # No Python function is called to validate an event a rebuild of the known records reads.
    for event in (BirthRegistered, RecordRegistered, RecordAnnulled):
        assert "'function-" not in repr(event.__pydantic_core_schema__), event


def test_bounded_types_refuse_what_is_not_text() -> None:
    class M(BaseModel):
        n: Name

    for bad in ("a\x00b", "\udfff", " ", "x" * (NAME_MAX + 1)):
        with pytest.raises(ValidationError):
            M(n=bad)
    assert M(n=" Әлия ").n == "Әлия"


def test_every_service_app_has_the_screen_in_front() -> None:
    settings = ServiceSettings(max_body_bytes=1000)
    app = create_app(settings=settings, title="t", description="d", migrations=None, routers=[])
    limits = [m for m in app.user_middleware if m.cls is RequestLimits]
    assert len(limits) == 1
    assert limits[0].kwargs == {"max_body_bytes": 1000}
    # Through the kernel's other middleware too: a refusal still carries the request id. (No `with`: the
    # lifespan, which needs a database, is not started.)
    r = TestClient(app).get("/nowhere?x=%00")
    assert r.status_code == 422
    assert r.headers["x-request-id"]
