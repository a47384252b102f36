"""The small code contract: a small model's messy answers are read leniently, and the four files
of a build are rendered around its functions."""

from __future__ import annotations

import ast

import pytest

from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.strategies.codereact.codegen import essential_output, functions_prompt
from toolfoundry.builder.strategies.codereact.functions import (
    FunctionCodeError,
    extract_code,
    imported_packages,
    render_files,
)

VOWELS = '''def count_vowels(text: str) -> int:
    """Count the vowels."""
    return sum(1 for c in text.lower() if c in "aeiou")'''


@pytest.mark.parametrize(
    "answer",
    [
        f"```python\n{VOWELS}\n```",
        f"Sure! Here is the function:\n\n```py\n{VOWELS}\n```\n\nIt lower-cases the text first.",
        f"{VOWELS}\n\nThis function counts vowels.",
        f"Here you go:\n{VOWELS}\n",
        f"```python server.py\n{VOWELS}\n```\n\n```python test_server.py\nimport pytest\n"
        "from server import count_vowels\n\ndef test_x():\n    assert count_vowels('a') == 1\n```",
        f"```\n{VOWELS}\n",  # never closed
        f"```text\nsome notes\n```\n```python\n{VOWELS}\n```",
    ],
)
def test_messy_answers_yield_the_function(answer: str) -> None:
    code = extract_code(answer)
    assert "def count_vowels(text: str) -> int:" in code
    ast.parse(code)
    assert "test_x" not in code and "notes" not in code


def test_imports_in_a_separate_block_are_kept() -> None:
    answer = (
        "```python\nimport re\n```\n\n"
        "```python\ndef words(t: str) -> int:\n    return len(re.findall(r'\\w+', t))\n```"
    )
    code = extract_code(answer)
    assert code.startswith("import re") and "def words" in code


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("I cannot do that.", "holds no Python code"),
        ("```python\nx = 1\n```", "defines no function"),
        ("```python\ndef f(:\n    pass\n```", "does not parse"),
    ],
)
def test_answers_without_usable_code_say_why(answer: str, reason: str) -> None:
    with pytest.raises(FunctionCodeError, match=reason):
        extract_code(answer)


def test_the_server_is_rendered_around_the_functions() -> None:
    code = '''from fastmcp import FastMCP
import math

mcp = FastMCP("x")


def _helper(x: float) -> float:
    return math.floor(x)


@mcp.tool()
def to_roman(number: int) -> str:
    """Roman numeral."""
    return "I" * _helper(number)


def test_to_roman():
    assert to_roman(1) == "I"


print(to_roman(3))

if __name__ == "__main__":
    mcp.run()
'''
    requirement = BuildRequirement(
        description="Convert an integer to Roman numerals", examples=["3=>III"]
    )
    files = render_files(code, requirement)
    server = files.files["server.py"]
    ast.parse(server)
    assert server.count("mcp = FastMCP(") == 1 and server.count("mcp.run()") == 1
    assert "@mcp.tool\ndef to_roman(number: int) -> str:" in server
    assert "@mcp.tool\ndef _helper" not in server and "print(" not in server
    assert "def test_to_roman" not in server
    tests = files.files["test_server.py"]
    # The text example is passed as the integer the function declares.
    assert "to_roman(**{'number': 3})" in tests and "_normalise('III')" in tests
    assert files.files["requirements.txt"].strip() == ""
    assert "`to_roman(number: int)`: Roman numeral." in files.files["README.md"]


def test_code_without_a_public_function_is_refused() -> None:
    with pytest.raises(FunctionCodeError, match="no public function"):
        render_files(
            "def _only_helper(x: int) -> int:\n    return x\n", BuildRequirement(description="x")
        )


@pytest.mark.parametrize(
    ("code", "dependencies", "expected"),
    [
        ("import re\nimport json\n", [], []),
        ("import yaml\n", [], ["pyyaml"]),
        ("import yaml\n", ["pyyaml>=6"], ["pyyaml>=6"]),
        ("from dateutil import parser\nimport requests\n", [], ["python-dateutil", "requests"]),
        # `stdnum` comes from the declared python-stdnum: no package is guessed for it.
        ("from stdnum import luhn\n", ["python-stdnum"], ["python-stdnum"]),
        ("import markdown\n", ["markdown"], ["markdown"]),
    ],
)
def test_requirements_come_from_the_imports(
    code: str, dependencies: list[str], expected: list[str]
) -> None:
    requirement = BuildRequirement(description="x", dependencies=dependencies)
    assert imported_packages(code, requirement) == expected


def test_prompt_shows_examples_as_calls_and_output_without_pytest_noise() -> None:
    requirement = BuildRequirement(
        description="Add", examples=['{"a": 2, "b": 3}=>5', "abc=>3"], dependencies=["markdown"]
    )
    prompt = functions_prompt(requirement)
    assert "`f(a=2, b=3)` → `5`" in prompt and "`f('abc')` → `3`" in prompt
    assert "- markdown" in prompt and prompt.endswith("in one ```python block.")
    output = "platform linux -- Python 3.11\nrootdir: /x\ncollected 2 items\nE   assert -1 == 5"
    assert essential_output(output) == "E   assert -1 == 5"
