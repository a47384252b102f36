"""Whether an HTTP request to an MCP server provably never ran.

When an HTTP upstream dies, the MCP SDK ends the whole session with "Connection closed" and the
transport error that caused it is only logged. At most once then forbids retrying a call — yet
when the POST carrying it was refused at connect time, or answered 404 (the server no longer
knows the session), the tool certainly did not run and a retry on a fresh session is safe.

The SDK sends each message in a task that runs in the sender's context, so the caller puts a
`Delivery` into a context variable and the watching transport marks that very request. A
request whose session died before its POST even began (an SSE stream that ended first) never
reached the server either.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT

from toolfoundry.mcp.keepalive import KeepAliveTransport


@dataclass
class Delivery:
    """What the watching transport saw of the POSTs sent from one caller's context."""

    sent: bool = False  # a POST began: from here on the server may have run the request
    refused: bool = False  # ...but it was refused at connect time or answered 404

    @property
    def reached_server(self) -> bool:
        """Whether the request may have run; False only when it provably did not."""
        return self.sent and not self.refused


_current: ContextVar[Delivery | None] = ContextVar("toolfoundry_mcp_delivery", default=None)


@contextlib.contextmanager
def watching() -> Iterator[Delivery]:
    """Watch the requests sent from this context; the yielded `Delivery` says what happened."""
    delivery = Delivery()
    token = _current.set(delivery)
    try:
        yield delivery
    finally:
        _current.reset(token)


class _DeliveryWatch(httpx2.AsyncBaseTransport):
    """Marks the sender's `Delivery` when its POST was refused before the server ran it."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        delivery = _current.get() if request.method == "POST" else None
        if delivery is not None:
            delivery.sent = True
        try:
            response = await self._inner.handle_async_request(request)
        except httpx2.ConnectError:
            # No connection, so not a byte of the request reached the server.
            if delivery is not None:
                delivery.refused = True
            raise
        if delivery is not None and response.status_code == 404:
            delivery.refused = True  # the server does not know the session: it ran nothing
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def watched_http_client(
    headers: dict[str, str] | None = None,
    timeout: httpx2.Timeout | None = None,
    auth: httpx2.Auth | None = None,
    **options: Any,
) -> httpx2.AsyncClient:
    """An `httpx_client_factory` for fastmcp's HTTP and SSE transports (same defaults as the
    SDK's own client) whose requests report to `watching()`."""
    return httpx2.AsyncClient(
        transport=_DeliveryWatch(KeepAliveTransport()),  # see keepalive.py
        headers=headers,
        timeout=timeout or httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT),
        auth=auth,
        **options,
    )
