"""Use case: the fee decisions of one application that a reader may see."""

from __future__ import annotations

from typing import Protocol

from fees.domain.decision import FeeDecision
from fees.domain.scope import a_site_sees_only_its_own_applications


class DecisionReader(Protocol):
    async def decisions_for(self, application_id: str) -> list[FeeDecision]: ...


async def visible_decisions(
    reader: DecisionReader, application_id: str, *, role: str, site: str | None
) -> list[FeeDecision]:
    """The application's decisions in the reader's scope, oldest first. Empty both when there are none and when
    they belong to another site, so nobody learns that another site's application exists."""
    decisions = await reader.decisions_for(application_id)
    return [d for d in decisions if a_site_sees_only_its_own_applications(d, role, site)]
