"""Importable tools for tests: registered by reference, so they survive a library restart."""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel

from toolfoundry import TransientError, tool


class Item(BaseModel):
    name: str
    qty: int = 1


@tool(toolkit="samples", tags=["math"])
async def add(a: int, b: int = 2) -> int:
    """Add two integers.

    Args:
        a: The first addend.
        b: The second addend.
    """
    return a + b


@tool(toolkit="samples")
def change_case(text: str, mode: Literal["upper", "lower"] = "upper") -> str:
    """Change the case of a text.

    Args:
        text: The text to change.
        mode: Which case to produce.
    """
    return text.upper() if mode == "upper" else text.lower()


@tool(toolkit="samples")
def total_quantity(items: list[Item]) -> dict[str, int]:
    """Sum the quantities of an order's items.

    Args:
        items: The order lines.
    """
    return {"total": sum(i.qty for i in items), "lines": len(items)}


@tool(toolkit="samples", timeout=0.2)
async def sleepy(seconds: float) -> str:
    """Sleep, then answer; used to exercise timeouts.

    Args:
        seconds: How long to sleep.
    """
    await asyncio.sleep(seconds)
    return "awake"


@tool(toolkit="samples")
def divide(a: float, b: float) -> float:
    """Divide a by b.

    Args:
        a: Dividend.
        b: Divisor; zero raises ZeroDivisionError.
    """
    return a / b


_flaky_calls: dict[str, int] = {}


@tool(toolkit="samples", retries=2)
def flaky(key: str, failures: int) -> int:
    """Fail with a transient error `failures` times per key, then succeed.

    Args:
        key: Counter name, so tests do not interfere.
        failures: How many calls fail before one succeeds.
    """
    count = _flaky_calls.get(key, 0) + 1
    _flaky_calls[key] = count
    if count <= failures:
        raise TransientError(f"attempt {count} failed")
    return count


def not_a_tool(x: int) -> int:
    """Undecorated: add-module must skip it."""
    return x
