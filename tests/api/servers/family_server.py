"""A stdio MCP server that starts a grandchild in its own session and can block its loop."""

import os
import subprocess
import sys
import time

from fastmcp import FastMCP

mcp = FastMCP("family")


@mcp.tool
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@mcp.tool
def spawn() -> int:
    """Start a long sleeper in a new session (escaping the server's process group)."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    return child.pid


@mcp.tool
def block(seconds: float) -> str:
    """Block the whole server (a synchronous sleep)."""
    time.sleep(seconds)
    return "done"


if __name__ == "__main__":
    mcp.run("stdio", show_banner=False)
