"""Example inputs in the types a function asks for.

Users write examples as text (`--example '1990=>MCMXC'`), but the function behind a tool may want
the integer 1990, a float, a list or a JSON object. These helpers turn one text into the values
worth trying for a parameter's annotation (a Python type expression, or None when unknown) or for
a JSON schema, most likely first, each with the annotation a tool should then declare.
"""

from __future__ import annotations

import ast
import json
from typing import Any

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def literal(text: str) -> Any:
    """The JSON or Python literal `text` spells (`1990`, `[1, 2]`, `{"a": 1}`, `True`), or the
    text itself when it spells none."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    try:
        return ast.literal_eval(stripped)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return text


def as_type(text: str, kind: str) -> Any:
    """`text` as a value of the simple type `kind` (str, int, float, bool, list, dict);
    `ValueError` when it is not one."""
    stripped = text.strip()
    if kind == "str":
        return text
    if kind == "int":
        value = literal(stripped)
        if isinstance(value, bool):
            raise ValueError(f"{text!r} is not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"{text!r} is not an integer")
    if kind == "float":
        value = literal(stripped)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"{text!r} is not a number")
    if kind == "bool":
        if stripped.lower() in _TRUE:
            return True
        if stripped.lower() in _FALSE:
            return False
        raise ValueError(f"{text!r} is not a boolean (true/false)")
    if kind == "list":
        value = literal(stripped)
        if isinstance(value, list | tuple):
            return list(value)
        raise ValueError(f"{text!r} is not a list (write it as JSON, e.g. [1, 2])")
    if kind == "dict":
        value = literal(stripped)
        if isinstance(value, dict):
            return value
        raise ValueError(f"{text!r} is not an object (write it as JSON)")
    raise ValueError(f"unknown type {kind!r}")


_ALIASES = {
    "list": "list",
    "tuple": "list",
    "sequence": "list",
    "iterable": "list",
    "dict": "dict",
    "mapping": "dict",
}


def _base(annotation: str) -> str:
    """`List[int]` → list, `typing.Mapping[str, int]` → dict, `int` → int."""
    base = annotation.split("[", 1)[0].strip().rsplit(".", 1)[-1]
    return _ALIASES.get(base.lower(), base)


def variants(text: str, annotation: str | None) -> list[tuple[Any, str]]:
    """The values worth passing for `text` to a parameter annotated `annotation`, most likely
    first, each with the annotation the tool should declare when that value works."""
    found: list[tuple[Any, str]] = []
    if annotation is None:
        # Unknown: the text as given, then what it spells (1990 → int, [1, 2] → list).
        found.append((text, "str"))
        value = literal(text)
        if not isinstance(value, str) and value is not None:
            kind = type(value).__name__
            if kind == "tuple":
                value, kind = list(value), "list"
            if kind in ("int", "float", "bool", "list", "dict"):
                found.append((value, kind))
                if kind == "int":
                    found.append((float(value), "float"))
        return found
    parts = [p.strip() for p in annotation.split("|") if p.strip() != "None"]
    for part in parts:
        try:
            found.append((as_type(text, _base(part)), part))
        except ValueError:
            continue
    return found


_SCHEMA_KINDS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
}


def schema_kinds(schema: dict[str, Any]) -> list[str]:
    """The simple types a JSON schema accepts (`anyOf` and type lists included)."""
    kinds = schema.get("type")
    found: list[str] = []
    if isinstance(kinds, str):
        found.append(kinds)
    elif isinstance(kinds, list):
        found += [k for k in kinds if isinstance(k, str)]
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        if isinstance(option, dict):
            found += schema_kinds(option)
    return found


def for_schema(text: str, schema: dict[str, Any]) -> Any:
    """`text` as a value the JSON schema accepts: the text itself when strings are allowed (or
    the type is unknown), else the first type it converts to; `ValueError` naming the types."""
    kinds = [k for k in schema_kinds(schema) if k != "null"]
    if not kinds or "string" in kinds:
        return text
    for kind in kinds:
        if kind in _SCHEMA_KINDS:
            try:
                return as_type(text, _SCHEMA_KINDS[kind])
            except ValueError:
                continue
    raise ValueError(f"{text!r} cannot be passed as {' or '.join(kinds)}")


_WRAPPERS = ("arguments", "args", "params", "parameters", "input", "kwargs")


def arguments_for_schema(arguments: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A small model's tool arguments fitted to the tool's input schema where the intent is
    plain: `{"arguments": {...}}` unwrapped, `"5"` for an integer → 5, `"3, 9, 27"` for an array
    → [3, 9, 27], `["3", "9"]` for numbers → [3.0, 9.0]. Anything unclear is left for the
    dispatcher to refuse with its own message."""
    properties: dict[str, Any] = schema.get("properties", {})
    if len(arguments) == 1:
        ((key, inner),) = arguments.items()
        if key in _WRAPPERS and key not in properties and isinstance(inner, dict):
            arguments = inner
        elif isinstance(inner, str) and key not in properties and key in _WRAPPERS:
            parsed = literal(inner)
            if isinstance(parsed, dict):
                arguments = parsed
    fitted: dict[str, Any] = {}
    for name, value in arguments.items():
        fitted[name] = _fit(value, properties.get(name))
    return fitted


def _fit(value: Any, schema: dict[str, Any] | None) -> Any:
    if not isinstance(schema, dict):
        return value
    kinds = [k for k in schema_kinds(schema) if k != "null"]
    if isinstance(value, str) and kinds and "string" not in kinds:
        try:
            value = for_schema(value, schema)
        except ValueError:
            if "array" in kinds and "," in value:
                value = [part.strip() for part in value.split(",")]
            else:
                return value
    if isinstance(value, list) and "array" in kinds:
        items = schema.get("items")
        if not isinstance(items, dict):
            items = next(
                (o.get("items") for o in schema.get("anyOf", []) if isinstance(o, dict)), None
            )
        return [_fit(item, items) for item in value]
    return value
