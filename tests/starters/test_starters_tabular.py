import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from pydantic_core import to_json

from toolfoundry.starters.tabular import (
    describe_table,
    filter_rows,
    group_by,
    read_table,
    select_columns,
    sort_rows,
    summarize_columns,
)

ROWS = [
    {"city": "Paris", "country": "FR", "price": 10, "qty": 2},
    {"city": "Lyon", "country": "FR", "price": 30, "qty": None},
    {"city": "Berlin", "country": "DE", "price": 20, "qty": 5},
    {"city": "Munich", "country": "DE", "price": None, "qty": 1},
]


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text(
        "id,zip,city,amount,paid,note\n"
        "1,00123,Paris,10.5,true,\n"
        "2,75001,Lyon,3,false,NA\n"
        "\n"
        "3,10115,Berlin,-2e1,TRUE,late\n",
        encoding="utf-8",
    )
    return path


def test_read_csv_infers_types_and_keeps_codes(csv_file: Path) -> None:
    table = read_table(str(csv_file))
    assert table.columns == ["id", "zip", "city", "amount", "paid", "note"]
    assert table.total_rows == 3 and not table.truncated
    first, second, third = table.rows
    assert first == {
        "id": 1, "zip": "00123", "city": "Paris", "amount": 10.5, "paid": True, "note": None
    }  # fmt: skip
    assert second["zip"] == "75001"
    assert second["note"] is None and second["amount"] == 3
    assert third["amount"] == -20.0 and third["paid"] is True
    assert json.loads(to_json(table))["total_rows"] == 3


def test_read_csv_without_inference_keeps_text(csv_file: Path) -> None:
    table = read_table(str(csv_file), infer_types=False)
    assert table.rows[0]["id"] == "1" and table.rows[0]["note"] == ""


def test_read_pages_with_offset_and_limit(csv_file: Path) -> None:
    page = read_table(str(csv_file), offset=1, limit=1)
    assert [row["id"] for row in page.rows] == [2]
    assert page.total_rows == 3 and page.truncated
    assert not read_table(str(csv_file), offset=2, limit=1).truncated


def test_read_guesses_semicolon_and_reads_tsv_and_chinese_with_bom(tmp_path: Path) -> None:
    semicolon = tmp_path / "eu.csv"
    semicolon.write_text("name;价格\n苹果;3,5\n香蕉;2\n", encoding="utf-8-sig")
    table = read_table(str(semicolon))
    assert table.columns == ["name", "价格"]
    assert table.rows[0] == {"name": "苹果", "价格": "3,5"}
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\tb\n1\tx y\n", encoding="utf-8")
    assert read_table(str(tsv)).rows == [{"a": 1, "b": "x y"}]


def test_read_json_array_envelope_and_jsonl(tmp_path: Path) -> None:
    array = tmp_path / "a.json"
    array.write_text(json.dumps([{"a": 1}, {"a": 2, "b": [1, 2]}]), encoding="utf-8")
    table = read_table(str(array))
    assert table.columns == ["a", "b"] and table.rows[1]["b"] == [1, 2]
    envelope = tmp_path / "e.json"
    envelope.write_text(json.dumps({"meta": {"n": 1}, "data": [{"x": "中文"}]}), encoding="utf-8")
    assert read_table(str(envelope)).rows == [{"x": "中文"}]
    lines = tmp_path / "l.jsonl"
    lines.write_text('{"x": 1}\n\n{"x": 2}\n', encoding="utf-8")
    assert [r["x"] for r in read_table(str(lines)).rows] == [1, 2]


