"""The package wrapper meets users where they are: text examples in the types a function wants,
named or positional arguments, methods of classes built without arguments — real builds of
small real packages (`roman`, `inflect`) in the sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from toolfoundry.builder.coercion import arguments_for_schema, for_schema, variants
from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.stages.environment import BuildEnvironment, EnvironmentResult
from toolfoundry.builder.stages.sandbox import BubblewrapSandbox
from toolfoundry.builder.stages.validator import example_arguments, validate
from toolfoundry.builder.strategies.wrap.models import Candidate, PackageWrapError, WrappedParameter
from toolfoundry.builder.strategies.wrap.probe import bindings_for as _bindings
from toolfoundry.builder.strategies.wrap.wrapper import PackageWrapper


@pytest.mark.parametrize(
    ("text", "annotation", "expected"),
    [
        ("1990", "int", [(1990, "int")]),
        ("1990", None, [("1990", "str"), (1990, "int"), (1990.0, "float")]),
        ("2.5", "float", [(2.5, "float")]),
        ("[1, 2]", "list[int]", [([1, 2], "list[int]")]),
        ("[1, 2]", "List[int]", [([1, 2], "List[int]")]),
        ("true", "bool", [(True, "bool")]),
        ('{"a": 1}', None, [('{"a": 1}', "str"), ({"a": 1}, "dict")]),
        ("MCMXC", "int", []),
        ("7", "int | str", [(7, "int"), ("7", "str")]),
    ],
)
def test_text_examples_in_the_types_asked_for(
    text: str, annotation: str | None, expected: list[tuple[Any, str]]
) -> None:
    assert variants(text, annotation) == expected


def test_schema_coercion_and_a_clear_error() -> None:
    assert for_schema("1990", {"type": "integer"}) == 1990
    assert for_schema("x", {"anyOf": [{"type": "string"}, {"type": "null"}]}) == "x"
    assert for_schema("[3, 4]", {"type": "array"}) == [3, 4]
    with pytest.raises(ValueError, match="cannot be passed as integer"):
        for_schema("MCMXC", {"type": "integer"})
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    assert example_arguments("1990", schema) == {"n": 1990}


def test_small_model_arguments_are_fitted_to_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "values": {"type": "array", "items": {"type": "number"}},
            "n": {"type": "integer"},
            "text": {"type": "string"},
        },
    }
    assert arguments_for_schema({"values": "3, 9, 27"}, schema) == {"values": [3, 9, 27]}
    assert arguments_for_schema({"values": ["3", "9"]}, schema) == {"values": [3.0, 9.0]}
    assert arguments_for_schema({"arguments": {"n": "5"}}, schema) == {"n": 5}
    assert arguments_for_schema({"text": "42"}, schema) == {"text": "42"}
    # Unclear intent is left for the dispatcher to refuse with its own message.
    assert arguments_for_schema({"n": "five"}, schema) == {"n": "five"}


def test_bindings_by_name_by_position_and_by_type() -> None:
    candidate = Candidate(
        path="pkg.distance",
        module="pkg",
        name="distance",
        parameters=[
            WrappedParameter(name="s1", annotation="str", required=True, positional=True),
            WrappedParameter(name="s2", annotation="str", required=True, positional=True),
        ],
    )
    by_name = _bindings(candidate, {"s1": "a", "s2": "b"})
    assert [(b.positional, b.keywords) for b in by_name] == [(["a", "b"], {})]
    # Names the function does not know are bound in order.
    in_order = _bindings(candidate, {"first": "kitten", "second": "sitting"})
    assert in_order[0].arguments == {"s1": "kitten", "s2": "sitting"}
    assert _bindings(candidate, "one text for two parameters") == []

    untyped = Candidate(
        path="roman.toRoman",
        module="roman",
        name="toRoman",
        parameters=[
            WrappedParameter(
                name="n", annotation="str", required=True, positional=True, declared=False
            )
        ],
    )
    tried = _bindings(untyped, "1990")
    assert [(b.positional, b.types) for b in tried] == [
        (["1990"], {"n": "str"}),
        ([1990], {"n": "int"}),
        ([1990.0], {"n": "float"}),
    ]


@pytest.fixture(scope="module")
def small_packages_env(tmp_path_factory: pytest.TempPathFactory) -> EnvironmentResult:
    venv = tmp_path_factory.mktemp("wrapper-types") / "venv"
    requirement = BuildRequirement(
        description="roman and inflect", dependencies=["roman", "inflect"]
    )
    return asyncio.run(BuildEnvironment().create(venv, requirement))


async def _build_and_validate(
    requirement: BuildRequirement,
    env: EnvironmentResult,
    sandbox: BubblewrapSandbox,
    root: Path,
) -> tuple[Any, Any]:
    result = await PackageWrapper().build(requirement, env, sandbox, root)
    server_dir = root / "server"
    result.files.write_to(server_dir)
    report = await validate(server_dir, env, sandbox, requirement)
    return result, report


@pytest.mark.slow
async def test_an_integer_function_is_built_from_a_text_example(
    tmp_path: Path, small_packages_env: EnvironmentResult, sandbox: BubblewrapSandbox
) -> None:
    requirement = BuildRequirement(
        description="Convert an integer to Roman numerals",
        dependencies=["roman"],
        examples=["1990=>MCMXC", "4=>IV"],
    )
    result, report = await _build_and_validate(requirement, small_packages_env, sandbox, tmp_path)
    assert [t.candidate.path for t in result.tools] == ["roman.toRoman"]
    # roman does not annotate `n`: the probe that worked typed it.
    assert "def to_roman(n: int) -> str:" in result.files.server
    assert "{'n': 1990}" in result.files.files["test_server.py"]
    assert report.passed, report.model_dump_json(indent=1)
    assert [e.actual for e in report.examples] == ["MCMXC", "IV"]
    assert report.tools[0].input_schema["properties"]["n"]["type"] == "integer"


@pytest.mark.slow
async def test_a_method_of_a_class_built_without_arguments(
    tmp_path: Path, small_packages_env: EnvironmentResult, sandbox: BubblewrapSandbox
) -> None:
    requirement = BuildRequirement(
        description="Return the plural of an English noun",
        dependencies=["inflect"],
        examples=["child=>children", "mouse=>mice"],
    )
    result, report = await _build_and_validate(requirement, small_packages_env, sandbox, tmp_path)
    tool = result.tools[0]
    assert tool.candidate.owner == "engine" and tool.candidate.module == "inflect"
    assert "_plural = _plural()." in result.files.server.replace("_plural_noun", "_plural")
    assert report.passed, report.model_dump_json(indent=1)
    assert {e.actual for e in report.examples} == {"children", "mice"}


@pytest.mark.slow
async def test_nothing_fits_names_each_candidate_and_what_it_did(
    tmp_path: Path, small_packages_env: EnvironmentResult, sandbox: BubblewrapSandbox
) -> None:
    requirement = BuildRequirement(
        description="Convert an integer to Roman numerals",
        dependencies=["roman"],
        examples=["1990=>XLII"],
    )
    with pytest.raises(PackageWrapError) as caught:
        await PackageWrapper().build(requirement, small_packages_env, sandbox, tmp_path)
    message = str(caught.value)
    assert "roman.toRoman(**{'n': 1990}) returned 'MCMXC' (expected 'XLII')" in message


def test_example_names_the_tool_does_not_know_are_bound_in_order() -> None:
    schema = {
        "type": "object",
        "properties": {"s1": {"type": "string"}, "s2": {"type": "string"}},
        "required": ["s1", "s2"],
    }
    assert example_arguments({"a": "kitten", "b": "sitting"}, schema) == {
        "s1": "kitten",
        "s2": "sitting",
    }
    # A name the tool knows: passed as given, for the tool to accept or refuse.
    assert example_arguments({"s1": "x", "c": "y"}, schema) == {"s1": "x", "c": "y"}


def test_undeclared_parameters_are_typed_by_the_values_that_worked() -> None:
    candidate = Candidate(
        path="haversine.haversine",
        module="haversine",
        name="haversine",
        parameters=[
            WrappedParameter(
                name=name, annotation="str", required=True, positional=True, declared=False
            )
            for name in ("point1", "point2")
        ],
    )
    (binding,) = _bindings(candidate, {"point1": [45.7, 4.8], "point2": [48.8, 2.3]})
    assert binding.types == {"point1": "list", "point2": "list"}
    typed = candidate.typed(binding.types)
    assert [p.annotation for p in typed.parameters] == ["list", "list"]
