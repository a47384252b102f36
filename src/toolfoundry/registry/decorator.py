"""The `@tool` decorator: marks a function as a tool and returns it unchanged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

TOOL_MARKER = "__toolfoundry_tool__"


@dataclass(frozen=True)
class ToolOptions:
    """Registration options a function carries from its decorator; all may be overridden
    by `library.register(...)`."""

    name: str | None = None
    toolkit: str | None = None
    version: str = "1.0.0"
    description: str | None = None
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    timeout: float | None = None
    retries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@overload
def tool(fn: F, /) -> F: ...
@overload
def tool(
    *,
    name: str | None = None,
    toolkit: str | None = None,
    version: str = "1.0.0",
    description: str | None = None,
    tags: list[str] | tuple[str, ...] = (),
    examples: list[str] | tuple[str, ...] = (),
    timeout: float | None = None,
    retries: int = 0,
) -> Callable[[F], F]: ...
def tool(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    toolkit: str | None = None,
    version: str = "1.0.0",
    description: str | None = None,
    tags: list[str] | tuple[str, ...] = (),
    examples: list[str] | tuple[str, ...] = (),
    timeout: float | None = None,
    retries: int = 0,
) -> F | Callable[[F], F]:
    """Mark a function as a tool. Usable bare (`@tool`) or with options (`@tool(toolkit="text")`).

    ``examples`` are natural-language requests the tool serves ("load customers.csv"); they
    join the tool's discovery text, so requests worded like them find it.

    Nothing is registered here: `library.register(fn)` or `toolfoundry tools add-module` does that,
    so importing a module of tools has no side effects.
    """
    options = ToolOptions(
        name=name,
        toolkit=toolkit,
        version=version,
        description=description,
        tags=tuple(tags),
        examples=tuple(examples),
        timeout=timeout,
        retries=retries,
    )

    def mark(func: F) -> F:
        setattr(func, TOOL_MARKER, options)
        return func

    return mark(fn) if fn is not None else mark


def tool_options(fn: Callable[..., Any]) -> ToolOptions | None:
    """The options a function was decorated with, or None if it is not a tool."""
    return getattr(fn, TOOL_MARKER, None)
