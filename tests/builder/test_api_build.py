"""/api/v1/build over a real catalog: validation, errors, results, cancel, WebSocket, metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from toolfoundry import Settings
from toolfoundry.api.app import create_app
from toolfoundry.builder.models import BuildRequirement, GeneratedFiles, ProgressCallback
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.base import BuildAttempt

GOOD = {"description": "Convert Markdown text to HTML", "dependencies": ["markdown"]}


class HangingStrategy:
    """Generates a server that never answers MCP initialize (it sleeps on import)."""

    name = "hang"

    async def build(
        self,
        requirement: BuildRequirement,
        workspace: BuildWorkspace,
        on_progress: ProgressCallback,
    ) -> BuildAttempt:
        env = await workspace.create_environment(BuildRequirement(description="bare"))
        files = GeneratedFiles(files={"server.py": "import time\n\ntime.sleep(3600)\n"})
        return BuildAttempt(files=files, environment=env)


@pytest.fixture
def client(settings: Settings, auth_headers: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=auth_headers) as test_client:
        test_client.app.state.library.builds.register_strategy(HangingStrategy())  # type: ignore[attr-defined]
        yield test_client


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"requirement": {"description": ""}}, "requirement.description"),
        ({"requirement": {"description": "   "}}, "requirement.description"),
        ({"requirement": GOOD, "priority": "urgent"}, "priority"),
        ({"requirement": GOOD, "timeout": 0}, "timeout"),
        ({"requirement": GOOD, "timeout": 100_000}, "timeout"),
        ({"requirement": {**GOOD, "examples": ["no arrow here"]}}, "requirement.examples"),
        ({"requirement": {**GOOD, "examples": [{"expected": 1}]}}, "requirement.examples.0.input"),
        ({"requirement": {**GOOD, "dependencies": ["https://x.org/a.whl"]}}, "requirement."),
        ({"requirement": GOOD, "colour": "blue"}, "colour"),
        ({"requirement": {**GOOD, "functionality": "x"}}, "requirement.functionality"),
        ({}, "requirement"),
    ],
)
def test_bad_requests_are_422_with_the_path(client: TestClient, body: dict, path: str) -> None:
    response = client.post("/api/v1/build", json=body)
    assert response.status_code == 422, response.text
    assert any(e["path"].startswith(path) for e in response.json()["errors"]), response.text
    assert client.get("/api/v1/builds").json() == []


def test_unknown_build_is_404(client: TestClient) -> None:
    for method, url in [
        ("GET", "/api/v1/build/bld_nope/status"),
        ("GET", "/api/v1/build/bld_nope/result"),
        ("POST", "/api/v1/build/bld_nope/cancel"),
    ]:
        response = client.request(method, url)
        assert response.status_code == 404, (url, response.text)
        assert "bld_nope" in response.json()["detail"]
    with client.websocket_connect("/api/v1/build/bld_nope/ws") as ws:
        message = ws.receive_json()
    assert message["type"] == "error" and message["problem"]["status"] == 404


def test_a_build_runs_to_its_result_and_is_listed(client: TestClient) -> None:
    # No dependency: the package wrapper refuses quickly, a real run through the workers.
    body = {"requirement": {"description": "Something with no package"}, "priority": "high"}
    accepted = client.post("/api/v1/build", json=body)
    assert accepted.status_code == 202, accepted.text
    data = accepted.json()
    assert data["status"] == "queued" and data["build_id"].startswith("bld_")
    assert data["estimated_completion"] and "status" in data["message"]
    build_id = data["build_id"]
    for _ in range(100):
        status = client.get(f"/api/v1/build/{build_id}/status").json()
        if status["status"] in ("completed", "failed"):
            break
        time.sleep(0.1)
    assert set(status) >= {"status", "progress", "current_phase", "logs", "estimated_remaining"}
    assert status["status"] == "failed" and status["estimated_remaining"] == 0
    result = client.get(f"/api/v1/build/{build_id}/result").json()
    assert set(result) >= {
        "success",
        "mcp_asset",
        "error_message",
        "build_metrics",
        "test_results",
        "iterations",
    }
    assert result["success"] is False and result["mcp_asset"] is None
    assert result["build_metrics"]["mode"] == "package-wrapper (no LLM configured)" or (
        result["failure_type"] == "sandbox_unavailable"
    )
    listed = client.get("/api/v1/builds").json()
    assert [b["id"] for b in listed] == [build_id] and listed[0]["priority"] == "high"
    assert client.post(f"/api/v1/build/{build_id}/cancel").status_code == 409

    metrics = client.get("/metrics").text
    for name in (
        'mcp_build_requests_total{priority="high",status="failed"}',
        "mcp_build_duration_seconds_bucket",
        "mcp_active_builds",
        "mcp_code_generation_success_rate",
        "mcp_environment_build_success_rate",
        "mcp_test_validation_success_rate",
    ):
        assert name in metrics


@pytest.mark.slow
def test_result_is_409_while_running_then_cancel_and_websocket_final(
    client: TestClient, sandbox: object, processes_with: Callable[[str], list[int]]
) -> None:
    service = client.app.state.library.builds  # type: ignore[attr-defined]
    record = client.portal.call(  # type: ignore[union-attr]
        lambda: service.submit(BuildRequirement(description="Sleep"), strategy="hang", timeout=300)
    )
    assert client.get(f"/api/v1/build/{record.id}/result").status_code == 409
    with client.websocket_connect(f"/api/v1/build/{record.id}/ws") as ws:
        events = [ws.receive_json()]
        while events[-1]["data"]["status"] != "testing":
            events.append(ws.receive_json())
        assert client.post(f"/api/v1/build/{record.id}/cancel").json()["status"] == "cancelled"
        while not events[-1]["data"]["final"]:
            events.append(ws.receive_json())
    assert {e["type"] for e in events} == {"progress_update"}
    kinds = [e["data"]["type"] for e in events]
    assert "phase" in kinds and "log" in kinds and kinds[-1] == "final"
    assert events[-1]["data"]["status"] == "cancelled"
    assert processes_with(record.id) == []


@pytest.mark.slow
def test_a_hanging_build_times_out_over_the_websocket(client: TestClient, sandbox: object) -> None:
    service = client.app.state.library.builds  # type: ignore[attr-defined]
    record = client.portal.call(  # type: ignore[union-attr]
        lambda: service.submit(BuildRequirement(description="Sleep"), strategy="hang", timeout=6)
    )
    with client.websocket_connect(f"/api/v1/build/{record.id}/ws") as ws:
        final = ws.receive_json()
        while not final["data"]["final"]:
            final = ws.receive_json()
    assert final["data"]["status"] == "failed"
    assert "timeout" in final["data"]["message"]
    result = client.get(f"/api/v1/build/{record.id}/result").json()
    assert result["failure_type"] == "timeout"
