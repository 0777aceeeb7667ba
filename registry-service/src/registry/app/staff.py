"""Who may be assigned as an executive: only an active executive of the case's own office (S002 p.5(2): the head
imposes a resolution on an employee of the provider). The directory is the gateway's (it owns the accounts,
registry.adapters.staff); a refusal names `body.executive_id`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from btkernel.errors import InvalidInput

EXECUTIVE = "registry_executive"


@dataclass(frozen=True)
class StaffMember:
    username: str
    role: str
    site: str | None
    active: bool


class StaffDirectory(Protocol):
    async def member(self, username: str) -> StaffMember | None: ...


async def check_executive(directory: StaffDirectory, executive_id: str, office_id: str) -> None:
    """Refuse (422, body.executive_id) anyone but an active executive of `office_id`."""
    field = "body.executive_id"
    member = await directory.member(executive_id)
    if member is None:
        raise InvalidInput(f"there is no user {executive_id}", field=field)
    if member.role != EXECUTIVE:
        raise InvalidInput(f"{executive_id} is not an executive (role {member.role})", field=field)
    if member.site != office_id:
        raise InvalidInput(f"{executive_id} is an executive of another registry office", field=field)
    if not member.active:
        raise InvalidInput(f"the account of {executive_id} is disabled", field=field)
