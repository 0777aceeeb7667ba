"""The partner feed's decisions on fakes of its two ports (no Kafka, no PostgreSQL): what each agency gets, signed;
what a bad event does; what goes into one transaction; when and how a topic is re-published."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from btkernel import signing
from btkernel.envelope import Envelope
from civreg import partners
from civreg.events.record import BirthRegistered, RecordAnnulled, RecordRegistered
from civreg.partners import Contract, RecordRef
from registry.app.partner_feed import (
    CONTENT_TYPE,
    Batch,
    FeedState,
    InputRecord,
    OutputRecord,
    PartnerFeed,
    PartnerPublisher,
    republish_reason,
    translate,
)

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
KEY = Ed25519PrivateKey.generate()
KEYS = {signing.key_id(KEY.public_key()): KEY.public_key()}
STATISTICS = partners.by_agency("kz-statistics")
POPULATION = partners.by_agency("kz-population-register")
assert STATISTICS is not None
assert POPULATION is not None
CHILD_IIN, MOTHER_IIN = "260220500012", "900101400017"


def _person(iin: str, surname: str, born: str) -> dict[str, Any]:
    return {"iin": iin, "name": {"surname": surname, "first_name": "Айгүл"}, "birth_date": born}


def _birth(record_id: str = "r-birth", **changes: Any) -> Envelope:
    data = {
        "record_id": record_id,
        "record_number": "almaty-almaly/birth/2026/1",
        "registry_office_id": "almaty-almaly",
        "registered_at": AT.isoformat(),
        "case_id": "c-1",
        "child_name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"},
        "child_sex": "male",
        "child_birth_date": "2026-02-20",
        "child_birth_place": "Алматы",
        "child_iin": CHILD_IIN,
        "mother": _person(MOTHER_IIN, "Жұмабаева", "1990-01-01"),
    } | changes
    return Envelope(
        id=f"e-{record_id}",
        type=BirthRegistered.TYPE,
        source="/registry",
        subject=record_id,
        time=AT,
        data=data,
    )


def _death(record_id: str = "r-death") -> Envelope:
    data = {
        "record_id": record_id,
        "kind": "death",
        "record_number": "almaty-almaly/death/2026/1",
        "registry_office_id": "almaty-almaly",
        "registered_at": AT.isoformat(),
        "case_id": "c-2",
        "subject": _person("401120300033", "Сейтов", "1940-11-20"),
        "facts": {"died_on": "2026-03-01", "place": "Алматы"},
    }
    return Envelope(
        id=f"e-{record_id}",
        type=RecordRegistered.TYPE,
        source="/registry",
        subject=record_id,
        time=AT,
        data=data,
    )


def _annulled(record_id: str) -> Envelope:
    data = {
        "record_id": record_id,
        "case_id": "c-3",
        "annulled_at": AT.isoformat(),
        "annulled_by": "worker1",
        "reason": "court decision",
    }
    return Envelope(
        id=f"e-annul-{record_id}",
        type=RecordAnnulled.TYPE,
        source="/registry",
        subject=record_id,
        time=AT,
        data=data,
    )


def _records(*envelopes: Envelope, partition: int = 0, first: int = 0) -> list[InputRecord]:
    out = []
    for i, env in enumerate(envelopes):
        key, value, headers = env.to_kafka()
        out.append(InputRecord(partition, first + i, key, value, headers))
    return out


def _event(output: OutputRecord) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(output.value)
    return event


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


class FakeStore:
    def __init__(self, refs: dict[str, RecordRef] | None = None) -> None:
        self.states: dict[str, FeedState] = {}
        self.refs = refs or {}
        self.lookups: list[list[str]] = []
        self.batches: list[tuple[int, int]] = []

    async def state(self, agency: str) -> FeedState | None:
        return self.states.get(agency)

    async def request_republish(self, agency: str, by: str) -> None:
        old = self.states.get(agency, FeedState(agency, None))
        self.states[agency] = FeedState(agency, old.published_digest, AT + dt.timedelta(seconds=len(by)), by)

    async def republished(self, agency: str, digest: str, request: dt.datetime | None) -> None:
        old = self.states.get(agency, FeedState(agency, None))
        same = old.republish_requested_at == request
        self.states[agency] = FeedState(
            agency,
            digest,
            None if same else old.republish_requested_at,
            None if same else old.republish_requested_by,
        )

    async def published(self, agency: str, events: int, skipped: int) -> None:
        self.batches.append((events, skipped))

    async def record_refs(self, record_ids: Sequence[str]) -> dict[str, RecordRef]:
        self.lookups.append(list(record_ids))
        return {r: self.refs[r] for r in record_ids if r in self.refs}


class FakeLog:
    """The agency topic as committed transactions; `fail_publish` makes the next transaction abort."""

    def __init__(self, batches: list[Batch]) -> None:
        self.pending = list(batches)
        self.topic: list[OutputRecord] = []
        self.committed: dict[int, int] = {}
        self.calls: list[str] = []
        self.fail_publish = False
        self.fail_rewind = False

    async def next_batch(self) -> Batch:
        return self.pending.pop(0) if self.pending else Batch([], {})

    async def publish(self, outputs: Sequence[OutputRecord], batch: Batch) -> None:
        self.calls.append("publish")
        if self.fail_publish:
            self.fail_publish = False
            raise ConnectionError("broker away: the transaction aborts")
        self.topic.extend(outputs)
        self.committed.update(batch.next_offsets)

    async def truncate(self) -> None:
        self.calls.append("truncate")
        self.topic.clear()

    async def rewind(self) -> None:
        self.calls.append("rewind")
        if self.fail_rewind:
            self.fail_rewind = False
            raise ConnectionError("crash mid-republication")
        self.committed = dict.fromkeys(self.committed, 0)


def _published_state(contract: Contract) -> FeedState:
    return FeedState(contract.agency, contract.digest())


# -- what each agency gets --------------------------------------------------------------------------------


async def test_statistics_get_no_iin_and_no_name_and_the_population_register_gets_the_iin() -> None:
    records = _records(_birth(), _death())
    stats = await translate(STATISTICS, records, FakeStore(), KEY)
    population = await translate(POPULATION, records, FakeStore(), KEY)

    assert len(stats.outputs) == len(population.outputs) == 2
    for output in stats.outputs:
        text = output.value.decode()
        for secret in (CHILD_IIN, MOTHER_IIN, "401120300033", "Жұмабаев", "Нұрсұлтан", "Сейтов", "Айгүл"):
            assert secret not in text, (secret, text)
        assert not {"iin", "surname", "first_name", "patronymic"} & set(_strings(_event(output)["data"]))
    birth = _event(population.outputs[0])
    assert birth["data"]["child"]["iin"] == CHILD_IIN
    assert birth["type"] == "kz.civreg.partner.birth-registered.v1"


async def test_every_event_is_signed_keyed_by_its_record_and_fails_verification_once_altered() -> None:
    out = await translate(POPULATION, _records(_birth(), _death()), FakeStore(), KEY)
    for output, record_id in zip(out.outputs, ("r-birth", "r-death"), strict=True):
        assert output.key == record_id.encode()
        assert dict(output.headers)["content-type"] == CONTENT_TYPE.encode()
        event = _event(output)
        assert event["subject"] == record_id
        assert event["id"] == output.event_id
        signing.verify(event, KEYS)
        altered = json.loads(output.value)
        altered["data"]["registry_office_id"] = "almaty-bostandyk"
        with pytest.raises(signing.SignatureInvalid):
            signing.verify(altered, KEYS)


async def test_event_ids_are_the_same_when_published_again() -> None:
    records = _records(_birth(), _death())
    first = await translate(STATISTICS, records, FakeStore(), KEY)
    again = await translate(STATISTICS, records, FakeStore(), KEY)
    assert [o.event_id for o in first.outputs] == [o.event_id for o in again.outputs]


async def test_an_annulment_is_looked_up_in_the_record_read_model() -> None:
    store = FakeStore({"r-death": RecordRef("death", "almaty-almaly")})
    out = await translate(STATISTICS, _records(_annulled("r-death")), store, KEY)
    assert store.lookups == [["r-death"]]
    [output] = out.outputs
    assert _event(output)["type"] == "kz.civreg.partner.record-annulled.v1"
    assert _event(output)["data"] == {"record_id": "r-death", "annulled_on": "2026-03-02"}


# -- a bad event ----------------------------------------------------------------------------------------------


async def test_a_bad_event_is_skipped_and_counted_and_the_rest_of_the_batch_is_published() -> None:
    broken = _birth("r-broken")
    del broken.data["child_name"]  # a required field of the internal event is gone
    garbage = InputRecord(0, 9, b"r-x", b"\xff not json", [("ce_type", b"x")])
    unknown = _annulled("r-nowhere")  # names a record the read model does not have
    records = [*_records(_birth("r-1"), broken, unknown, _death("r-2")), garbage]

    out = await translate(POPULATION, records, FakeStore(), KEY)

    assert [o.key for o in out.outputs] == [b"r-1", b"r-2"]
    assert out.skipped == 3


async def test_a_feed_does_not_stall_on_a_bad_event() -> None:
    broken = _birth("r-broken")
    del broken.data["child_sex"]
    log = FakeLog([Batch(_records(broken, _birth("r-ok")), {0: 2})])
    store = FakeStore()
    store.states[POPULATION.agency] = _published_state(POPULATION)
    feed = PartnerFeed(POPULATION, store, log, KEY)
    await feed.prepare()
    assert await feed.step() == 1
    assert log.committed == {0: 2}, "the bad event's offset is committed with the batch"
    assert store.batches == [(1, 1)]


# -- one transaction per batch ----------------------------------------------------------------------------------


async def test_a_batch_and_its_offsets_go_together_and_an_aborted_batch_is_redone_whole() -> None:
    batch = Batch(_records(_birth("r-1"), _death("r-2")), {0: 2})
    log = FakeLog([batch])
    store = FakeStore()
    store.states[STATISTICS.agency] = _published_state(STATISTICS)
    feed = PartnerFeed(STATISTICS, store, log, KEY)
    await feed.prepare()
    log.fail_publish = True
    with pytest.raises(ConnectionError):
        await feed.step()
    assert log.topic == [], "nothing of an aborted transaction is visible"
    assert log.committed == {}
    assert store.batches == []
    # The loop restarts: the reader starts again from the committed offsets, so the same batch comes again.
    log.pending.insert(0, batch)
    assert await feed.step() == 2
    assert [o.key for o in log.topic] == [b"r-1", b"r-2"]
    assert log.committed == {0: 2}


async def test_an_empty_poll_commits_nothing() -> None:
    log = FakeLog([])
    store = FakeStore()
    store.states[STATISTICS.agency] = _published_state(STATISTICS)
    feed = PartnerFeed(STATISTICS, store, log, KEY)
    await feed.prepare()
    assert await feed.step() == 0
    assert "publish" not in log.calls


# -- re-publication --------------------------------------------------------------------------------------------


def test_when_a_topic_is_published_again() -> None:
    contract = STATISTICS
    digest = contract.digest()
    assert republish_reason(contract, None) == "first publication"
    assert republish_reason(contract, FeedState(contract.agency, None)) == "first publication"
    assert republish_reason(contract, FeedState(contract.agency, digest)) is None
    changed = republish_reason(contract, FeedState(contract.agency, "0123456789abcdef"))
    assert changed is not None
    assert changed.startswith("contract changed")
    asked = republish_reason(contract, FeedState(contract.agency, digest, AT, "ops"))
    assert asked == "requested by ops"


async def test_a_changed_contract_truncates_rewinds_and_records_the_new_digest() -> None:
    log = FakeLog([])
    store = FakeStore()
    store.states[STATISTICS.agency] = FeedState(STATISTICS.agency, "0123456789abcdef")
    await PartnerFeed(STATISTICS, store, log, KEY).prepare()
    assert log.calls == ["truncate", "rewind"]
    assert store.states[STATISTICS.agency].published_digest == STATISTICS.digest()
    log.calls.clear()
    await PartnerFeed(STATISTICS, store, log, KEY).prepare()
    assert log.calls == [], "published with this digest: a restart does not re-publish"


async def test_an_operators_request_is_acted_on_while_running_and_cleared() -> None:
    now = [0.0]
    records = _records(_birth("r-1"))
    log = FakeLog([Batch(records, {0: 1})])
    store = FakeStore()
    store.states[STATISTICS.agency] = _published_state(STATISTICS)
    feed = PartnerFeed(STATISTICS, store, log, KEY, request_poll_s=2.0, monotonic=lambda: now[0])
    await feed.prepare()
    await feed.step()
    assert len(log.topic) == 1
    await store.request_republish(STATISTICS.agency, "ops")
    now[0] = 1.0
    log.pending.append(Batch([], {}))
    await feed.step()
    assert "truncate" not in log.calls, "not polled yet"
    now[0] = 2.5
    log.pending.append(Batch(records, {0: 1}))  # after the rewind the reader starts from the beginning again
    await feed.step()
    assert log.calls[-3:] == ["truncate", "rewind", "publish"]
    expected = [o.event_id for o in (await translate(STATISTICS, records, FakeStore(), KEY)).outputs]
    assert [o.event_id for o in log.topic] == expected, "the same event, once, after truncation"
    assert store.states[STATISTICS.agency].republish_requested_at is None


async def test_a_crash_mid_republication_redoes_it_from_the_start() -> None:
    log = FakeLog([])
    store = FakeStore()
    store.states[STATISTICS.agency] = _published_state(STATISTICS)
    await store.request_republish(STATISTICS.agency, "ops")
    log.fail_rewind = True
    with pytest.raises(ConnectionError):
        await PartnerFeed(STATISTICS, store, log, KEY).prepare()
    assert store.states[STATISTICS.agency].republish_requested_at is not None, (
        "the request survives the crash"
    )
    await PartnerFeed(STATISTICS, store, log, KEY).prepare()
    assert log.calls == ["truncate", "rewind", "truncate", "rewind"]
    assert store.states[STATISTICS.agency].republish_requested_at is None


async def test_a_request_made_during_a_republication_is_kept_for_the_next_one() -> None:
    store = FakeStore()
    store.states[STATISTICS.agency] = _published_state(STATISTICS)
    await store.request_republish(STATISTICS.agency, "ops")
    first = store.states[STATISTICS.agency].republish_requested_at

    class Interrupting(FakeLog):
        async def rewind(self) -> None:
            await super().rewind()
            await store.request_republish(STATISTICS.agency, "another operator")

    await PartnerFeed(STATISTICS, store, Interrupting([]), KEY).prepare()
    state = store.states[STATISTICS.agency]
    assert state.republish_requested_at is not None
    assert state.republish_requested_at != first


# -- the publisher's health --------------------------------------------------------------------------------------


def test_the_publisher_reports_failing_feeds_and_skipped_events() -> None:
    publisher = PartnerPublisher(
        [STATISTICS, POPULATION],
        store=FakeStore(),
        open_log=None,  # type: ignore[arg-type]  # never started here
        leadership=None,  # type: ignore[arg-type]
        key=KEY,
    )
    assert publisher.problems() == []
    publisher.status[STATISTICS.agency].failures = 2
    publisher.status[STATISTICS.agency].last_error = "KafkaConnectionError: away"
    publisher.status[POPULATION.agency].running = True
    publisher.status[POPULATION.agency].skipped = 1
    problems = publisher.problems()
    assert len(problems) == 2
    assert problems[0].startswith("kz-statistics: not publishing")
    assert "away" in problems[0]
    assert problems[1].startswith("kz-population-register: 1 record event(s) skipped")
