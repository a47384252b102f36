"""What a downstream MCP caller wants relayed from the upstream server during one call.

The gateway sets these for the duration of a call; the connection reads them when it sends the
request upstream. A context variable carries them through the dispatcher (and the task it may
start) without every layer in between growing a parameter for them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from mcp.shared.dispatcher import ProgressFnT
from mcp_types import LoggingMessageNotificationParams

ProgressRelay = ProgressFnT  # called as (progress, total, message)
LogRelay = Callable[[LoggingMessageNotificationParams], Awaitable[None]]

progress_relay: ContextVar[ProgressRelay | None] = ContextVar("progress_relay", default=None)
log_relay: ContextVar[LogRelay | None] = ContextVar("log_relay", default=None)
