"""The FastAPI application: one router per resource, problem-details errors, a shared library."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.routing import Route

from toolfoundry import __version__
from toolfoundry.api.dashboard import install_dashboard
from toolfoundry.api.problems import install_problem_handlers
from toolfoundry.api.routers import (
    agent,
    builds,
    calls,
    discover,
    health,
    mcp_servers,
    toolkits,
    tools,
    trajectories,
    virtual_servers,
)
from toolfoundry.api.security import install_security, start_security
from toolfoundry.api.shedding import LoadSheddingMiddleware
from toolfoundry.api.virtual_mcp import VirtualServerApps
from toolfoundry.core.settings import Settings
from toolfoundry.core.tracing import configure_tracing, instrument_app
from toolfoundry.gateway import build_gateway
from toolfoundry.library import ToolLibrary


def create_app(settings: Settings | None = None, library: ToolLibrary | None = None) -> FastAPI:
    """Build the app. Pass `library` to serve one you manage; otherwise the app owns one."""
    owned = library is None
    lib = library or ToolLibrary(settings)
    configure_tracing(lib.settings)  # a no-op unless TOOLFOUNDRY_OTEL_ENDPOINT is set
    # The MCP gateway is served by the same process: streamable HTTP at /mcp.
    mcp_app = build_gateway(lib).http_app(path="/mcp")
    # Each virtual server at /mcp/{name}, built on its first request.
    views_app = VirtualServerApps(lib, fallback=mcp_app)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await lib.start()
        app.state.admin_token_file = await start_security(authenticator, lib)
        lib.discovery.start()  # type: ignore[union-attr]  # index now, not on the first request
        lib.start_writing_examples()  # only with discovery_generate_examples and a model
        # Build workers run inside the API server; recovering interrupted builds must not hold
        # up the first requests.
        builds_started = asyncio.create_task(lib.builds.start(), name="start-build-workers")
        app.state.library = lib
        try:
            async with mcp_app.lifespan(app), views_app.running():
                yield
        finally:
            await builds_started
            await lib.builds.aclose()
            if owned:
                await lib.aclose()

    app = FastAPI(
        title="toolfoundry",
        version=__version__,
        description="Catalog, discovery and unified dispatch for LLM-agent tools.",
        lifespan=lifespan,
        docs_url=None,  # served offline by the dashboard (no CDN)
        redoc_url=None,
    )
    install_problem_handlers(app)
    authenticator = install_security(app, lib)
    install_dashboard(app)
    instrument_app(app)
    # Outermost (added last): a refusal costs no span, no Host check, no token lookup, no body.
    app.add_middleware(LoadSheddingMiddleware, limit=lib.settings.max_inflight_requests)
    for router in (
        health.router,
        toolkits.router,
        tools.router,
        calls.router,
        mcp_servers.router,
        discover.router,
        builds.router,
        trajectories.router,
        agent.router,
        virtual_servers.router,
    ):
        app.include_router(router)
    app.mount("/mcp", views_app)
    # Mounted last and at the root so its own route is exactly /mcp; API routes match first.
    app.mount("/", mcp_app)
    # ...but every gateway request would first be tried against every API route: /mcp itself
    # is matched first, the whole gateway app behind it (the middleware stack still applies).
    app.router.routes.insert(0, Route("/mcp", endpoint=mcp_app))
    return app


def create_builder_app(settings: Settings | None = None) -> FastAPI:
    """The build service alone (`toolfoundry builder serve`): /api/v1/build*, health, metrics.
    Several can share one PostgreSQL database; they take builds from the same queue.
    Starts only what builds need: no discovery index, no embedding model."""
    lib = ToolLibrary(settings, with_discovery=False)
    configure_tracing(lib.settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await lib.start()
        app.state.admin_token_file = await start_security(authenticator, lib)
        await lib.builds.start()
        app.state.library = lib
        try:
            yield
        finally:
            await lib.aclose()

    app = FastAPI(
        title="toolfoundry builder",
        version=__version__,
        description="Builds, validates and registers MCP servers for missing capabilities.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    authenticator = install_security(app, lib)
    app.include_router(health.router)
    app.include_router(builds.router)
    instrument_app(app)
    return app
