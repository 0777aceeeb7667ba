"""What the routers take from the composition root (registry.main): a unit of work per request, and the staff
directory."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from btkernel.service import get_pool
from registry.app.staff import StaffDirectory
from registry.app.unit_of_work import RegistryUnitOfWork


async def get_uow(request: Request) -> RegistryUnitOfWork:
    uow: RegistryUnitOfWork = request.app.state.unit_of_work(get_pool(request))
    return uow


async def get_staff(request: Request) -> StaffDirectory | None:
    staff: StaffDirectory | None = request.app.state.staff
    return staff


UowDep = Annotated[RegistryUnitOfWork, Depends(get_uow)]
StaffDep = Annotated[StaffDirectory | None, Depends(get_staff)]
