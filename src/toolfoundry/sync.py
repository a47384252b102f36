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


class SyncToolLibrary:
    """The `ToolLibrary` API, blocking. Every method mirrors the async one of the same name."""

    def __init__(self, library: ToolLibrary, portal: BlockingPortal) -> None:
        self._library = library
        self._portal = portal

    def __getattr__(self, name: str) -> Callable[..., Any]:
        attr = getattr(self._library, name)
        if not callable(attr):
            return attr

        def blocking(*args: Any, **kwargs: Any) -> Any:
            # The portal awaits whatever coroutine the call returns, on the library's loop.
            return self._portal.call(functools.partial(attr, *args, **kwargs))

        return blocking


@contextmanager
def open_library(settings: Settings | None = None) -> Iterator[SyncToolLibrary]:
    with start_blocking_portal() as portal:
        library = ToolLibrary(settings)
        portal.call(library.start)
        try:
            yield SyncToolLibrary(library, portal)
        finally:
            portal.call(library.aclose)
