"""The envelope round-trips through Kafka binary mode with every attribute and extension intact."""

from btkernel.envelope import Envelope


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
