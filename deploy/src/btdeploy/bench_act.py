"""The whole civil act for `make bench` (issue 13: "a civil act also needs about five case steps and a hand-over,
so measure the whole act as well"): a birth submitted at the centre, the case through the office's five steps
(S002 p.5, as `bench_rebuild.register`), and the result handed over at the centre (S002 p.9). Reported as acts per
second at the given concurrency and p50/p99 of each request; the two waits for Kafka (case opened, result back at
the centre) are timed apart, since they are the pipeline's delay, not a request's.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from btdeploy import bench_load
from btdeploy.e2e import Gateway, dev_user
from btdeploy.samples import birth_application

CENTRE, OFFICE = "almaty-con-1", "almaty-almaly"
STEPS = ("chancellery-registration", "resolution", "registration", "signature", "dispatch")
WAIT_S = 60.0  # a case or a result that has not arrived by then counts the act as failed


@dataclass
class Acts:
    completed: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    application_ids: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s else 0.0


async def _poll(probe: Any, timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (found := await probe()) is not None:
            return found
        await asyncio.sleep(0.05)
    return None


async def run(gw: Gateway, count: int, concurrency: int, first: int = 0) -> Acts:
    operator = dev_user("centre_operator", CENTRE)
    chancellery = dev_user("registry_chancellery", OFFICE)
    head = dev_user("registry_head", OFFICE)
    executive = dev_user("registry_executive", OFFICE)
    for user in (operator, chancellery, head, executive):
        await gw.token(user)
    acts = Acts()
    numbers = iter(range(first, first + count))

    async def timed(name: str, user: Any, method: str, path: str, **kw: Any) -> Any:
        t0 = time.perf_counter()
        r = await gw.as_(user, method, path, **kw)
        acts.timings[name].append(time.perf_counter() - t0)
        return r

    async def one(i: int) -> bool:
        body = birth_application(email=f"bench-act-{i}@example.kz")
        # With an Idempotency-Key, as the desk submits (ADR 0011).
        key = {"Idempotency-Key": f"bench-act-{bench_load.RUN}-{i}"}
        r = await timed("submission", operator, "POST", "/api/v1/applications", json=body, headers=key)
        if r.status_code != 201:
            return False
        application_id, receipt = r.json()["application_id"], r.json()["receipt"]["number"]
        acts.application_ids.append(application_id)

        async def case() -> str | None:
            r = await gw.as_(head, "GET", "/api/v1/cases", params={"application_id": application_id})
            return str(r.json()[0]["case_id"]) if r.status_code == 200 and r.json() else None

        t0 = time.perf_counter()
        case_id = await _poll(case)
        acts.timings["wait: case opened"].append(time.perf_counter() - t0)
        if case_id is None:
            return False
        for user, action, payload in (
            (chancellery, STEPS[0], None),
            (head, STEPS[1], {"executive_id": executive.username}),
            (executive, STEPS[2], {}),
            (head, STEPS[3], None),
            (chancellery, STEPS[4], None),
        ):
            r = await timed(action, user, "POST", f"/api/v1/cases/{case_id}/{action}", json=payload)
            if r.status_code != 200:
                return False

        async def ready() -> bool | None:
            r = await gw.as_(operator, "GET", f"/api/v1/applications/{application_id}")
            return True if r.status_code == 200 and r.json()["status"] == "ready_for_pickup" else None

        t0 = time.perf_counter()
        arrived = await _poll(ready)
        acts.timings["wait: result at the centre"].append(time.perf_counter() - t0)
        if not arrived:
            return False
        r = await timed(
            "hand-over",
            operator,
            "POST",
            f"/api/v1/applications/{application_id}/handover",
            json={"receipt_number": receipt, "identity_document_iin": body["applicant"]["iin"]},
        )
        return bool(r.status_code == 200)

    async def worker() -> None:
        for i in numbers:
            if await one(i):
                acts.completed += 1
            else:
                acts.failed += 1

    start = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    acts.elapsed_s = time.perf_counter() - start
    return acts
