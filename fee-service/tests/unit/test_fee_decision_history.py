"""A decision is the fold of its stream (ADR 0027): the FeeAssessed it announced and its facts give back the very
row, whatever the tariff says today."""

from __future__ import annotations

import datetime as dt

import pytest
from fee_factories import MemoryStore, envelope, submitted

from civreg import events, topics
from civreg.events.application import ApplicationSubmitted
from fees.app import assess
from fees.domain.decision import FeeDecisionFacts, from_history

NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "event",
    [
        submitted(service_id="marriage_registration"),
        submitted(service_id="birth_registration"),
        submitted(
            service_id="repeat_certificates",
            exemption="disability",
            details={"record_id": "ab-2020-0001", "document": "repeat_certificate", "record_kind": "birth"},
        ),
    ],
)
async def test_the_announced_event_and_the_facts_fold_to_the_decision(event: ApplicationSubmitted) -> None:
    store = MemoryStore()
    assert await assess.apply(envelope(event), store, now=NOW) is not None
    [decision] = store.decisions.values()
    announced = store.announced[decision.decision_id]
    assert store.outbox == [(topics.FEE, announced)]
    history = [events.parse(announced.type, announced.data), FeeDecisionFacts.of(decision)]
    assert from_history(decision.decision_id, announced.id, history) == decision


def test_a_stream_of_anything_else_is_refused() -> None:
    facts = FeeDecisionFacts(
        kind="assessed",
        service_valid_from=dt.date(2025, 1, 1),
        centre_id="c",
        registry_office_id="o",
        assessed_on=dt.date(2025, 1, 2),
        mrp_value_tiyn=None,
        mrp_valid_from=None,
        exemption=None,
        source_event_id="e",
    )
    with pytest.raises(ValueError, match="not FeeAssessed then FeeDecisionFacts"):
        from_history("d", "e", [facts, facts])
