"""httpcore asks sniffio which async library runs, on every request of a pooled client (the gateway's proxy, the
registry's staff lookups). Without sniffio installed that question is a failing import each time, which scans
sys.path: issue 13 measured 15 % of the gateway's CPU there. The dependency is btkernel's; this keeps it."""

from __future__ import annotations

import sys

from httpcore._synchronization import current_async_library


async def test_the_async_library_is_known_without_a_failing_import() -> None:
    assert current_async_library() == "asyncio"
    # The import succeeded once and is cached: no path scan on the next request.
    assert "sniffio" in sys.modules
