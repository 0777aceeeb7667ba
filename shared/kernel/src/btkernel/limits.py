"""The request screen every service (and the gateway) runs before its app sees a request.

Two jobs, both done before any handler can act, so a refused request leaves nothing behind:

* **Body cap.** A declared `Content-Length` over the cap is refused at once (413, nothing read); a chunked body
  is counted as it streams and refused the moment it passes the cap. The body is only handed on once it is
  whole, so a client that gives up half-way (or is cut by the server's body timeout, `btkernel.serve`) never
  reaches a handler either.
* **Storable text.** NUL, unpaired surrogates and invalid UTF-8 in the path, the query string or any string of a
  JSON or form body are refused with a 422 problem naming the field (`path`, `query.number`,
  `body.details.child.name.surname`). PostgreSQL text cannot hold them; they used to reach the driver and come back
  as 500s from a dozen endpoints. The field-level bounded types (`btkernel.bounded`) say the same for models; this
  screen also covers what no model declares (path parameters, free `dict` fields, unknown query parameters).

A pure ASGI middleware, not Starlette's `BaseHTTPMiddleware`: it must decide before the body is read into
memory, and replay the body it buffered (at most the cap) to the app.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from btkernel.bounded import NUL_REASON, text_problem
from btkernel.problems import problem_response

# An application with every party and a long free-text field is a few KB; 256 KiB leaves two orders of magnitude of
# room and is still far below what one Kafka message (1 MiB by default) or a worker's memory would mind.
DEFAULT_MAX_BODY_BYTES = 256 * 1024
# Our request bodies nest at most ~6 levels (application → details → child → name → surname). Deeper JSON is
# refused here: Python's parser (ours and FastAPI's) raises RecursionError on pathological nesting.
MAX_JSON_DEPTH = 32
# A free `dict` field (`details`, `facts`) holds a few dozen keys; thousands of keys are not data but a probe.
MAX_JSON_KEYS = 1000

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Refusal(Exception):
    """Why the screen refuses a request: the problem's status, title and the field at fault."""

    def __init__(self, status: int, title: str, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.status, self.title, self.field, self.reason = status, title, field, reason


def _printable(text: str) -> str:
    """`text` made safe to echo in a problem (a field name can itself hold the NUL or surrogate at fault)."""
    return text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def _decoded(raw: bytes, field: str) -> str:
    """Percent-decoded bytes as text, or a refusal naming `field`."""
    if b"\x00" in raw:
        raise Refusal(422, "Invalid input", field, NUL_REASON)
    try:
        # Strict UTF-8 also refuses encoded surrogates (%ED%A0%80): they are not valid UTF-8.
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(422, "Invalid input", field, "is not valid UTF-8 text") from None


def screen_path(raw_path: bytes) -> None:
    _decoded(unquote_to_bytes(raw_path), "path")


def screen_pairs(encoded: bytes, prefix: str) -> None:
    """An `application/x-www-form-urlencoded` string: a query string (prefix `query`) or a form body (`body`)."""
    for pair in encoded.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = _decoded(unquote_to_bytes(raw_name.replace(b"+", b" ")), prefix)
        _decoded(unquote_to_bytes(raw_value.replace(b"+", b" ")), f"{prefix}.{_printable(name)}")


def screen_json(body: bytes) -> None:
    """Every string (and key) of a JSON body; invalid JSON is left to the app, which names the position."""
    try:
        document = json.loads(body)
    except UnicodeDecodeError:
        raise Refusal(422, "Invalid input", "body", "is not valid UTF-8 text") from None
    except RecursionError:
        raise Refusal(
            422, "Invalid input", "body", f"is nested deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError:
        return
    _walk(document, "body", 0)


def _walk(value: Any, path: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise Refusal(422, "Invalid input", path, f"is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        if why := text_problem(value):
            raise Refusal(422, "Invalid input", path, why)
    elif isinstance(value, dict):
        if len(value) > MAX_JSON_KEYS:
            raise Refusal(422, "Invalid input", path, f"has more than {MAX_JSON_KEYS} keys")
        for key, item in value.items():
            if why := text_problem(key):
                raise Refusal(422, "Invalid input", path, f"a key {why}")
            _walk(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", depth + 1)


def _content_type(scope: Scope) -> str:
    headers: Iterable[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP parser refuses a malformed length before we are called
    return None


class TooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


class RequestLimits:
    """ASGI middleware: the body cap and the storable-text screen described in the module docstring."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            screen_path(scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape"))
            screen_pairs(scope.get("query_string", b""), "query")
            declared = _declared_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                raise TooLarge
            body = await self._read_body(receive) if scope["method"] in _BODY_METHODS else None
            if body:
                kind = _content_type(scope)
                if kind == "application/json" or kind.endswith("+json"):
                    screen_json(body)
                elif kind == "application/x-www-form-urlencoded":
                    screen_pairs(body, "body")
        except TooLarge:
            await self._too_large(scope, receive, send)
            return
        except ClientGone:
            return  # nobody to answer, and nothing was handed on
        except Refusal as refusal:
            await self._refuse(scope, receive, send, refusal)
            return
        if body is None:
            await self.app(scope, receive, send)
        else:
            await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "Request body too large",
            f"the request body is larger than {self.max_body_bytes} bytes, the most this service accepts",
            _printable(scope["path"]),
            [{"path": "body", "reason": f"larger than {self.max_body_bytes} bytes"}],
        )
        # Close the connection: the rest of the body may still be on its way, and we will not read it.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
        response = problem_response(
            refusal.status,
            refusal.title,
            f"{refusal.field}: {refusal.reason}",
            _printable(scope["path"]),
            [{"path": refusal.field, "reason": refusal.reason}],
        )
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body as one message, then the real channel (so the app still hears a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
