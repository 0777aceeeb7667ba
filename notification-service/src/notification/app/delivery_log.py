"""Use case: the delivery log of one application, for a reader allowed to see it."""

from __future__ import annotations

from typing import Protocol

from notification.domain.applicant import ApplicationContact, a_centre_sees_only_its_own_applications
from notification.domain.notification import Notification


class DeliveryLogReader(Protocol):
    async def get_application(self, application_id: str) -> ApplicationContact | None: ...

    async def list_for_application(self, application_id: str) -> list[Notification]: ...


async def delivery_log(
    reader: DeliveryLogReader, application_id: str, *, role: str, site: str | None
) -> list[Notification] | None:
    """The application's notifications, oldest first; None when the application is unknown to this service or
    out of the reader's scope — the same answer, so a reader cannot learn that another site's application exists."""
    app = await reader.get_application(application_id)
    if app is None or not a_centre_sees_only_its_own_applications(app, role, site):
        return None
    return await reader.list_for_application(application_id)
