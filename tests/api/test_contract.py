"""The API contract: UTC timestamps with their offset, strict booleans, bounded numbers (a 422,
never a 500), and every problem status in the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient


def _aware(value: str) -> bool:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0


def test_timestamps_carry_their_utc_offset(client: TestClient) -> None:
    toolkit = client.get("/api/v1/toolkits").json()[0]
    assert _aware(toolkit["created_at"]), toolkit["created_at"]
    tool = client.get("/api/v1/tools/samples.add").json()
    stamps = [tool["created_at"], tool["updated_at"]]
    stamps += [v["created_at"] for v in tool.get("versions") or []]
    started = client.post("/api/v1/trajectories", json={"query": "add numbers"}).json()
    stamps.append(started["start_time"])
    client.post("/api/v1/tools/samples.add/call", json={"arguments": {"a": 1}})
    stamps += [c["started_at"] for c in client.get("/api/v1/calls").json()]
    run = client.get(f"/api/v1/trajectories/{started['trajectory_id']}").json()
    stamps.append(run["start_time"])
    assert stamps and all(_aware(s) for s in stamps), stamps


@pytest.mark.parametrize("value", [0, 1, "true", "yes"])
def test_booleans_are_strict(client: TestClient, value: object) -> None:
    response = client.patch("/api/v1/tools/samples.add", json={"enabled": value})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["path"] == "enabled"
    assert client.get("/api/v1/tools/samples.add").json()["enabled"] is True  # nothing written


@pytest.mark.parametrize("days", ["1e308", "inf", "-inf", "nan", "99999999999", "-1"])
def test_pruning_with_an_unbounded_age_is_a_422(client: TestClient, days: str) -> None:
    response = client.delete("/api/v1/trajectories", params={"older_than_days": days})
    assert response.status_code == 422, response.text
    assert "older_than_days" in response.text


def test_the_openapi_document_lists_the_problem_statuses(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    call = paths["/api/v1/tools/{tool_ref}/call"]["post"]["responses"]
    assert {"404", "409", "422", "503", "504"} <= set(call)
    assert call["503"]["content"]["application/problem+json"]
    cancel = paths["/api/v1/build/{build_id}/cancel"]["post"]["responses"]
    assert {"404", "409"} <= set(cancel)
    prune = paths["/api/v1/trajectories"]["delete"]
    (age,) = [p for p in prune["parameters"] if p["name"] == "older_than_days"]
    assert age["schema"]["maximum"] == 36_500
