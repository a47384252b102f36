"""Tabular data for agents: read CSV, JSON, JSON Lines and Excel files, then describe, filter,
sort and aggregate their rows (kept as a list of objects, one per row)."""

import csv
import difflib
import io
import json
import math
import re
import statistics
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from toolfoundry.core.policy import current_policy
from toolfoundry.registry.decorator import tool

Row = dict[str, Any]
FileFormat = Literal["auto", "csv", "tsv", "json", "jsonl", "xlsx"]
Operator = Literal[
    "==",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "contains",
    "starts_with",
    "ends_with",
    "in",
    "is_null",
    "not_null",
]
Aggregate = Literal["count", "sum", "mean", "min", "max"]

_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
# Spellings of "no value" that spreadsheets and exports write into text cells.
_NULL_TOKENS = frozenset({"", "na", "n/a", "#n/a", "nan", "null", "none"})
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


class Table(BaseModel):
    """Rows of a table, possibly cut to a limit."""

    columns: list[str] = Field(description="Column names in order of first appearance.")
    rows: list[dict[str, Any]] = Field(description="The returned rows, one object per row.")
    total_rows: int = Field(description="Number of rows before `offset` and `limit` applied.")
    truncated: bool = Field(description="True if rows were left out because of the limit.")


class ColumnProfile(BaseModel):
    """What one column holds."""

    name: str
    type: str = Field(
        description="integer, number, boolean, string, date, datetime, array, object, "
        "mixed (several types) or empty (only nulls)."
    )
    null_count: int
    distinct_count: int = Field(description="Distinct non-null values.")
    examples: list[Any] = Field(description="Up to three distinct non-null values.")


class TableDescription(BaseModel):
    """Shape, column profiles and a few sample rows of a table."""

    row_count: int
    column_count: int
    columns: list[ColumnProfile]
    sample_rows: list[dict[str, Any]]


class NumericSummary(BaseModel):
    """Summary statistics of the numeric values of one column."""

    count: int = Field(description="Numeric values counted.")
    null_count: int
    non_numeric_count: int = Field(description="Non-null values that are not numbers (skipped).")
    sum: float
    mean: float
    median: float
    stdev: float | None = Field(description="Sample standard deviation; null if count < 2.")
    min: float
    max: float


