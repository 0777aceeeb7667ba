"""The read use case on a fake store: each site sees the decisions of its own applications only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fees.app.decisions import visible_decisions
from fees.domain import assessment
from fees.domain.decision import ASSESSED, FeeDecision, decision_id


def _decision(application_id: str = "app-1") -> FeeDecision:
    at = dt.datetime(2025, 11, 3, 6, 0, tzinfo=dt.UTC)
    return FeeDecision(
        decision_id=decision_id(application_id, ASSESSED),
        application_id=application_id,
        kind=ASSESSED,
        service_id="birth_registration",
        service_valid_from=dt.date(2025, 1, 1),
        centre_id="almaty-con-1",
        registry_office_id="almaty-almaly",
        assessed_on=at.date(),
        assessed_at=at,
        payable=False,
        amount_mrp=Decimal(0),
        mrp_value_tiyn=None,
        mrp_valid_from=None,
        amount_tiyn=0,
        basis="free",
        exemption=None,
        source_event_id="e-1",
        event_id="e-2",
    )


class _Reader:
    def __init__(self, *decisions: FeeDecision) -> None:
        self.decisions = list(decisions)

    async def decisions_for(self, application_id: str) -> list[FeeDecision]:
        return [d for d in self.decisions if d.application_id == application_id]


@pytest.mark.parametrize(
    ("role", "site", "sees"),
    [
        ("supervisor", None, True),
        ("centre_operator", "almaty-con-1", True),
        ("centre_operator", "almaty-con-2", False),
        ("registry_head", "almaty-almaly", True),
        ("registry_executive", "almaty-almaly", True),
        ("registry_chancellery", "almaty-bostandyk", False),
        (
            "registry_worker",
            "almaty-almaly",
            False,
        ),  # annulment has no fee; the policy table keeps it out too
        ("portal", None, False),
    ],
)
async def test_a_site_sees_only_its_own_applications(role: str, site: str | None, sees: bool) -> None:
    reader = _Reader(_decision("app-1"), _decision("app-2"))
    got = await visible_decisions(reader, "app-1", role=role, site=site)
    assert [d.application_id for d in got] == (["app-1"] if sees else [])


def test_decision_ids_are_one_per_application_and_kind() -> None:
    assert decision_id("app-1", ASSESSED) == decision_id("app-1", ASSESSED)
    assert decision_id("app-1", ASSESSED) != decision_id("app-2", ASSESSED)
    assert decision_id("app-1", ASSESSED) != decision_id("app-1", "exempted")


def test_the_duty_date_is_the_local_date_of_submission() -> None:
    almaty = ZoneInfo("Asia/Almaty")
    assert assessment.duty_date(dt.datetime(2025, 12, 31, 18, 59, tzinfo=dt.UTC), almaty) == dt.date(
        2025, 12, 31
    )
    assert assessment.duty_date(dt.datetime(2025, 12, 31, 19, 0, tzinfo=dt.UTC), almaty) == dt.date(
        2026, 1, 1
    )


def test_tenge_are_shown_with_two_decimals_from_whole_tiyn() -> None:
    assert [assessment.format_tenge(t) for t in (0, 216_250, 196_600, 1)] == [
        "0.00",
        "2162.50",
        "1966.00",
        "0.01",
    ]
