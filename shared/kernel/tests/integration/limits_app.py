"""A tiny app for the server-limit tests (`test_server_limits.py`), served by `python -m btkernel.serve`: it
has the request screen in front and counts the requests that reached a handler."""

from __future__ import annotations

from fastapi import FastAPI, Request

from btkernel.limits import RequestLimits

app = FastAPI()
app.add_middleware(RequestLimits, max_body_bytes=1024)
reached: list[int] = []


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/echo")
async def echo(request: Request) -> dict[str, int]:
    body = await request.body()
    reached.append(len(body))
    return {"size": len(body)}


@app.get("/reached")
async def count() -> dict[str, int]:
    return {"count": len(reached)}
