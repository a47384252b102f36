"""Calling a tool as callers are promised: answered only once its record is committed."""

from __future__ import annotations

from typing import Any

from toolfoundry.core.errors import ToolfoundryError
from toolfoundry.core.models import ToolResult
from toolfoundry.runtime.dispatcher import Dispatcher
from toolfoundry.runtime.recorder import CallRecorder


class DurableCalls:
    def __init__(self, dispatcher: Dispatcher, recorder: CallRecorder) -> None:
        self._dispatcher = dispatcher
        self._recorder = recorder

    async def call(self, ref: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        """See `Dispatcher.call` for what raises and what returns. An acknowledged call is never
        lost, even to a kill -9 right after."""
        try:
            result = await self._dispatcher.call(ref, arguments)
        except ToolfoundryError:
            await self._recorder.wait_durable()
            raise
        await self._recorder.wait_durable()
        return result