def test_read_xlsx_with_dates_and_sheets(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append(["order", "day", "total", None])
    sheet.append([1, dt.datetime(2024, 3, 1), 9.5, None])
    sheet.append([2, dt.datetime(2024, 3, 2, 14, 30), 12, None])
    other = workbook.create_sheet("People")
    other.append(["name", "name"])
    other.append(["张三", "李四"])
    workbook.save(path)

    orders = read_table(str(path))
    assert orders.columns == ["order", "day", "total"]
    assert orders.rows == [
        {"order": 1, "day": "2024-03-01", "total": 9.5},
        {"order": 2, "day": "2024-03-02T14:30:00", "total": 12},
    ]
    people = read_table(str(path), sheet="People")
    assert people.rows == [{"name": "张三", "name_2": "李四"}]
    with pytest.raises(ValueError, match=r"no sheet 'Nope'.*Orders"):
        read_table(str(path), sheet="Nope")


def test_read_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"file not found: '.*missing\.csv'"):
        read_table(str(tmp_path / "missing.csv"))
    odd = tmp_path / "data.parquet"
    odd.write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cannot tell the format.*'\.parquet'"):
        read_table(str(odd))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3 has 3 fields but the header has 2"):
        read_table(str(ragged))
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid JSON"):
        read_table(str(broken))
    scalars = tmp_path / "scalars.json"
    scalars.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="item 0 is a int, not an object"):
        read_table(str(scalars))
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip", encoding="utf-8")
    with pytest.raises(ValueError, match=r"not a readable \.xlsx"):
        read_table(str(fake))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        read_table(str(latin))
    with pytest.raises(ValueError, match="limit must be at least 1"):
        read_table(str(lines_file(tmp_path)), limit=0)


def lines_file(tmp_path: Path) -> Path:
    path = tmp_path / "ok.jsonl"
    path.write_text('{"a": 1}\n', encoding="utf-8")
    return path


def test_describe_table_profiles_columns(csv_file: Path) -> None:
    description = describe_table(path=str(csv_file), sample_size=1)
    assert description.row_count == 3 and description.column_count == 6
    profiles = {c.name: c for c in description.columns}
    assert profiles["id"].type == "integer"
    assert profiles["amount"].type == "number"
    assert profiles["zip"].type == "string"
    assert profiles["paid"].type == "boolean"
    assert profiles["note"].null_count == 2 and profiles["note"].type == "string"
    assert profiles["city"].distinct_count == 3 and profiles["city"].examples == [
        "Paris",
        "Lyon",
        "Berlin",
    ]
    assert len(description.sample_rows) == 1


def test_describe_inline_rows_detects_dates_mixed_and_empty() -> None:
    rows = [{"d": "2024-03-01", "m": 1, "e": None}, {"d": "2024-03-02", "m": "x", "e": None}]
    profiles = {c.name: c.type for c in describe_table(rows=rows).columns}
    assert profiles == {"d": "date", "m": "mixed", "e": "empty"}


def test_source_must_be_exactly_one_of_path_or_rows(csv_file: Path) -> None:
    with pytest.raises(ValueError, match="exactly one of `path`"):
        describe_table()
    with pytest.raises(ValueError, match="exactly one of `path`"):
        describe_table(path=str(csv_file), rows=ROWS)
    with pytest.raises(ValueError, match=r"rows\[1\] is a str"):
        describe_table(rows=[{"a": 1}, "oops"])  # type: ignore[list-item]


def test_summarize_columns_computes_real_values() -> None:
    summary = summarize_columns(rows=[{"v": 1}, {"v": 2}, {"v": 3}, {"v": 4}, {"v": None}])
    v = summary["v"]
    assert (v.count, v.null_count, v.sum, v.mean, v.median, v.min, v.max) == (
        4,
        1,
        10,
        2.5,
        2.5,
        1,
        4,
    )
    assert v.stdev == pytest.approx(1.2909944487)


def test_summarize_skips_text_columns_unless_named() -> None:
    summary = summarize_columns(rows=ROWS)
    assert set(summary) == {"price", "qty"}
    assert summary["price"].mean == 20
    mixed = [{"x": 1}, {"x": "n/a text"}, {"x": "3"}]
    assert summarize_columns(rows=mixed) == {}
    named = summarize_columns(rows=mixed, columns=["x"])["x"]
    assert named.count == 2 and named.non_numeric_count == 1 and named.sum == 4
    with pytest.raises(ValueError, match="column 'city' has no numeric values"):
        summarize_columns(rows=ROWS, columns=["city"])
    with pytest.raises(ValueError, match=r"unknown column 'prise' \(did you mean 'price'\?\)"):
        summarize_columns(rows=ROWS, columns=["prise"])


