"""Errors as RFC 9457 problem details. Bad input is a 4xx that says what to fix, never a 500."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
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


class Problem(BaseModel):
    """An RFC 9457 problem: every error answer of the API has this shape."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str | None = None
    hint: str | None = None
    transient: bool | None = None


_DESCRIPTIONS = {
    400: "The body could not be parsed (not JSON).",
    401: "Missing or invalid credentials.",
    403: "The token does not grant this.",
    404: "No such resource; the detail names it and suggests close matches.",
    409: "Conflicts with the resource's state (exists already, finished, running).",
    413: "The request or one of its parts is too large; the detail gives the limit.",
    422: "Invalid input; `errors` lists each path and what is wrong with it.",
    502: "An upstream (LLM, MCP server) answered with an error.",
    503: "Overloaded (Retry-After), a backend unavailable, or a call's outcome unknown.",
    504: "The tool did not finish within its timeout.",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` documenting the problem statuses a router's routes can answer
    (401 and 403 always: every route but the probes needs a token)."""
    codes = tuple(sorted({401, 403, *codes}))
    return {
        code: {
            "description": _DESCRIPTIONS[code],
            "model": Problem,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }
