"""The SMS provider's delivery reports reach the notification service through the gateway (ADR 0038): public, the
body and its signature relayed byte for byte, the service's answer passed back, 503 with Retry-After while the
service is away, and an oversized body refused before it goes inside."""

from __future__ import annotations

import httpx
from gateway_fakes import FakeUpstreams

from btkernel import internal_token

# A form as the provider writes it, with a byte a re-encoding would change ('+' and '%2B' differ once signed).
BODY = b"id=3f2c9a1e-0000-4000-8000-000000000001&phone=77011234567&status=1&err=0&ts=1700000000&x=a+b%2B"
SIGNATURE = "sha256=" + "ab" * 32


async def test_a_report_is_relayed_byte_for_byte_with_its_signature_and_the_answer_comes_back(
    client: httpx.AsyncClient, upstreams: FakeUpstreams
) -> None:
    upstreams.handlers["notification"] = lambda request: httpx.Response(
        200, json={"id": "3f2c9a1e-0000-4000-8000-000000000001", "outcome": "delivered"}
    )
    r = await client.post(
        "/sms-provider/reports",
        content=BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Sms-Signature": SIGNATURE},
    )
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "delivered"
    sent = upstreams.last("notification")
    assert (sent.method, str(sent.url)) == ("POST", "http://notification.test/sms-provider/reports")
    assert sent.content == BODY
    assert sent.headers["x-sms-signature"] == SIGNATURE
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    # No user is behind it: no token is made up for the provider.
    assert internal_token.HEADER.lower() not in {k.lower() for k in sent.headers}
    assert "authorization" not in sent.headers


async def test_the_services_refusal_passes_through_unchanged(
    client: httpx.AsyncClient, upstreams: FakeUpstreams
) -> None:
    problem = {"title": "Unauthorized", "status": 401, "detail": "not signed with this deployment's key"}
    upstreams.handlers["notification"] = lambda request: httpx.Response(
        401, json=problem, headers={"Content-Type": "application/problem+json"}
    )
    r = await client.post(
        "/sms-provider/reports", content=BODY
    )  # unsigned: the service decides, not the gateway
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json() == problem
    assert "x-sms-signature" not in upstreams.last("notification").headers


async def test_an_absent_notification_service_is_503_with_retry_after(
    client: httpx.AsyncClient, upstreams: FakeUpstreams
) -> None:
    upstreams.down.add("notification")
    r = await client.post("/sms-provider/reports", content=BODY, headers={"X-Sms-Signature": SIGNATURE})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "10"


async def test_a_body_too_long_for_a_report_is_refused_at_the_gateway(
    client: httpx.AsyncClient, upstreams: FakeUpstreams
) -> None:
    r = await client.post(
        "/sms-provider/reports", content=b"x" * 2049, headers={"X-Sms-Signature": SIGNATURE}
    )
    assert r.status_code == 422
    assert [e["path"] for e in r.json()["errors"]] == ["body"]
    assert not [q for q in upstreams.requests if q.url.host == "notification.test"]