def _infer_value(text: str) -> Any:
    """Turn a text cell into None ("", "NA", "null" …), a bool, an int or a float, or keep it."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in _NULL_TOKENS:
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if _INT.fullmatch(stripped):
        return int(stripped)
    if _FLOAT.fullmatch(stripped):
        return float(stripped)
    return text


def _is_code(text: str) -> bool:
    """Digits with a leading zero ("00123"): an identifier such as a ZIP code, not a quantity."""
    stripped = text.strip().lstrip("+-")
    return len(stripped) > 1 and stripped.startswith("0") and stripped.isdigit()


def parse_csv(text: str, delimiter: str | None = None, infer_types: bool = True) -> list[Row]:
    """Parse CSV text whose first non-empty line is the header into rows (used by `convert`)."""
    return _parse_delimited(text, delimiter, infer_types, source="CSV text")


def column_names(rows: Iterable[Row]) -> list[str]:
    """All keys of the rows, in order of first appearance."""
    return list(dict.fromkeys(key for row in rows for key in row))


def _parse_delimited(text: str, delimiter: str | None, infer_types: bool, source: str) -> list[Row]:
    if delimiter is None:
        delimiter = _guess_delimiter(text)
    elif len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character, got {delimiter!r}")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    records: list[list[str]] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = _unique_names(record)
                continue
            if any(cell.strip() for cell in record[len(header) :]):
                raise ValueError(
                    f"{source}: line {reader.line_num} has {len(record)} fields but the header "
                    f"has {len(header)}; check the delimiter ({delimiter!r}) and the quoting"
                )
            records.append(record[: len(header)] + [""] * (len(header) - len(record)))
    except csv.Error as exc:
        raise ValueError(f"{source}: malformed CSV at line {reader.line_num}: {exc}") from exc
    if header is None:
        return []
    if not infer_types:
        return [dict(zip(header, record, strict=True)) for record in records]
    # A column holding any code with a leading zero stays text, so 00123 and 75001 agree.
    converters = [
        _null_or_text if any(_is_code(record[i]) for record in records) else _infer_value
        for i in range(len(header))
    ]
    return [
        {
            name: convert(cell)
            for name, convert, cell in zip(header, converters, record, strict=True)
        }
        for record in records
    ]


def _null_or_text(text: str) -> str | None:
    return None if text.strip().lower() in _NULL_TOKENS else text


def _guess_delimiter(text: str) -> str:
    # The header line rarely contains quoted delimiters, so counting there is reliable enough.
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first_line.count(d) for d in ",;\t|"}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _unique_names(raw: Iterable[Any]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for index, value in enumerate(raw, start=1):
        base = str(value).strip() if value not in (None, "") else f"column_{index}"
        name, suffix = base, 2
        while name in seen:
            name, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(name)
        names.append(name)
    return names


def _load(
    path: str,
    file_format: str = "auto",
    sheet: str | None = None,
    delimiter: str | None = None,
    infer_types: bool = True,
) -> list[Row]:
    # Only files under the configured roots, symlinks and `..` resolved (PathNotAllowedError).
    file = current_policy().check_path(path)
    if not file.is_file():
        raise ValueError(f"file not found: {path!r}; pass the path of an existing file")
    if file_format == "auto":
        suffix = file.suffix.lower()
        if suffix == ".xls":
            raise ValueError(f"{path!r} is an old .xls workbook; save it as .xlsx first")
        if suffix not in _EXTENSIONS:
            raise ValueError(
                f"cannot tell the format of {path!r} from its extension {suffix!r}; pass "
                f"format as one of csv, tsv, json, jsonl, xlsx"
            )
        file_format = _EXTENSIONS[suffix]
    if file_format == "xlsx":
        return _load_xlsx(file, sheet)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path!r} is not UTF-8 text ({exc}); re-save it as UTF-8") from exc
    if file_format == "json":
        return _load_json(text, path)
    if file_format == "jsonl":
        return _load_jsonl(text, path)
    if file_format == "tsv" and delimiter is None:
        delimiter = "\t"
    return _parse_delimited(text, delimiter, infer_types, source=path)


def _load_json(text: str, source: str) -> list[Row]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: invalid JSON: {exc}") from exc
    if isinstance(data, dict):
        # Accept the common envelope {"data": [...]} when exactly one value is a list of rows.
        lists = [v for v in data.values() if isinstance(v, list) and v and _all_objects(v)]
        if len(lists) != 1:
            raise ValueError(
                f"{source}: expected a JSON array of objects, or an object holding exactly one "
                f"such array; got an object with keys {sorted(data)[:10]}"
            )
        data = lists[0]
    if not isinstance(data, list):
        raise ValueError(f"{source}: expected a JSON array of objects, got {type(data).__name__}")
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(
                f"{source}: item {index} is a {type(item).__name__}, not an object; every row "
                f"must be an object of column: value"
            )
    return data


def _load_jsonl(text: str, source: str) -> list[Row]:
    rows: list[Row] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source}: line {number} is not valid JSON: {exc}") from exc
        if not isinstance(item, dict):
            raise ValueError(f"{source}: line {number} is a {type(item).__name__}, not an object")
        rows.append(item)
    return rows


def _all_objects(items: list[Any]) -> bool:
    return all(isinstance(item, dict) for item in items)


def _load_xlsx(file: Path, sheet: str | None) -> list[Row]:
    # Imported here: openpyxl takes ~0.4 s to import and most sessions never read Excel.
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{str(file)!r} is not a readable .xlsx workbook: {exc}") from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ValueError(f"no sheet {sheet!r} in {file.name}; sheets are {workbook.sheetnames}")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        records = [
            [_excel_value(cell) for cell in record]
            for record in worksheet.iter_rows(values_only=True)
            if any(cell not in (None, "") for cell in record)
        ]
    finally:
        workbook.close()
    if not records:
        return []
    # Read-only sheets may report trailing empty columns; keep only those holding something.
    width = max(
        (i + 1 for record in records for i, cell in enumerate(record) if cell is not None),
        default=0,
    )
    header = _unique_names((records[0] + [None] * width)[:width])
    return [
        dict(zip(header, (record + [None] * width)[:width], strict=True)) for record in records[1:]
    ]


def _excel_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, str):
        return value if value.strip() else None
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def _source(path: str | None, rows: list[Row] | None) -> list[Row]:
    if path is not None and rows is None:
        return _load(path)
    if rows is not None and path is None:
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ValueError(
                    f"rows[{index}] is a {type(row).__name__}; every row must be an object"
                )
        return rows
    raise ValueError(
        "pass exactly one of `path` (a CSV, TSV, JSON, JSON Lines or .xlsx file) or `rows` "
        "(a list of objects)"
    )


def _check_columns(rows: list[Row], names: Iterable[str]) -> None:
    available = column_names(rows)
    for name in names:
        if name not in available:
            close = difflib.get_close_matches(name, available, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown column {name!r}{hint}; columns are {available}")


def _page(rows: list[Row], limit: int, offset: int = 0, columns: list[str] | None = None) -> Table:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, got {offset}")
    page = rows[offset : offset + limit]
    return Table(
        columns=columns if columns is not None else column_names(rows),
        rows=page,
        total_rows=len(rows),
        truncated=offset + len(page) < len(rows),
    )


def _number(value: Any) -> float | None:
    """The value as a float if it is a number or numeric text, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    text = str(value)
    if _DATETIME.match(text):
        return "datetime"
    return "date" if _DATE.fullmatch(text) else "string"


