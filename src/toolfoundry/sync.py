"""Blocking wrappers for scripts and notebooks that have no event loop of their own.

```python
from toolfoundry.sync import open_library

with open_library() as library:
    print(library.call("stats.describe_numbers", {"values": [1, 2, 3]}).structured)
```

The async library runs on a private event loop in a background thread (an anyio blocking
portal), so its database engine and pooled MCP sessions live on one loop for their whole life.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal

from toolfoundry.core.settings import Settings
from toolfoundry.library import ToolLibrary


class _Blocking:
    """Every method of the wrapped object, blocking, run on the portal's event loop."""

    def __init__(self, wrapped: Any, portal: BlockingPortal) -> None:
        self._wrapped = wrapped
        self._portal = portal

    def __getattr__(self, name: str) -> Callable[..., Any]:
        attr = getattr(self._wrapped, name)
        if not callable(attr):
            return attr

        def blocking(*args: Any, **kwargs: Any) -> Any:
            # The portal awaits whatever coroutine the call returns, on the library's loop.
            return self._portal.call(functools.partial(attr, *args, **kwargs))

        return blocking


class SyncTrajectoryRun(_Blocking):
    """`TrajectoryRun`, blocking: `with library.trajectory(query) as run: run.call(...)`."""

    def __enter__(self) -> SyncTrajectoryRun:
        self._context = self._portal.wrap_async_context_manager(self._wrapped)
        self._context.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> bool | None:
        return self._context.__exit__(*exc_info)


class SyncToolLibrary(_Blocking):
    """The `ToolLibrary` API, blocking. Every method mirrors the async one of the same name."""

    @property
    def trajectories(self) -> Any:
        """The trajectory service (`list`, `get`, `insights` …), blocking."""
        return _Blocking(self._wrapped.trajectories, self._portal)

    @property
    def builds(self) -> Any:
        """The build service (`submit`, `get`, `list` …), blocking."""
        return _Blocking(self._wrapped.builds, self._portal)

    def trajectory(self, query: str, **options: Any) -> SyncTrajectoryRun:
        """A recorded agent run, as a plain `with` block (see `ToolLibrary.trajectory`)."""
        return SyncTrajectoryRun(self._wrapped.trajectory(query, **options), self._portal)


@contextmanager
def open_library(settings: Settings | None = None) -> Iterator[SyncToolLibrary]:
    with start_blocking_portal() as portal:
        library = ToolLibrary(settings)
        portal.call(library.start)
        try:
            yield SyncToolLibrary(library, portal)
        finally:
            portal.call(library.aclose)
