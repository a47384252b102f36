"""What `serve` and `builder serve` share: the bind address checked against the auth setting,
and where the admin token is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from toolfoundry.auth.exposure import AUTH_OFF_WARNING, unsafe_bind
from toolfoundry.cli.output import console, fail
from toolfoundry.core.settings import Settings, get_settings


def bind_settings(host: str | None, port: int | None) -> Settings:
    """The settings with the bind address the command line gave; refuses a non-loopback bind
    with auth off (exit 1) before anything starts."""
    settings = get_settings()
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    reason = unsafe_bind(settings.auth, settings.host)
    if reason:
        fail(reason, "Unset TOOLFOUNDRY_AUTH, or serve with --host 127.0.0.1.")
    return settings


def on_ready(app: FastAPI, report: Callable[[], None]) -> None:
    """Call `report` once the app's lifespan has started (FastAPI runs `on_event("startup")`
    handlers only for apps without a lifespan of their own)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            report()
            report_auth(app)
            yield state

    app.router.lifespan_context = lifespan


def report_auth(app: FastAPI) -> None:
    path = getattr(app.state, "admin_token_file", None)
    if path is None:
        console.print(f"[bold yellow]warning:[/] {AUTH_OFF_WARNING}")
        return
    console.print(
        f"auth: on — admin token in {path} (`toolfoundry auth token` prints it; "
        'send it as "Authorization: Bearer <token>")'
    )
