"""The small code contract: the model writes only the tool functions, the rest is rendered.

A small model spends its few good tokens best on the one thing only it can write: the function
bodies. Its answer is read leniently (one or several fenced blocks, any info string, no fence at
all, prose around the code, a FastMCP server or tests it wrote anyway), reduced to plain module
code, and the four files of a build are rendered around it: `server.py` registers the public
functions as FastMCP tools, `requirements.txt` lists the imported third-party packages,
`test_server.py` calls the functions directly on the request's examples (so a failure shows the
assertion with the values and the traceback), and `README.md` documents the tools.
"""

from __future__ import annotations

import ast
import json
import re
import sys

from packaging.utils import canonicalize_name

from toolfoundry.builder import coercion
from toolfoundry.builder.models import BuildRequirement, Example, GeneratedFiles

_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\n]*)$")
_CODE_START = re.compile(r"^(?:from\s+\w|import\s+\w|def\s|async\s+def\s|class\s|@|[A-Z_]+\s*=)")
_NOT_CODE_INFO = re.compile(r"\b(?:text|markdown|md|txt|bash|sh|shell|console|json|toml)\b", re.I)
# Import names whose PyPI distribution is named differently.
_DISTRIBUTIONS = {
    "yaml": "pyyaml",
    "PIL": "pillow",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "slugify": "python-slugify",
    "Levenshtein": "levenshtein",
    "dotenv": "python-dotenv",
    "docx": "python-docx",
    "jwt": "pyjwt",
    "magic": "python-magic",
}
_PROVIDED = {"fastmcp", "mcp", "pytest", "pydantic"}


class FunctionCodeError(ValueError):
    """The answer holds no Python code defining a function; says what was found instead."""


def extract_code(answer: str) -> str:
    """The Python code of a model's answer, however it was wrapped."""
    blocks = _fenced_blocks(answer)
    candidates = [b for b in blocks if _defines_function(b)]
    if candidates:
        # Keep import-only blocks too: a small model sometimes puts the imports apart.
        keep = [b for b in blocks if b in candidates or _only_imports(b)]
        joined = "\n\n".join(dict.fromkeys(keep))
        return joined if _parses(joined) else max(candidates, key=len)
    bare = _bare_code(answer)
    if bare is not None:
        return bare
    if blocks:
        broken = max(blocks, key=len)
        try:
            ast.parse(broken)
        except SyntaxError as exc:
            raise FunctionCodeError(
                f"the code block does not parse: {exc.msg} at line {exc.lineno}"
            ) from exc
        raise FunctionCodeError("the code block defines no function (def name(...): ...)")
    raise FunctionCodeError("the answer holds no Python code: no ```python block, no def")


def _fenced_blocks(answer: str) -> list[str]:
    lines = answer.splitlines()
    blocks: list[str] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, info = opening["fence"], opening["info"].strip()
        body: list[str] = []
        index += 1
        while index < len(lines):
            stripped = lines[index].strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                break
            body.append(lines[index])
            index += 1
        index += 1  # past the closing fence (or the end: an unclosed block still counts)
        text = "\n".join(body).strip("\n")
        if text.strip() and not _NOT_CODE_INFO.search(info) and not _is_test_block(info, text):
            blocks.append(text)
    return blocks


def _is_test_block(info: str, text: str) -> bool:
    return "test" in info.lower() or (
        "import pytest" in text and not re.search(r"^def (?!test_)", text, re.M)
    )


def _bare_code(answer: str) -> str | None:
    """Code written without a fence: from the first line that looks like code, trimmed at the
    end until it parses."""
    lines = answer.replace("`", "").splitlines()
    start = next((i for i, line in enumerate(lines) if _CODE_START.match(line)), None)
    if start is None:
        return None
    body = lines[start:]
    while body:
        text = "\n".join(body).strip("\n")
        if _defines_function(text):
            return text
        body.pop()
    return None


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _defines_function(code: str) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in tree.body)


