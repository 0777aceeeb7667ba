"""Runs a coroutine to completion from synchronous code, whether or not an event loop is running here."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on a fresh loop in a helper thread and return its result (or raise its exception).

    Always a separate thread: asyncio.run() in the calling thread would replace and then unset that
    thread's current event loop, which breaks pytest-asyncio's session loop and any caller already
    inside a loop.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="btdeploy-run-sync", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
