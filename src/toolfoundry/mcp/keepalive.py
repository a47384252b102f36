"""An HTTP transport for upstream MCP servers that keeps its connections alive.

Over streamable HTTP (the handshake era) every request's answer comes as a short SSE stream
that the server ends right after the response. The MCP SDK closes that stream as soon as the
response event arrives — before reading the end of the body — and an HTTP connection whose
body was not read to the end cannot be reused: every call paid a new TCP connection, on both
sides (measured: 55 connections for 50 calls). Here closing a POST's stream first reads what
is left of it for a moment, so the connection goes back to the pool.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import httpx2

# Long enough for the end of a stream the server is closing, short enough that a stream it
# keeps open costs nothing noticeable.
_DRAIN_SECONDS = 0.2


class _DrainingStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream) -> None:
        self._stream = stream
        self._chunks: AsyncIterator[bytes] | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self._chunks = aiter(self._stream)
        async for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        if self._chunks is not None:
            # Best effort: a stream that fails or lingers is simply closed, as before.
            with anyio.move_on_after(_DRAIN_SECONDS), contextlib.suppress(Exception):
                async for _ in self._chunks:
                    pass
        await self._stream.aclose()


class KeepAliveTransport(httpx2.AsyncBaseTransport):
    """httpx's transport, with POST answers read to their end before they are closed."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        if request.method != "POST":
            return response  # the standalone GET stream stays open by design
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_DrainingStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
