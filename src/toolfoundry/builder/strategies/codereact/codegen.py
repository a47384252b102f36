"""Code generation: the prompts, the model call and the parser of its answer.

The model answers in plain text with one fenced block per file and the file name on the fence
line (```` ```python server.py ````), never JSON-escaped code. An answer that does not parse is
sent back with what was wrong, up to a retry budget, then fails with `CodegenFormatError`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from toolfoundry.builder.models import REQUIRED_FILES, BuildRequirement, Example, GeneratedFiles
from toolfoundry.builder.strategies.codereact.functions import (
    FunctionCodeError,
    clean_module,
    extract_code,
    render_files,
)
from toolfoundry.builder.strategies.codereact.requirements import Specification
from toolfoundry.llm import load_prompt

_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
# Slashes match too, so that a path is reported as such rather than as a missing name.
_FILE_NAME = re.compile(r"^[\w./\\-]+\.[A-Za-z0-9]+$")
_OUTPUT_CHARS = 6000


class CodegenFormatError(ValueError):
    """The answer is not one fenced block per file; says which files are missing and why."""

    def __init__(
        self, missing: list[str], problems: list[str], *, attempts: int = 1, answer: str = ""
    ) -> None:
        self.missing = missing
        self.problems = problems
        self.attempts = attempts
        self.answer = answer
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        parts += problems
        after = f" after {attempts} answers" if attempts > 1 else ""
        if not missing and problems and problems[0].startswith("no usable function code"):
            # The small contract: one block of function code was asked for.
            super().__init__(f"the model's answer{after} held {'; '.join(parts)}")
            return
        super().__init__(
            f"the model's answer is not one fenced block per file{after}: {'; '.join(parts)}. "
            "Each file must be a block whose opening fence names it, e.g. ```python server.py"
        )


def parse_files(text: str) -> GeneratedFiles:
    """The files of an answer; `CodegenFormatError` lists every missing file and problem."""
    files: dict[str, str] = {}
    problems: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _OPEN.match(lines[index].strip())
        if opening is None:
            index += 1
            continue
        start = index + 1
        name = _file_name(opening["info"])
        body, index, closed = _block(lines, start, opening["fence"], nested=_nests(name))
        if not closed:
            problems.append(f"the block opened at line {start} is never closed")
        if name is None:
            problems.append(
                f"the block at line {start} has no file name on its fence line "
                f"({lines[start - 1].strip()!r})"
            )
            continue
        if "/" in name or "\\" in name:
            problems.append(f"{name!r}: file names must be plain names without directories")
            continue
        if name in files:
            problems.append(f"{name} appears in two blocks")
            continue
        files[name] = body
    missing = [name for name in REQUIRED_FILES if name not in files]
    problems += [
        f"{name} is empty"
        for name in ("server.py", "test_server.py", "README.md")
        if name in files and not files[name].strip()
    ]
    if missing or problems:
        raise CodegenFormatError(missing, problems, answer=text)
    try:
        return GeneratedFiles(files=files)
    except ValidationError as exc:
        raise CodegenFormatError([], [str(exc)], answer=text) from exc


def _file_name(info: str) -> str | None:
    """The file name among the fence's words: `python server.py`, `server.py`,
    `python title="server.py"`, `python:server.py`."""
    for raw in reversed(info.replace(":", " ").split()):
        word = raw.split("=", 1)[-1].strip("\"'")
        if _FILE_NAME.match(word) or word in REQUIRED_FILES:
            return word
    return None


def _nests(name: str | None) -> bool:
    # Markdown files often hold ``` fences of their own, though they were asked for four backticks.
    return name is not None and name.lower().endswith((".md", ".markdown"))


def _block(lines: list[str], start: int, fence: str, *, nested: bool) -> tuple[str, int, bool]:
    """The block's text, the index after its closing fence, and whether it was closed."""
    depth = 0
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        bare = stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence)
        if bare and depth == 0:
            return "\n".join(lines[start:index]) + "\n", index + 1, True
        if nested and stripped.startswith(fence) and not bare:
            depth += 1
        elif nested and bare:
            depth -= 1
    return "\n".join(lines[start:]) + "\n", len(lines), False


