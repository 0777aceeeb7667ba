"""Which actions an actor may take on a case now: what the desk offers as buttons (issue 11).

Decided by the case's own rules, not restated: each action is tried on a copy of the case with the command the
API would run, and is offered when the policy table lets the actor's role call its operation (civreg.policy) and
the case accepts it in its state (S002 p.5 steps, §2.2 extension, App.2 p.5(4) date, App.9 p.5(4) notice). The
name of an action is the last segment of its operation's path, `POST /api/v1/cases/{case_id}/<name>`.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from btkernel.context import Actor
from btkernel.errors import DomainError
from civreg.calendar import ALMATY
from civreg.policy import POLICY
from registry.domain.case import Case

# A stand-in for what the person types (a reason, a party, an executive): the case's state decides, not the text.
_TRIAL_TEXT = "trial"


@dataclass(frozen=True)
class CaseAction:
    name: str
    attempt: Callable[[Case, Actor, dt.datetime], None]

    @property
    def path(self) -> str:
        return f"/api/v1/cases/{{case_id}}/{self.name}"


def _registration_date(case: Case, actor: Actor, at: dt.datetime) -> None:
    # The earliest date the rules let the person choose; any later one is accepted as well.
    earliest = case.earliest_registration() or at.astimezone(ALMATY).date()
    case.assign_registration_date(actor, max(earliest, at.astimezone(ALMATY).date()), at)


# In the order of the procedure (S002 p.5), the decisions besides the steps after the step they accompany.
ACTIONS: tuple[CaseAction, ...] = (
    CaseAction("chancellery-registration", lambda c, a, at: c.register_in_chancellery(a, at)),
    CaseAction("resolution", lambda c, a, at: c.impose_resolution(a, _TRIAL_TEXT, _TRIAL_TEXT, at)),
    CaseAction("registration-date", _registration_date),
    CaseAction("third-party-notice", lambda c, a, at: c.notify_third_party(a, _TRIAL_TEXT, at)),
    CaseAction("extension", lambda c, a, at: c.extend_review(a, _TRIAL_TEXT, 1, at)),
    CaseAction("registration", lambda c, a, at: c.check_registration_allowed(a, at)),
    CaseAction("refusal", lambda c, a, at: c.prepare_refusal(a, _TRIAL_TEXT, at)),
    CaseAction("signature", lambda c, a, at: c.sign(a, at)),
    CaseAction("dispatch", lambda c, a, at: c.send_result(a, at)),
)


def allowed_actions(case: Case, actor: Actor, at: dt.datetime) -> list[str]:
    """The names of the actions `actor` may take on `case` at `at`, in the order of the procedure. The case is
    never changed: every trial runs on a copy."""
    allowed = []
    for action in ACTIONS:
        permission = POLICY.find("POST", action.path)
        if permission is None or not permission.allows(actor.role):
            continue
        try:
            action.attempt(copy.deepcopy(case), actor, at)
        except DomainError:
            continue
        allowed.append(action.name)
    return allowed