def test_filter_rows_compares_numbers_text_and_nulls() -> None:
    assert [r["city"] for r in filter_rows("price", ">", 15, rows=ROWS).rows] == ["Lyon", "Berlin"]
    assert [r["city"] for r in filter_rows("price", "<=", "20", rows=ROWS).rows] == [
        "Paris",
        "Berlin",
    ]
    assert filter_rows("price", "==", "30", rows=ROWS).total_rows == 1
    assert filter_rows("price", "!=", 30, rows=ROWS).total_rows == 3
    assert [
        r["city"] for r in filter_rows("city", "contains", "LY", rows=ROWS, ignore_case=True).rows
    ] == ["Lyon"]
    assert filter_rows("city", "starts_with", "M", rows=ROWS).rows[0]["city"] == "Munich"
    assert filter_rows("country", "in", ["DE"], rows=ROWS).total_rows == 2
    assert [r["city"] for r in filter_rows("qty", "is_null", rows=ROWS).rows] == ["Lyon"]
    assert filter_rows("qty", "not_null", rows=ROWS, limit=1).truncated


def test_filter_rows_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown column 'town'"):
        filter_rows("town", "==", "Paris", rows=ROWS)
    with pytest.raises(ValueError, match=r"column 'city' value 'Paris' cannot be compared with 3"):
        filter_rows("city", ">", 3, rows=ROWS)
    with pytest.raises(ValueError, match="operator 'in' needs `value` to be a list"):
        filter_rows("city", "in", "Paris", rows=ROWS)
    with pytest.raises(ValueError, match="operator '>' needs a `value`"):
        filter_rows("price", ">", rows=ROWS)


def test_filter_rows_on_a_file(csv_file: Path) -> None:
    table = filter_rows("paid", "==", True, path=str(csv_file))
    assert [row["city"] for row in table.rows] == ["Paris", "Berlin"]
    assert table.columns[0] == "id"


def test_select_columns_and_distinct() -> None:
    table = select_columns(["country"], rows=ROWS, distinct=True)
    assert table.rows == [{"country": "FR"}, {"country": "DE"}]
    assert table.columns == ["country"]
    with pytest.raises(ValueError, match="columns is empty"):
        select_columns([], rows=ROWS)


def test_sort_rows_multi_key_nulls_last() -> None:
    ascending = sort_rows(["price"], rows=ROWS)
    assert [r["city"] for r in ascending.rows] == ["Paris", "Berlin", "Lyon", "Munich"]
    descending = sort_rows(["price"], descending=True, rows=ROWS, limit=2)
    assert [r["city"] for r in descending.rows] == ["Lyon", "Berlin"] and descending.truncated
    by_two = sort_rows(["country", "city"], rows=ROWS)
    assert [r["city"] for r in by_two.rows] == ["Berlin", "Munich", "Lyon", "Paris"]
    assert [r["v"] for r in sort_rows(["v"], rows=[{"v": "b"}, {"v": 2}, {"v": "a"}]).rows] == [
        2,
        "a",
        "b",
    ]


def test_group_by_aggregates() -> None:
    table = group_by(
        ["country"], {"price": ["sum", "mean", "max", "count"], "city": ["min"]}, rows=ROWS
    )
    assert table.rows == [
        {"country": "FR", "count": 2, "sum_price": 40, "mean_price": 20, "max_price": 30,
         "count_price": 2, "min_city": "Lyon"},
        {"country": "DE", "count": 2, "sum_price": 20, "mean_price": 20, "max_price": 20,
         "count_price": 1, "min_city": "Berlin"},
    ]  # fmt: skip
    whole = group_by([], {"qty": ["sum"]}, rows=ROWS)
    assert whole.rows == [{"count": 4, "sum_qty": 8}]
    with pytest.raises(ValueError, match="cannot sum column 'city': 'Paris' is not a number"):
        group_by(["country"], {"city": ["sum"]}, rows=ROWS)
    with pytest.raises(ValueError, match="unknown column 'nation'"):
        group_by(["nation"], rows=ROWS)
