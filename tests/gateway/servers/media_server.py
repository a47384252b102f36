"""A real upstream MCP server for the gateway's client-facing tests: an image, progress, log
messages, a call that notes its own cancellation, a resource and a prompt.

Usage: ``python media_server.py stdio MARKER_DIR`` or ``... http PORT MARKER_DIR``.
A cancelled `wait` call writes `MARKER_DIR/cancelled-<tag>` so a test can see the cancel arrived.
"""

import asyncio
import base64
import sys
from pathlib import Path

from fastmcp import Context, FastMCP
from fastmcp.utilities.types import Image

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
mcp = FastMCP("media")
markers = Path(sys.argv[-1])


@mcp.tool
def logo() -> Image:
    """A one-pixel PNG."""
    return Image(data=PNG, format="png")


@mcp.tool
async def crunch(steps: int, ctx: Context) -> str:
    """Reports progress at each step."""
    for step in range(1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step}")
    return f"done {steps}"


@mcp.tool
async def chatty(lines: int, ctx: Context) -> str:
    """Sends a log message per line, then answers."""
    for line in range(1, lines + 1):
        await ctx.log(f"line {line}", level="warning", logger_name="media")
    return f"said {lines}"


@mcp.tool
async def wait(tag: str, ctx: Context) -> str:
    """Waits a minute; a cancelled wait leaves a marker file behind."""
    (markers / f"started-{tag}").touch()
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        (markers / f"cancelled-{tag}").touch()
        raise
    return "waited"


@mcp.resource("media://readme", name="readme", mime_type="text/markdown")
def readme() -> str:
    return "# Media\nImages and progress."


@mcp.prompt(name="describe")
def describe(subject: str) -> str:
    """Ask for a description."""
    return f"Describe {subject} in one line."


if __name__ == "__main__":
    if sys.argv[1] == "http":
        mcp.run(transport="http", host="127.0.0.1", port=int(sys.argv[2]), show_banner=False)
    else:
        mcp.run(transport="stdio", show_banner=False)
