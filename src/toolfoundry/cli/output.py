"""Shared CLI output: JSON for scripts, rich tables for people, errors that say what to do."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from toolfoundry.core.errors import ToolfoundryError

if TYPE_CHECKING:
    from toolfoundry.library import ToolLibrary

# Piped output is for programs: never wrapped at 80 columns, no colour codes.
_PIPED = not sys.stdout.isatty()
console = Console(soft_wrap=_PIPED, width=100_000 if _PIPED else None)
err_console = Console(stderr=True)


def open_library() -> ToolLibrary:
    """The library, imported on first use: `--help` and light commands never pay for it."""
    from toolfoundry.library import ToolLibrary

    return ToolLibrary.open()


P = ParamSpec("P")
T = TypeVar("T")


def to_plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):  # a pydantic model (pydantic is not imported for this)
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_plain(value), indent=2, ensure_ascii=False) + "\n")


def run(coro_fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """Run an async command body; turn toolfoundry errors into a message and exit code 1."""

    @wraps(coro_fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return asyncio.run(coro_fn(*args, **kwargs))
        except ToolfoundryError as exc:
            fail(exc.detail, exc.hint)

    return wrapper


def fail(message: str, hint: str | None = None) -> Any:
    err_console.print(f"[bold red]error:[/] {message}")
    if hint:
        err_console.print(f"[dim]hint:[/] {hint}")
    raise typer.Exit(1)


JsonOption = typer.Option(False, "--json", help="Print JSON for scripts instead of a table.")


@contextlib.contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner on a terminal; elsewhere (CI logs, pipes, services) a line when the work
    starts and one when it ends, so long work is never silent."""
    if console.is_terminal:
        with console.status(message):
            yield
        return
    started = time.perf_counter()
    err_console.print(f"{message}", soft_wrap=True, highlight=False)
    yield
    err_console.print(f"done in {time.perf_counter() - started:.1f}s", highlight=False)
