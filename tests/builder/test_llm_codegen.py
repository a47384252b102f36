"""The answer parser, the prompts, the format-retry budget and requirement analysis."""

from __future__ import annotations

import pytest
from openai_stub import OpenAIStub, StubRequest

from toolfoundry import Settings
from toolfoundry.builder.models import BuildRequirement, GeneratedFiles
from toolfoundry.builder.strategies.codereact.codegen import (
    CodeGenerator,
    CodegenFormatError,
    fenced,
    generation_prompt,
    parse_files,
    repair_prompt,
)
from toolfoundry.builder.strategies.codereact.requirements import (
    analyse,
    fallback_specification,
    requirement_from_gap,
)
from toolfoundry.discovery.results import CapabilityGap
from toolfoundry.llm import build_model

SERVER = 'from fastmcp import FastMCP\n\nmcp = FastMCP("x")\n'
README_WITH_FENCES = "# X\n\n```bash\npython server.py\n```\n"


def _answer(readme_fence: str = "````") -> str:
    return "\n".join(
        [
            "Sure, the files:",
            "```python server.py",
            SERVER.rstrip(),
            "```",
            "",
            "```text requirements.txt",
            "markdown>=3",
            "```",
            "```python title='test_server.py'",
            "def test_ok():\n    assert True",
            "```",
            f"{readme_fence}markdown README.md",
            README_WITH_FENCES.rstrip(),
            readme_fence,
        ]
    )


@pytest.mark.parametrize("readme_fence", ["````", "```"], ids=["four-backticks", "nested"])
def test_parser_reads_one_block_per_file(readme_fence: str) -> None:
    files = parse_files(_answer(readme_fence)).files
    assert sorted(files) == ["README.md", "requirements.txt", "server.py", "test_server.py"]
    assert files["server.py"] == SERVER
    assert files["requirements.txt"] == "markdown>=3\n"
    assert files["README.md"] == README_WITH_FENCES


def test_parser_lists_every_missing_file_and_problem() -> None:
    text = "```python\nprint(1)\n```\n```python server.py\nx = 1\n```\n```text a/b.txt\nz\n```\n"
    with pytest.raises(CodegenFormatError) as caught:
        parse_files(text)
    error = caught.value
    assert error.missing == ["requirements.txt", "test_server.py", "README.md"]
    assert any("block at line 1 has no file name" in p for p in error.problems)
    assert any("'a/b.txt'" in p and "without directories" in p for p in error.problems)
    assert "missing requirements.txt, test_server.py, README.md" in str(error)


def test_parser_rejects_unclosed_duplicate_and_empty_blocks() -> None:
    text = (
        "```python server.py\nx = 1\n```\n```python server.py\ny = 2\n```\n"
        "```text requirements.txt\n```\n```python test_server.py\n\n```\n"
        "```markdown README.md\n# never closed\n"
    )
    with pytest.raises(CodegenFormatError) as caught:
        parse_files(text)
    problems = caught.value.problems
    assert "server.py appears in two blocks" in problems
    assert "test_server.py is empty" in problems
    assert any("never closed" in p for p in problems)


def test_fenced_outgrows_backticks_inside() -> None:
    block = fenced("output.txt", "E  ```` odd output")
    assert block.startswith("`````text output.txt\n") and block.endswith("\n`````")


def test_repair_prompt_carries_previous_code_and_exact_output() -> None:
    requirement = BuildRequirement(description="Add", examples=['{"a": 1, "b": 2}=>3'])
    spec = fallback_specification(requirement)
    previous = parse_files(_answer())
    output = "x" * 7000 + "\nE       assert -1 == 5"
    prompt = repair_prompt(
        requirement,
        spec,
        previous=previous,
        iteration=1,
        error_class="test_failure",
        failing_output=output,
        strategy="fix_code",
        instruction="Fix it.",
    )
    assert "## Previous attempt (iteration 1)" in prompt
    assert "```python server.py\n" + SERVER in prompt
    assert "E       assert -1 == 5" in prompt and "[… earlier output cut …]" in prompt
    assert prompt.index("## Failure: test_failure") < prompt.index("## Repair strategy: fix_code")
    assert "input {'a': 1, 'b': 2} → expected 3" in prompt
    first = generation_prompt(requirement, spec, "- PyPI package `x`")
    assert "## Resources found" in first and "Previous attempt" not in first


def _spec_answer() -> dict[str, object]:
    return {
        "capability": "Convert Markdown to HTML",
        "functions": [
            {
                "name": "to_html",
                "description": "Render Markdown",
                "inputs": {"text": "str"},
                "output": "str",
            }
        ],
        "dependencies": ["markdown"],
        "success_criteria": ["# Hi → <h1>Hi</h1>"],
        "search_keywords": ["markdown", "html"],
        "priority": "low",
        "complexity": "simple",
    }


async def test_analysis_validates_the_models_structured_answer() -> None:
    answers = iter([{"capability": "no functions"}, _spec_answer()])

    def script(request: StubRequest) -> dict[str, object]:
        return next(answers)

    gap = CapabilityGap(
        description="Convert Markdown text to HTML",
        technical_requirements=["CommonMark"],
        priority="high",
        search_keywords=["md2html"],
    )
    with OpenAIStub(script=script) as stub:
        model = build_model(Settings(llm_model="openai:stub", llm_base_url=stub.url))
        spec = await analyse(gap, model)
    # The invalid first answer was sent back; the second validated.
    assert len(stub.requests) == 2 and "functions" in stub.requests[1].prompt
    assert spec.mode == "llm" and spec.functions[0].name == "to_html"
    assert spec.priority == "high"  # the gap's priority wins over the model's
    assert spec.dependencies == ["markdown"] and "md2html" in spec.search_keywords
    assert "CommonMark" in stub.requests[0].prompt


async def test_analysis_without_a_model_reads_the_requirement() -> None:
    requirement = BuildRequirement(
        description="Convert Markdown text to HTML",
        dependencies=["markdown>=3"],
        examples=["# Hi=><h1>Hi</h1>"],
    )
    spec = await analyse(requirement, None)
    assert spec.mode == "fallback" and spec.dependencies == ["markdown"]
    assert spec.functions[0].name == "convert_markdown_text_html"
    assert spec.functions[0].inputs == {"text": "str: the input"}
    assert spec.success_criteria == ["'# Hi' → '<h1>Hi</h1>'"]
    gap = CapabilityGap(description="Geocode an address", context="trip planner", priority="low")
    assert requirement_from_gap(gap).constraints == ["trip planner"]
    assert (await analyse(gap, None)).priority == "low"


async def test_analysis_falls_back_when_the_model_never_validates() -> None:
    with OpenAIStub(script=lambda request: {"capability": 3}) as stub:
        model = build_model(Settings(llm_model="openai:stub", llm_base_url=stub.url))
        spec = await analyse(BuildRequirement(description="Reverse a string"), model, retries=1)
    assert spec.mode == "fallback" and spec.capability == "Reverse a string"


async def test_generator_retries_a_malformed_answer_then_accepts_the_fixed_one() -> None:
    answers = iter(["just code, no fences", _answer()])
    with OpenAIStub(script=lambda request: next(answers)) as stub:
        model = build_model(Settings(llm_model="openai:stub", llm_base_url=stub.url))
        assert model is not None
        generation = await CodeGenerator(model, format_retries=1).generate("write it")
    assert generation.answers == 2 and isinstance(generation.files, GeneratedFiles)
    assert "missing server.py" in stub.requests[1].prompt
    assert "## Answer format (strict)" in stub.requests[0].system
