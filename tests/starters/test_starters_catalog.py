"""The starter toolkits as the catalog sees them: every tool's schema can be derived completely."""

import importlib
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any, get_type_hints

import pytest
from griffe import Docstring, DocstringSectionKind
from pydantic import TypeAdapter, create_model

from toolfoundry.registry.decorator import tool_options
from toolfoundry.registry.schema import derive_function_schema
from toolfoundry.starters import STARTER_TOOLKITS, StarterToolkit


def _tools(module: ModuleType) -> list[Callable[..., Any]]:
    return [
        fn
        for _, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__ and tool_options(fn) is not None
    ]


TOOLS = [
    pytest.param(starter, fn, id=f"{starter.name}.{fn.__name__}")
    for starter in STARTER_TOOLKITS.values()
    for fn in _tools(importlib.import_module(starter.module))
]


def test_starter_toolkits_are_listed() -> None:
    assert set(STARTER_TOOLKITS) == {"tabular", "text", "stats", "datetime", "convert"}
    categories = {s.name: s.category for s in STARTER_TOOLKITS.values()}
    assert categories == {
        "tabular": "data", "text": "text", "stats": "analysis", "datetime": "time",
        "convert": "conversion",
    }  # fmt: skip
    for name, starter in STARTER_TOOLKITS.items():
        assert starter.name == name and starter.description
        module = importlib.import_module(starter.module)
        assert module.__doc__ and module.__doc__.strip()
        assert 4 <= len(_tools(module)) <= 9, starter.module


def test_starter_toolkit_is_frozen() -> None:
    starter = STARTER_TOOLKITS["text"]
    with pytest.raises(AttributeError):
        starter.name = "other"  # type: ignore[misc]


def test_tool_names_are_unique_across_starters() -> None:
    names = [param.values[1].__name__ for param in TOOLS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("starter", "fn"), TOOLS)
def test_tool_metadata_is_complete(starter: StarterToolkit, fn: Callable[..., Any]) -> None:
    options = tool_options(fn)
    assert options is not None and options.toolkit == starter.name

    docstring = inspect.getdoc(fn)
    assert docstring, f"{fn.__name__} has no docstring"
    summary = docstring.splitlines()[0]
    assert summary.endswith(".") and len(summary) <= 100, summary

    sections = Docstring(docstring, parser="google").parse(warnings=False)
    documented = {
        parameter.name: parameter.description
        for section in sections
        if section.kind is DocstringSectionKind.parameters
        for parameter in section.value
    }
    parameters = inspect.signature(fn).parameters
    assert set(documented) == set(parameters), f"{fn.__name__}: Args do not match the signature"
    assert all(description.strip() for description in documented.values())
    assert any(section.kind is DocstringSectionKind.returns for section in sections)

    hints = get_type_hints(fn)
    missing = [name for name in [*parameters, "return"] if name not in hints]
    assert not missing, f"{fn.__name__} lacks type hints for {missing}"

    # The schemas the catalog derives must build from these hints.
    fields: dict[str, Any] = {
        name: (hints[name], ... if p.default is inspect.Parameter.empty else p.default)
        for name, p in parameters.items()
    }
    input_schema = create_model(f"{fn.__name__}_input", **fields).model_json_schema()
    assert set(input_schema["properties"]) == set(parameters)
    TypeAdapter(hints["return"]).json_schema(mode="serialization")


@pytest.mark.parametrize(("starter", "fn"), TOOLS)
def test_catalog_derives_a_described_schema(
    starter: StarterToolkit, fn: Callable[..., Any]
) -> None:
    schema = derive_function_schema(fn)
    assert schema.name == fn.__name__ and schema.description
    undescribed = [
        name
        for name, prop in schema.input_schema.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert not undescribed, f"{fn.__name__}: no description for {undescribed}"
    assert schema.output_schema is not None