def _hashable(value: Any) -> Any:
    return (
        json.dumps(value, sort_keys=True, default=str) if isinstance(value, list | dict) else value
    )


def _sort_key(value: Any, nulls: int) -> tuple[Any, ...]:
    # Rank types so numbers and text never get compared with each other.
    if value is None:
        return (nulls,)
    if isinstance(value, bool | int | float):
        return (1, 0, value)
    if isinstance(value, str):
        return (1, 1, value)
    return (1, 2, json.dumps(value, sort_keys=True, default=str))


@tool(toolkit="tabular", tags=["csv", "json", "excel", "file", "read"], version="1.1.0")
def read_table(
    path: str,
    format: FileFormat = "auto",
    sheet: str | None = None,
    delimiter: str | None = None,
    infer_types: bool = True,
    offset: int = 0,
    limit: int = 100,
) -> Table:
    """Read a CSV, TSV, JSON, JSON Lines or Excel (.xlsx) file into rows.

    The first line (or first non-empty sheet row) is the header. A JSON file must hold an array of
    objects, or an object with exactly one such array.

    Args:
        path: Path of the file to read, inside the service's file roots (see
            TOOLFOUNDRY_FILES_ROOT); a relative path starts at the first root.
        format: File format; "auto" picks it from the extension (.csv, .tsv, .json, .jsonl,
            .ndjson, .xlsx).
        sheet: Excel sheet name; the first sheet if omitted.
        delimiter: CSV field separator; guessed from the header line (comma, semicolon, tab or
            pipe) if omitted.
        infer_types: Turn CSV text cells into numbers, booleans and nulls ("", "NA", "null");
            a column holding codes with leading zeros (ZIP codes, "007") stays text.
        offset: Number of rows to skip, for paging through a large file.
        limit: Maximum number of rows to return.

    Returns:
        The columns, the requested rows, the total row count and whether rows were left out.
    """
    rows = _load(path, format, sheet, delimiter, infer_types)
    return _page(rows, limit, offset)


