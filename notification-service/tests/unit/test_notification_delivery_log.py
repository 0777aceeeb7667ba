"""The delivery-log read use case on a fake store: an operator reads its own centre's applications only."""

from __future__ import annotations

import pytest
from notification_factories import MemoryStore, envelope, submitted

from notification.app import projection
from notification.app.delivery_log import delivery_log
from notification.domain.notification import Notification


class _Reader(MemoryStore):
    async def list_for_application(self, application_id: str) -> list[Notification]:
        return []


@pytest.mark.parametrize(
    ("role", "site", "sees"),
    [
        ("supervisor", None, True),
        ("centre_operator", "almaty-con-1", True),
        ("centre_operator", "almaty-con-2", False),
        ("registry_head", "almaty-almaly", False),  # not a reader of the delivery log at all
    ],
)
async def test_a_centre_sees_only_its_own_applications(role: str, site: str | None, sees: bool) -> None:
    reader = _Reader()
    sub = submitted(centre_id="almaty-con-1")
    await projection.apply(envelope(sub), reader)
    got = await delivery_log(reader, sub.application_id, role=role, site=site)
    assert (got is not None) is sees


async def test_an_unknown_application_reads_as_out_of_scope() -> None:
    assert await delivery_log(_Reader(), "never-seen", role="supervisor", site=None) is None
