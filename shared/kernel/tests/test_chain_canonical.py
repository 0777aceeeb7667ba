"""The hash chain's canonical JSON (btkernel.history.chain.canonical) is RFC 8785 byte for byte: the fast path
(the C json encoder) must give exactly what `rfc8785.dumps` gives, or no stored history would verify again
(ADR 0030; issue 13, docs/adr/0043-submission-cost.md)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from btkernel.history import chain

# Every code point, surrogates and controls included; keys too (their order is JCS's UTF-16 order).
_ANY_CHAR = st.characters(codec=None, categories=None)
_TEXT = st.text(_ANY_CHAR, max_size=12) | st.sampled_from(
    ['"', "\\", '\\"', 'a\\"b', "\x00\x1f\x7f", "\ud800", "😀", "\ue000", "Жұмабаева", "1.5", "e", ":1.5,"]
)
_INTS = st.integers() | st.sampled_from([2**53 - 1, 2**53, -(2**53) + 1, -(2**53), 10**15, 10**16, 0, -1])
_SCALARS = st.none() | st.booleans() | _INTS | _TEXT
_FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1.0, -0.0, 1e21, 1e-7, 5e-324, 0.1]
)


def _values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_TEXT, inner, max_size=5),
        max_leaves=30,
    )


def _same(value: Any) -> None:
    try:
        expected: bytes | type[BaseException] = rfc8785.dumps(value)
    except Exception as exc:  # whatever rfc8785 refuses, canonical must refuse alike
        expected = type(exc)
    if isinstance(expected, bytes):
        assert chain.canonical(value) == expected
    else:
        with pytest.raises(expected):
            chain.canonical(value)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values(_SCALARS))
def test_canonical_is_rfc8785_for_json_without_floats(value: Any) -> None:
    _same(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values(_SCALARS | _FLOATS))
def test_canonical_is_rfc8785_with_floats_too(value: Any) -> None:
    _same(value)


@settings(deadline=None)  # no test depends on timing: a loaded machine is slow, not wrong
@given(_values(st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=12)))
def test_canonical_is_rfc8785_for_what_as_json_gives(value: Any) -> None:
    """What the event store hashes: data through the jsonb codec's round trip."""
    _same(chain.as_json(value))


# A stored event's document as it was hashed before this change (taken from a bench run): its hash must not move.
_STORED = json.loads(
    '{"stream_id": "48dfeeea-826d-4cd6-9ba8-982d10e88730", "version": 2, "stream_type": "application",'
    ' "event_id": "5337374d-e393-464f-b20f-660d26f8f47a", "type": "kz.civreg.application.forwarded.v1",'
    ' "data": {"application_id": "48dfeeea-826d-4cd6-9ba8-982d10e88730", "service_id": "birth_registration",'
    ' "channel": "state_corporation", "centre_id": "almaty-con-1", "registry_office_id": "almaty-almaly",'
    ' "submitted_at": "2026-12-03T00:00:45.504991Z", "forwarded_at": "2026-12-03T00:00:45.504991Z",'
    ' "receipt_number": "ALMATY-CON-1-2026-000040", "applicant": {"iin": "960214400405", "name": {"surname":'
    ' "Жұмабаева", "first_name": "Әсел", "patronymic": "Маратқызы"}, "birth_date": null}, "representative": null,'
    ' "details": {"child": {"name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан", "patronymic": null},'
    ' "sex": "male", "birth_date": "2026-12-02", "birth_place": "Алматы"}, "mother": {"iin": "960214400405",'
    ' "name": {"surname": "Жұмабаева", "first_name": "Әсел", "patronymic": null}}, "father": null},'
    ' "documents": [{"code": "identity_document", "name": "Документ, удостоверяющий личность заявителя"},'
    ' {"code": "medical_birth_certificate", "name": "Медицинское свидетельство о рождении"}]},'
    ' "actor": "op-bench", "correlation_id": "22f433fd-25cc-403b-b3f5-4c7a4cf265fa", "causation_id": null,'
    ' "recorded_at": "2026-12-03T00:00:45.528287Z",'
    ' "prev_hash": "cb45d651392f381679c4d868fb0ee82a446130db141f5d6c6695e9d7892ac655"}'
)


def test_a_stored_events_hash_is_unchanged() -> None:
    assert (
        hashlib.sha256(chain.canonical(_STORED)).hexdigest()
        == "4af42e61a2f4939613db14a8e9a17d0239b3e629f1f4a0d807a865e74aea1fa8"
    )


def test_an_events_document_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Timestamps' `12:00:00.5`, prices in text, quotes escaped: none of them sends a document to rfc8785."""
    document = {**_STORED, "data": {**_STORED["data"], "note": 'say "1.5e3" at :1.5,', "n": 10**15 - 1}}
    expected = rfc8785.dumps(document)

    def refuse(value: Any) -> bytes:
        raise AssertionError("the fast path was not taken")

    monkeypatch.setattr(rfc8785, "dumps", refuse)
    assert chain.canonical(document) == expected


@pytest.mark.parametrize(
    "value", [{"a": 1.5}, [1e16], {"k": 2**53}, {"😀": 1, "\ue000": 2}, {"x": "\ud800"}, {"x": float("nan")}]
)
def test_what_json_spells_otherwise_goes_to_rfc8785(value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    original = rfc8785.dumps

    def spy(v: Any) -> bytes:
        calls.append(v)
        return original(v)

    monkeypatch.setattr(rfc8785, "dumps", spy)
    with contextlib.suppress(rfc8785.CanonicalizationError):
        chain.canonical(value)
    assert calls == [value]
