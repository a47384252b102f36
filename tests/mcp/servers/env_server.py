"""A stdio MCP server that reports its own environment (for the launch tests)."""

import os

from fastmcp import FastMCP

mcp = FastMCP("env")


@mcp.tool
def getenv(name: str) -> str:
    """The value of an environment variable in this process, or an empty string."""
    return os.environ.get(name, "")


if __name__ == "__main__":
    mcp.run("stdio", show_banner=False)
