"""toolfoundry: one catalog, one dispatcher and fast discovery for every tool an agent may use."""

__version__ = "0.1.0"

from toolfoundry.core.errors import ToolfoundryError, TransientError
from toolfoundry.core.models import Tool, ToolKind, Toolkit, ToolResult
from toolfoundry.core.settings import Settings
from toolfoundry.library import ToolLibrary
from toolfoundry.registry.decorator import tool

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
