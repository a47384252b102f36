"""/api/v1/trajectories and the learning routes over a real catalog, errors included."""

from __future__ import annotations

from fastapi.testclient import TestClient


def metric(client: TestClient, sample: str) -> float:
    """One sample's value from /metrics (0 before it is first counted)."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


SUCCEEDED = 'toolfoundry_trajectories_total{outcome="succeeded"}'
EXECUTED = 'toolfoundry_trajectory_steps_total{status="ok",step_type="tool_execution"}'


def test_a_run_over_rest(client: TestClient) -> None:
    # Counters are per process and other tests count too: compare before and after.
    succeeded, executed = metric(client, SUCCEEDED), metric(client, EXECUTED)
    started = client.post(
        "/api/v1/trajectories",
        json={"query": "split a bill of 10 between 4", "scenario": "finance", "llm_model": "m"},
    )
    assert started.status_code == 201
    run_id = started.json()["trajectory_id"]
    assert started.json()["status"] == "running"

    step = client.post(
        f"/api/v1/trajectories/{run_id}/steps",
        json={
            "step_type": "tool_selection",
            "output_data": {"tool": "samples.divide"},
            "llm_interaction": {"prompt": "p", "response": "r", "model": "m"},
            "execution_time": 0.12,
        },
    )
    assert step.status_code == 201 and step.json()["step_index"] == 1
    called = client.post(
        "/api/v1/tools/samples.divide/call",
        json={"arguments": {"a": 10, "b": 4}, "trajectory_id": run_id},
    )
    assert called.status_code == 200 and called.json()["structured"] == 2.5
    finished = client.post(
        f"/api/v1/trajectories/{run_id}/finish", json={"success": True, "result": {"each": 2.5}}
    )
    assert finished.status_code == 200 and finished.json()["status"] == "succeeded"

    stored = client.get(f"/api/v1/trajectories/{run_id}").json()
    assert [(s["step_index"], s["step_type"], s["tool_id"]) for s in stored["steps"]] == [
        (1, "tool_selection", None),
        (2, "tool_execution", "samples.divide"),
    ]
    assert stored["steps"][0]["llm_interaction"]["model"] == "m"
    listed = client.get("/api/v1/trajectories", params={"scenario": "finance"}).json()
    assert [t["trajectory_id"] for t in listed] == [run_id] and listed[0]["steps"] is None
    assert client.get("/api/v1/trajectories", params={"success": False}).json() == []

    insights = client.get("/api/v1/tools/samples.divide/insights").json()
    assert insights["runs"] == 1 and insights["example_requests"] == [
        "split a bill of 10 between 4"
    ]
    described = client.get(
        "/api/v1/tools/samples.divide/describe", params={"format": "text", "learned": True}
    ).json()
    assert "From usage:" in described and "split a bill of 10 between 4" in described
    assert client.get("/api/v1/trajectories/combinations").json() == []
    assert metric(client, SUCCEEDED) == succeeded + 1
    assert metric(client, EXECUTED) == executed + 1


def test_trajectory_errors_are_problem_details(client: TestClient) -> None:
    missing_query = client.post("/api/v1/trajectories", json={})
    assert missing_query.status_code == 422
    assert missing_query.json()["errors"][0]["path"] == "query"
    unknown_field = client.post("/api/v1/trajectories", json={"query": "x", "qurey": "y"})
    assert unknown_field.status_code == 422 and unknown_field.json()["errors"][0]["path"] == "qurey"

    unknown = client.post(
        "/api/v1/trajectories/tr_nope/steps", json={"step_type": "tool_selection"}
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert "POST /api/v1/trajectories" in unknown.json()["hint"]
    assert client.get("/api/v1/trajectories/tr_nope").status_code == 404

    run_id = client.post("/api/v1/trajectories", json={"query": "q"}).json()["trajectory_id"]
    bad_type = client.post(f"/api/v1/trajectories/{run_id}/steps", json={"step_type": "thinking"})
    assert bad_type.status_code == 422 and bad_type.json()["errors"][0]["path"] == "step_type"
    no_tool = client.post(
        f"/api/v1/trajectories/{run_id}/steps", json={"step_type": "tool_execution"}
    )
    assert no_tool.status_code == 422 and "tool_id" in no_tool.json()["detail"]
    huge = client.post(
        f"/api/v1/trajectories/{run_id}/steps",
        json={"step_type": "llm_reasoning", "output_data": {"text": "x" * 300_000}},
    )
    assert huge.status_code == 422 and "at most 262,144 are kept" in huge.json()["detail"]
    no_outcome = client.post(f"/api/v1/trajectories/{run_id}/finish", json={})
    assert no_outcome.status_code == 422 and no_outcome.json()["errors"][0]["path"] == "success"
    # A call into an unknown run is refused before the tool runs: nothing is recorded.
    orphan = client.post(
        "/api/v1/tools/samples.add/call", json={"arguments": {"a": 1}, "trajectory_id": "tr_nope"}
    )
    assert orphan.status_code == 404
    assert client.get("/api/v1/calls").json() == []  # the tool never ran
    assert client.post(f"/api/v1/trajectories/{run_id}/finish", json={"success": True}).is_success
    again = client.post(f"/api/v1/trajectories/{run_id}/finish", json={"success": False})
    assert again.status_code == 409 and "already finished" in again.json()["detail"]
    late = client.post(f"/api/v1/trajectories/{run_id}/steps", json={"step_type": "llm_reasoning"})
    assert late.status_code == 409
    assert client.get(f"/api/v1/trajectories/{run_id}").json()["total_steps"] == 0
    assert client.get("/api/v1/tools/samples.nope/insights").status_code == 404
    assert client.get("/api/v1/trajectories", params={"limit": 0}).status_code == 422
    no_age = client.delete("/api/v1/trajectories")
    assert no_age.status_code == 422 and no_age.json()["errors"][0]["path"] == "older_than_days"
    assert client.delete("/api/v1/trajectories", params={"older_than_days": -1}).status_code == 422
    pruned = client.delete("/api/v1/trajectories", params={"older_than_days": 0})
    assert pruned.json() == {"deleted": 1}
    assert client.get(f"/api/v1/trajectories/{run_id}").status_code == 404
