"""The envelope round-trips through Kafka binary mode with every attribute and extension intact."""

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cloudevents.core.exceptions import CloudEventValidationError

from btkernel.envelope import Envelope, kafka_type


def test_binary_mode_round_trip_keeps_attributes_and_extensions() -> None:
    env = Envelope.new(
        type="kz.civreg.application.submitted.v1",
        source="/intake",
        subject="app-1",
        data={"name": "Әлия Қасымова", "n": 1},
        correlation_id="corr-1",
        causation_id="cause-1",
        actor="op1",
    )
    key, value, headers = env.to_kafka()
    names = dict(headers)
    assert key == b"app-1"
    assert names["ce_specversion"] == b"1.0"
    assert names["ce_type"] == b"kz.civreg.application.submitted.v1"
    assert names["ce_subject"] == b"app-1"
    assert names["content-type"] == b"application/json"
    assert names["ce_correlationid"] == b"corr-1"
    back = Envelope.from_kafka(key, value, headers)
    assert back.id == env.id
    assert back.data == {"name": "Әлия Қасымова", "n": 1}
    assert (back.correlation_id, back.causation_id, back.actor) == ("corr-1", "cause-1", "op1")
    assert back.time == env.time.replace(microsecond=back.time.microsecond)


def test_storage_form_round_trip() -> None:
    env = Envelope.new(
        type="t.v1", source="/s", subject="x", data={"a": [1, 2]}, correlation_id=None, causation_id=None
    )
    assert Envelope.from_json(env.to_json()) == env


# -- reading a record without the cloudevents library (issue 13) and falling back to it for anything else --


def _traced() -> Envelope:
    return Envelope(
        id="e-1",
        type="kz.civreg.case.opened.v1",
        source="/registry",
        subject="case-1",
        time=datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5))),
        data={"nested": {"list": [1, "два", None]}, "flag": True},
        correlation_id="c-1",
        causation_id="d-1",
        actor="op",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        tracestate="bt=1",
    )


def test_an_envelope_read_is_the_one_its_constructor_makes() -> None:
    """`from_json` and `from_kafka` fill the instance's fields directly (issue 13): the same envelope, as frozen."""
    made = _traced()
    untraced = dataclasses.replace(made, traceparent=None, tracestate=None)
    for env in (made, untraced):
        for read in (Envelope.from_json(env.to_json()), Envelope.from_kafka(*env.to_kafka())):
            assert read == env
            assert vars(read) == vars(env)
            with pytest.raises(dataclasses.FrozenInstanceError):
                read.subject = "other"  # type: ignore[misc]
            assert dataclasses.replace(read, subject="other").subject == "other"


@pytest.mark.parametrize(
    "env",
    [
        _traced(),
        Envelope.new(type="t.v1", source="/s", subject="x", data={}, correlation_id=None, causation_id=None),
    ],
)
def test_the_direct_reading_equals_the_librarys(env: Envelope) -> None:
    key, value, headers = env.to_kafka()
    direct = Envelope.from_kafka(key, value, headers)
    assert direct == Envelope._from_kafka_by_library(key, value, headers)
    assert direct == env
    assert direct.time.utcoffset() == env.time.utcoffset()


def test_what_the_kernel_does_not_write_is_left_to_the_library() -> None:
    key, value, headers = _traced().to_kafka()
    # Upper-case header names, an extension of someone else's and a time in lower case: the library reads them.
    odd = [(name.upper(), raw) for name, raw in headers if name != "ce_time"]
    odd += [("ce_partnerext", b"x"), ("ce_time", b"2026-03-01t04:30:00.123456z")]
    back = Envelope.from_kafka(key, value, odd)
    assert back.time == datetime(2026, 3, 1, 4, 30, 0, 123456, tzinfo=UTC)
    assert (back.id, back.traceparent, back.data) == ("e-1", _traced().traceparent, _traced().data)


@pytest.mark.parametrize(
    "change",
    [
        {"ce_id": b""},
        {"ce_specversion": b"0.9"},
        {"ce_subject": b""},
        {"ce_time": b"2026-03-01T09:30:00"},  # no offset: not a CloudEvents time
    ],
)
def test_a_record_the_library_refuses_is_still_refused(change: dict[str, bytes]) -> None:
    key, value, headers = _traced().to_kafka()
    headers = [(name, change.get(name, raw)) for name, raw in headers]
    with pytest.raises(CloudEventValidationError):
        Envelope.from_kafka(key, value, headers)


@pytest.mark.parametrize("value", [b"", b"[1, 2]", b"\xff", b"not json"])
def test_a_body_that_is_not_a_json_object_is_refused(value: bytes) -> None:
    key, _, headers = _traced().to_kafka()
    with pytest.raises(ValueError, match="event data must be a JSON object"):
        Envelope.from_kafka(key, value, headers)


# -- writing a record without the cloudevents library (issue 13), the library's bytes exactly --


_UTC_WHOLE_SECOND = dataclasses.replace(
    _traced(), time=datetime(2026, 3, 1, 4, 30, tzinfo=UTC), tracestate=None
)


@pytest.mark.parametrize(
    "env",
    [
        _traced(),
        _UTC_WHOLE_SECOND,
        dataclasses.replace(_traced(), traceparent=None),  # a trace state without a parent is not written
        dataclasses.replace(_traced(), correlation_id=None, causation_id="", actor=None),
        dataclasses.replace(_traced(), data={"when": datetime(2026, 3, 1, tzinfo=UTC), "имя": 'Әлия\n"ү"'}),
        Envelope.new(type="t.v1", source="/s", subject="x", data={}, correlation_id=None, causation_id=None),
    ],
)
def test_the_direct_writing_equals_the_librarys(env: Envelope) -> None:
    assert env.to_kafka() == env._to_kafka_by_library()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"subject": ""}, CloudEventValidationError),
        ({"id": ""}, CloudEventValidationError),
        ({"time": datetime(2026, 3, 1, 9, 30)}, CloudEventValidationError),  # noqa: DTZ001 (naive on purpose)
        ({"data": {"raw": b"bytes"}}, TypeError),
        ({"data": {"set": {1}}}, TypeError),
    ],
)
def test_an_envelope_the_library_refuses_to_write_is_still_refused(
    change: dict[str, object], error: type[Exception]
) -> None:
    env = dataclasses.replace(_traced(), **change)  # type: ignore[arg-type]
    with pytest.raises(error) as direct:
        env.to_kafka()
    with pytest.raises(error) as library:
        env._to_kafka_by_library()
    assert str(direct.value) == str(library.value)


def test_a_missing_time_is_the_services_clock() -> None:
    from btkernel import clock

    key, value, headers = _traced().to_kafka()
    headers = [(n, r) for n, r in headers if n != "ce_time"]
    before = clock.offset_s()
    clock.travel_to(datetime(2030, 1, 2, tzinfo=UTC))
    try:
        back = Envelope.from_kafka(key, value, headers)
    finally:
        clock.set_offset(before)
    assert datetime(2030, 1, 2, tzinfo=UTC) <= back.time < datetime(2030, 1, 3, tzinfo=UTC)


def test_the_type_is_read_from_the_header_alone() -> None:
    _, _, headers = _traced().to_kafka()
    assert kafka_type(headers) == "kz.civreg.case.opened.v1"
    assert kafka_type([("CE_TYPE", b"x.v1")]) == "x.v1"
    assert kafka_type([("content-type", b"application/json")]) is None
