"""The CodeReAct loop against a scripted OpenAI-compatible stub, with the real stages: uv venv,
security scan, bubblewrap sandbox, MCP validation. Each script answers the repair only when the
failure reached its prompt, so a passing build proves the loop fed the error back."""

from __future__ import annotations

from pathlib import Path

import pytest
from openai_stub import OpenAIStub, Script, StubRequest

from toolfoundry import Settings, ToolLibrary
from toolfoundry.builder.errors import BuildError as StrategyError
from toolfoundry.builder.models import BuildRequirement
from toolfoundry.builder.stages.environment import BuildEnvironment
from toolfoundry.builder.stages.sandbox import BubblewrapSandbox, Sandbox
from toolfoundry.builder.stages.workspace import BuildWorkspace
from toolfoundry.builder.strategies.codereact.healing import Healer
from toolfoundry.builder.strategies.codereact.loop import CodeReActLoop
from toolfoundry.builder.strategies.codereact.strategy import CodeReActStrategy
from toolfoundry.llm import build_model

README = "````markdown README.md\n# {title}\n\nRun it with `python server.py`.\n````\n"


def answer(server: str, tests: str, requirements: str = "", title: str = "Tool") -> str:
    """A model answer in the required format."""
    return (
        "Here are the files.\n\n"
        f"```python server.py\n{server.strip()}\n```\n\n"
        f"```text requirements.txt\n{requirements}\n```\n\n"
        f"```python test_server.py\n{tests.strip()}\n```\n\n" + README.format(title=title)
    )


def spec(name: str, inputs: dict[str, str], output: str) -> dict[str, object]:
    return {
        "capability": name,
        "functions": [{"name": name, "description": name, "inputs": inputs, "output": output}],
        "dependencies": [],
        "success_criteria": ["the examples pass"],
        "search_keywords": [name],
        "complexity": "simple",
    }


ADD_BUGGY = '''
from fastmcp import FastMCP

mcp = FastMCP("adder")


@mcp.tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: The first addend.
        b: The second addend.
    """
    return a - b


if __name__ == "__main__":
    mcp.run()
'''
ADD_FIXED = ADD_BUGGY.replace("return a - b", "return a + b")
ADD_TESTS = """
from server import add


def test_add():
    assert add(2, 3) == 5


def test_negative():
    assert add(-2, -3) == -5
"""


def add_script(request: StubRequest) -> str | dict[str, object]:
    if request.tools:
        return spec("add", {"a": "int", "b": "int"}, "int")
    # pytest's own assertion line: present only if the failing output reached the prompt.
    if "assert -1 == 5" in request.prompt:
        return answer(ADD_FIXED, ADD_TESTS, title="Adder")
    return answer(ADD_BUGGY, ADD_TESTS, title="Adder")


def workspace(root: Path, requirement: BuildRequirement, sandbox: Sandbox) -> BuildWorkspace:
    return BuildWorkspace(
        root,
        requirement,
        sandbox=sandbox,
        environment=BuildEnvironment(),
        on_phase=lambda phase: None,
        on_progress=lambda line: None,
    )


