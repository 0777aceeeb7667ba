"""The working calendar's changes: transfer decrees and per-site schedule exceptions (entered by a supervisor).
A change is effective at once: running deadlines are recomputed in the same unit of work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from btkernel.errors import Conflict, NotFound
from civreg import sites
from registry.app.unit_of_work import RegistryUnitOfWork
from registry.domain.deadlines import RECOMPUTED_UNITS, REVIEW_KINDS, approaching_at


@dataclass(frozen=True)
class AddOverride:
    """A government transfer decree: a Saturday made a working day, or a weekday made a day off."""

    country: str
    day: dt.date
    kind: str
    reason: str
    source: str
    by: str


@dataclass(frozen=True)
class SetScheduleException:
    site_id: str
    day: dt.date
    hours: list[tuple[str, str]]
    reason: str
    by: str


async def add_override(command: AddOverride, uow: RegistryUnitOfWork) -> int:
    """Returns how many running deadlines moved."""
    async with uow:
        added = await uow.calendar.add_override(
            country=command.country,
            day=command.day,
            kind=command.kind,
            reason=command.reason,
            source=command.source,
            by=command.by,
        )
        if not added:
            raise Conflict(
                f"{command.day} already has an override for {command.country}; delete it first",
                field="body.day",
            )
        moved = await recompute_running(uow)
        await uow.commit()
    return moved


async def delete_override(country: str, day: dt.date, uow: RegistryUnitOfWork) -> int:
    """Returns how many running deadlines moved."""
    async with uow:
        if not await uow.calendar.delete_override(country, day):
            raise NotFound(f"no override on {day} for {country}")
        moved = await recompute_running(uow)
        await uow.commit()
    return moved


def known_site(site_id: str) -> None:
    """Refuse (404) a site that is neither a registry office nor a service centre."""
    reference = sites.load()
    if reference.office(site_id) is None and reference.centre(site_id) is None:
        raise NotFound(f"no site {site_id!r}")


async def set_schedule_exception(command: SetScheduleException, uow: RegistryUnitOfWork) -> int:
    """Returns how many running deadlines moved."""
    known_site(command.site_id)
    async with uow:
        await uow.calendar.set_schedule_exception(
            command.site_id, command.day, [list(h) for h in command.hours], command.reason, command.by
        )
        moved = await recompute_running(uow)
        await uow.commit()
    return moved


async def recompute_running(uow: RegistryUnitOfWork) -> int:
    """New due moments for every running deadline counted in working time; returns how many moved. Events
    already emitted stay emitted: a decree does not un-send a warning. Runs in the caller's unit of work."""
    site_clock = await uow.calendar.site_clock()
    moved = 0
    for r in await uow.deadlines.running_in_units(RECOMPUTED_UNITS):
        due_at = site_clock.due(r["started_at"], r["term"], r["site_id"]) + dt.timedelta(
            days=r["extension_days"]
        )
        if due_at == r["due_at"]:
            continue
        await uow.deadlines.move(r["deadline_id"], due_at, approaching_at(r["started_at"], due_at))
        if r["kind"] in REVIEW_KINDS:
            await uow.case_views.move_review_due(r["case_id"], due_at)
            # The executive's review step runs to the review term: it moves with it.
            await uow.deadlines.move_resolution_steps(r["case_id"], due_at)
        moved += 1
    return moved
