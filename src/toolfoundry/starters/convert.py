"""Format and unit conversion for agents: CSV ↔ JSON, JSON ↔ YAML, units of length, mass,
temperature and data size, number bases, and Markdown tables from rows."""

import csv
import difflib
import io
import json
import string
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

import yaml  # PyYAML comes with fastmcp[server], a pinned dependency
from pydantic import BaseModel, Field

from toolfoundry.registry.decorator import tool
from toolfoundry.starters.tabular import column_names, parse_csv

Category = Literal["length", "mass", "temperature", "data_size"]
# Caller-chosen sizes are bounded in the schema, so a huge one is a 422 naming the bound.
Indent = Annotated[int, Field(ge=0, le=16)]
# YAML aliases let a few hundred bytes stand for billions of values once written out as JSON.
_MAX_YAML_VALUES = 1_000_000


@dataclass(frozen=True)
class _Unit:
    """A unit as an affine map to its category's base unit: base = value * scale + offset."""

    symbol: str
    category: Category
    scale: float
    offset: float = 0.0


# Base units: metre, kilogram, kelvin, byte. Every factor is exact by definition.
_UNITS: list[tuple[_Unit, tuple[str, ...]]] = [
    (_Unit("m", "length", 1.0), ("meter", "meters", "metre", "metres")),
    (_Unit("km", "length", 1e3), ("kilometer", "kilometers", "kilometre", "kilometres")),
    (_Unit("cm", "length", 1e-2), ("centimeter", "centimeters", "centimetre", "centimetres")),
    (_Unit("mm", "length", 1e-3), ("millimeter", "millimeters", "millimetre", "millimetres")),
    (_Unit("um", "length", 1e-6), ("µm", "μm", "micrometer", "micrometers", "micron", "microns")),
    (_Unit("nm", "length", 1e-9), ("nanometer", "nanometers", "nanometre", "nanometres")),
    (_Unit("mi", "length", 1609.344), ("mile", "miles")),
    (_Unit("yd", "length", 0.9144), ("yard", "yards")),
    (_Unit("ft", "length", 0.3048), ("foot", "feet")),
    (_Unit("in", "length", 0.0254), ("inch", "inches")),
    (_Unit("nmi", "length", 1852.0), ("nautical mile", "nautical miles")),
    (_Unit("kg", "mass", 1.0), ("kilogram", "kilograms", "kilo", "kilos", "kgs")),
    (_Unit("g", "mass", 1e-3), ("gram", "grams")),
    (_Unit("mg", "mass", 1e-6), ("milligram", "milligrams")),
    (_Unit("ug", "mass", 1e-9), ("µg", "μg", "mcg", "microgram", "micrograms")),
    (_Unit("t", "mass", 1e3), ("tonne", "tonnes", "metric ton", "metric tons")),
    (_Unit("lb", "mass", 0.45359237), ("lbs", "pound", "pounds")),
    (_Unit("oz", "mass", 0.028349523125), ("ounce", "ounces")),
    (_Unit("st", "mass", 6.35029318), ("stone", "stones")),
    (_Unit("C", "temperature", 1.0, 273.15), ("°c", "degc", "celsius", "centigrade")),
    (
        _Unit("F", "temperature", 5 / 9, 459.67 * 5 / 9),
        ("°f", "degf", "fahrenheit"),
    ),
    (_Unit("K", "temperature", 1.0), ("kelvin", "kelvins")),
    (_Unit("bit", "data_size", 0.125), ("bits",)),
    (_Unit("kbit", "data_size", 125.0), ("kilobit", "kilobits")),
    (_Unit("Mbit", "data_size", 1.25e5), ("megabit", "megabits")),
    (_Unit("Gbit", "data_size", 1.25e8), ("gigabit", "gigabits")),
    (_Unit("B", "data_size", 1.0), ("byte", "bytes")),
    (_Unit("kB", "data_size", 1e3), ("kilobyte", "kilobytes")),
    (_Unit("MB", "data_size", 1e6), ("megabyte", "megabytes")),
    (_Unit("GB", "data_size", 1e9), ("gigabyte", "gigabytes")),
    (_Unit("TB", "data_size", 1e12), ("terabyte", "terabytes")),
    (_Unit("PB", "data_size", 1e15), ("petabyte", "petabytes")),
    (_Unit("KiB", "data_size", 1024.0), ("kibibyte", "kibibytes")),
    (_Unit("MiB", "data_size", 1024.0**2), ("mebibyte", "mebibytes")),
    (_Unit("GiB", "data_size", 1024.0**3), ("gibibyte", "gibibytes")),
    (_Unit("TiB", "data_size", 1024.0**4), ("tebibyte", "tebibytes")),
    (_Unit("PiB", "data_size", 1024.0**5), ("pebibyte", "pebibytes")),
]
# Lookup is case-insensitive, so bits are spelled "Mbit" rather than the clashing "Mb".
_LOOKUP: dict[str, _Unit] = {
    name.lower(): unit for unit, aliases in _UNITS for name in (unit.symbol, *aliases)
}
_DIGITS = string.digits + string.ascii_lowercase


