"""At most once unless safe: a call whose MCP session died mid-call is repeated only for tools
the server annotates idempotent/read-only (or configured so); otherwise a 503 says the outcome
is unknown. A real stdio server kills itself inside the tool."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from toolfoundry.auth import TokenStore

SERVER = Path(__file__).parent / "servers" / "crash_server.py"
QUIET = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}


def _register(client: TestClient, **extra: object) -> None:
    body = {"name": "crashy", "command": sys.executable, "args": [str(SERVER)], "env": QUIET}
    response = client.post("/api/v1/mcp-servers", json={**body, **extra})
    assert response.status_code == 201, response.text


@pytest.mark.slow
def test_a_crash_mid_call_is_not_repeated_and_the_outcome_is_unknown(
    client: TestClient, tmp_path: Path
) -> None:
    _register(client)
    target = tmp_path / "lines.txt"
    response = client.post(
        "/api/v1/tools/crashy.append_then_crash/call", json={"arguments": {"path": str(target)}}
    )
    assert response.status_code == 503, response.text
    problem = response.json()
    assert problem["code"] == "outcome_unknown"
    assert "outcome is unknown" in problem["detail"]
    assert "may repeat its side effects" in problem["detail"]
    assert len(target.read_text().splitlines()) == 1  # ran exactly once

    # The server answers again afterwards (a fresh session), and an annotated tool is retried.
    idempotent = tmp_path / "idempotent.txt"
    response = client.post(
        "/api/v1/tools/crashy.append_idempotent/call",
        json={"arguments": {"path": str(idempotent)}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["content"] == "written"
    pids = idempotent.read_text().splitlines()
    assert len(pids) == 2 and pids[0] != pids[1]  # the retry ran on a new process

    # Unannotated: not repeated.
    unsafe = tmp_path / "unsafe.txt"
    response = client.post(
        "/api/v1/tools/crashy.append_configured/call", json={"arguments": {"path": str(unsafe)}}
    )
    assert response.status_code == 503 and response.json()["code"] == "outcome_unknown"
    assert len(unsafe.read_text().splitlines()) == 1


@pytest.mark.slow
def test_a_tool_configured_retry_safe_is_repeated(client: TestClient, tmp_path: Path) -> None:
    _register(client, retry_safe_tools=["append_configured"])
    target = tmp_path / "configured.txt"
    response = client.post(
        "/api/v1/tools/crashy.append_configured/call", json={"arguments": {"path": str(target)}}
    )
    assert response.status_code == 200, response.text
    assert len(target.read_text().splitlines()) == 2


def test_an_idempotency_key_replays_the_first_response(client: TestClient) -> None:
    headers = {"Idempotency-Key": "order-42"}
    url = "/api/v1/tools/samples.add/call"
    first = client.post(url, json={"arguments": {"a": 1, "b": 2}}, headers=headers)
    assert first.status_code == 200, first.text
    again = client.post(url, json={"arguments": {"a": 1, "b": 2}}, headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    calls = client.get("/api/v1/calls", params={"tool": "samples.add"}).json()
    assert len(calls) == 1  # the repeat did not run the tool

    other = client.post(url, json={"arguments": {"a": 5, "b": 2}}, headers=headers)
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    bad = client.post(url, json={"arguments": {"a": 5, "b": 2}}, headers={"Idempotency-Key": ""})
    assert bad.status_code == 422


def test_idempotency_keys_belong_to_their_token(client: TestClient) -> None:
    """Another token's request with the same key neither replays the first answer nor is
    refused as a different request: it is another key."""
    store = TokenStore(client.app.state.library.catalog.sessions)  # type: ignore[attr-defined]
    _, secret = client.portal.call(store.create, "other-caller", ["call"])  # type: ignore[union-attr]
    other = {"Authorization": f"Bearer {secret}"}
    url = "/api/v1/tools/samples.add/call"
    first = client.post(url, json={"arguments": {"a": 1, "b": 2}}, headers={"Idempotency-Key": "k"})
    assert first.status_code == 200 and first.json()["structured"] == 3

    same_body = client.post(
        url, json={"arguments": {"a": 1, "b": 2}}, headers={"Idempotency-Key": "k", **other}
    )
    assert same_body.status_code == 200, same_body.text
    assert "Idempotent-Replayed" not in same_body.headers  # it ran: not the admin's answer
    other_body = client.post(
        url, json={"arguments": {"a": 40, "b": 2}}, headers={"Idempotency-Key": "k2", **other}
    )
    client.post(url, json={"arguments": {"a": 9, "b": 9}}, headers={"Idempotency-Key": "k2"})
    assert other_body.status_code == 200 and other_body.json()["structured"] == 42
    # Each token's repeat replays its own first answer.
    again = client.post(
        url, json={"arguments": {"a": 40, "b": 2}}, headers={"Idempotency-Key": "k2", **other}
    )
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["structured"] == 42
    mine = client.post(url, json={"arguments": {"a": 9, "b": 9}}, headers={"Idempotency-Key": "k2"})
    assert mine.headers["Idempotent-Replayed"] == "true" and mine.json()["structured"] == 18
    calls = client.get("/api/v1/calls", params={"tool": "samples.add"}).json()
    assert len(calls) == 4  # (1, 2) twice — once per token — then 40 + 2 and 9 + 9
