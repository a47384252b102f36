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
