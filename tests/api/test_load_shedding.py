"""Load shedding: beyond the in-flight limit the service answers 503 with Retry-After at once,
while the admitted calls finish and the health probes keep answering."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sample_tools
from fastapi.testclient import TestClient
from serve_process import free_port, serve

from toolfoundry import Settings, ToolLibrary
from toolfoundry.api.app import create_app

SUPPORT = Path(sample_tools.__file__).parent


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
        assert all(retry == "1" for _, _, retry in shed), shed
        after = client.post("/api/v1/tools/slow.linger/call", json={"arguments": {"seconds": 0}})
        assert after.status_code == 200  # capacity is back once the calls finished
        assert "toolfoundry_requests_shed_total" in client.get("/metrics").text


@pytest.mark.slow
def test_a_real_server_refuses_the_excess_in_the_app_and_at_the_protocol(
    settings: Settings, tmp_path: Path, auth_headers: dict[str, str]
) -> None:
    """`toolfoundry serve` with 2 requests in flight allowed (the app answers 503 problem
    details with Retry-After) and 4 connections (uvicorn answers a bare 503 and closes)."""

    async def register() -> None:
        async with ToolLibrary.open(settings) as library:
            await library.register(sample_tools.sleepy, toolkit="slow", timeout=60)

    asyncio.run(register())
    port = free_port()
    env = {
        "PYTHONPATH": str(SUPPORT),  # the served process imports the function tool
        "TOOLFOUNDRY_MAX_INFLIGHT_REQUESTS": "2",
        "TOOLFOUNDRY_LIMIT_CONCURRENCY": "4",
    }
    process = serve(settings, port, tmp_path / "serve.log", env=env)
    url = f"http://127.0.0.1:{port}/api/v1/tools/slow.sleepy/call"
    finished: list[int] = []

    def slow_call() -> None:
        """Holds a slot for 15 s; retried until admitted (the other callers compete)."""
        with httpx.Client(headers=auth_headers, timeout=60) as client:
            while (
                response := client.post(url, json={"arguments": {"seconds": 15}})
            ).status_code == 503:
                time.sleep(0.05)
        finished.append(response.status_code)

    try:
        # Connections 1 and 2: calls that stay in flight.
        holders = [threading.Thread(target=slow_call) for _ in range(2)]
        for thread in holders:
            thread.start()
        # Connection 3 (kept open): once both are admitted, the app refuses the next call.
        with httpx.Client(headers=auth_headers, timeout=30) as third:
            shed = _first_refusal(third, url)
            assert shed.headers["Retry-After"] == "1"
            assert shed.headers["content-type"] == "application/problem+json"
            assert shed.json()["code"] == "overloaded"
            # The app never sheds probes (uvicorn would refuse a 4th connection, probe or not).
            assert third.get(f"http://127.0.0.1:{port}/health").status_code == 200
            # Connection 4 (3 open before it): uvicorn refuses it before the app runs.
            with httpx.Client(headers=auth_headers, timeout=30) as fourth:
                bare = fourth.post(url, json={"arguments": {"seconds": 0}})
            assert bare.status_code == 503
            assert bare.headers["connection"] == "close"
            assert bare.text == "Service Unavailable"
            # Both refusals came back while the admitted calls were still running.
            assert finished == [], "the refusals waited for the admitted calls"
        for thread in holders:
            thread.join(60)
        assert finished == [200, 200]
        # Capacity is back once they finished.
        with httpx.Client(headers=auth_headers, timeout=30) as client:
            after = client.post(url, json={"arguments": {"seconds": 0}})
            assert after.status_code == 200, after.text
            shed_total = re.search(
                r"^toolfoundry_requests_shed_total (\S+)$",
                client.get(f"http://127.0.0.1:{port}/metrics").text,
                re.MULTILINE,
            )
            assert shed_total is not None and float(shed_total.group(1)) >= 2  # both layers
    finally:
        process.terminate()
        process.wait(timeout=60)


def _first_refusal(client: httpx.Client, url: str) -> httpx.Response:
    """Call until the app refuses (the two slow calls may still be on their way in)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.post(url, json={"arguments": {"seconds": 0}})
        if response.status_code == 503:
            return response
        assert response.status_code == 200, response.text
        time.sleep(0.3)
    raise AssertionError("no call was refused while two were in flight")


@pytest.mark.slow
def test_several_workers_share_the_token_file_and_follow_the_catalog(
    settings: Settings, tmp_path: Path
) -> None:
    """`serve --workers 2`: one admin token file written before the workers start, and a tool
    added after the start (by another process) is callable on fresh connections."""
    port = free_port()
    env = {"PYTHONPATH": str(SUPPORT)}
    process = serve(settings, port, tmp_path / "serve.log", "--workers", "2", env=env)
    try:
        token = (Path(settings.data_dir) / "admin.token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}

        async def register() -> None:
            async with ToolLibrary.open(settings) as library:
                await library.register(sample_tools.add)

        asyncio.run(register())
        url = f"http://127.0.0.1:{port}/api/v1/tools/samples.add/call"
        deadline = time.monotonic() + 60

        def call(n: int) -> httpx.Response:
            """On a fresh connection (any worker); a worker may see the tool a moment later."""
            while True:
                answer = httpx.post(url, json={"arguments": {"a": n}}, headers=headers)
                if answer.status_code != 404 or time.monotonic() > deadline:
                    return answer
                time.sleep(0.2)

        answers = [call(n) for n in range(20)]
        assert [a.status_code for a in answers] == [200] * 20, answers[-1].text
        assert [a.json()["structured"] for a in answers] == [n + 2 for n in range(20)]
    finally:
        process.terminate()
        process.wait(timeout=60)
