"""How routers get a unit of work: the factory `main.py` (the composition root) put on the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from btkernel.service import PoolDep
from intake.app.unit_of_work import IntakeUnitOfWork

UnitOfWorkFactory = Callable[[asyncpg.Pool], IntakeUnitOfWork]


# `async def`, though it awaits nothing: FastAPI runs a plain `def` dependency in a worker thread, a thread hop
# per request for a constructor call (issue 13).
async def get_unit_of_work(request: Request, pool: PoolDep) -> IntakeUnitOfWork:
    make: UnitOfWorkFactory = request.app.state.unit_of_work
    return make(pool)


UowDep = Annotated[IntakeUnitOfWork, Depends(get_unit_of_work)]