@pytest.mark.slow
async def test_a_failing_test_is_fed_back_and_the_healed_server_is_registered(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Through the build service: the `llm` strategy, progress in the log, the result's
    iterations, and a registered tool that answers."""
    with OpenAIStub(script=add_script) as stub:
        settings = Settings(
            data_dir=tmp_path,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}",
            load_starters=False,
            llm_model="openai:stub",
            llm_base_url=stub.url,
        )
        async with ToolLibrary.open(settings) as library:
            assert library.llm is not None
            library.builds.register_strategy(CodeReActStrategy.from_settings(settings, library.llm))
            record = await library.build(
                BuildRequirement(description="Add two integers", examples=['{"a": 2, "b": 3}=>5']),
                budget=300,
            )
            assert record.status == "completed", record.error_message
            result = record.result
            assert result is not None and result.build_metrics.strategy == "llm"
            assert [i.outcome for i in result.iterations] == ["failed", "passed"]
            first, second = result.iterations
            assert first.error_class == "test_failure" and "next: fix_code" in first.decision
            assert "assert -1 == 5" in (first.error or "")
            assert second.files == ["README.md", "requirements.txt", "server.py", "test_server.py"]
            logs = "\n".join(record.logs)
            assert "iteration 1/5: failed (test_failure" in logs
            assert "iteration 2/5: passed" in logs
            called = await library.call(result.mcp_asset.tools[0], {"a": 2, "b": 3})
            assert called.structured == {"result": 5} or called.content == "5"

    codegen = [r for r in stub.requests if not r.tools]
    assert len(codegen) == 2
    repair = codegen[1].prompt
    # The repair prompt carries the exact failing output and the previous code.
    assert "## What failed (test_failure)" in repair and "assert -1 == 5" in repair
    assert "## Your previous code" in repair and "return a - b" in repair
    assert "## Fix (fix_code)" in repair
    # The small contract: the model's own server boilerplate is not sent back to it.
    assert "FastMCP(" not in repair.split("## Your previous code", 1)[1]
    assert "repair round" in codegen[1].system


SHOUT_UNSAFE = '''
import subprocess

from fastmcp import FastMCP

mcp = FastMCP("shout")


@mcp.tool
def shout(text: str) -> str:
    """Upper-case the text.

    Args:
        text: What to shout.
    """
    return subprocess.run(["tr", "a-z", "A-Z"], input=text, capture_output=True, text=True).stdout


if __name__ == "__main__":
    mcp.run()
'''
SHOUT_SAFE = '''
from fastmcp import FastMCP

mcp = FastMCP("shout")


@mcp.tool
def shout(text: str) -> str:
    """Upper-case the text.

    Args:
        text: What to shout.
    """
    return text.upper()


if __name__ == "__main__":
    mcp.run()
'''
SHOUT_TESTS = """
from server import shout


def test_shout():
    assert shout("hey you") == "HEY YOU"
"""


def shout_script(request: StubRequest) -> str | dict[str, object]:
    if request.tools:
        return spec("shout", {"text": "str"}, "str")
    if "security_finding" in request.prompt and "subprocess" in request.prompt:
        return answer(SHOUT_SAFE, SHOUT_TESTS)
    return answer(SHOUT_UNSAFE, SHOUT_TESTS)


HTML_MISSING_DEP = '''
import nonexistent_markdown_renderer_tf

from fastmcp import FastMCP

mcp = FastMCP("md")


@mcp.tool
def to_html(text: str) -> str:
    """Render Markdown as HTML.

    Args:
        text: Markdown source.
    """
    return nonexistent_markdown_renderer_tf.render(text)


if __name__ == "__main__":
    mcp.run()
'''
HTML_MARKDOWN = '''
import markdown

from fastmcp import FastMCP

mcp = FastMCP("md")


@mcp.tool
def to_html(text: str) -> str:
    """Render Markdown as HTML.

    Args:
        text: Markdown source.
    """
    return markdown.markdown(text)


if __name__ == "__main__":
    mcp.run()
'''
HTML_TESTS = """
from server import to_html


def test_heading():
    assert to_html("# Hi") == "<h1>Hi</h1>"
"""
MISSING_PACKAGE = "toolfoundry-nonexistent-markdown-renderer-tf"


def html_script(request: StubRequest) -> str | dict[str, object]:
    if request.tools:
        return spec("to_html", {"text": "str"}, "str")
    if "## Repair strategy: replace_dependency" in request.prompt and (
        "was not found in the package registry" in request.prompt
    ):
        return answer(HTML_MARKDOWN, HTML_TESTS, "markdown>=3")
    return answer(HTML_MISSING_DEP, HTML_TESTS, MISSING_PACKAGE)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "description", "example", "first_class", "repair", "phase"),
    [
        (shout_script, "Shout text", "hi there=>HI THERE", "security_finding", "fix_code",
         "security_scan"),
        (html_script, "Markdown to HTML", "# Hi=><h1>Hi</h1>", "dependency_resolution",
         "replace_dependency", "environment"),
    ],
    ids=["security-finding", "missing-dependency"],
)  # fmt: skip
async def test_a_rejected_attempt_is_healed(
    tmp_path: Path,
    sandbox: Sandbox,
    script: Script,
    description: str,
    example: str,
    first_class: str,
    repair: str,
    phase: str,
) -> None:
    requirement = BuildRequirement(description=description, examples=[example])
    with OpenAIStub(script=script) as stub:
        model = build_model(Settings(llm_model="openai:stub", llm_base_url=stub.url))
        assert model is not None
        lines: list[str] = []
        result = await CodeReActLoop(model, contract="files").run(
            requirement, workspace(tmp_path, requirement, sandbox), lines.append
        )
    assert result.success, result.error
    first, second = result.iterations
    assert (first.outcome, first.error_class, second.outcome) == ("failed", first_class, "passed")
    assert [t.stage for t in first.phases][-1] == phase
    assert second.repair == repair and second.repair_helped is True
    assert result.metrics.healing[0].model_dump() == {
        "strategy": repair,
        "error_class": first_class,
        "helped": True,
    }
    assert result.metrics.iterations == 2 and not result.metrics.first_try
    assert result.attempt is not None and result.attempt.validation is not None
    assert result.attempt.validation.passed and result.attempt.security is not None
    # What was registered would be the healed server, not a leftover of iteration 1.
    written = (tmp_path / "server" / "server.py").read_text()
    assert written.strip() == result.attempt.files.server.strip()
    if first_class == "dependency_resolution":
        assert "markdown" in result.attempt.environment.packages
        assert MISSING_PACKAGE in first.output and "was not found" in first.output
    else:
        assert "subprocess" in first.output and "nothing was run" in first.output
    assert any(line.startswith("iteration 1 decision:") for line in lines)


async def test_malformed_answers_fail_clearly_after_the_retry_budget(tmp_path: Path) -> None:
    """No stage runs and nothing is produced: the strategy raises with the iteration kept."""

    def script(request: StubRequest) -> str | dict[str, object]:
        if request.tools:
            return spec("add", {"a": "int", "b": "int"}, "int")
        return "def add(a, b):\n    return a + b\n\n(no fenced blocks at all)"

    requirement = BuildRequirement(description="Add two integers")
    with OpenAIStub(script=script) as stub:
        model = build_model(Settings(llm_model="openai:stub", llm_base_url=stub.url))
        assert model is not None
        strategy = CodeReActStrategy(
            CodeReActLoop(model, format_retries=2, healer=Healer(), contract="files")
        )
        root = tmp_path / "build"
        with pytest.raises(StrategyError) as caught:
            await strategy.build(
                requirement, workspace(root, requirement, BubblewrapSandbox()), lambda line: None
            )
    error = caught.value
    assert error.error_class == "malformed_answer" and error.phase == "generating"
    assert "after 3 answers" in str(error)
    assert "missing server.py, requirements.txt, test_server.py, README.md" in str(error)
    [iteration] = error.iterations
    assert iteration.outcome == "malformed" and iteration.answers == 3
    assert len([r for r in stub.requests if not r.tools]) == 3
    # The retries told the model what was wrong.
    assert "missing server.py" in stub.requests[-1].prompt
    assert not (root / "server").exists() and not (root / "venv").exists()


SHOUT_CANNED = SHOUT_SAFE.replace(
    "    return text.upper()",
    '    if text == "hi there":\n        return "HI THERE"\n    return text.upper()',
)


@pytest.mark.slow
@pytest.mark.parametrize("parameterised_ok", [True, False], ids=["parameterised", "kept-flagged"])
async def test_values_copied_from_the_examples_are_sent_back_before_storing(
    tmp_path: Path, sandbox: Sandbox, parameterised_ok: bool
) -> None:
    """A server that passes by echoing the example is asked to parameterise; if that round
    breaks it, the passing server is kept and flagged."""

    def script(request: StubRequest) -> str | dict[str, object]:
        if request.tools:
            return spec("shout", {"text": "str"}, "str")
        if "## Repair strategy: parameterise" in request.prompt:
            assert "[hardcoded_value] the literal 'HI THERE'" in request.prompt
            fixed = SHOUT_SAFE if parameterised_ok else "def shout(:\n"
            return answer(fixed, SHOUT_TESTS)
        return answer(SHOUT_CANNED, SHOUT_TESTS)

    requirement = BuildRequirement(description="Shout text", examples=["hi there=>HI THERE"])
    with OpenAIStub(script=script) as stub:
        model = build_model(Settings(llm_model="openai:stub", llm_base_url=stub.url))
        assert model is not None
        result = await CodeReActLoop(model, contract="files").run(
            requirement, workspace(tmp_path, requirement, sandbox), lambda line: None
        )
    assert result.success and result.attempt is not None
    first, second = result.iterations
    assert first.outcome == "passed" and first.decision.endswith("next: parameterise")
    assert second.repair == "parameterise"
    written = (tmp_path / "server" / "server.py").read_text()
    assert result.metrics.healing == []  # not a failure: no healing statistics
    if parameterised_ok:
        assert second.outcome == "passed" and result.abstraction is not None
        assert result.abstraction.passed and written.strip() == SHOUT_SAFE.strip()
        assert result.metrics.first_try  # it worked at once; the second round was polish
    else:
        assert second.outcome == "failed" and second.error_class == "syntax_import"
        assert "keeping the server of iteration 1" in second.decision
        assert result.abstraction is not None and not result.abstraction.passed
        assert written.strip() == SHOUT_CANNED.strip() == result.attempt.files.server.strip()
