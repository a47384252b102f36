"""GET /api/v1/build/{id}/files/{name}: bad requests are clear 4xx problems."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_unknown_build_is_a_404_naming_it(client: TestClient) -> None:
    response = client.get("/api/v1/build/bld_nope/files/server.py")
    assert response.status_code == 404
    assert "bld_nope" in response.json()["detail"]


def test_path_outside_the_asset_is_not_served(client: TestClient) -> None:
    response = client.get("/api/v1/build/bld_nope/files/..%2F..%2Fetc%2Fpasswd")
    assert response.status_code == 404
