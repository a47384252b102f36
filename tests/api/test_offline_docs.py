"""/docs, /redoc and the dashboard pages reference only URLs this service serves."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)=["']([^"'#]+)["']|url:\s*['"]([^'"]+)['"]""")
PAGES = ["/docs", "/redoc", "/", "/ui/login", "/ui/servers", "/ui/discover", "/ui/builds"]
PAGES += ["/ui/trajectories", "/ui/metrics"]


@pytest.mark.parametrize("path", PAGES)
def test_page_references_only_local_assets_that_exist(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    urls = [a or b for a, b in ASSET.findall(page.text)]
    assert urls, "the page loads its scripts and styles"
    for url in urls:
        if url.startswith("data:"):
            continue
        assert url.startswith("/"), f"{path} references {url}: not served by this service"
        assert client.get(url).status_code == 200, url


def test_redoc_script_points_its_logo_here(client: TestClient) -> None:
    script = client.get("/ui/docs-assets/redoc.standalone.js")
    assert script.status_code == 200
    assert "cdn.redoc.ly" not in script.text
    assert script.headers["content-type"].startswith("text/javascript")


def test_dashboard_modules_import_only_local_modules(client: TestClient) -> None:
    """ES modules are fetched by the browser too: each import must be relative."""
    for name in (
        "api",
        "login",
        "catalog",
        "servers",
        "discover",
        "builds",
        "trajectories",
        "metrics",
    ):
        text = client.get(f"/ui/static/{name}.js").text
        for spec in re.findall(r"""from\s+["']([^"']+)["']""", text):
            assert spec.startswith("./"), f"{name}.js imports {spec}"
            assert client.get(f"/ui/static/{spec[2:]}").status_code == 200


@pytest.mark.parametrize("path", [*PAGES, "/ui/static/api.js", "/ui/docs-assets/swagger-ui.css"])
def test_pages_and_assets_open_without_a_token(client: TestClient, path: str) -> None:
    """Shells and static files carry no data; the browser cannot send a header when it
    navigates, so they must load without one (their scripts then use the token)."""
    response = client.get(path, headers={"Authorization": ""})
    assert response.status_code == 200, response.text


def test_the_data_behind_the_pages_still_needs_a_token(client: TestClient) -> None:
    bare = client.get("/api/v1/tools", headers={"Authorization": ""})
    assert bare.status_code == 401
    # Writes on a dashboard path are not opened by the page rule.
    assert client.post("/ui/servers", headers={"Authorization": ""}).status_code == 401
