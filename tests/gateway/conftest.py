"""The API server with its gateway, live on a free port (real streamable HTTP)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI

from toolfoundry import Settings
from toolfoundry.api.app import create_app


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[str, FastAPI]]:
    """`toolfoundry serve` on a free port: (base URL, app)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await task
