"""A small FastMCP server for the connection-manager tests and the latency benchmark.

Usage: ``python echo_server.py stdio`` or ``python echo_server.py http|sse PORT``.
"""

import asyncio
import os
import sys
import time

import mcp_types
from fastmcp import Context, FastMCP

mcp = FastMCP("echo")
# Streamable HTTP session ids this server pretends to have forgotten (see `expire`).
expired_sessions: set[str] = set()


@mcp.tool
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@mcp.tool
def pid() -> int:
    """Return the server's process id."""
    return os.getpid()


@mcp.tool
def fail(message: str) -> str:
    """Always fail with the message."""
    raise ValueError(message)


@mcp.tool
async def hang() -> str:
    """Never answer: sleeps far past any test timeout."""
    await asyncio.sleep(3600)
    return "late"


@mcp.tool
async def freeze(seconds: float) -> str:
    """Block the server's event loop, so nothing (not even a ping) is answered."""
    time.sleep(seconds)  # noqa: ASYNC251 - blocking the loop is the point
    return "thawed"


@mcp.tool
async def grow(name: str, ctx: Context) -> str:
    """Register a new tool at run time and tell the client its tool list changed."""

    def added() -> str:
        return name

    mcp.add_tool(mcp.tool(added, name=name))
    await ctx.send_notification(mcp_types.ToolListChangedNotification())
    return name


@mcp.tool
def expire(ctx: Context) -> str:
    """Forget the caller's HTTP session from the next request on, as an expired session."""
    expired_sessions.add(ctx.session_id)
    return ctx.session_id


def expiring(app):
    """ASGI middleware: a request naming an expired session gets the 404 of an unknown one."""

    async def middleware(scope, receive, send):
        if scope["type"] == "http":
            headers = [
                (name, b"expired-" + value)
                if name == b"mcp-session-id" and value.decode() in expired_sessions
                else (name, value)
                for name, value in scope["headers"]
            ]
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return middleware


def main() -> None:
    transport = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if transport == "stdio":
        mcp.run("stdio", show_banner=False)
        return
    if transport == "http":
        import uvicorn  # only here: stdio starts measurably faster without it

        app = expiring(mcp.http_app(path="/mcp", transport="http"))
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
        return
    mcp.run(
        transport,
        host="127.0.0.1",
        port=int(sys.argv[2]),
        show_banner=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
