"""The REST API over a real catalog: every documented route and every documented error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from toolfoundry import Settings
from toolfoundry.api.app import create_app


def test_health_ready_metrics_and_docs(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["status"] == "ready" and ready["checks"]["database"] == "ok"
    client.post("/api/v1/tools/samples.add/call", json={"arguments": {"a": 1}})
    assert (
        'toolfoundry_tool_calls_total{status="ok",tool="samples.add"}'
        in client.get("/metrics").text
    )
    assert "/api/v1/tools/{tool_ref}/call" in client.get("/openapi.json").json()["paths"]


def test_toolkits(client: TestClient) -> None:
    created = client.post(
        "/api/v1/toolkits", json={"name": "geo", "description": "maps", "category": "data"}
    )
    assert created.status_code == 201 and created.json()["id"] == "geo"
    assert client.post("/api/v1/toolkits", json={"name": "geo"}).status_code == 409
    bad = client.post("/api/v1/toolkits", json={"name": "a b"})
    assert bad.status_code == 422 and "not a valid name" in bad.json()["detail"]
    missing = client.post("/api/v1/toolkits", json={})
    assert missing.status_code == 422 and missing.json()["errors"][0]["path"] == "name"
    ids = [k["id"] for k in client.get("/api/v1/toolkits").json()]
    assert ids == ["geo", "samples"]


def test_list_and_get_tools(client: TestClient) -> None:
    tools = client.get("/api/v1/tools", params={"toolkit": "samples"}).json()
    assert "samples.add" in [t["id"] for t in tools]
    assert [t["id"] for t in client.get("/api/v1/tools", params={"q": "case"}).json()] == [
        "samples.change_case"
    ]
    assert client.get("/api/v1/tools", params={"kind": "mcp"}).json() == []
    bad_kind = client.get("/api/v1/tools", params={"kind": "lambda"})
    assert bad_kind.status_code == 422 and bad_kind.json()["errors"][0]["path"] == "kind"
    tool = client.get("/api/v1/tools/samples.add").json()
    assert tool["input_schema"]["required"] == ["a"]
    assert tool["versions"][0]["version"] == "1.0.0" and tool["usage_count"] == 0


def test_call_and_call_log(client: TestClient) -> None:
    response = client.post("/api/v1/tools/samples.add/call", json={"arguments": {"a": 2, "b": 3}})
    assert response.status_code == 200
    assert response.json()["structured"] == 5 and response.json()["is_error"] is False
    failed = client.post("/api/v1/tools/samples.divide/call", json={"arguments": {"a": 1, "b": 0}})
    assert failed.status_code == 200 and failed.json()["is_error"] is True
    assert failed.json()["error"]["type"] == "ZeroDivisionError"
    calls = client.get("/api/v1/calls", params={"limit": 2}).json()
    assert [c["tool_id"] for c in calls] == ["samples.divide", "samples.add"]
    assert client.get("/api/v1/tools/samples.add").json()["usage_count"] == 1
    assert client.get("/api/v1/calls", params={"limit": 0}).status_code == 422


def test_call_errors_are_problem_details(client: TestClient) -> None:
    unknown = client.post("/api/v1/tools/samples.ad/call", json={"arguments": {}})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert "samples.add" in unknown.json()["suggestions"]
    bad = client.post(
        "/api/v1/tools/samples.total_quantity/call",
        json={"arguments": {"items": [{"name": "x", "qty": "lots"}]}},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "items[0].qty"
    not_object = client.post("/api/v1/tools/samples.add/call", json={"arguments": [1, 2]})
    assert not_object.status_code == 422
    not_json = client.post(
        "/api/v1/tools/samples.add/call",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert not_json.status_code == 422
    no_version = client.post("/api/v1/tools/samples.add@9.9.9/call", json={"arguments": {"a": 1}})
    assert no_version.status_code == 404 and "1.0.0" in no_version.json()["hint"]


def test_patch_enable_disable_deprecate(client: TestClient) -> None:
    off = client.patch("/api/v1/tools/samples.add", json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert (
        client.post("/api/v1/tools/samples.add/call", json={"arguments": {"a": 1}}).status_code
        == 404
    )
    on = client.patch("/api/v1/tools/samples.add", json={"enabled": True, "deprecated": True})
    assert on.json()["enabled"] is True and on.json()["deprecated"] is True
    assert client.patch("/api/v1/tools/samples.add", json={}).status_code == 422
    assert client.patch("/api/v1/tools/nope.nothing", json={"enabled": True}).status_code == 404
    bad = client.patch("/api/v1/tools/samples.add", json={"enabled": "maybe"})
    assert bad.status_code == 422


def test_unavailable_backend_is_503(
    client: TestClient, settings: Settings, auth_headers: dict[str, str]
) -> None:
    def local_tool(x: int) -> int:
        """Defined in a test: cannot be re-imported after a restart."""
        return x

    library = client.app.state.library  # type: ignore[attr-defined]
    client.portal.call(lambda: library.register(local_tool, toolkit="ephemeral"))  # type: ignore[union-attr]
    with TestClient(create_app(settings), headers=auth_headers) as restarted:
        response = restarted.post(
            "/api/v1/tools/ephemeral.local_tool/call", json={"arguments": {"x": 1}}
        )
    assert response.status_code == 503
    assert "cannot load" in response.json()["detail"]


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "mcp", "text"])
def test_describe_formats(client: TestClient, fmt: str) -> None:
    response = client.get("/api/v1/tools/samples.change_case/describe", params={"format": fmt})
    assert response.status_code == 200
    body = response.json()
    text = body if isinstance(body, str) else str(body)
    assert "Change the case of a text." in text
    assert "upper" in text and "lower" in text


def test_describe_unknown_format_is_422(client: TestClient) -> None:
    response = client.get("/api/v1/tools/samples.add/describe", params={"format": "yaml"})
    assert response.status_code == 422
