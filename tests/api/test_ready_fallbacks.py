"""/ready details and /metrics show the state of the automatic fallbacks."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from fastapi.testclient import TestClient


def test_ready_reports_discovery_and_automatic_building(client: TestClient) -> None:
    ready = client.get("/ready")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["discovery"].startswith("ok (latency budget ")
    assert checks["auto_build"] == "on: no builds finished recently"


def test_metrics_expose_the_fallback_and_server_gauges(client: TestClient) -> None:
    text = client.get("/metrics").text
    for name in (
        "toolfoundry_auto_build_enabled 1.0",
        "toolfoundry_build_recent_success_rate NaN",
        "# TYPE toolfoundry_discovery_fallbacks_total counter",
        "# TYPE toolfoundry_mcp_server_up gauge",
        "# TYPE toolfoundry_mcp_breaker_open gauge",
    ):
        assert name in text, name


def test_metrics_report_a_registered_server_up_and_its_breaker_closed(client: TestClient) -> None:
    command = shutil.which("mcp-server-time", path=str(Path(sys.executable).parent))
    assert command, "mcp-server-time is a test dependency"
    added = client.post("/api/v1/mcp-servers", json={"name": "clock", "command": command})
    assert added.status_code == 201, added.text
    text = client.get("/metrics").text
    assert 'toolfoundry_mcp_server_up{server="clock"} 1.0' in text
    assert 'toolfoundry_mcp_breaker_open{server="clock"} 0.0' in text
