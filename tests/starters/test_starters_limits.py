"""Starter tools touch only the configured file roots and bound what callers can make them
spend (called directly here; tests/api/test_limits_api.py tries the same over REST)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from toolfoundry import Settings
from toolfoundry.core.errors import ArgumentsError, PathNotAllowedError, PatternTimeoutError
from toolfoundry.core.policy import ToolPolicy, current_policy, use_policy
from toolfoundry.registry.schema import derive_function_schema
from toolfoundry.starters.convert import convert_number_base, csv_to_json, yaml_to_json
from toolfoundry.starters.stats import histogram
from toolfoundry.starters.tabular import describe_table, read_table
from toolfoundry.starters.text import regex_find_all, regex_replace, text_similarity


def test_files_in_the_root_are_read(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "t.csv").write_text("a\n1\n")
    assert read_table(str(tmp_path / "sub" / "t.csv")).rows == [{"a": 1}]
    assert read_table("sub/t.csv").rows == [{"a": 1}]  # relative to the first root
    # `..` that stays inside the root is fine.
    assert read_table(str(tmp_path / "sub" / ".." / "sub" / "t.csv")).total_rows == 1


@pytest.mark.parametrize("path", ["/etc/shadow", "/etc/passwd", "../x.csv", "sub/../../x.csv"])
def test_paths_leading_out_are_refused(path: str, tmp_path: Path) -> None:
    with pytest.raises(PathNotAllowedError) as caught:
        read_table(path, format="csv", delimiter=":")
    assert caught.value.status_code == 403
    assert caught.value.roots == [os.path.realpath(tmp_path)]
    assert os.path.realpath(tmp_path) in str(caught.value)


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("k\nhunter2\n")
    (tmp_path / "link.csv").symlink_to(outside / "secret.csv")
    (tmp_path / "dir").symlink_to(outside, target_is_directory=True)
    for path in (tmp_path / "link.csv", tmp_path / "dir" / "secret.csv"):
        with pytest.raises(PathNotAllowedError):
            read_table(str(path))
        with pytest.raises(PathNotAllowedError):
            describe_table(path=str(path))


def test_default_roots_are_the_launch_directory_and_data_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launch = tmp_path / "launch"
    launch.mkdir()
    monkeypatch.chdir(launch)
    settings = Settings(data_dir=tmp_path / "data")
    monkeypatch.chdir(tmp_path)  # later changes of directory do not move the root
    policy = ToolPolicy.from_settings(settings)
    assert policy.files_roots == (
        Path(os.path.realpath(launch)),
        Path(os.path.realpath(tmp_path / "data" / "files")),
    )
    configured = Settings(data_dir=tmp_path, files_root=f"/srv/a{os.pathsep}/srv/b")
    assert [str(p) for p in ToolPolicy.from_settings(configured).files_roots] == [
        "/srv/a",
        "/srv/b",
    ]


def test_regex_budget_comes_from_the_policy() -> None:
    assert regex_find_all("a" * 28 + "b", "(a+)+$").count == 0
    with use_policy(ToolPolicy(files_roots=(), regex_timeout=0.1)):
        assert current_policy().regex_timeout == 0.1
        started = time.perf_counter()
        with pytest.raises(PatternTimeoutError) as caught:
            regex_find_all("a" * 40 + "b", "(a|aa)+$")
        assert time.perf_counter() - started < 3
        assert caught.value.status_code == 422 and "(a|aa)+$" in str(caught.value)
        with pytest.raises(PatternTimeoutError):
            regex_replace("a" * 40 + "b", "(a|aa)+$", "x")


def test_regex_replace_cannot_multiply_the_text() -> None:
    with pytest.raises(ValueError, match="more than 10,000,000 characters"):
        regex_replace("a" * 10_000, "", "b" * 2_000)
    assert regex_replace("abc", "", "-").text == "-a-b-c-"


def test_yaml_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(ValueError, match="aliases"):
        yaml_to_json("\n".join(lines))
    assert yaml_to_json("a: &x [1]\nb: *x", indent=None) == '{"a": [1], "b": [1]}'


@pytest.mark.parametrize(
    ("fn", "parameter", "bound"),
    [
        (histogram, "bins", {"minimum": 1, "maximum": 10_000}),
        (convert_number_base, "from_base", {"minimum": 2, "maximum": 36}),
        (convert_number_base, "to_base", {"minimum": 2, "maximum": 36}),
        (text_similarity, "text_a", {"maxLength": 100_000}),
    ],
)
def test_caller_sizes_are_bounded_in_the_schema(fn, parameter: str, bound: dict) -> None:  # type: ignore[no-untyped-def]
    schema = derive_function_schema(fn, name=fn.__name__, description=None)
    assert bound.items() <= schema.input_schema["properties"][parameter].items()


@pytest.mark.parametrize(
    ("fn", "arguments", "expected"),
    [
        (histogram, {"values": [1, 2, 3], "bins": 1_000_000_000}, "10000"),
        (csv_to_json, {"csv_text": "a\n1", "indent": 10**9}, "16"),
        (yaml_to_json, {"yaml_text": "a: 1", "indent": 10**9}, "16"),
        (convert_number_base, {"value": "1" * 5_000}, "1000"),
        (text_similarity, {"text_a": "a" * 200_000, "text_b": "b"}, "100000"),
    ],
)
def test_oversized_arguments_are_invalid_naming_the_bound(
    fn, arguments: dict, expected: str
) -> None:  # type: ignore[no-untyped-def]

    schema = derive_function_schema(fn, name=fn.__name__, description=None)
    with pytest.raises(ArgumentsError) as caught:
        schema.validator(arguments)
    assert expected in str(caught.value)
