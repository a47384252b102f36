"""Build requirement parsing and the generated-files container."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from toolfoundry.builder.models import BuildRequirement, Example, GeneratedFiles


def test_cli_example_form() -> None:
    assert Example.parse("# Hi=><h1>Hi</h1>") == Example(input="# Hi", expected="<h1>Hi</h1>")
    structured = Example.parse('{"a": 2, "b": 3}=>5')
    assert structured.input == {"a": 2, "b": 3} and structured.expected == 5
    assert Example.parse("a=>b=>c").expected == "b=>c"  # split at the first arrow


def test_example_without_arrow_is_rejected() -> None:
    with pytest.raises(ValueError, match="INPUT=>EXPECTED"):
        Example.parse("no arrow")


def test_requirement_accepts_cli_examples_and_defaults_to_no_network() -> None:
    requirement = BuildRequirement(
        description=" Convert Markdown ", dependencies=["markdown>=3"], examples=["x=>y"]
    )
    assert requirement.description == "Convert Markdown"
    assert requirement.examples == [Example(input="x", expected="y")]
    assert requirement.network is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("description", "   ", "blank"),
        ("dependencies", ["not a requirement!!"], "is not a requirement"),
        ("dependencies", ["evil @ https://example.com/evil.whl"], "not a URL"),
        ("examples", ["no arrow"], "INPUT=>EXPECTED"),
    ],
)
def test_bad_requirements_name_the_problem(field: str, value: object, message: str) -> None:
    data: dict[str, object] = {"description": "x", field: value}
    with pytest.raises(ValidationError, match=message):
        BuildRequirement.model_validate(data)


@pytest.mark.parametrize("name", ["../server.py", "sub/x.py", ""])
def test_generated_file_names_cannot_escape(name: str) -> None:
    with pytest.raises(ValidationError):
        GeneratedFiles(files={"server.py": "", name: "x"})


def test_generated_files_are_written_readable(tmp_path: Path) -> None:
    files = GeneratedFiles(files={"server.py": "print(1)\n", "README.md": "# x\n"})
    written = files.write_to(tmp_path / "server")
    assert {p.name for p in written} == {"server.py", "README.md"}
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in written)
