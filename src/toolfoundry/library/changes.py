"""The in-process change bus: who hears about a catalog change, and the version caches key on.

A change made here reloads the call table for the ids it names, tells every listener (discovery,
gateways), bumps `version` and, for changes no catalog row records, writes them to the change
feed for other processes. Changes other processes made arrive through `follow` with
`remote=True`: applied here, never re-published.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable

from toolfoundry.store.changes import ChangeEvent

ChangeListener = Callable[[str, str], Awaitable[None] | None]
Reload = Callable[[Iterable[str]], Awaitable[None]]
RecordChanges = Callable[[ChangeEvent, list[str]], Awaitable[None]]
Publish = Callable[[str, list[str]], Awaitable[None]]


class ChangeBus:
    def __init__(self, reload: Reload, record_changes: RecordChanges) -> None:
        self._reload = reload
        self._record_changes = record_changes
        self._listeners: list[ChangeListener] = []
        self.version = 0
        # Set once Redis is up: other processes then hear of a change before their feed polls.
        self.accelerator: Publish | None = None

    def on_change(self, listener: ChangeListener) -> None:
        """`listener(event, id)` after every change: upsert, servers, toolkit or learned."""
        self._listeners.append(listener)

    async def changed(
        self, event: str, idents: list[str], *, reload: bool = True, remote: bool = False
    ) -> None:
        if reload:
            await self._reload(idents)
        for listener in self._listeners:
            for ident in idents:
                outcome = listener(event, ident)
                if inspect.isawaitable(outcome):
                    await outcome
        # Bumped last: anything cached under the new version already sees the change.
        self.version += 1
        if remote:
            return
        if event == "learned":  # no catalog row changed: record it for other processes
            await self._record_changes(ChangeEvent.TOOL_LEARNED, idents)
        if self.accelerator is not None:
            await self.accelerator(event, idents)

    async def learned(self, tool_ids: list[str]) -> None:
        """Finished runs taught these tools something (effectiveness, served requests)."""
        await self.changed("learned", tool_ids, reload=False)
