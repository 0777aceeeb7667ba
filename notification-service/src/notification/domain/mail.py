"""The e-mail a notification becomes: plain UTF-8 text in Russian and Kazakh, with a Message-ID that stays the same
on every attempt."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime


def build_message(
    *, notification_id: str, sender: str, recipient: str, subject: str, body: str, date: dt.datetime
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date.astimezone(dt.UTC), usegmt=True)
    # The same Message-ID on every attempt: if a retry follows a send whose outcome was lost, the receiving side
    # can recognise the duplicate.
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{notification_id}@{domain}>"
    msg.set_content(body, charset="utf-8")
    # After set_content, which drops any Content-* header set before it.
    msg["Content-Language"] = "ru, kk"
    return msg
