"""A request body limit enforced while the body streams in (Content-Length is a claim, chunked
bodies have none): past the limit the caller gets a 413 and the app sees a disconnect."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from toolfoundry.api.problems import problem_response
from toolfoundry.core.errors import ToolfoundryError


class PayloadTooLargeError(ToolfoundryError):
    status_code = 413
    code = "payload_too_large"
    title = "Request body too large"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"The request body is larger than {limit} bytes.",
            hint="Send less data per request (TOOLFOUNDRY_MAX_BODY_BYTES sets the limit).",
        )

    def _extra_members(self) -> dict[str, int]:
        return {"limit_bytes": self.limit}


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self.refuse(scope, receive, send)
                return
        received = 0
        refused = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await self.refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the app's answer to a body it never got whole: ours went out
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLargeError(self.max_bytes)
        await problem_response(error, {"Connection": "close"})(scope, receive, send)
