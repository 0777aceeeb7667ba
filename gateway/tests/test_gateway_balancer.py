"""Several instances of a service (gateway.balancer): requests spread, a request that could not reach one
instance goes to the other, and the rule of ADR 0011 still says which requests may be sent twice."""

from __future__ import annotations

import httpx
import pytest
from gateway_fakes import FakeUpstreams, MemoryUsers, make_settings

from gateway.balancer import Instances, split_urls
from gateway.main import build_app
from gateway.upstream import UpstreamClient

A, B = "http://a.test", "http://b.test"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_setting_lists_instances_comma_separated() -> None:
    assert split_urls("http://a:1/, http://b:2") == ("http://a:1", "http://b:2")
    assert split_urls("http://a:1") == ("http://a:1",)
    with pytest.raises(ValueError, match="no URL"):
        split_urls(" , ")


def test_picks_take_turns_and_prefer_the_least_busy() -> None:
    instances = Instances("intake", [A, B])
    assert sorted(instances.pick() for _ in range(4)) == [A, A, B, B]
    with instances.in_flight(A):
        assert {instances.pick() for _ in range(4)} == {B}


def test_an_instance_marked_away_is_passed_over_for_a_while() -> None:
    clock = Clock()
    instances = Instances("intake", [A, B], away_s=2.0, clock=clock)
    instances.mark_away(A)
    assert {instances.pick() for _ in range(4)} == {B}
    assert instances.failover_order(B) == [B, A]
    clock.now += 2.5
    assert {instances.pick() for _ in range(4)} == {A, B}
    # Both away: a mark is a guess, so they are tried all the same.
    instances.mark_away(A)
    instances.mark_away(B)
    assert {instances.pick() for _ in range(4)} == {A, B}


class Instance:
    """A MockTransport for two hosts: `down` refuses connections; `broken` drops the connection after the request
    was sent (the instance died while working on it)."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.broken: set[str] = set()
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        base = f"{request.url.scheme}://{request.url.host}"
        self.seen.append(base)
        if base in self.down:
            raise httpx.ConnectError("refused", request=request)
        if base in self.broken:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(200, text=base)


def _client(handler: Instance) -> UpstreamClient:
    transport = httpx.MockTransport(handler)
    return UpstreamClient(transport, transport)


async def test_a_connect_error_goes_to_the_other_instance_for_any_request() -> None:
    handler = Instance()
    handler.down.add(A)
    client, instances = _client(handler), Instances("intake", [A, B])
    response = await client.send_balanced(instances, "POST", f"{A}/api/v1/x", content=b"{}", headers={})
    assert response.text == B
    assert handler.seen == [A, B]
    assert instances.is_away(A)
    # While A is marked away, new requests go straight to B.
    handler.seen.clear()
    picked = instances.pick()
    assert picked == B
    await client.send_balanced(instances, "GET", f"{picked}/health", content=None, headers={})
    assert handler.seen == [B]


async def test_a_broken_connection_is_replayed_elsewhere_only_when_the_request_allows_it() -> None:
    handler = Instance()
    handler.broken.add(A)
    client, instances = _client(handler), Instances("intake", [A, B])
    keyed = await client.send_balanced(
        instances, "POST", f"{A}/api/v1/x", content=b"{}", headers={"Idempotency-Key": "k"}
    )
    assert keyed.text == B
    handler.seen.clear()
    with pytest.raises(httpx.RemoteProtocolError):
        # A POST without a key may have been acted on: never sent twice (ADR 0011).
        await client.send_balanced(instances, "POST", f"{A}/api/v1/x", content=b"{}", headers={})
    assert handler.seen == [A]
    assert not instances.is_away(A)


async def test_every_instance_away_raises_the_last_error() -> None:
    handler = Instance()
    handler.down.update({A, B})
    client, instances = _client(handler), Instances("intake", [A, B])
    with pytest.raises(httpx.ConnectError):
        await client.send_balanced(instances, "GET", f"{A}/health", content=None, headers={})
    assert handler.seen == [A, B]


async def test_health_reports_each_instance_and_the_service_serves_while_one_does(
    upstreams: FakeUpstreams, users: MemoryUsers
) -> None:
    app = build_app(make_settings(intake_url="http://intake.test,http://intake2.test"))
    app.state.gateway.attach(users, upstreams.transport())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as c:
        body = (await c.get("/health")).json()
        assert body["status"] == "ok"
        assert set(body["upstreams"]["intake"]["instances"]) == {"http://intake.test", "http://intake2.test"}

        upstreams.down.add("intake2")  # the second instance's host
        response = await c.get("/health")
        body = response.json()
        assert response.status_code == 200
        intake = body["upstreams"]["intake"]
        assert intake["status"] == "degraded"
        assert intake["instances"]["http://intake2.test"]["status"] == "down"
        assert intake["instances"]["http://intake.test"]["status"] == "ok"
        assert any("intake2.test" in reason for reason in body["reasons"])

        upstreams.down.add("intake")
        response = await c.get("/health")
        assert response.status_code == 503
        assert response.json()["upstreams"]["intake"]["status"] == "down"
    await app.state.gateway.detach()
