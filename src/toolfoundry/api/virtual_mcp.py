"""`/mcp/{view}`: each virtual server as its own streamable-HTTP MCP endpoint.

Views are created and removed at run time, so the endpoints are not routes: one ASGI app at
/mcp/ builds a view's gateway on its first request and keeps it. A fastmcp HTTP app needs its
lifespan running (the session manager's task group), so each one runs in a task of this app's
own task group, entered by the API's lifespan; the task is where it started and where it ends
(anyio cancel scopes must be left by the task that entered them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from anyio.abc import TaskGroup, TaskStatus
from starlette._utils import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from toolfoundry.api.problems import send_problem
from toolfoundry.core.errors import BackendUnavailableError, NotFoundError
from toolfoundry.gateway import build_gateway
from toolfoundry.library import ToolLibrary
from toolfoundry.registry.views import VirtualServer


@dataclass
class _Served:
    view: VirtualServer
    app: ASGIApp
    stop: anyio.Event


class VirtualServerApps:
    """ASGI app mounted at /mcp: `/mcp/{name}` goes to that view's gateway; anything without a
    name (`/mcp/`) to `fallback`, the main gateway."""

    def __init__(self, library: ToolLibrary, fallback: ASGIApp) -> None:
        self.library = library
        self.fallback = fallback
        self._served: dict[str, _Served] = {}
        self._lock = asyncio.Lock()
        self._tasks: TaskGroup | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve while inside; every view's session manager stops on the way out."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                self._tasks = None
                self._served.clear()
                tasks.cancel_scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = get_route_path(scope).strip("/").partition("/")[0]
        if not name:
            # `/mcp/`: the main gateway, which sits at the top of the app (it redirects).
            top = {**scope, "root_path": scope.get("app_root_path", "")}
            await self.fallback(top, receive, send)
            return
        view = await self.library.views.cached(name)
        if view is None:
            await self._retire(name)
            exc = NotFoundError(
                f"No virtual server named '{name}'.",
                hint="GET /api/v1/virtual-servers lists them; /mcp is the whole catalog.",
            )
            await send_problem(scope, receive, send, exc)
            return
        app = await self._app_for(view)
        if app is None:
            exc = BackendUnavailableError("The server is shutting down.", hint="Retry shortly.")
            await send_problem(scope, receive, send, exc)
            return
        await app(scope, receive, send)

    async def _app_for(self, view: VirtualServer) -> ASGIApp | None:
        served = self._served.get(view.name)
        # The store hands out one object per refresh: identity is the common, cheap case.
        if served is not None and (served.view is view or served.view.same_view(view)):
            served.view = view
            return served.app
        async with self._lock:  # one build per view, however many first requests race
            served = self._served.get(view.name)
            if served is not None and served.view.same_view(view):
                return served.app
            if served is not None:  # the view was changed (removed and made again)
                served.stop.set()
            if self._tasks is None:
                return None
            # The route inside is the route path the mount leaves: /{name}.
            app = build_gateway(self.library, view=view).http_app(path=f"/{view.name}")
            stop = await self._tasks.start(_run_lifespan, app)
            self._served[view.name] = _Served(view, app, stop)
            return app

    async def _retire(self, name: str) -> None:
        served = self._served.pop(name, None)
        if served is not None:
            served.stop.set()


async def _run_lifespan(
    app: ASGIApp, *, task_status: TaskStatus[anyio.Event] = anyio.TASK_STATUS_IGNORED
) -> None:
    stop = anyio.Event()
    async with app.lifespan(app):  # type: ignore[attr-defined]
        task_status.started(stop)
        await stop.wait()
