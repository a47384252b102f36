"""toolfoundry: one catalog, one dispatcher and fast discovery for every tool an agent may use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Exports are imported on first use: `from toolfoundry import tool` (in every tool module) and
# the CLI's `--help` must not pay for the library, fastmcp and the MCP client.
_EXPORTS = {
    "Settings": "toolfoundry.core.settings",
    "Tool": "toolfoundry.core.models",
    "ToolKind": "toolfoundry.core.models",
    "ToolLibrary": "toolfoundry.library",
    "ToolResult": "toolfoundry.core.models",
    "ToolfoundryError": "toolfoundry.core.errors",
    "Toolkit": "toolfoundry.core.models",
    "TransientError": "toolfoundry.core.errors",
    "tool": "toolfoundry.registry.decorator",
}

if TYPE_CHECKING:
    from toolfoundry.core.errors import ToolfoundryError, TransientError
    from toolfoundry.core.models import Tool, ToolKind, Toolkit, ToolResult
    from toolfoundry.core.settings import Settings
    from toolfoundry.library import ToolLibrary
    from toolfoundry.registry.decorator import tool


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toolfoundry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "Settings",
    "Tool",
    "ToolKind",
    "ToolLibrary",
    "ToolResult",
    "ToolfoundryError",
    "Toolkit",
    "TransientError",
    "__version__",
    "tool",
]
