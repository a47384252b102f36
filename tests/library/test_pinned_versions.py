"""Versions are immutable: each pins its code (source hash + import reference) and its schema."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolfoundry import Settings, ToolLibrary
from toolfoundry.core.errors import ArgumentsError, ConflictError

V1 = '''
from toolfoundry import tool


@tool(toolkit="weather")
def to_celsius(value: float) -> float:
    """Convert degrees Fahrenheit to Celsius."""
    return (value - 32) * 5 / 9
'''

V1_CHANGED_BODY = V1.replace("* 5 / 9", "* 5 / 9 + 1")

V2 = '''
from toolfoundry import tool


@tool(toolkit="weather", version="1.1.0")
def to_celsius(value: float, digits: int = 2) -> float:
    """Convert degrees Fahrenheit to Celsius, rounded."""
    return round((value - 32) * 5 / 9 + 1000, digits)
'''


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path holding a module we rewrite between registrations."""
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("pinned_weather", None)


def write_module(directory: Path, text: str) -> object:
    (directory / "pinned_weather.py").write_text(textwrap.dedent(text))
    importlib.invalidate_caches()
    if "pinned_weather" in sys.modules:
        return importlib.reload(sys.modules["pinned_weather"])
    return importlib.import_module("pinned_weather")


async def test_old_version_runs_and_validates_as_registered(
    library: ToolLibrary, module_dir: Path
) -> None:
    await library.register_module(write_module(module_dir, V1))  # type: ignore[arg-type]
    await library.register_module(write_module(module_dir, V2))  # type: ignore[arg-type]

    new = await library.call("weather.to_celsius", {"value": 212, "digits": 0})
    assert (new.version, new.structured) == ("1.1.0", 1100)
    old = await library.call("weather.to_celsius@1.0.0", {"value": 212})
    assert (old.version, old.structured) == ("1.0.0", 100)  # 1.0.0's body
    with pytest.raises(ArgumentsError, match="digits"):
        await library.call("weather.to_celsius@1.0.0", {"value": 212, "digits": 0})

    described = await library.describe("weather.to_celsius@1.0.0", "openai")
    assert list(described["function"]["parameters"]["properties"]) == ["value"]
    assert (
        "digits"
        in (await library.describe("weather.to_celsius", "openai"))["function"]["parameters"][
            "properties"
        ]
    )
    pinned = await library.get_tool("weather.to_celsius@1.0.0")
    assert pinned.version == "1.0.0"
    assert pinned.description == "Convert degrees Fahrenheit to Celsius."
    hashes = {v.version: v.code_hash for v in pinned.versions}
    assert hashes["1.0.0"] and hashes["1.1.0"] and hashes["1.0.0"] != hashes["1.1.0"]


async def test_changed_body_under_same_version_is_a_conflict_naming_the_bump(
    library: ToolLibrary, module_dir: Path
) -> None:
    await library.register_module(write_module(module_dir, V1))  # type: ignore[arg-type]
    changed = write_module(module_dir, V1_CHANGED_BODY)
    with pytest.raises(ConflictError) as caught:
        await library.register_module(changed)  # type: ignore[arg-type]
    assert "weather.to_celsius@1.0.0" in caught.value.detail
    assert "function body" in caught.value.detail
    assert "1.0.1" in (caught.value.hint or "")
    # Nothing went live: 1.0.0 still runs the registered body.
    assert (await library.call("weather.to_celsius", {"value": 212})).structured == 100


async def test_bump_registers_the_change_as_the_next_version(
    library: ToolLibrary, module_dir: Path
) -> None:
    await library.register_module(write_module(module_dir, V1))  # type: ignore[arg-type]
    changed = write_module(module_dir, V1_CHANGED_BODY)
    tools = await library.register_module(changed, bump="minor")  # type: ignore[arg-type]
    assert tools[0].version == "1.1.0"
    assert (await library.call("weather.to_celsius", {"value": 212})).structured == 101
    assert (await library.call("weather.to_celsius@1.0.0", {"value": 212})).structured == 100
    # Unchanged code with --bump again: no new version.
    again = await library.register_module(changed, bump="minor")  # type: ignore[arg-type]
    assert [v.version for v in again[0].versions] == ["1.1.0", "1.0.0"]


async def test_after_restart_versions_run_from_their_reference(
    settings: Settings, module_dir: Path
) -> None:
    """The documented limit: a new process can import only the module's current code. The old
    version runs it against its own stored schema (extra new parameters are refused)."""
    async with ToolLibrary.open(settings) as library:
        await library.register_module(write_module(module_dir, V1))  # type: ignore[arg-type]
        await library.register_module(write_module(module_dir, V2))  # type: ignore[arg-type]
    library = ToolLibrary(settings)
    library.functions = type(library.functions)()  # a fresh process knows no function objects
    library.backends.register(library.functions)
    async with library:
        assert (await library.call("weather.to_celsius", {"value": 212})).structured == 1100
        with pytest.raises(ArgumentsError, match="digits"):
            await library.call("weather.to_celsius@1.0.0", {"value": 212, "digits": 0})
        old = await library.call("weather.to_celsius@1.0.0", {"value": 212})
        assert old.version == "1.0.0"
