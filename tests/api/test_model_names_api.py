"""Over REST, the name `describe` shows a model calls the tool and reads it, like its id."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_described_names_are_accepted_by_rest(client: TestClient) -> None:
    library = client.app.state.library  # type: ignore[attr-defined]
    # Both would be "a__b__c" under the plain "." → "__" mapping.
    for kit, name in (("a", "b__c"), ("a__b", "c")):
        client.portal.call(  # type: ignore[union-attr]
            lambda kit=kit, name=name: library.register(
                _double, toolkit=kit, name=name, version="1.0.0"
            )
        )
    for tool_id in ("a.b__c", "a__b.c", "samples.add"):
        shown = client.get(f"/api/v1/tools/{tool_id}/describe", params={"format": "anthropic"})
        assert shown.status_code == 200, shown.text
        name = shown.json()["name"]
        assert "." not in name
        assert client.get(f"/api/v1/tools/{name}").json()["id"] == tool_id
        arguments = {"a": 2, "b": 3} if tool_id == "samples.add" else {"x": 4}
        called = client.post(f"/api/v1/tools/{name}/call", json={"arguments": arguments})
        assert called.status_code == 200, called.text
        assert called.json()["tool"] == tool_id


def _double(x: int) -> int:
    """Double a number."""
    return 2 * x