def _only_imports(code: str) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return bool(tree.body) and all(isinstance(n, ast.Import | ast.ImportFrom) for n in tree.body)


def clean_module(code: str, *, decorate: bool = False) -> tuple[str, list[str]]:
    """The code without what the service renders itself (the FastMCP server, `@mcp.tool`, the
    `__main__` block, tests, top-level calls such as example prints, `from __future__`), and the
    tool names: the public top-level functions. `decorate` puts `@mcp.tool` on each of them."""
    tree = ast.parse(code)
    lines = code.splitlines()
    drop: set[int] = set()
    tools: list[str] = []
    starts: set[int] = set()

    def span(node: ast.stmt) -> range:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        return range(first, (node.end_lineno or node.lineno) + 1)

    for node in tree.body:
        if _rendered_by_service(node):
            drop.update(span(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("test_"):
                drop.update(span(node))
                continue
            for decorator in node.decorator_list:
                if "mcp" in ast.unparse(decorator):
                    drop.update(range(decorator.lineno, (decorator.end_lineno or 0) + 1))
            if not node.name.startswith("_") and node.name != "main":
                tools.append(node.name)
                starts.add(span(node).start)
    kept: list[str] = []
    for number, line in enumerate(lines, 1):
        if decorate and number in starts:
            kept.append("@mcp.tool")
        if number not in drop:
            kept.append(line)
    return "\n".join(kept).strip("\n") + "\n", tools


def _rendered_by_service(node: ast.stmt) -> bool:
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return True
    if isinstance(node, ast.Import | ast.ImportFrom):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        return all((m or "").split(".")[0] in {"fastmcp", "pytest", "mcp"} for m in modules)
    if isinstance(node, ast.If):
        return "__name__" in ast.unparse(node.test)
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Call)  # print(...), mcp.run(), main()
    if isinstance(node, ast.Assign):
        return "FastMCP" in ast.unparse(node.value)
    return False


def imported_packages(code: str, requirement: BuildRequirement) -> list[str]:
    """PyPI requirements for the code's third-party imports; the request's own dependencies
    stand for the imports they provide."""
    tree = ast.parse(code)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    declared = {canonicalize_name(d): d for d in _bare(requirement)}
    declared_text = dict(zip(declared, requirement.dependencies, strict=True))
    wanted = {
        canonicalize_name(_DISTRIBUTIONS.get(n, n))
        for n in names
        if n not in sys.stdlib_module_names and n not in _PROVIDED and n != "server"
    }
    unmatched = set(declared) - wanted
    # An import no declared dependency is named after is taken to come from one of them when
    # some declared dependency is not imported by its own name (`stdnum` from python-stdnum).
    extra = set() if unmatched else wanted - set(declared)
    return sorted([*declared_text.values(), *extra])


def _bare(requirement: BuildRequirement) -> list[str]:
    return [re.split(r"[<>=!~ ]", d, maxsplit=1)[0] for d in requirement.dependencies]


def render_files(code: str, requirement: BuildRequirement) -> GeneratedFiles:
    """The four files of a build around the model's functions; `FunctionCodeError` when there
    is no public function to serve."""
    module, tools = clean_module(code)
    if not tools:
        raise FunctionCodeError(
            "the code defines no public function to serve as a tool (names starting with _ "
            "and test_ are helpers)"
        )
    signatures = _signatures(module)
    name = "-".join(re.findall(r"[a-z0-9]+", tools[0].lower()))[:40] or "tools"
    served, _ = clean_module(code, decorate=True)
    future = "from __future__ import annotations\n\n" if "from __future__" in code else ""
    server = "\n".join(
        [
            f'"""{_docline(requirement.description)}',
            "",
            "The tool functions were written by a language model for toolfoundry; the FastMCP",
            "server around them is rendered.",
            '"""',
            "",
            f"{future}from fastmcp import FastMCP",
            "",
            f"mcp = FastMCP({json.dumps(name)})",
            "",
            "",
            served.rstrip(),
            "",
            "",
            'if __name__ == "__main__":',
            "    mcp.run()",
            "",
        ]
    )
    return GeneratedFiles(
        files={
            "server.py": server,
            "requirements.txt": "\n".join(imported_packages(module, requirement)) + "\n",
            "test_server.py": _tests(requirement.examples, tools, signatures),
            "README.md": _readme(requirement, tools, signatures),
        }
    )


def _signatures(module: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(module)
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _arguments(
    example: Example, function: ast.FunctionDef | ast.AsyncFunctionDef
) -> dict[str, object] | None:
    """The example's input as the function's keyword arguments (a text converted to the type
    its one required parameter declares); None when it cannot be passed."""
    params = [*function.args.posonlyargs, *function.args.args]
    names = [p.arg for p in params]
    n_required = len(params) - len(function.args.defaults)
    if isinstance(example.input, dict):
        return dict(example.input) if set(example.input) <= set(names) else None
    if n_required > 1 or not params:
        return None
    target = params[0]
    annotation = ast.unparse(target.annotation) if target.annotation else None
    options = coercion.variants(example.input, annotation)
    return {target.arg: options[0][0] if options else example.input}


def _tests(
    examples: list[Example],
    tools: list[str],
    signatures: dict[str, ast.FunctionDef | ast.AsyncFunctionDef],
) -> str:
    lines = [
        '"""The request\'s examples, calling the tool functions directly."""',
        "",
        "import json",
        "",
        f"from server import {', '.join(tools)}",
        "",
        "",
        "def _normalise(value):",
        "    if isinstance(value, str):",
        "        text = value.strip()",
        "        try:",
        "            parsed = json.loads(text)",
        "        except ValueError:",
        "            return text",
        "        return parsed.strip() if isinstance(parsed, str) else parsed",
        "    return json.loads(json.dumps(value, default=str))",
    ]
    for index, example in enumerate(examples):
        candidates = [t for t in tools if example.tool in (None, t)]
        call = None
        for tool in candidates:
            arguments = _arguments(example, signatures[tool])
            if arguments is not None:
                call = f"{tool}(**{arguments!r})"
                break
        lines += ["", "", f"def test_example_{index}():"]
        if call is None:
            lines.append(f"    raise AssertionError({_no_tool(example, candidates, signatures)!r})")
            continue
        lines += [
            f"    result = {call}",
            f"    assert _normalise(result) == _normalise({example.expected!r})",
        ]
    if not examples:
        lines += [
            "",
            "",
            "def test_tools_exist():",
            f"    assert all(callable(f) for f in ({', '.join(tools)},))",
        ]
    return "\n".join(lines) + "\n"


def _no_tool(
    example: Example,
    candidates: list[str],
    signatures: dict[str, ast.FunctionDef | ast.AsyncFunctionDef],
) -> str:
    shapes = ", ".join(
        f"{t}({', '.join(a.arg for a in signatures[t].args.args)})" for t in candidates
    )
    return f"no function takes the example input {example.input!r}: {shapes or 'no functions'}"


def _readme(
    requirement: BuildRequirement,
    tools: list[str],
    signatures: dict[str, ast.FunctionDef | ast.AsyncFunctionDef],
) -> str:
    rows = []
    for tool in tools:
        node = signatures[tool]
        doc = _docline(ast.get_docstring(node) or "")
        rows.append(f"- `{tool}({ast.unparse(node.args)})`: {doc}")
    return "\n".join(
        [
            f"# {_docline(requirement.description)}",
            "",
            "An MCP server generated by toolfoundry. Tools:",
            "",
            *rows,
            "",
            "Run it over stdio with `python server.py`; test it with `pytest test_server.py`.",
            "",
        ]
    )


def _docline(text: str) -> str:
    cleaned = " ".join(text.split()).replace("\\", "/").replace('"""', "'''")
    return cleaned[:200].rstrip('"')
