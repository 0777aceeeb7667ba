"""When to ask the SMS provider about a message whose delivery report has not come, and when to stop asking
(ADR 0038, "Lost reports").

A report usually follows within seconds; one that never comes (the provider's callback failed for good, our route
was down longer than the provider retries) would leave the SMS `sent` for ever and the applicant's notice with no
outcome. So an SMS still `sent` `first_after_s` after it was handed over is asked about (`status.php`), then again
after as long as it has waited so far (the pauses double: 15 min, 30 min, 1 h, …) but at most `max_interval_s`
apart; once it has waited `give_up_after_s` — longer than the provider keeps trying to deliver (SMSC's message
lifetime is at most 24 h) — without a final answer, it fails with that reason, so the delivery log shows the
applicant may not have been told."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class StatusPolicy:
    first_after_s: float = 900.0
    max_interval_s: float = 3 * 3600.0
    give_up_after_s: float = 48 * 3600.0

    def __post_init__(self) -> None:
        if not 0 < self.first_after_s <= self.max_interval_s:
            raise ValueError("a status policy needs 0 < first_after_s <= max_interval_s")
        if self.give_up_after_s < self.first_after_s:
            raise ValueError("a status policy gives up no earlier than its first question")

    def handed_over_before(self, now: dt.datetime) -> dt.datetime:
        """An SMS handed to the provider before this moment has waited long enough to be asked about."""
        return now - dt.timedelta(seconds=self.first_after_s)

    def next_check(self, handed_over_at: dt.datetime, now: dt.datetime) -> dt.datetime:
        """After an answer that settles nothing: wait as long as the SMS has waited so far, within the bounds."""
        waited = (now - handed_over_at).total_seconds()
        return now + dt.timedelta(seconds=min(max(waited, self.first_after_s), self.max_interval_s))

    def gives_up(self, handed_over_at: dt.datetime, now: dt.datetime) -> bool:
        return (now - handed_over_at).total_seconds() >= self.give_up_after_s

    def give_up_reason(self, last_answer: str) -> str:
        hours = self.give_up_after_s / 3600
        return (
            f"SMS outcome unknown: no delivery report within {hours:g} h and no final status from the provider"
            f" ({last_answer})"
        )
