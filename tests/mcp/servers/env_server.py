"""A stdio MCP server that reports its own environment and pid (launch and restart tests)."""

import os

from fastmcp import FastMCP

mcp = FastMCP("env")


@mcp.tool
def getenv(name: str) -> str:
    """The value of an environment variable in this process, or an empty string."""
    return os.environ.get(name, "")


@mcp.tool
def pid() -> int:
    """This process's id."""
    return os.getpid()


if __name__ == "__main__":
    mcp.run("stdio", show_banner=False)
