"""Errors as RFC 9457 problem details. Bad input is a 4xx that says what to fix, never a 500."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from toolfoundry.core.errors import ToolfoundryError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def _location(loc: tuple[object, ...]) -> str:
    # Only the first element names where the value came from; a field may be called "query".
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    return ".".join(str(p) for p in loc)


def problem_response(exc: ToolfoundryError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error as a problem-details response (also usable from plain ASGI middleware)."""
    return JSONResponse(
        exc.to_problem(), status_code=exc.status_code, media_type=PROBLEM, headers=headers
    )


async def send_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    exc: ToolfoundryError,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer from plain ASGI middleware; a WebSocket handshake is refused with the same body
    where the server supports denial responses, else closed with 1008 (policy violation)."""
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get(
        "extensions", {}
    ):
        await send({"type": "websocket.close", "code": 1008, "reason": exc.title})
        return
    await problem_response(exc, headers)(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ToolfoundryError)
    async def _toolfoundry(_: Request, exc: ToolfoundryError) -> JSONResponse:
        # A full bulkhead (SaturatedError) says when to come back.
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after else None
        return problem_response(exc, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"path": _location(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['path'] or '(body)'}: {e['message']}" for e in errors[:5])
        return JSONResponse(
            {
                "type": "https://toolfoundry.dev/problems/invalid-request",
                "title": "Invalid request",
                "status": 422,
                "detail": detail,
                "errors": errors,
                "hint": "See the request schema at /docs.",
            },
            status_code=422,
            media_type=PROBLEM,
        )

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"title": str(exc.detail), "status": exc.status_code, "detail": str(exc.detail)},
            status_code=exc.status_code,
            media_type=PROBLEM,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(
            {
                "title": "Internal error",
                "status": 500,
                "detail": f"{type(exc).__name__}: {exc}",
                "hint": "This is a bug in toolfoundry; please report it with the server log.",
            },
            status_code=500,
            media_type=PROBLEM,
        )
