import json

import pytest
import yaml

from toolfoundry.starters.convert import (
    _LOOKUP,
    _UNITS,
    convert_number_base,
    convert_units,
    csv_to_json,
    json_to_csv,
    json_to_yaml,
    rows_to_markdown,
    yaml_to_json,
)


def test_csv_to_json_infers_types() -> None:
    text = "id,zip,name,score\n1,00123,张三,9.5\n2,75001,,\n"
    rows = json.loads(csv_to_json(text))
    assert rows == [
        {"id": 1, "zip": "00123", "name": "张三", "score": 9.5},
        {"id": 2, "zip": "75001", "name": None, "score": None},
    ]
    assert "张三" in csv_to_json(text)  # not \u-escaped
    raw = json.loads(csv_to_json(text, infer_types=False))
    assert raw[0]["id"] == "1" and raw[1]["name"] == ""
    assert "\n" not in csv_to_json(text, indent=None)
    assert json.loads(csv_to_json("a;b\n1;2\n")) == [{"a": 1, "b": 2}]


def test_csv_to_json_bad_input() -> None:
    with pytest.raises(ValueError, match="line 3 has 3 fields but the header has 2"):
        csv_to_json("a,b\n1,2\n1,2,3\n")
    with pytest.raises(ValueError, match="delimiter must be one character"):
        csv_to_json("a,b\n", delimiter="::")


def test_json_to_csv() -> None:
    text = json.dumps([{"a": 1, "b": {"c": True}}, {"a": None, "d": "中,文", "e": False}])
    assert json_to_csv(text) == 'a,b,d,e\n1,"{""c"": true}",,\n,,"中,文",false\n'
    assert json_to_csv('{"x": 1, "y": 2}', delimiter=";", columns=["y", "x"]) == "y;x\n2;1\n"


def test_json_to_csv_bad_input() -> None:
    with pytest.raises(ValueError, match="invalid JSON"):
        json_to_csv("[1,")
    with pytest.raises(ValueError, match="must be an object or an array of objects"):
        json_to_csv("[1, 2]")
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['z'\]"):
        json_to_csv('[{"a": 1}]', columns=["z"])


def test_json_yaml_round_trip() -> None:
    data = {"name": "张三", "tags": ["a", "b"], "nested": {"n": 1, "ok": True}}
    text = json_to_yaml(json.dumps(data))
    assert text.startswith("name: 张三\ntags:\n- a\n")
    assert yaml.safe_load(text) == data
    assert json.loads(yaml_to_json(text)) == data


def test_yaml_to_json_dates_and_multiple_documents() -> None:
    assert json.loads(yaml_to_json("when: 2024-03-01\n")) == {"when": "2024-03-01"}
    assert json.loads(yaml_to_json("a: 1\n---\nb: 2\n")) == [{"a": 1}, {"b": 2}]


def test_yaml_and_json_errors() -> None:
    with pytest.raises(ValueError, match="invalid YAML"):
        yaml_to_json("a: [1, 2\n")
    with pytest.raises(ValueError, match="invalid JSON"):
        json_to_yaml("{'single': 'quotes'}")


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (100, "C", "F", 212),
        (32, "°F", "celsius", 0),
        (0, "K", "C", -273.15),
        (1, "mile", "km", 1.609344),
        (1, "inch", "cm", 2.54),
        (3, "ft", "m", 0.9144),
        (5, "lb", "kg", 2.26796185),
        (1, "kg", "oz", 35.2739619496),
        (1, "GiB", "MB", 1073.741824),
        (8, "Mbit", "MB", 1),
        (1500, "MB", "GB", 1.5),
        (2.5, "t", "g", 2_500_000),
    ],
)
def test_convert_units(value: float, source: str, target: str, expected: float) -> None:
    assert convert_units(value, source, target).result == pytest.approx(expected, rel=1e-12)


def test_convert_units_reports_canonical_symbols() -> None:
    result = convert_units(100, "Celsius", "fahrenheit")
    assert (result.from_unit, result.to_unit, result.category, result.result) == (
        "C", "F", "temperature", 212.0
    )  # fmt: skip


def test_convert_units_errors() -> None:
    with pytest.raises(ValueError, match=r"cannot convert length \('m'\) to mass \('kg'\)"):
        convert_units(1, "m", "kg")
    with pytest.raises(ValueError, match=r"unknown unit 'meterz'.*length: m, km.*'meter'"):
        convert_units(1, "meterz", "m")
    with pytest.raises(ValueError, match="below absolute zero"):
        convert_units(-300, "C", "K")


def test_unit_aliases_are_unambiguous() -> None:
    names = [n.lower() for unit, aliases in _UNITS for n in (unit.symbol, *aliases)]
    assert len(names) == len(set(names)) == len(_LOOKUP)


def test_convert_number_base() -> None:
    assert convert_number_base(255, 10, 16).result == "ff"
    assert convert_number_base("255", to_base=16, uppercase=True).result == "FF"
    assert convert_number_base("0xff", 16, 2).result == "11111111"
    assert convert_number_base("-1010", 2, 10).result == "-10"
    assert convert_number_base("zz", 36, 10).decimal == 1295
    assert convert_number_base("0", 10, 2).result == "0"
    assert convert_number_base("1_000", 10, 8).result == "1750"


def test_convert_number_base_errors() -> None:
    with pytest.raises(ValueError, match=r"'12G' is not a base-16 integer.*0123456789abcdef"):
        convert_number_base("12G", 16, 10)
    with pytest.raises(ValueError, match=r"not a base-10 integer.*fractions"):
        convert_number_base("1.5")
    with pytest.raises(ValueError, match="to_base must be between 2 and 36, got 37"):
        convert_number_base("1", 10, 37)


def test_rows_to_markdown() -> None:
    rows = [
        {"name": "a|b", "n": 1},
        {"name": "x\ny", "n": 2.5, "ok": True},
        {"name": "中文", "n": None},
    ]
    assert rows_to_markdown(rows) == (
        "| name | n | ok |\n"
        "| --- | ---: | --- |\n"
        "| a\\|b | 1 |  |\n"
        "| x<br>y | 2.5 | true |\n"
        "| 中文 |  |  |"
    )
    short = rows_to_markdown(rows, columns=["n"], max_rows=1)
    assert short == "| n |\n| ---: |\n| 1 |\n\n*… 2 more rows*"


def test_rows_to_markdown_errors() -> None:
    with pytest.raises(ValueError, match="rows is empty"):
        rows_to_markdown([])
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['x'\]"):
        rows_to_markdown([{"a": 1}], columns=["x"])
