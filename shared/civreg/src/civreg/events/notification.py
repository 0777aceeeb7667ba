"""Notification outcomes (topic civreg.notification, subject = notification id)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from btkernel.events.base import Event
from civreg import topics


class _NotificationEvent(Event):
    TOPIC: ClassVar[str] = topics.NOTIFICATION
    notification_id: str
    application_id: str
    channel: str
    recipient: str
    template: str


class NotificationDelivered(_NotificationEvent):
    TYPE: ClassVar[str] = "kz.civreg.notification.delivered.v1"
    delivered_at: dt.datetime
    attempts: int


class NotificationFailed(_NotificationEvent):
    TYPE: ClassVar[str] = "kz.civreg.notification.failed.v1"
    failed_at: dt.datetime
    attempts: int
    error: str
