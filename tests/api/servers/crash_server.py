"""A stdio MCP server whose tools append a line to a file, then kill their own process.

`append_then_crash` always crashes after writing (a side effect then a lost session);
`append_idempotent` is annotated idempotentHint and crashes only on its first write, so a
retry on a fresh session succeeds; `append_configured` is like it but unannotated.
"""

import os
import signal
from pathlib import Path

from fastmcp import FastMCP

mcp = FastMCP("crashy")


def _append(path: str) -> int:
    with Path(path).open("a") as file:
        file.write(f"{os.getpid()}\n")
    return len(Path(path).read_text().splitlines())


@mcp.tool
def append_then_crash(path: str) -> str:
    """Append this process's pid to the file, then die."""
    _append(path)
    os.kill(os.getpid(), signal.SIGKILL)
    return "unreachable"


@mcp.tool(annotations={"idempotentHint": True})
def append_idempotent(path: str) -> str:
    """Append the pid; the first write kills the process."""
    if _append(path) == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return "written"


@mcp.tool
def append_configured(path: str) -> str:
    """Append the pid; the first write kills the process (no annotation)."""
    if _append(path) == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return "written"


if __name__ == "__main__":
    mcp.run("stdio", show_banner=False)