@tool(toolkit="tabular", tags=["profile", "schema", "columns"])
def describe_table(
    path: str | None = None,
    rows: list[dict[str, Any]] | None = None,
    sample_size: int = 3,
) -> TableDescription:
    """Describe a table: row count, each column's inferred type, null and distinct counts, samples.

    Args:
        path: Path of a CSV, TSV, JSON, JSON Lines or .xlsx file; give this or `rows`.
        rows: The table as a list of objects; give this or `path`.
        sample_size: Number of leading rows to include as samples.

    Returns:
        Row and column counts, one profile per column and the sample rows.
    """
    data = _source(path, rows)
    profiles = []
    for name in column_names(data):
        values = [row.get(name) for row in data]
        present = [v for v in values if v is not None]
        types = {_type_name(v) for v in present}
        if types == {"integer", "number"}:
            types = {"number"}
        distinct = list(dict.fromkeys(_hashable(v) for v in present))
        examples = list({_hashable(v): v for v in present}.values())[:3]
        profiles.append(
            ColumnProfile(
                name=name,
                type=types.pop() if len(types) == 1 else ("empty" if not types else "mixed"),
                null_count=len(values) - len(present),
                distinct_count=len(distinct),
                examples=examples,
            )
        )
    return TableDescription(
        row_count=len(data),
        column_count=len(profiles),
        columns=profiles,
        sample_rows=data[: max(sample_size, 0)],
    )


@tool(
    toolkit="tabular",
    tags=["statistics", "numeric", "summary"],
    examples=["the average price per column of this spreadsheet", "mean and range of each column"],
    version="1.0.1",
)
def summarize_columns(
    path: str | None = None,
    rows: list[dict[str, Any]] | None = None,
    columns: list[str] | None = None,
) -> dict[str, NumericSummary]:
    """Summarise numeric columns of a table: count, sum, mean, median, stdev, min and max.

    Args:
        path: Path of a CSV, TSV, JSON, JSON Lines or .xlsx file; give this or `rows`.
        rows: The table as a list of objects; give this or `path`.
        columns: Columns to summarise; all columns whose values are all numeric if omitted.

    Returns:
        One summary per column name. Non-numeric values in a named column are skipped and counted.
    """
    data = _source(path, rows)
    if columns is not None:
        _check_columns(data, columns)
    summaries: dict[str, NumericSummary] = {}
    for name in columns if columns is not None else column_names(data):
        values = [row.get(name) for row in data]
        present = [v for v in values if v is not None]
        numbers = [n for n in map(_number, present) if n is not None]
        if not numbers:
            if columns is not None:
                raise ValueError(f"column {name!r} has no numeric values to summarise")
            continue
        if columns is None and len(numbers) < len(present):
            continue
        summaries[name] = NumericSummary(
            count=len(numbers),
            null_count=len(values) - len(present),
            non_numeric_count=len(present) - len(numbers),
            sum=math.fsum(numbers),
            mean=statistics.fmean(numbers),
            median=statistics.median(numbers),
            stdev=statistics.stdev(numbers) if len(numbers) > 1 else None,
            min=min(numbers),
            max=max(numbers),
        )
    return summaries


def _comparable(cell: Any, value: Any) -> tuple[Any, Any]:
    """Bring a cell and a condition value to one type where the intent is clear ("30" vs 30)."""
    if isinstance(value, bool) != isinstance(cell, bool):
        texts = {"true": True, "false": False}
        if isinstance(cell, str) and cell.strip().lower() in texts:
            return texts[cell.strip().lower()], value
        if isinstance(value, str) and value.strip().lower() in texts:
            return cell, texts[value.strip().lower()]
        return cell, value
    cell_number, value_number = _number(cell), _number(value)
    if cell_number is not None and value_number is not None:
        return cell_number, value_number
    return cell, value


