"""`KafkaOffsets` starts one admin client and one consumer however many callers ask at once while they start:
/health's calls and the lag sampler did, and each started a pair of its own, all but the last dropped unclosed.
Fakes stand in for aiokafka's clients (their start is where the callers overlapped)."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from btkernel import health


class _Client:
    started: ClassVar[list[_Client]] = []
    stopped: ClassVar[list[_Client]] = []

    def __init__(self, **_: Any) -> None:
        pass

    async def start(self) -> None:
        await asyncio.sleep(0.01)  # a connection and a SASL exchange: long enough for the others to ask
        _Client.started.append(self)

    async def stop(self) -> None:
        _Client.stopped.append(self)

    close = stop


async def test_callers_at_once_share_one_pair_of_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    _Client.started, _Client.stopped = [], []
    monkeypatch.setattr(health, "AIOKafkaAdminClient", _Client)
    monkeypatch.setattr(health, "AIOKafkaConsumer", _Client)
    offsets = health.KafkaOffsets({"bootstrap_servers": "unused:9092"}, timeout_s=1.0)
    pairs = await asyncio.gather(*(offsets._clients() for _ in range(5)))
    assert len(_Client.started) == 2  # one admin client, one consumer
    assert all(pair == pairs[0] for pair in pairs)
    await offsets.close()
    assert sorted(map(id, _Client.stopped)) == sorted(map(id, _Client.started))