def fenced(name: str, text: str) -> str:
    """`text` as a block of `name`, with a fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    info = {"py": "python", "md": "markdown", "txt": "text"}.get(name.rsplit(".", 1)[-1], "")
    return f"{fence}{info} {name}\n{text.rstrip()}\n{fence}"


def show_files(files: GeneratedFiles) -> str:
    ordered = [n for n in REQUIRED_FILES if n in files.files]
    ordered += sorted(set(files.files) - set(ordered))
    return "\n\n".join(fenced(name, files.files[name]) for name in ordered)


def generation_prompt(
    requirement: BuildRequirement, spec: Specification, resources: str = ""
) -> str:
    """The first request of a build: the requirement, its specification, what the web found."""
    sections = [
        f"## Request\n\n{requirement.description}",
        *_requirement_sections(requirement),
        f"## Specification\n\n{spec.to_prompt()}",
    ]
    if resources:
        sections.append(f"## Resources found\n\n{resources}")
    sections.append("Write the four files now.")
    return "\n\n".join(sections)


def repair_prompt(
    requirement: BuildRequirement,
    spec: Specification,
    *,
    previous: GeneratedFiles,
    iteration: int,
    error_class: str,
    failing_output: str,
    strategy: str,
    instruction: str,
    resources: str = "",
) -> str:
    """A repair round: everything of the first request, plus the previous files verbatim and the
    exact output of the stage that failed (its tail, when long)."""
    output = failing_output
    if len(output) > _OUTPUT_CHARS:
        output = "[… earlier output cut …]\n" + output[-_OUTPUT_CHARS:]
    sections = [
        generation_prompt(requirement, spec, resources).removesuffix("Write the four files now."),
        f"## Previous attempt (iteration {iteration})\n\n{show_files(previous)}",
        f"## Failure: {error_class}\n\nThe exact failing output:\n\n{fenced('output.txt', output)}",
        f"## Repair strategy: {strategy}\n\n{instruction}",
        "Answer with all four corrected files now.",
    ]
    return "\n\n".join(s.strip() for s in sections)


def _requirement_sections(requirement: BuildRequirement) -> list[str]:
    sections = []
    if requirement.technical_specs:
        sections.append("## Technical specs\n\n" + _bullets(requirement.technical_specs))
    if requirement.dependencies:
        sections.append(
            "## Required dependencies (list them in requirements.txt)\n\n"
            + _bullets(requirement.dependencies)
        )
    if requirement.examples:
        sections.append(
            "## Examples (a tool called with the input returns the expected value; "
            "test them, do not hard-code them)\n\n"
            + _bullets(
                [
                    f"input {e.input!r} → expected {e.expected!r}"
                    + (f" (tool {e.tool})" if e.tool else "")
                    for e in requirement.examples
                ]
            )
        )
    if requirement.constraints:
        sections.append("## Constraints\n\n" + _bullets(requirement.constraints))
    network = "granted" if requirement.network else "none (the sandbox has no network)"
    sections.append(f"## Network at run time\n\n{network}")
    return sections


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


_FUNCTION_OUTPUT_CHARS = 2500
# pytest's preamble tells a small model nothing.
_NOISE = re.compile(r"^(platform |rootdir|cachedir|plugins|collected|configfile|=+ test session)")


def functions_prompt(requirement: BuildRequirement, resources: str = "") -> str:
    """The first request of the small contract: the request and its examples as calls."""
    sections = [f"## Request\n\n{requirement.description}"]
    if requirement.technical_specs:
        sections.append("## Technical specs\n\n" + _bullets(requirement.technical_specs))
    if requirement.examples:
        sections.append(
            "## Examples (your function called like this returns the value)\n\n"
            + _bullets([_example_call(e) for e in requirement.examples])
        )
    if requirement.dependencies:
        sections.append(
            "## Packages to use (installed for you)\n\n" + _bullets(requirement.dependencies)
        )
    if requirement.constraints:
        sections.append("## Constraints\n\n" + _bullets(requirement.constraints))
    if requirement.network:
        sections.append("## Network\n\nThe tool may use the network.")
    if resources:
        sections.append(f"## Resources found\n\n{resources}")
    sections.append("Write the code now, in one ```python block.")
    return "\n\n".join(sections)


def functions_repair_prompt(
    requirement: BuildRequirement,
    *,
    previous_code: str,
    error_class: str,
    failing_output: str,
    strategy: str,
    instruction: str,
    resources: str = "",
) -> str:
    """A repair round of the small contract: the code that failed, the essential failing output
    (the assertion with its values, the traceback) and the strategy's instruction."""
    output = fenced("output.txt", essential_output(failing_output))
    sections = [
        functions_prompt(requirement, resources).removesuffix(
            "Write the code now, in one ```python block."
        ),
        f"## Your previous code\n\n{fenced('code.py', previous_code)}",
        f"## What failed ({error_class})\n\n{output}",
        f"## Fix ({strategy})\n\n{instruction} The server, tests and requirements are "
        "rendered from your code: change the code and its imports only.",
        "Answer with the complete corrected code in one ```python block.",
    ]
    return "\n\n".join(s.strip() for s in sections)


