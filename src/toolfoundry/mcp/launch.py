"""What a stdio MCP server's process inherits from the service's environment.

The MCP SDK starts stdio children with a minimal environment (HOME, PATH, USER, …), which drops
the settings that `uvx …` and `npx …` servers need to fetch their packages where trust comes
from a custom CA bundle or traffic goes through a proxy ("invalid peer certificate:
UnknownIssuer"). (The command itself is stored as the absolute path it resolved to when it was
registered: see `McpConnectionManager.vet`.)
"""

from __future__ import annotations

import os

from toolfoundry.mcp.config import McpServerConfig

# Trust, proxies and package-index settings; never credentials of the service itself.
INHERITED_ENV = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "UV_NATIVE_TLS",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "PIP_INDEX_URL",
    "PIP_CERT",
    "NPM_CONFIG_REGISTRY",
    "NPM_CONFIG_CAFILE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)


def child_env(config: McpServerConfig) -> dict[str, str]:
    """Extra environment for a stdio child: the inherited settings above, and the command's own
    directory first on PATH (so `npx` finds the `node` installed beside it); the server's
    configured `env` wins over both."""
    env = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    if config.command and os.path.isabs(config.command) and "PATH" not in config.env:
        env["PATH"] = os.pathsep.join(
            [os.path.dirname(config.command), os.environ.get("PATH", os.defpath)]
        )
    return {**env, **config.env}
