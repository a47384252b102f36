"""`toolfoundry builder serve`: a build worker starts only what builds need."""

from __future__ import annotations

from fastapi.testclient import TestClient

from toolfoundry.api.app import create_builder_app
from toolfoundry.core.settings import Settings


def test_the_builder_app_serves_builds_without_a_discovery_index(
    settings: Settings, auth_headers: dict[str, str]
) -> None:
    app = create_builder_app(settings)
    with TestClient(app, headers=auth_headers) as client:
        assert client.get("/api/v1/builds").status_code == 200
        assert client.get("/health").status_code == 200
        library = app.state.library
        # No index is built and no embedding model is loaded in a build worker.
        assert library.discovery is None
        assert library.builds.pool.started
        # Only the build routes are served: discovery is not part of this app.
        assert client.post("/api/v1/discover", json={"query": "x"}).status_code == 404