def essential_output(output: str) -> str:
    """The failing output without pytest's preamble, its tail when still long."""
    lines = [line for line in output.splitlines() if not _NOISE.match(line)]
    text = "\n".join(lines).strip()
    if len(text) > _FUNCTION_OUTPUT_CHARS:
        text = "[… cut …]\n" + text[-_FUNCTION_OUTPUT_CHARS:]
    return text


def _example_call(example: Example) -> str:
    if isinstance(example.input, dict):
        arguments = ", ".join(f"{k}={v!r}" for k, v in example.input.items())
    else:
        arguments = repr(example.input)
    tool = example.tool or "f"
    return f"`{tool}({arguments})` → `{example.expected!r}`"


@dataclass
class Generation:
    """One answer of the model that parsed."""

    files: GeneratedFiles
    answer: str
    answers: int
    """How many answers it took (1 + format retries used)."""
    duration_s: float
    code: str | None = None
    """The model's own code, for the small contract (the files are rendered around it)."""


class CodeGenerator:
    """Asks the model for the files; an unparsable answer is sent back with the parser's
    complaint, up to `format_retries` times."""

    def __init__(
        self, model: Model, *, format_retries: int = 2, request_timeout: float = 300.0
    ) -> None:
        self.model = model
        self.format_retries = format_retries
        self.request_timeout = request_timeout
        # A few functions fit easily; a small model that rambles is cut off early.
        self.max_tokens = 1200

    async def generate(self, prompt: str, *, repair: bool = False) -> Generation:
        system = load_prompt("codegen") + ("\n\n" + load_prompt("heal") if repair else "")
        agent: Agent[None, str] = Agent(
            self.model,
            output_type=str,
            system_prompt=system,
            retries={"output": self.format_retries},
            model_settings=ModelSettings(timeout=self.request_timeout, temperature=0.2),
        )
        answers: list[str] = []
        errors: list[CodegenFormatError] = []
        parsed: list[GeneratedFiles] = []

        @agent.output_validator
        def one_block_per_file(_: RunContext[None], answer: str) -> str:
            answers.append(answer)
            try:
                parsed.append(parse_files(answer))
            except CodegenFormatError as exc:
                errors.append(exc)
                raise ModelRetry(f"{exc} Answer again with all four files.") from exc
            return answer

        started = time.monotonic()
        try:
            await agent.run(prompt)
        except UnexpectedModelBehavior as exc:
            if not errors:
                raise
            last = errors[-1]
            raise CodegenFormatError(
                last.missing, last.problems, attempts=len(answers), answer=last.answer
            ) from exc
        return Generation(
            files=parsed[-1],
            answer=answers[-1],
            answers=len(answers),
            duration_s=round(time.monotonic() - started, 3),
        )

    async def generate_functions(
        self, prompt: str, requirement: BuildRequirement, *, repair: bool = False
    ) -> Generation:
        """The small contract: the model writes the tool functions, read leniently; the four
        files are rendered around them. An answer without usable code is sent back once per
        retry with what was missing."""
        system = load_prompt("functions") + (
            "\n\n" + load_prompt("functions_repair") if repair else ""
        )
        agent: Agent[None, str] = Agent(
            self.model,
            output_type=str,
            system_prompt=system,
            retries={"output": self.format_retries},
            model_settings=ModelSettings(
                timeout=self.request_timeout, temperature=0.2, max_tokens=self.max_tokens
            ),
        )
        answers: list[str] = []
        errors: list[str] = []
        parsed: list[tuple[str, GeneratedFiles]] = []

        @agent.output_validator
        def usable_code(_: RunContext[None], answer: str) -> str:
            answers.append(answer)
            try:
                code = extract_code(answer)
                # The model is shown its own code back without the rendered boilerplate.
                parsed.append((clean_module(code)[0], render_files(code, requirement)))
            except (FunctionCodeError, ValidationError, SyntaxError) as exc:
                errors.append(str(exc))
                raise ModelRetry(
                    f"{exc}. Answer with the complete code in one ```python block."
                ) from exc
            return answer

        started = time.monotonic()
        try:
            await agent.run(prompt)
        except UnexpectedModelBehavior as exc:
            if not errors:
                raise
            raise CodegenFormatError(
                [],
                [f"no usable function code: {errors[-1]}"],
                attempts=len(answers),
                answer=answers[-1] if answers else "",
            ) from exc
        code, files = parsed[-1]
        return Generation(
            files=files,
            answer=answers[-1],
            answers=len(answers),
            duration_s=round(time.monotonic() - started, 3),
            code=code,
        )
