"""The takeover's read-back when the broker cannot be reached: the error reaches the relay (which logs
`outbox_takeover_unchecked` and publishes as before) and the consumer it started is closed, not left to the
garbage collector's "Unclosed AIOKafkaConsumer"."""

from __future__ import annotations

import datetime as dt
import gc
import socket
import warnings

import pytest
from aiokafka.errors import KafkaConnectionError

from btkernel import outbox_takeover


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_read_back_that_cannot_start_closes_its_consumer() -> None:
    kafka = {"bootstrap_servers": f"127.0.0.1:{_closed_port()}", "request_timeout_ms": 2000}
    since = {"civreg.application": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KafkaConnectionError):
            await outbox_takeover._ids_in_topics(kafka, since, {"civreg.application": {"e1"}})
        gc.collect()
    assert not [w for w in caught if "Unclosed AIOKafkaConsumer" in str(w.message)]
