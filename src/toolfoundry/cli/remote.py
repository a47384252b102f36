"""Asking a running `toolfoundry serve` instead of the database, for state only it knows (which
MCP servers are connected, and how they are doing)."""

from __future__ import annotations

from typing import Any

import httpx

from toolfoundry.core.settings import Settings


def server_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def auth_headers(settings: Settings) -> dict[str, str]:
    """The admin Bearer token `serve` writes to the data directory, when there is one."""
    from toolfoundry.auth.token_file import read_admin_token

    token = read_admin_token(settings.data_dir)
    return {"Authorization": f"Bearer {token}"} if token else {}


async def get_from_server(settings: Settings, path: str, url: str | None = None) -> Any | None:
    """GET `path` from the running server (at `url`, default the configured host and port);
    None when none answers there, so the caller falls back to the database's view."""
    base = (url or server_url(settings)).rstrip("/")
    try:
        async with httpx.AsyncClient(timeout=2.0, headers=auth_headers(settings)) as client:
            response = await client.get(base + path)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return response.json()
