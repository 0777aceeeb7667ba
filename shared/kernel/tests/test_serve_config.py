"""The services' server configuration (btkernel.serve): the event loop is uvloop unless a run asks for asyncio's
own (BT_HTTP_LOOP), issue 13; the limits of ADR 0010 reach uvicorn's Config."""

from __future__ import annotations

import pytest

from btkernel import serve


async def _app(scope: object, receive: object, send: object) -> None:  # pragma: no cover - never called
    raise AssertionError


def test_the_loop_is_uvloop_by_default_and_asyncio_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BT_HTTP_LOOP", raising=False)
    assert serve.config(_app, host="127.0.0.1", port=1).loop == "uvloop"
    monkeypatch.setenv("BT_HTTP_LOOP", "asyncio")
    assert serve.config(_app, host="127.0.0.1", port=1).loop == "asyncio"


def test_an_unknown_loop_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BT_HTTP_LOOP", "trio")
    with pytest.raises(ValueError, match="loop"):
        serve.ServerSettings()


def test_the_limits_reach_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BT_SERVICE_NAME", "intake")
    cfg = serve.config(_app, host="127.0.0.1", port=1)
    assert cfg.timeout_keep_alive == 30.0
    assert cfg.limit_concurrency == 512
    assert cfg.backlog == 1024