class UnitConversion(BaseModel):
    """A value converted from one unit to another."""

    value: float
    from_unit: str
    to_unit: str
    result: float
    category: Category


class BaseConversion(BaseModel):
    """An integer written in another base."""

    result: str
    decimal: int
    from_base: int
    to_base: int


def _unit(name: str) -> _Unit:
    key = " ".join(name.strip().lower().split())
    if key in _LOOKUP:
        return _LOOKUP[key]
    close = difflib.get_close_matches(key, list(_LOOKUP), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    table = "; ".join(
        f"{category}: {', '.join(u.symbol for u, _ in _UNITS if u.category == category)}"
        for category in ("length", "mass", "temperature", "data_size")
    )
    raise ValueError(f"unknown unit {name!r}. Known units are {table}.{hint}")


def _json_default(value: Any) -> Any:
    # YAML turns unquoted dates into date objects; JSON has no date type, so use ISO 8601.
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def _cell(value: Any) -> str:
    """How a value is written into a CSV or Markdown cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _rows_from_json(json_text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(json_text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from exc
    rows = [data] if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("JSON for a table must be an object or an array of objects")
    return rows


@tool(toolkit="convert", tags=["csv", "json", "format"], version="1.1.0")
def csv_to_json(
    csv_text: str,
    delimiter: str | None = None,
    infer_types: bool = True,
    indent: Indent | None = 2,
) -> str:
    """Convert CSV text (first line is the header) into a JSON array of objects.

    Args:
        csv_text: The CSV text.
        delimiter: The field separator; guessed from the header line if omitted.
        infer_types: Write numbers, booleans and empty cells as JSON numbers, booleans and null
            instead of strings. Codes with leading zeros ("007") stay strings.
        indent: Spaces of indentation; null for compact single-line JSON.

    Returns:
        The JSON text.
    """
    rows = parse_csv(csv_text, delimiter, infer_types)
    return json.dumps(rows, ensure_ascii=False, indent=indent)


@tool(toolkit="convert", tags=["json", "csv", "format", "export"])
def json_to_csv(json_text: str, delimiter: str = ",", columns: list[str] | None = None) -> str:
    """Convert a JSON array of objects (or a single object) into CSV text with a header line.

    Nested objects and arrays are written as JSON inside the cell; null becomes an empty cell.

    Args:
        json_text: The JSON text.
        delimiter: The field separator to write.
        columns: Columns to write, in order; all keys in order of first appearance if omitted.

    Returns:
        The CSV text.
    """
    if len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character, got {delimiter!r}")
    rows = _rows_from_json(json_text)
    available = column_names(rows)
    missing = [c for c in columns or [] if c not in available]
    if missing:
        raise ValueError(f"unknown column(s) {missing}; the objects have keys {available}")
    header = columns or available
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(row.get(name)) for name in header] for row in rows)
    return buffer.getvalue()


@tool(toolkit="convert", tags=["json", "yaml", "format", "config"])
def json_to_yaml(json_text: str) -> str:
    """Convert JSON text into YAML, keeping key order and non-ASCII text as is.

    Args:
        json_text: The JSON text.

    Returns:
        The YAML text.
    """
    try:
        data = json.loads(json_text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from exc
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)


@tool(toolkit="convert", tags=["yaml", "json", "format", "config"], version="1.1.0")
def yaml_to_json(yaml_text: str, indent: Indent | None = 2) -> str:
    """Convert YAML text into JSON; several YAML documents (separated by ---) become an array.

    Args:
        yaml_text: The YAML text.
        indent: Spaces of indentation; null for compact single-line JSON.

    Returns:
        The JSON text; YAML dates become ISO 8601 strings.
    """
    try:
        documents = list(yaml.safe_load_all(yaml_text))
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML: {exc}") from exc
    data = documents[0] if len(documents) == 1 else documents
    if _expanded_size(data, {}) > _MAX_YAML_VALUES:
        raise ValueError(
            f"the YAML expands to more than {_MAX_YAML_VALUES:,} values through its aliases "
            "(*name); write the data out instead of repeating anchors"
        )
    return json.dumps(data, ensure_ascii=False, indent=indent, default=_json_default)


def _expanded_size(value: Any, seen: dict[int, int]) -> int:
    """How many values `value` holds once every shared (aliased) part is copied out."""
    if not isinstance(value, dict | list):
        return 1
    known = seen.get(id(value))
    if known is None:
        children = value.values() if isinstance(value, dict) else value
        known = seen[id(value)] = 1 + sum(_expanded_size(child, seen) for child in children)
    return known


@tool(toolkit="convert", tags=["units", "length", "weight", "temperature", "bytes"])
def convert_units(value: float, from_unit: str, to_unit: str) -> UnitConversion:
    """Convert a quantity between units of length, mass, temperature or data size.

    Length: m, km, cm, mm, um, nm, mi, yd, ft, in, nmi. Mass: kg, g, mg, ug, t, lb, oz, st.
    Temperature: C, F, K. Data size: bit, kbit, Mbit, Gbit, B, kB, MB, GB, TB, PB (powers of
    1000) and KiB, MiB, GiB, TiB, PiB (powers of 1024). Full names ("miles", "celsius") work too.

    Args:
        value: The quantity to convert.
        from_unit: The unit of `value`, e.g. "km" or "fahrenheit" (case-insensitive).
        to_unit: The unit to convert to, of the same kind as `from_unit`.

    Returns:
        The converted value (12 significant digits) with the canonical unit symbols.
    """
    source, target = _unit(from_unit), _unit(to_unit)
    if source.category != target.category:
        raise ValueError(
            f"cannot convert {source.category} ({from_unit!r}) to {target.category} ({to_unit!r})"
        )
    base = value * source.scale + source.offset
    if source.category == "temperature" and base < 0:
        raise ValueError(f"{value} {source.symbol} is below absolute zero")
    result = (base - target.offset) / target.scale
    return UnitConversion(
        value=value,
        from_unit=source.symbol,
        to_unit=target.symbol,
        result=float(f"{result:.12g}") + 0.0,
        category=source.category,
    )


@tool(toolkit="convert", tags=["binary", "hex", "octal", "base", "radix"], version="1.1.0")
def convert_number_base(
    value: Annotated[str, Field(max_length=1_000)] | int,
    from_base: Annotated[int, Field(ge=2, le=36)] = 10,
    to_base: Annotated[int, Field(ge=2, le=36)] = 2,
    uppercase: bool = False,
) -> BaseConversion:
    """Convert an integer between number bases (2 to 36), e.g. decimal 255 to hex "ff".

    Args:
        value: The integer written in `from_base`; a 0x, 0o or 0b prefix matching the base,
            a minus sign and underscores are allowed.
        from_base: The base `value` is written in.
        to_base: The base to write the result in.
        uppercase: Write digits above 9 as capital letters.

    Returns:
        The number in the target base and its decimal value.
    """
    for name, base in (("from_base", from_base), ("to_base", to_base)):
        if not 2 <= base <= 36:
            raise ValueError(f"{name} must be between 2 and 36, got {base}")
    text = str(value).strip()
    try:
        number = int(text, from_base)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a base-{from_base} integer: its digits must be among "
            f"{_DIGITS[:from_base]!r} (fractions are not supported)"
        ) from None
    digits, magnitude = [], abs(number)
    while True:
        magnitude, remainder = divmod(magnitude, to_base)
        digits.append(_DIGITS[remainder])
        if magnitude == 0:
            break
    result = ("-" if number < 0 else "") + "".join(reversed(digits))
    return BaseConversion(
        result=result.upper() if uppercase else result,
        decimal=number,
        from_base=from_base,
        to_base=to_base,
    )


@tool(toolkit="convert", tags=["markdown", "table", "format", "report"])
def rows_to_markdown(
    rows: list[dict[str, Any]],
    columns: list[str] | None = None,
    max_rows: int | None = None,
) -> str:
    """Render rows (a list of objects) as a Markdown table; numeric columns are right-aligned.

    Args:
        rows: The table as a list of objects.
        columns: Columns to show, in order; all keys in order of first appearance if omitted.
        max_rows: Show at most this many rows, followed by a line saying how many were left out.

    Returns:
        The Markdown table.
    """
    if not rows:
        raise ValueError("rows is empty; pass at least one object")
    if max_rows is not None and max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, got {max_rows}")
    available = column_names(rows)
    missing = [c for c in columns or [] if c not in available]
    if missing:
        raise ValueError(f"unknown column(s) {missing}; the rows have keys {available}")
    header = columns or available
    shown = rows[:max_rows] if max_rows is not None else rows

    def escape(value: Any) -> str:
        return _cell(value).replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")

    def numeric(name: str) -> bool:
        values = [row.get(name) for row in rows if row.get(name) is not None]
        return bool(values) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        )

    lines = [
        "| " + " | ".join(escape(name) for name in header) + " |",
        "| " + " | ".join("---:" if numeric(name) else "---" for name in header) + " |",
        *("| " + " | ".join(escape(row.get(name)) for name in header) + " |" for row in shown),
    ]
    hidden = len(rows) - len(shown)
    if hidden:
        lines.append(f"\n*… {hidden} more row{'s' if hidden > 1 else ''}*")
    return "\n".join(lines)
