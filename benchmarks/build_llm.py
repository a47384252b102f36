"""Build success rate, median build time and first-try success rate of the LLM build loop.

Twelve capability gaps of varied difficulty go through the CodeReAct loop with the real stages
(uv venv, security scan, bubblewrap sandbox, MCP validation with the generated tests and the
gap's examples). The model is whatever `TOOLFOUNDRY_LLM_*` configures; with none (or `--stub`)
a scripted OpenAI-compatible stub answers: most gaps right at once, some wrong first (a bug, a
shell-out, a package that does not exist, a syntax error) and right once the failure reaches the
prompt, and one never right — so the figures show the loop's mechanics, not a model's skill.
Targets of the reference design, with a capable model: success > 80 %, median < 8 min,
first try > 70 %.

Run: .venv/bin/python benchmarks/build_llm.py [--stub] [--only NAME]... [--max-iterations N]
Prints a JSON object and a short table. Needs bubblewrap and access to the package index.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolfoundry import Settings
from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.stages.environment import BuildEnvironment
from toolfoundry.builder.stages.sandbox import BubblewrapSandbox, sandbox_available
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.codereact.loop import CodeReActLoop
from toolfoundry.llm import build_model, describe_model

# The scripted stub lives with the tests, which start it too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from openai_stub import OpenAIStub, StubRequest


@dataclass
class Case:
    """A gap, and the stub's answers for it: `first` overrides the right answer's parts on the
    first try; `never_fixed` keeps giving the first answer."""

    name: str
    difficulty: str
    description: str
    examples: list[str]
    params: str
    returns: str
    doc: str
    body: str
    asserts: list[str]
    imports: str = ""
    requirements: str = ""
    dependencies: list[str] = field(default_factory=list)
    first: dict[str, str] = field(default_factory=dict)
    never_fixed: bool = False

    def requirement(self) -> BuildRequirement:
        return BuildRequirement(
            description=self.description, dependencies=self.dependencies, examples=self.examples
        )


CASES = [
    Case(
        "reverse_text", "simple", "Reverse the characters of a text", ["stressed=>desserts"],
        "text: str", "str", "Return the text reversed.", "return text[::-1]",
        ['reverse_text("abc") == "cba"'],
    ),
    Case(
        "count_words", "simple", "Count the words in a text", ["one two three=>3"],
        "text: str", "int", "Count whitespace-separated words.", "return len(text.split())",
        ['count_words("a b") == 2', 'count_words("") == 0'],
    ),
    Case(
        "celsius_to_fahrenheit", "simple", "Convert a temperature from Celsius to Fahrenheit",
        ['{"celsius": 100}=>212.0'], "celsius: float", "float", "Convert °C to °F.",
        "return celsius * 9 / 5 + 32", ["celsius_to_fahrenheit(0) == 32"],
    ),
    Case(
        "sha256_hex", "simple", "Compute the SHA-256 hex digest of a text",
        ["abc=>ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
        "text: str", "str", "SHA-256 of the UTF-8 text, as hex.",
        'return hashlib.sha256(text.encode("utf-8")).hexdigest()',
        ['len(sha256_hex("x")) == 64'], imports="import hashlib",
    ),
    Case(
        "to_roman", "moderate", "Write an integer as a Roman numeral",
        ['{"number": 1994}=>MCMXCIV'],
        "number: int", "str", "Roman numeral of 1..3999.",
        "if not 0 < number < 4000:\n        raise ValueError('number must be in 1..3999')\n"
        "    out = ''\n    for value, letters in _NUMERALS:\n"
        "        while number >= value:\n            out += letters\n            number -= value\n"
        "    return out",
        ['to_roman(4) == "IV"', 'to_roman(3999) == "MMMCMXCIX"'],
        imports="_NUMERALS = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), (100, 'C'), "
        "(90, 'XC'), (50, 'L'), (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]",
    ),
    Case(
        "csv_to_rows", "moderate", "Parse CSV text with a header row into a list of records",
        ['{"text": "a,b\\n1,2"}=>[{"a": "1", "b": "2"}]'], "text: str", "list[dict[str, str]]",
        "Rows of the CSV as dicts keyed by the header.",
        "return list(csv.DictReader(io.StringIO(text)))",
        ['csv_to_rows("x\\n5") == [{"x": "5"}]'], imports="import csv\nimport io",
    ),
    Case(
        "days_between", "moderate", "Count the days between two ISO dates",
        ['{"start": "2024-01-01", "end": "2024-03-01"}=>60'], "start: str, end: str", "int",
        "Days from start to end (negative if end is earlier).",
        "return (date.fromisoformat(end) - date.fromisoformat(start)).days",
        ['days_between("2024-01-02", "2024-01-01") == -1'], imports="from datetime import date",
    ),
    Case(
        "slugify", "moderate", "Turn a title into a URL slug", ["Hello, World!=>hello-world"],
        "title: str", "str", "Lower-case words joined by hyphens, punctuation dropped.",
        "return '-'.join(re.findall(r'[a-z0-9]+', title.lower()))",
        ['slugify("  A  b ") == "a-b"'], imports="import re",
        first={"body": "return title.lower().replace(' ', '-')"},
    ),
    Case(
        "markdown_to_html", "moderate", "Render Markdown text as HTML", ["# Hi=><h1>Hi</h1>"],
        "text: str", "str", "HTML for the Markdown text.", "return markdown.markdown(text)",
        ['markdown_to_html("*a*") == "<p><em>a</em></p>"'], imports="import markdown",
        requirements="markdown>=3",
        first={
            "imports": "import toolfoundry_bench_md_renderer as markdown",
            "requirements": "toolfoundry-bench-md-renderer-nonexistent",
        },
    ),
    Case(
        "extract_urls", "moderate", "Extract the http and https URLs from a text",
        ['{"text": "see https://a.org and http://b.io/x now"}=>["https://a.org", "http://b.io/x"]'],
        "text: str", "list[str]", "URLs in order of appearance.",
        r"return re.findall(r'https?://[^\s]+', text)", ['extract_urls("none") == []'],
        imports="import re",
        first={
            "imports": "import subprocess",
            "body": "out = subprocess.run(['grep', '-oE', 'https?://[^ ]+'], input=text, "
            "capture_output=True, text=True).stdout\n    return out.split()",
        },
    ),
    Case(
        "is_valid_email", "simple", "Check whether a text is a plausible email address",
        ['{"address": "ada@example.org"}=>true'], "address: str", "bool",
        "True for local@domain.tld shapes.",
        r"return re.fullmatch(r'[^@\s]+@[^@\s]+\.[a-z]{2,}', address, re.I) is not None",
        ['is_valid_email("nope") is False'], imports="import re",
        first={"body": "return re.fullmatch(r'[^@\\s]+@[^@\\s]+\\.[a-z]{2,}', address re.I)"},
    ),
    Case(
        "levenshtein", "hard", "Compute the Levenshtein edit distance of two strings",
        ['{"a": "kitten", "b": "sitting"}=>3'], "a: str, b: str", "int",
        "Insertions, deletions and substitutions to turn a into b.",
        "return abs(len(a) - len(b))", ['levenshtein("", "ab") == 2'], never_fixed=True,
    ),
]  # fmt: skip


def _server(case: Case, parts: dict[str, str]) -> str:
    imports = parts.get("imports", case.imports)
    body = parts.get("body", case.body)
    return (
        f'"""{case.description}."""\n\n{imports}\n\nfrom fastmcp import FastMCP\n\n'
        f'mcp = FastMCP("{case.name.replace("_", "-")}")\n\n\n@mcp.tool\n'
        f'def {case.name}({case.params}) -> {case.returns}:\n    """{case.doc}"""\n    {body}\n\n\n'
        'if __name__ == "__main__":\n    mcp.run()\n'
    )


def _answer(case: Case, parts: dict[str, str]) -> str:
    tests = "\n\n\n".join(
        f"def test_{i}():\n    assert {check}" for i, check in enumerate(case.asserts)
    )
    return (
        f"```python server.py\n{_server(case, parts)}```\n\n"
        f"```text requirements.txt\n{parts.get('requirements', case.requirements)}\n```\n\n"
        f"```python test_server.py\nfrom server import {case.name}\n\n\n{tests}\n```\n\n"
        f"````markdown README.md\n# {case.description}\n\nTool `{case.name}({case.params})`: "
        f"{case.doc}\n\nRun: `python server.py`.\n````\n"
    )


def stub_script(request: StubRequest) -> str | dict[str, Any]:
    """Answers by the gap named in the prompt; the right answer once a failure is shown."""
    case = next(c for c in CASES if c.description in request.prompt)
    if request.tools:
        return {
            "capability": case.description,
            "functions": [
                {
                    "name": case.name,
                    "description": case.doc,
                    "inputs": dict(p.split(": ", 1) for p in case.params.split(", ")),
                    "output": case.returns,
                }
            ],
            "dependencies": [r.split(">")[0] for r in [case.requirements] if r],
            "success_criteria": case.examples,
            "search_keywords": case.name.split("_"),
            "complexity": case.difficulty if case.difficulty != "hard" else "complex",
        }
    repair = "## Failure:" in request.prompt
    return _answer(case, case.first if case.never_fixed or not repair else {})


async def run_case(
    case: Case, model: Any, environment: BuildEnvironment, max_iterations: int
) -> dict[str, Any]:
    loop = CodeReActLoop(model, max_iterations=max_iterations, contract="files")
    with tempfile.TemporaryDirectory(prefix=f"tf-bench-{case.name}-") as tmp:
        requirement = case.requirement()
        workspace = BuildWorkspace(
            Path(tmp),
            requirement,
            sandbox=BubblewrapSandbox(),
            environment=environment,
            on_phase=lambda phase: None,
            on_progress=lambda line: None,
        )
        started = time.monotonic()
        result = await loop.run(requirement, workspace, lambda line: None)
        seconds = time.monotonic() - started
    return {
        "gap": case.name,
        "difficulty": case.difficulty,
        "success": result.success,
        "first_try": result.metrics.first_try,
        "iterations": result.metrics.iterations,
        "seconds": round(seconds, 2),
        "classes": [i.error_class for i in result.iterations if i.error_class],
        "repairs": [h.model_dump() for h in result.metrics.healing],
        "phase_seconds": result.metrics.phase_seconds,
        "error": result.error,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    status = sandbox_available()
    if not status.available:
        raise SystemExit(f"bubblewrap unusable: {status.reason}")
    cases = [c for c in CASES if not args.only or c.name in args.only]
    settings = Settings()
    with ExitStack() as stack:
        if args.stub or not settings.llm_model:
            stub = stack.enter_context(OpenAIStub(script=stub_script))
            settings = Settings(llm_model="openai:stub", llm_base_url=stub.url)
        model = build_model(settings)
        environment = BuildEnvironment()
        rows = [
            await run_case(case, model, environment, args.max_iterations or 5) for case in cases
        ]
    built = [r for r in rows if r["success"]]
    return {
        "benchmark": "build_llm",
        "model": describe_model(model),
        "scripted_stub": settings.llm_model == "openai:stub",
        "machine": f"{platform.node()} {platform.machine()} Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "gaps": len(rows),
        "success_rate": round(len(built) / len(rows), 3),
        "first_try_success_rate": round(sum(r["first_try"] for r in rows) / len(rows), 3),
        "median_build_s": round(statistics.median(r["seconds"] for r in rows), 2),
        "median_successful_build_s": round(statistics.median(r["seconds"] for r in built), 2)
        if built
        else None,
        "mean_iterations": round(statistics.mean(r["iterations"] for r in rows), 2),
        "targets": {"success_rate": 0.8, "median_build_s": 480, "first_try_success_rate": 0.7},
        "builds": rows,
    }


def _table(report: dict[str, Any]) -> str:
    lines = [f"{'gap':24} {'difficulty':10} {'ok':3} {'first':5} {'iter':4} {'s':>6}  classes"]
    for r in report["builds"]:
        lines.append(
            f"{r['gap']:24} {r['difficulty']:10} {'✓' if r['success'] else '✗':3} "
            f"{'✓' if r['first_try'] else '':5} {r['iterations']:<4} {r['seconds']:6.1f}  "
            + " → ".join(r["classes"])
        )
    lines.append(
        f"success {report['success_rate']:.0%} · first try {report['first_try_success_rate']:.0%}"
        f" · median build {report['median_build_s']:.1f}s · model {report['model']}"
        + (" (scripted stub)" if report["scripted_stub"] else "")
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--stub", action="store_true", help="use the scripted stub model")
    parser.add_argument("--only", action="append", help="run only this gap (repeatable)")
    parser.add_argument("--max-iterations", type=int, default=None)
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(json.dumps(report, indent=2))
    print()
    print(_table(report))


if __name__ == "__main__":
    main()