def _matcher(
    column: str, operator: Operator, value: Any, ignore_case: bool
) -> Callable[[Any], bool]:
    def fold(x: Any) -> Any:
        return x.casefold() if ignore_case and isinstance(x, str) else x

    if operator == "is_null":
        return lambda cell: cell is None
    if operator == "not_null":
        return lambda cell: cell is not None
    if operator == "in":
        if not isinstance(value, list):
            raise ValueError(f"operator 'in' needs `value` to be a list, got {value!r}")
        return lambda cell: (
            cell is not None
            and any(fold(a) == fold(b) for a, b in (_comparable(cell, v) for v in value))
        )
    if operator in ("==", "!="):
        equal = operator == "=="

        def equals(cell: Any) -> bool:
            a, b = _comparable(cell, value)
            return (fold(a) == fold(b)) == equal

        return equals
    if value is None:
        raise ValueError(f"operator {operator!r} needs a `value`")
    if operator in ("contains", "starts_with", "ends_with"):
        needle = fold(str(value))

        def text_test(cell: Any) -> bool:
            if cell is None:
                return False
            if isinstance(cell, list):
                return operator == "contains" and any(fold(item) == fold(value) for item in cell)
            text = fold(str(cell))
            if operator == "contains":
                return needle in text
            return text.startswith(needle) if operator == "starts_with" else text.endswith(needle)

        return text_test

    def order(cell: Any) -> bool:
        if cell is None:
            return False
        a, b = _comparable(cell, value)
        a, b = fold(a), fold(b)
        try:
            return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[operator]
        except TypeError:
            raise ValueError(
                f"column {column!r} value {cell!r} cannot be compared with {value!r} using "
                f"{operator!r}; drop such rows first (e.g. filter with 'not_null') or compare "
                f"with a value of the same type"
            ) from None

    return order


@tool(toolkit="tabular", tags=["filter", "where", "query"])
def filter_rows(
    column: str,
    operator: Operator,
    value: str | int | float | bool | list[str | int | float | bool] | None = None,
    path: str | None = None,
    rows: list[dict[str, Any]] | None = None,
    ignore_case: bool = False,
    limit: int = 100,
) -> Table:
    """Keep the rows of a table where one column meets a condition (e.g. price > 10).

    Numbers written as text compare as numbers. Rows with a null in the column match only
    "is_null" and "!=".

    Args:
        column: The column to test.
        operator: The comparison: ==, !=, >, >=, <, <=, contains (substring, or item of a
            list cell), starts_with, ends_with, in (value is a list), is_null, not_null.
        value: The value to compare with; a list for "in"; unused for is_null and not_null.
        path: Path of a CSV, TSV, JSON, JSON Lines or .xlsx file; give this or `rows`.
        rows: The table as a list of objects; give this or `path`.
        ignore_case: Compare text case-insensitively.
        limit: Maximum number of matching rows to return.

    Returns:
        The matching rows, their total count and whether rows were left out.
    """
    data = _source(path, rows)
    _check_columns(data, [column])
    matches = _matcher(column, operator, value, ignore_case)
    return _page(
        [row for row in data if matches(row.get(column))], limit, columns=column_names(data)
    )


@tool(toolkit="tabular", tags=["select", "project", "columns", "distinct"])
def select_columns(
    columns: list[str],
    path: str | None = None,
    rows: list[dict[str, Any]] | None = None,
    distinct: bool = False,
    limit: int = 100,
) -> Table:
    """Keep only the named columns of a table, in the given order, optionally without duplicates.

    Args:
        columns: Columns to keep, in output order.
        path: Path of a CSV, TSV, JSON, JSON Lines or .xlsx file; give this or `rows`.
        rows: The table as a list of objects; give this or `path`.
        distinct: Drop repeated rows (after selecting), keeping the first of each.
        limit: Maximum number of rows to return.

    Returns:
        The projected rows, their total count and whether rows were left out.
    """
    if not columns:
        raise ValueError("columns is empty; name at least one column to keep")
    data = _source(path, rows)
    _check_columns(data, columns)
    projected = [{name: row.get(name) for name in columns} for row in data]
    if distinct:
        unique = {tuple(_hashable(v) for v in row.values()): row for row in reversed(projected)}
        projected = list(reversed(unique.values()))
    return _page(projected, limit, columns=list(columns))


