"""What a tool may touch and spend, as the running service configured it.

Starter tools are plain functions; the function backend makes the service's `ToolPolicy` current
(a context variable, copied into the worker thread) around each call,
so no tool reads settings or globals of its own. Called directly from Python, a tool gets the
policy of the environment's settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from toolfoundry.core.errors import PathNotAllowedError
from toolfoundry.core.settings import Settings, get_settings

__all__ = ["ToolPolicy", "current_policy", "use_policy"]


@dataclass(frozen=True, slots=True)
class ToolPolicy:
    files_roots: tuple[Path, ...]
    """Real (symlink-free) directories file tools may read and write under."""
    regex_timeout: float = 0.5
    """CPU seconds a caller-supplied regular expression may run."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ToolPolicy:
        return cls(
            files_roots=tuple(Path(os.path.realpath(root)) for root in settings.files_roots),
            regex_timeout=settings.regex_timeout,
        )

    def check_path(self, path: str | os.PathLike[str]) -> Path:
        """The real path of `path` if it lies under a root, else `PathNotAllowedError`.

        Symlinks and `..` are resolved first, so neither leads out of a root; a relative path
        is taken relative to the first root.
        """
        given = Path(path).expanduser()
        if not given.is_absolute() and self.files_roots:
            given = self.files_roots[0] / given
        real = Path(os.path.realpath(given))
        if not any(real.is_relative_to(root) for root in self.files_roots):
            raise PathNotAllowedError(str(path), [str(root) for root in self.files_roots])
        return real


_current: ContextVar[ToolPolicy | None] = ContextVar("toolfoundry_tool_policy", default=None)


def current_policy() -> ToolPolicy:
    """The policy of the call in progress, or the one of the environment's settings."""
    return _current.get() or ToolPolicy.from_settings(get_settings())


@contextmanager
def use_policy(policy: ToolPolicy) -> Iterator[ToolPolicy]:
    token = _current.set(policy)
    try:
        yield policy
    finally:
        _current.reset(token)
