"""Load shedding: beyond `limit` requests in flight, answer 503 with Retry-After at once.

Queueing without bound turns overload into minutes of latency for everyone (p99 12.9 s at 256
clients before this); refusing the excess quickly keeps the admitted requests fast and tells
the others when to come back. Health and readiness probes and metrics are never shed, and the
MCP gateway's long-lived GET event streams do not count (its POSTed requests do).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from toolfoundry.core import metrics

EXEMPT = ("/health", "/ready", "/metrics")
RETRY_AFTER_S = 1


class LoadSheddingMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limit <= 0 or scope["type"] != "http" or _exempt(scope):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            metrics.REQUESTS_SHED.inc()
            await _refuse(send, self.limit)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


def _exempt(scope: Scope) -> bool:
    path: str = scope["path"]
    if path in EXEMPT:
        return True
    return path.startswith("/mcp") and scope["method"] == "GET"


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "urn:toolfoundry:problem:overloaded",
            "title": "Overloaded",
            "status": 503,
            "detail": f"the service is at its limit of {limit} requests in flight",
            "code": "overloaded",
            "hint": f"Retry after {RETRY_AFTER_S} s, with backoff.",
            "transient": True,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
