"""Schema derivation from functions, and the two argument-validation paths."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from toolfoundry.core.errors import ArgumentsError, InvalidInputError, SchemaError
from toolfoundry.registry.decorator import tool
from toolfoundry.registry.schema import (
    WRAPPED_KEY,
    FunctionSchema,
    compile_schema_validator,
    derive_function_schema,
    validate_against_schema,
    validate_arguments,
)


class Item(BaseModel):
    """A line of an order."""

    name: str
    qty: int = 1


class Receipt(BaseModel):
    total: int
    items: list[Item]


class ChoiceA(BaseModel):
    a: int


class ChoiceB(BaseModel):
    b: str


class Opaque:
    """Not a type pydantic can validate."""


def google_style(query: str, limit: int = 10) -> list[str]:
    """Search the index.

    Ranks by relevance.

    Args:
        query: What to look for.
        limit: How many hits at most.

    Returns:
        The matching ids.
    """
    return []


def numpy_style(query: str, limit: int = 10) -> list[str]:
    """Search the index.

    Ranks by relevance.

    Parameters
    ----------
    query : str
        What to look for.
    limit : int
        How many hits at most.

    Returns
    -------
    list of str
        The matching ids.
    """
    return []


def sphinx_style(query: str, limit: int = 10) -> list[str]:
    """Search the index.

    Ranks by relevance.

    :param query: What to look for.
    :param limit: How many hits at most.
    :returns: The matching ids.
    """
    return []


def place_order(
    items: list[Item],
    mode: Literal["fast", "exact"] = "fast",
    note: str | None = None,
    priority: Annotated[int, Field(description="From Field.", ge=0)] = 1,
) -> Receipt:
    """Place an order.

    Args:
        items: What to order.
        mode: How to ship.
        note: Free text for the packer.
        priority: From the docstring.
    """
    return Receipt(total=sum(i.qty for i in items), items=items)


BAD_ORDER = {
    "items": [{"name": "pen"}, {"name": "ink", "qty": "many"}, {"qty": 2}],
    "mode": "slow",
    "colour": "red",
}
BAD_ORDER_PROBLEMS = {
    ("items[1].qty", "int"),
    ("items[2].name", "required"),
    ("mode", "'fast'"),
    ("colour", "unknown argument"),
}


def _problems(exc: ArgumentsError) -> set[tuple[str, str]]:
    """(path, the expected fragment of the message) for each problem."""
    fragments = ("unknown argument", "required", "'fast'", "int")
    return {(e["path"], next(f for f in fragments if f in e["message"])) for e in exc.errors}


# --- descriptions -----------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [google_style, numpy_style, sphinx_style])
def test_every_docstring_style_gives_parameter_and_return_descriptions(fn: Callable[..., Any]):
    schema = derive_function_schema(fn)

    assert schema.description == "Search the index.\n\nRanks by relevance."
    assert schema.input_schema["properties"] == {
        "query": {"type": "string", "description": "What to look for."},
        "limit": {"type": "integer", "default": 10, "description": "How many hits at most."},
    }
    assert schema.output_schema is not None
    assert schema.output_schema["description"] == "The matching ids."


def test_explicit_field_description_wins_over_the_docstring():
    props = derive_function_schema(place_order).input_schema["properties"]

    assert props["priority"]["description"] == "From Field."
    assert props["priority"]["minimum"] == 0
    assert props["note"]["description"] == "Free text for the packer."


def test_name_and_description_come_from_tool_options_then_arguments():
    @tool(name="find", description="Find things.")
    def search(q: str) -> None:
        """Docstring text."""

    assert (derive_function_schema(search).name, derive_function_schema(search).description) == (
        "find",
        "Find things.",
    )
    overridden = derive_function_schema(search, name="lookup", description="Look up.")
    assert (overridden.name, overridden.description) == ("lookup", "Look up.")


def test_function_without_docstring_has_empty_description():
    def bare(x: int) -> None: ...

    schema = derive_function_schema(bare)
    assert schema.description == ""
    assert "description" not in schema.input_schema["properties"]["x"]


# --- input schema -----------------------------------------------------------------------------


def test_input_schema_of_a_rich_signature():
    schema = derive_function_schema(place_order).input_schema

    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["items"]
    assert "title" not in schema
    props = schema["properties"]
    assert props["items"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/Item"},
        "description": "What to order.",
    }
    assert props["mode"] == {
        "type": "string",
        "enum": ["fast", "exact"],
        "default": "fast",
        "description": "How to ship.",
    }
    assert props["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert props["note"]["default"] is None
    assert schema["$defs"]["Item"] == {
        "type": "object",
        "title": "Item",
        "description": "A line of an order.",
        "properties": {"name": {"type": "string"}, "qty": {"type": "integer", "default": 1}},
        "required": ["name"],
    }


def test_dicts_and_untyped_parameters():
    def tag(labels: dict[str, int], anything, flag: bool = False) -> None: ...

    schema = derive_function_schema(tag)
    props = schema.input_schema["properties"]
    assert props["labels"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert props["anything"] == {}
    assert schema.input_schema["required"] == ["labels", "anything"]
    assert schema.validator({"labels": {}, "anything": [1, "x"]})["anything"] == [1, "x"]


def test_parameter_names_pydantic_reserves_still_work():
    def odd(json: str, _private: int = 0, model_config: bool = False) -> None: ...

    schema = derive_function_schema(odd)
    assert list(schema.input_schema["properties"]) == ["json", "_private", "model_config"]
    assert schema.validator({"json": "x", "_private": "3"}) == {
        "json": "x",
        "_private": 3,
        "model_config": False,
    }
    with pytest.raises(ArgumentsError) as info:
        schema.validator({"json": "x", "_private": "no"})
    assert [e["path"] for e in info.value.errors] == ["_private"]


# --- output schema ----------------------------------------------------------------------------


def test_model_output_keeps_its_defs_and_is_not_wrapped():
    output = derive_function_schema(place_order).output_schema

    assert output is not None
    assert WRAPPED_KEY not in output
    assert output["title"] == "Receipt"
    assert output["properties"]["items"] == {"type": "array", "items": {"$ref": "#/$defs/Item"}}
    assert "Item" in output["$defs"]


def test_non_object_output_is_wrapped_under_result():
    def count(text: str) -> int:
        """Count.

        Returns:
            How many words.
        """
        return 0

    def items() -> list[Item]:
        return []

    assert derive_function_schema(count).output_schema == {
        "type": "object",
        "properties": {"result": {"type": "integer"}},
        "required": ["result"],
        WRAPPED_KEY: True,
        "description": "How many words.",
    }
    wrapped = derive_function_schema(items).output_schema
    assert wrapped is not None
    assert wrapped["properties"]["result"] == {"type": "array", "items": {"$ref": "#/$defs/Item"}}
    assert "Item" in wrapped["$defs"]  # hoisted to the root, where the $ref points


@pytest.mark.parametrize("annotation", ["none", "missing", "any"])
def test_no_output_schema_without_a_meaningful_return_type(annotation: str):
    def returns_none() -> None: ...

    def unannotated(): ...

    def returns_any() -> Any: ...

    fn = {"none": returns_none, "missing": unannotated, "any": returns_any}[annotation]
    assert derive_function_schema(fn).output_schema is None


# --- kinds of callables -----------------------------------------------------------------------


def test_async_functions_are_detected():
    async def fetch(url: str) -> str:
        return url

    def sync(url: str) -> str:
        return url

    assert derive_function_schema(fetch).is_async is True
    assert derive_function_schema(sync).is_async is False


def test_partials_and_callable_instances():
    class Greeter:
        def __call__(self, name: str) -> str:
            """Greet someone.

            Args:
                name: Who to greet.
            """
            return f"hi {name}"

    greeter = derive_function_schema(Greeter())
    assert (greeter.name, greeter.description) == ("Greeter", "Greet someone.")
    assert greeter.input_schema["properties"]["name"]["description"] == "Who to greet."

    partial = derive_function_schema(functools.partial(google_style, limit=3))
    assert partial.name == "google_style"
    assert partial.input_schema["properties"]["limit"]["default"] == 3


# --- rejected definitions ---------------------------------------------------------------------


def test_var_positional_is_rejected_naming_function_and_parameter():
    def spread(first: int, *rest: int) -> None: ...

    with pytest.raises(SchemaError, match=r"spread.*'\*rest'"):
        derive_function_schema(spread)


def test_var_keyword_is_rejected_naming_function_and_parameter():
    def options(**extra: str) -> None: ...

    with pytest.raises(SchemaError, match=r"options.*'\*\*extra'"):
        derive_function_schema(options)


def test_positional_only_is_rejected():
    def pos(a: int, /) -> None: ...

    with pytest.raises(SchemaError, match="positional-only"):
        derive_function_schema(pos)


def test_types_without_a_json_schema_are_rejected_naming_the_parameter():
    def takes_opaque(ok: int, thing: Opaque) -> None: ...

    def takes_callback(ok: int, callback: Callable[[], int]) -> None: ...

    for fn, param in [(takes_opaque, "thing"), (takes_callback, "callback")]:
        with pytest.raises(SchemaError, match=f"parameter '{param}'") as info:
            derive_function_schema(fn)
        assert info.value.status_code == 422
        assert isinstance(info.value, InvalidInputError)


def test_unresolvable_annotations_are_rejected():
    def broken(x: NotDefinedAnywhere) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(SchemaError, match=r"broken.*NotDefinedAnywhere"):
        derive_function_schema(broken)


# --- validation: function tools (pydantic) ----------------------------------------------------


def test_signature_validation_coerces_into_real_types_and_fills_defaults():
    schema = derive_function_schema(place_order)

    kwargs = schema.validator({"items": [{"name": "pen", "qty": "2"}], "priority": "3"})

    assert kwargs == {
        "items": [Item(name="pen", qty=2)],
        "mode": "fast",
        "note": None,
        "priority": 3,
    }
    assert isinstance(kwargs["items"][0], Item)
    assert place_order(**kwargs).total == 2


def test_signature_validation_reports_every_problem_with_its_path():
    schema = derive_function_schema(place_order)

    with pytest.raises(ArgumentsError) as info:
        schema.validator(BAD_ORDER)

    assert _problems(info.value) == BAD_ORDER_PROBLEMS
    unknown = next(e for e in info.value.errors if e["path"] == "colour")
    assert unknown["message"] == "unknown argument; expected one of: items, mode, note, priority"


def test_signature_validation_paths_skip_union_member_tags():
    def pick(value: int | str, choice: ChoiceA | ChoiceB) -> None: ...

    with pytest.raises(ArgumentsError) as info:
        derive_function_schema(pick).validator({"value": [1], "choice": {"a": "x"}})

    assert {e["path"] for e in info.value.errors} == {"value", "choice.a", "choice.b"}


@pytest.mark.parametrize("arguments", [None, [1, 2], "items"])
def test_arguments_that_are_not_an_object_fail_at_the_root(arguments: Any):
    schema = derive_function_schema(place_order)

    for validate in (schema.validator, compile_schema_validator(schema.input_schema)):
        with pytest.raises(ArgumentsError) as info:
            validate(arguments)
        assert [e["path"] for e in info.value.errors] == ["$"]


# --- validation: JSON-schema tools (jsonschema) -----------------------------------------------


def test_schema_validation_reports_the_same_paths():
    input_schema = derive_function_schema(place_order).input_schema

    with pytest.raises(ArgumentsError) as info:
        validate_against_schema(input_schema, BAD_ORDER)

    assert _problems(info.value) == BAD_ORDER_PROBLEMS


def test_schema_validation_lists_each_missing_property_once():
    input_schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "required": ["a", "b"],
    }

    with pytest.raises(ArgumentsError) as info:
        validate_against_schema(input_schema, {})

    assert info.value.errors == [
        {"path": "a", "message": "is required"},
        {"path": "b", "message": "is required"},
    ]


def test_schema_validation_returns_arguments_unchanged():
    input_schema = derive_function_schema(place_order).input_schema
    arguments = {"items": [{"name": "pen"}], "mode": "exact"}

    assert validate_against_schema(input_schema, arguments) == arguments


def test_schema_validation_does_not_coerce():
    input_schema = derive_function_schema(place_order).input_schema

    with pytest.raises(ArgumentsError) as info:
        validate_against_schema(input_schema, {"items": [{"name": "pen", "qty": "2"}]})

    assert info.value.errors == [
        {"path": "items[0].qty", "message": "'2' is not of type 'integer'"}
    ]


def test_schema_validators_are_built_once_per_schema():
    input_schema = derive_function_schema(place_order).input_schema

    first = compile_schema_validator(input_schema)
    assert compile_schema_validator(input_schema) is first
    assert compile_schema_validator(copy.deepcopy(input_schema)) is first


def test_invalid_json_schema_is_a_schema_error():
    with pytest.raises(SchemaError, match="invalid input schema"):
        compile_schema_validator({"type": "object", "properties": {"a": {"type": "text"}}})


def test_validate_arguments_accepts_a_function_schema_a_json_schema_or_a_validator():
    schema = derive_function_schema(place_order)
    arguments = {"items": [{"name": "pen"}]}

    assert isinstance(schema, FunctionSchema)
    assert validate_arguments(schema, arguments)["items"] == [Item(name="pen")]
    assert validate_arguments(schema.input_schema, arguments) == arguments
    assert validate_arguments(schema.validator, arguments)["mode"] == "fast"


def test_arguments_error_is_a_422_problem():
    with pytest.raises(ArgumentsError) as info:
        derive_function_schema(place_order).validator({"items": [], "mode": "slow"})

    problem = info.value.to_problem()
    assert problem["status"] == 422
    assert problem["type"] == "urn:toolfoundry:problem:invalid_arguments"
    assert problem["errors"] == [{"path": "mode", "message": "Input should be 'fast' or 'exact'"}]
    assert "mode: Input should be 'fast' or 'exact'" in problem["detail"]
    assert problem["hint"]
