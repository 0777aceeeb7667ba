"""The `records` read model is a function of the record's events (ADR 27): what the commands wrote — a birth, a
paternity amending it, the paternity annulled and the birth record's data given back — is what a replay of the
stored events writes, row for row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from registry_fakes import FakeRecordViews, FakeRegistryUnitOfWork
from test_case_use_cases import EXEC, HEAD, LATER, WORKER, _open, _under_review

from btdeploy.samples import person
from btkernel.context import new_context
from registry.app import cases as use_cases
from registry.app import record_projection


@pytest.fixture(autouse=True)
def _clock(clock_at: Callable[[dt.datetime], None]) -> None:
    clock_at(LATER)


async def test_a_replay_of_the_record_streams_writes_the_rows_the_commands_wrote() -> None:
    uow = FakeRegistryUnitOfWork()
    birth = await _open(uow, 1)
    await _under_review(uow, birth)
    await use_cases.execute(use_cases.RegisterAct(birth, EXEC, None), uow, new_context())
    birth_record = uow.case_views.rows[birth]["record_id"]
    father = person("Жұмабаев", "Марат", sex="male")
    paternity = await _open(
        uow,
        2,
        service_id="paternity_registration",
        details={"subject": father, "birth_record_id": birth_record, "changes": {"father": father}},
    )
    await _under_review(uow, paternity)
    await use_cases.execute(use_cases.RegisterAct(paternity, EXEC, None), uow, new_context())
    annulment = await _open(
        uow,
        3,
        service_id="annulment_of_records",
        details={"record_id": uow.case_views.rows[paternity]["record_id"], "reason": "решение суда"},
    )
    await use_cases.execute(use_cases.RegisterInChancellery(annulment, WORKER), uow, new_context())
    await use_cases.execute(use_cases.ImposeResolution(annulment, HEAD, EXEC.id, "x"), uow, new_context())
    await use_cases.execute(use_cases.RegisterAct(annulment, EXEC, None), uow, new_context())
    assert uow.events.types(birth_record)[-1].endswith("amended.v1")  # the original data given back

    rebuilt = FakeRecordViews()
    records = [
        s for s, events in uow.events.streams.items() if events[0].type.startswith("kz.civreg.record.")
    ]
    assert len(records) == 2
    for stream_id in records:
        await record_projection.replay(rebuilt, uow.events.streams[stream_id], 0)
    assert rebuilt.rows == uow.record_views.rows

    # Resuming after the first event of each stream gives the same rows as from the start.
    resumed = FakeRecordViews()
    for stream_id in records:
        events = uow.events.streams[stream_id]
        await record_projection.replay(resumed, events[:1], 0)
        await record_projection.replay(resumed, events, 1)
    assert resumed.rows == uow.record_views.rows
