"""Regular expressions written by callers, run where they can be stopped.

The standard `re` engine holds the GIL while it backtracks, so one pattern such as `(a|aa)+$`
froze the whole service. The `regex` engine takes a `timeout` and, with `concurrent=True`,
releases the GIL while matching; the budget comes from the current `ToolPolicy`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import regex

from toolfoundry.core.errors import PatternTimeoutError
from toolfoundry.core.policy import current_policy

__all__ = ["compile_pattern", "pattern_budget"]


def compile_pattern(
    pattern: str, ignore_case: bool, multiline: bool, dot_all: bool
) -> regex.Pattern[str]:
    flags = (
        (regex.IGNORECASE if ignore_case else 0)
        | (regex.MULTILINE if multiline else 0)
        | (regex.DOTALL if dot_all else 0)
    )
    try:
        return regex.compile(pattern, flags)
    except regex.error as exc:
        raise ValueError(
            f"invalid regular expression {pattern!r}: {exc.msg} at position {exc.pos}; escape "
            f"special characters such as ( [ . * + ? with a backslash to match them literally"
        ) from exc


@contextmanager
def pattern_budget(pattern: str) -> Iterator[float]:
    """Yields the seconds `pattern` may run; the engine's timeout becomes PatternTimeoutError
    (a 422 naming the pattern), never the dispatcher's retried TimeoutError."""
    timeout = current_policy().regex_timeout
    try:
        yield timeout
    except TimeoutError:
        raise PatternTimeoutError(pattern, timeout) from None
