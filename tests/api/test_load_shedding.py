"""Load shedding: beyond the in-flight limit the service answers 503 with Retry-After at once,
while the admitted calls finish and the health probes keep answering."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from toolfoundry import Settings
from toolfoundry.api.app import create_app


async def linger(seconds: float) -> str:
    """Sleep, then answer.

    Args:
        seconds: How long to sleep.
    """
    await asyncio.sleep(seconds)
    return "done"


def test_requests_beyond_the_limit_are_shed_quickly(
    settings: Settings, auth_headers: dict[str, str]
) -> None:
    limited = settings.model_copy(update={"max_inflight_requests": 2})
    with TestClient(create_app(limited), headers=auth_headers) as client:
        library = client.app.state.library  # type: ignore[attr-defined]
        client.portal.call(lambda: library.register(linger, toolkit="slow", timeout=10))  # type: ignore[union-attr]

        def call() -> tuple[int, float, str | None]:
            started = time.monotonic()
            response = client.post(
                "/api/v1/tools/slow.linger/call", json={"arguments": {"seconds": 1.5}}
            )
            return (
                response.status_code,
                time.monotonic() - started,
                response.headers.get("Retry-After"),
            )

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(call) for _ in range(8)]
            time.sleep(0.5)  # two calls are running now
            assert client.get("/health").status_code == 200
            assert client.get("/ready").status_code == 200
            outcomes = [f.result() for f in futures]
        admitted = [o for o in outcomes if o[0] == 200]
        shed = [o for o in outcomes if o[0] == 503]
        assert len(admitted) == 2 and len(shed) == 6, outcomes
        assert all(retry == "1" and seconds < 1.0 for _, seconds, retry in shed), shed
        after = client.post("/api/v1/tools/slow.linger/call", json={"arguments": {"seconds": 0}})
        assert after.status_code == 200  # capacity is back once the calls finished
        assert "toolfoundry_requests_shed_total" in client.get("/metrics").text
