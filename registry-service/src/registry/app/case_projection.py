"""The worklist row of a case (`cases`) from the case's events, for the rebuild (ADR 0027, `registry.projections`).

The commands write the row as the events they append say (`registry.app.cases`): opened as `CaseOpened` says,
then each command's row stamped with the moment of its last event, `completed_at` with the one that sent the
result (S002 p.5(6)). The one fact no event holds is what a transfer decree did to a review term counted in
working time: `registry.app.calendar.recompute_running` moves the running terms when a supervisor changes the
calendar. A rebuild counts the term again on the calendar as it stands — the decrees of `calendar_overrides` and the
sites' exceptions — by the same rule (`review_due`), so the rebuilt row equals the live one under the same
calendar. A decree entered after a case's term had closed did not move the live row and does move the rebuilt one
(ADR 0027 says why that is accepted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from btkernel.eventstore import StoredEvent
from civreg.events.case import CaseOpened, ReviewExtended
from registry.app.unit_of_work import CaseViews
from registry.domain.case import Case
from registry.domain.deadlines import RECOMPUTED_UNITS
from registry.domain.site_clock import SiteClock


def review_due(site_clock: SiteClock, opened: CaseOpened, extension_days: int) -> dt.datetime:
    """The review due moment on the calendar now: what `recompute_running` gives the running review deadline
    (from the acceptance, the term of `CaseOpened`, the office's time, plus the calendar days of an extension,
    S002 §2.2); a term in calendar days no decree moves, and it stays as the events said."""
    term = opened.review_term
    if term.unit not in RECOMPUTED_UNITS:
        return opened.review_due_at + dt.timedelta(days=extension_days)
    counted = {"value": term.value, "unit": term.unit, "acceptance_day_counted": None, "source": term.source}
    return site_clock.due(opened.submitted_at, counted, opened.registry_office_id) + dt.timedelta(
        days=extension_days
    )


async def replay(views: CaseViews, site_clock: SiteClock, events: Sequence[StoredEvent], done: int) -> None:
    """The row of one case after all its events, the first `done` of which the build has projected already."""
    folded = [s.event() for s in events]
    case = Case.fold(events[0].stream_id, folded)
    opened = folded[0]
    if not isinstance(opened, CaseOpened):
        raise ValueError(f"case {case.id} opens with {opened.TYPE}, not with the case's opening")
    extension_days = sum(e.days for e in folded if isinstance(e, ReviewExtended))
    due_at = review_due(site_clock, opened, extension_days)
    if done == 0:
        await views.insert(opened)
    if len(events) > 1:
        # The status is terminal once the result is sent, so the last event's moment is the completion's too.
        await views.update(case, events[-1].recorded_at, review_due_at=due_at)
    else:
        await views.move_review_due(case.id, due_at)