@tool(
    toolkit="tabular",
    tags=["sort", "order", "rank", "top"],
    examples=["which employee is the youngest", "the three most expensive products in the list"],
    version="1.0.1",
)
def sort_rows(
    by: list[str],
    descending: bool = False,
    path: str | None = None,
    rows: list[dict[str, Any]] | None = None,
    limit: int = 100,
) -> Table:
    """Sort the rows of a table by one or more columns; nulls always come last.

    Args:
        by: Columns to sort by, most significant first.
        descending: Sort from largest to smallest (applies to every column in `by`).
        path: Path of a CSV, TSV, JSON, JSON Lines or .xlsx file; give this or `rows`.
        rows: The table as a list of objects; give this or `path`.
        limit: Maximum number of rows to return (e.g. 5 for a top five).

    Returns:
        The sorted rows, the total row count and whether rows were left out.
    """
    if not by:
        raise ValueError("by is empty; name at least one column to sort by")
    data = _source(path, rows)
    _check_columns(data, by)
    ordered = list(data)
    # Python's sort is stable, so sorting by the least significant key first composes the keys.
    nulls = -1 if descending else 2
    for name in reversed(by):
        ordered.sort(key=lambda row, n=name: _sort_key(row.get(n), nulls), reverse=descending)
    return _page(ordered, limit, columns=column_names(data))


@tool(toolkit="tabular", tags=["group", "aggregate", "pivot", "sum", "count"])
def group_by(
    by: list[str],
    aggregations: dict[str, list[Aggregate]] | None = None,
    path: str | None = None,
    rows: list[dict[str, Any]] | None = None,
    limit: int = 100,
) -> Table:
    """Group the rows of a table by columns and aggregate each group (count, sum, mean, min, max).

    Each output row holds the group's values of `by`, `count` (rows in the group) and one
    `<function>_<column>` field per aggregation, e.g. `sum_price`.

    Args:
        by: Columns whose values define the groups; an empty list aggregates the whole table.
        aggregations: For each column, the functions to apply, e.g. {"price": ["sum", "mean"]}.
            "count" counts non-null values; sum and mean need numbers. Omit to count rows only.
        path: Path of a CSV, TSV, JSON, JSON Lines or .xlsx file; give this or `rows`.
        rows: The table as a list of objects; give this or `path`.
        limit: Maximum number of groups to return.

    Returns:
        One row per group, in order of first appearance.
    """
    data = _source(path, rows)
    aggregations = aggregations or {}
    _check_columns(data, [*by, *aggregations])
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in data:
        groups.setdefault(tuple(_hashable(row.get(name)) for name in by), []).append(row)
    output: list[Row] = []
    for members in groups.values():
        result: Row = {name: members[0].get(name) for name in by}
        result["count"] = len(members)
        for column, functions in aggregations.items():
            values = [row.get(column) for row in members if row.get(column) is not None]
            for function in functions:
                result[f"{function}_{column}"] = _aggregate(column, function, values)
        output.append(result)
    return _page(output, limit)


def _aggregate(column: str, function: Aggregate, values: list[Any]) -> Any:
    if function == "count":
        return len(values)
    numbers = [_number(v) for v in values]
    numeric = None not in numbers
    if function in ("sum", "mean"):
        if not numeric:
            bad = next(v for v, n in zip(values, numbers, strict=True) if n is None)
            raise ValueError(f"cannot {function} column {column!r}: {bad!r} is not a number")
        if function == "sum":
            return math.fsum(numbers)
        return statistics.fmean(numbers) if numbers else None
    if not values:
        return None
    pick = min if function == "min" else max
    if numeric:
        # Return the original value (an int stays an int), ordered numerically.
        return pick(values, key=_number)
    if all(isinstance(v, str) for v in values):
        return pick(values)
    raise ValueError(f"cannot take the {function} of column {column!r}: it mixes numbers and text")
