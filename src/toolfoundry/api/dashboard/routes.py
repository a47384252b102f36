"""Routes of the dashboard and the API docs; every asset comes from this process (no CDN).

The pages are shells without data: the browser's scripts call the REST API with the operator's
token (`Authorization: Bearer`), so the pages need no auth of their own and show nothing a
caller without a token could not already fetch (see docs/decisions/0002-dashboard.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from toolfoundry import __version__

_HERE = Path(__file__).parent
# Swagger UI and ReDoc as fastapi-offline ships them: kept up to date by that package, not here.
_DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"

STATIC_URL = "/ui/static"
DOCS_ASSETS_URL = "/ui/docs-assets"

# (path, template, title shown in the navigation)
PAGES: list[tuple[str, str, str]] = [
    ("/", "catalog.html", "Catalog"),
    ("/ui/servers", "servers.html", "MCP servers"),
    ("/ui/discover", "discover.html", "Discovery"),
    ("/ui/builds", "builds.html", "Builds"),
    ("/ui/trajectories", "trajectories.html", "Trajectories"),
    ("/ui/metrics", "metrics.html", "Metrics"),
]

templates = Jinja2Templates(directory=_HERE / "templates")

# ReDoc's sidebar shows a logo from its CDN, with no option to turn it off; offline that is a
# failed request and a console error, so the script is served with the logo pointing here.
_REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_script() -> bytes:
    script = (_DOCS_ASSETS / "redoc.standalone.js").read_text(encoding="utf-8")
    return script.replace(_REDOC_CDN_LOGO, f"{DOCS_ASSETS_URL}/favicon.png").encode()


def _page(template: str, title: str) -> object:
    async def render(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            template,
            {
                "title": title,
                "pages": PAGES,
                "static": STATIC_URL,
                "version": __version__,
                "path": request.url.path,
            },
        )

    return render


def _router(app: FastAPI) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for path, template, title in [*PAGES, ("/ui/login", "login.html", "Sign in")]:
        router.add_api_route(path, _page(template, title), methods=["GET"])

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            # Keeps the token entered under "Authorize" across reloads.
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @router.get(f"{DOCS_ASSETS_URL}/redoc.standalone.js")
    async def redoc_script() -> Response:
        return Response(_redoc_script(), media_type="text/javascript")

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,  # a font CDN is still a CDN
        )

    return router


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard pages, their assets and the offline docs to `app`. Create the app with
    `docs_url=None, redoc_url=None` so FastAPI's CDN-backed pages do not shadow these."""
    app.include_router(_router(app))
    app.mount(STATIC_URL, StaticFiles(directory=_HERE / "static"), name="dashboard-static")
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=_DOCS_ASSETS), name="docs-assets")
