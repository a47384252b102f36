"""/api/v1/virtual-servers: create, list, get, remove; admin writes, read reads; bad input is a
problem-details 4xx that names the field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from toolfoundry.auth import TokenStore

URL = "/api/v1/virtual-servers"


def _headers(client: TestClient, name: str, *scopes: str) -> dict[str, str]:
    store = TokenStore(client.app.state.library.catalog.sessions)  # type: ignore[attr-defined]
    _, secret = client.portal.call(store.create, name, list(scopes))  # type: ignore[union-attr]
    return {"Authorization": f"Bearer {secret}"}


def test_create_list_get_remove(client: TestClient) -> None:
    body = {
        "name": "analytics",
        "description": "Numbers only.",
        "toolkits": ["samples"],
        "tags": ["math"],
        "tools": ["not.registered_yet"],  # unknown names are fine: they may come later
        "allow_builds": True,
    }
    created = client.post(URL, json=body)
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["endpoint"] == "/mcp/analytics"
    assert view["tools"] == ["not.registered_yet"] and view["meta_only"] is False
    assert view["allow_builds"] is True and view["created_at"]
    client.post(URL, json={"name": "agent", "meta_only": True})

    assert [v["name"] for v in client.get(URL).json()] == ["agent", "analytics"]
    assert client.get(f"{URL}/analytics").json() == view

    removed = client.delete(f"{URL}/analytics")
    assert removed.status_code == 200 and removed.json()["name"] == "analytics"
    missing = client.get(f"{URL}/analytics")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No virtual server named 'analytics'."
    assert client.delete(f"{URL}/analytics").status_code == 404
    assert [v["name"] for v in client.get(URL).json()] == ["agent"]


def test_duplicate_is_409_and_nothing_changes(client: TestClient) -> None:
    assert client.post(URL, json={"name": "one", "toolkits": ["a"]}).status_code == 201
    again = client.post(URL, json={"name": "one", "toolkits": ["b"]})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "already exists" in again.json()["detail"] and again.json()["hint"]
    assert client.get(f"{URL}/one").json()["toolkits"] == ["a"]


def test_bad_input_names_the_field(client: TestClient) -> None:
    for name in ("Upper", "-dash", "with space", "a" * 64, "", "dot.ted", "../x"):
        refused = client.post(URL, json={"name": name})
        assert refused.status_code == 422, name
        assert refused.json()["errors"][0]["path"] == "name"
    typo = client.post(URL, json={"name": "ok", "toolkit": ["samples"]})  # not `toolkits`
    assert typo.status_code == 422 and typo.json()["errors"][0]["path"] == "toolkit"
    wrong_type = client.post(URL, json={"name": "ok", "tools": "samples.add"})
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["path"] == "tools"
    empty_item = client.post(URL, json={"name": "ok", "tags": [""]})
    assert empty_item.status_code == 422
    assert client.get(URL).json() == []  # nothing half-written


def test_scopes_read_reads_admin_writes(client: TestClient) -> None:
    client.post(URL, json={"name": "shared"})
    reader = _headers(client, "reader", "read")
    assert client.get(URL, headers=reader).status_code == 200
    assert client.get(f"{URL}/shared", headers=reader).status_code == 200
    for scope in ("read", "call", "build"):
        token = _headers(client, f"t-{scope}", scope)
        assert client.post(URL, json={"name": "mine"}, headers=token).status_code == 403
        assert client.delete(f"{URL}/shared", headers=token).status_code == 403
    assert client.get(f"{URL}/shared").status_code == 200
    anonymous = TestClient(client.app)
    anonymous.portal = client.portal
    assert anonymous.get(URL, headers={"Authorization": "Bearer nope"}).status_code == 401
