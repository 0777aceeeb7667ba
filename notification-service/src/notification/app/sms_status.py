"""Use case: settle the SMS whose delivery report never came (ADR 0038, "Lost reports"). Each pass claims a bounded
batch of SMS still `sent` and due to be asked about (`domain.sms_status.StatusPolicy`), asks the provider's status
query, and applies a final answer by the same rules as a report (`app.sms_reports.take_report`: delivered, failed,
or sent again in a new round). An answer that settles nothing sets the next question later; after the policy's
bound with no final answer the SMS fails with that reason.

Safe with two instances (ADR 0029, the `SKIP LOCKED` kind): the claim leases each row for a while and commits
before asking, so another instance passes it over; the answer is applied with the row locked and only if it is
still `sent` in the same round, so a report arriving meanwhile wins and the answer is a duplicate."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from btkernel import clock
from btkernel import logging as btlog
from notification.app.delivery import announce_failed
from notification.app.sms_reports import DUPLICATE, NOTED, ReportLog, take_report
from notification.domain.delivery import DeliveryError, RetryPolicy, error_text
from notification.domain.notification import SENT, Notification
from notification.domain.sms_reports import DeliveryReport, UnreadableReport, reference
from notification.domain.sms_status import StatusPolicy

log = btlog.get(__name__)


class StatusQuery(Protocol):
    async def status(self, reference: str, phone: str) -> DeliveryReport:
        """The provider's status of one message as a report, or DeliveryError when it cannot say."""
        ...


class UnreportedLog(ReportLog, Protocol):
    async def claim_unreported(
        self, *, now: dt.datetime, handed_over_before: dt.datetime, limit: int, lease_s: float
    ) -> list[Notification]: ...

    async def record_next_check(self, n: Notification, check_at: dt.datetime) -> bool: ...


class UnreportedTransactions(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[UnreportedLog]: ...


class StatusChecks:
    """One pass at a time (`run_once`); several processes may run it at once."""

    def __init__(
        self,
        transaction: UnreportedTransactions,
        provider: StatusQuery,
        *,
        policy: StatusPolicy,
        retry: RetryPolicy,
        batch_size: int = 20,
        actor: str = "system:notification",
        now: Callable[[], dt.datetime] = clock.now,
    ) -> None:
        self.transaction = transaction
        self.provider = provider
        self.policy = policy
        # The delivery policy: a "failed for now" answer is a report like any other (re-send or give up), and
        # its lease bounds how long a claimed row waits for this pass's question.
        self.retry = retry
        self.batch_size = batch_size
        self.actor = actor
        self.now = now

    async def run_once(self) -> int:
        """Ask about a batch of SMS waiting too long for their report; returns how many were asked about."""
        now = self.now()
        async with self.transaction() as tx:
            claimed = await tx.claim_unreported(
                now=now,
                handed_over_before=self.policy.handed_over_before(now),
                limit=self.batch_size,
                lease_s=self.retry.lease_s,
            )
        # The leases are committed: another instance passes these rows over while they are asked about.
        await asyncio.gather(*(self._check(n) for n in claimed))
        return len(claimed)

    async def _check(self, n: Notification) -> None:
        ref = reference(n.notification_id, n.send_round)
        answer: DeliveryReport | None = None
        try:
            answer = await self.provider.status(ref, n.recipient)
            said = f"status {answer.status}"
        except DeliveryError as exc:
            said = str(exc)
        except Exception as exc:  # a bug must not stop the pass: the row is asked about again later
            said = repr(exc)
        now = self.now()
        async with self.transaction() as tx:
            if answer is not None:
                try:
                    outcome = await take_report(answer, tx, policy=self.retry, now=now, actor=self.actor)
                except UnreadableReport as exc:  # a status the protocol does not have: not final for us
                    outcome, said = NOTED, str(exc)
                if outcome == DUPLICATE:
                    return  # settled meanwhile (a late report, another instance)
                if outcome != NOTED:
                    log.info("sms_status_settled", notification_id=n.notification_id, outcome=outcome)
                    return
            await self._not_settled(tx, n, said, now)

    async def _not_settled(self, tx: UnreportedLog, n: Notification, said: str, now: dt.datetime) -> None:
        current = await tx.get_for_report(n.notification_id)
        if current is None or current.status != SENT or current.attempts != n.attempts:
            return
        handed_over_at = n.last_attempt_at or now
        if self.policy.gives_up(handed_over_at, now):
            error = error_text(self.policy.give_up_reason(said))
            if await tx.record_failed(current, error, now):
                await announce_failed(tx, current, error, now, actor=self.actor)
                log.error("sms_outcome_unknown", notification_id=n.notification_id, error=error)
            return
        check_at = self.policy.next_check(handed_over_at, now)
        await tx.record_next_check(current, check_at)
        log.info(
            "sms_status_not_final",
            notification_id=n.notification_id,
            said=said,
            next_check=check_at.isoformat(),
        )
