"""The app over a real catalog with the sample tools registered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from toolfoundry import Settings
from toolfoundry.api.app import create_app


@pytest.fixture
def client(settings: Settings, auth_headers: dict[str, str]) -> Iterator[TestClient]:
    """A client carrying the admin token (tests of scopes make their own tokens)."""
    with TestClient(create_app(settings), headers=auth_headers) as test_client:
        library = test_client.app.state.library  # type: ignore[attr-defined]
        test_client.portal.call(library.register_module, "sample_tools")  # type: ignore[union-attr]
        yield test_client
