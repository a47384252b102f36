"""Static security checks on generated code, before any of it runs.

Our own AST rules target what generated MCP servers must not do (run commands, open raw sockets,
write outside their working directory, import by computed name, carry secrets); bandit adds its
broader catalogue. High severity fails the build.
"""

from __future__ import annotations

import ast
import logging
import re
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from toolfoundry.builder.models import SecurityFinding, SecurityReport, Severity

_PROCESS_MODULES = {"subprocess", "pty", "pexpect"}
_PROCESS_CALLS = {
    "os.system",
    "os.popen",
    "os.fork",
    "os.forkpty",
    "os.posix_spawn",
    "os.posix_spawnp",
    "asyncio.create_subprocess_exec",
    "asyncio.create_subprocess_shell",
}
_PROCESS_PREFIXES = ("os.exec", "os.spawn", "subprocess.", "pty.")
_DELETE_CALLS = {
    "os.remove",
    "os.unlink",
    "os.rmdir",
    "os.removedirs",
    "shutil.rmtree",
    "shutil.move",
    "os.rename",
    "os.replace",
}
_PATH_WRITE_METHODS = {"write_text", "write_bytes", "unlink", "rmdir", "touch", "mkdir"}
_SECRETS: list[tuple[str, re.Pattern[str]]] = [
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("API key (sk-…)", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    (
        "hard-coded credential",
        re.compile(
            r"""(?i)\b\w*(?:api[_-]?key|secret|token|passw(?:or)?d)\w*\s*[:=]\s*['"][^'"\s]{16,}['"]"""
        ),
    ),
]
_BANDIT_SEVERITY: dict[str, Severity] = {"LOW": "low", "MEDIUM": "medium", "HIGH": "high"}


def scan(files: Mapping[str, str]) -> SecurityReport:
    """Scan Python files (name → source) with the AST rules and bandit; non-Python files are
    only checked for secrets."""
    findings: list[SecurityFinding] = []
    for name, source in files.items():
        findings += _secret_findings(name, source)
        if name.endswith(".py"):
            findings += _ast_findings(name, source)
    findings += _bandit_findings({n: s for n, s in files.items() if n.endswith(".py")})
    findings.sort(key=lambda f: (f.file, f.line, f.rule))
    return SecurityReport(findings=findings)


def _ast_findings(name: str, source: str) -> list[SecurityFinding]:
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as exc:
        return [
            SecurityFinding(
                rule="syntax-error",
                severity="high",
                file=name,
                line=exc.lineno or 1,
                message=f"cannot be parsed: {exc.msg}",
                source="ast",
            )
        ]
    checker = _Checker(name)
    checker.visit(tree)
    return checker.findings


class _Checker(ast.NodeVisitor):
    def __init__(self, file: str) -> None:
        self.file = file
        self.findings: list[SecurityFinding] = []
        self.aliases: dict[str, str] = {}
        """Local name → qualified name, from imports (`import os as o`, `from os import system`)."""

    def _add(self, node: ast.AST, rule: str, severity: Severity, message: str) -> None:
        self.findings.append(
            SecurityFinding(
                rule=rule,
                severity=severity,
                file=self.file,
                line=getattr(node, "lineno", 1),
                message=message,
                source="ast",
            )
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[(alias.asname or alias.name).split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )
            self._check_module(node, alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._check_module(node, module)
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
        self.generic_visit(node)

    def _check_module(self, node: ast.AST, module: str) -> None:
        root = module.split(".")[0]
        if root in _PROCESS_MODULES:
            self._add(node, "process-spawn", "high", f"imports {module}, which runs commands")
        elif root == "socket":
            self._add(node, "raw-socket", "high", "imports socket: raw network access")

    def visit_Call(self, node: ast.Call) -> None:
        name = self._qualified(node.func)
        if name in {"eval", "exec", "compile", "builtins.eval", "builtins.exec"}:
            self._add(node, "dynamic-code", "high", f"{name}() runs code built at run time")
        elif name in {"__import__", "builtins.__import__"}:
            self._add(node, "dynamic-import", "high", "__import__() imports by computed name")
        elif name == "importlib.import_module" and not _is_literal_str(_arg(node, 0, "name")):
            self._add(node, "dynamic-import", "high", "import_module() with a computed name")
        elif name in _PROCESS_CALLS or (name and name.startswith(_PROCESS_PREFIXES)):
            self._add(node, "process-spawn", "high", f"{name}() runs a command")
        elif name and name.startswith("socket."):
            self._add(node, "raw-socket", "high", f"{name}() opens a raw socket")
        elif name in {"open", "io.open", "builtins.open"}:
            self._check_open(node)
        elif name in _DELETE_CALLS:
            self._check_delete(node, name)
        elif isinstance(node.func, ast.Attribute) and node.func.attr in (
            _PATH_WRITE_METHODS | {"open"}
        ):
            self._check_path_method(node)
        self.generic_visit(node)

    def _check_open(self, node: ast.Call) -> None:
        mode = _arg(node, 1, "mode")
        writes = isinstance(mode, ast.Constant) and isinstance(mode.value, str)
        if writes and set(str(mode.value)) & set("wax+") and _escapes(_arg(node, 0, "file")):
            self._add(
                node,
                "write-outside-workdir",
                "high",
                "open() for writing on an absolute path or one that leaves the working directory",
            )

    def _check_delete(self, node: ast.Call, name: str) -> None:
        if _escapes(_arg(node, 0, "path")):
            self._add(
                node, "write-outside-workdir", "high", f"{name}() outside the working directory"
            )
        elif name == "shutil.rmtree":
            self._add(node, "recursive-delete", "medium", "shutil.rmtree() on a computed path")

    def _check_path_method(self, node: ast.Call) -> None:
        # Path("/etc/x").write_text(...) and friends.
        assert isinstance(node.func, ast.Attribute)
        target = node.func.value
        if not (isinstance(target, ast.Call) and self._qualified(target.func) in _PATH_TYPES):
            return
        if node.func.attr == "open":
            mode = _arg(node, 0, "mode")
            if not (isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax+")):
                return
        if target.args and _escapes(target.args[0]):
            self._add(
                node,
                "write-outside-workdir",
                "high",
                f"Path.{node.func.attr}() outside the working directory",
            )

    def _qualified(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self._qualified(node.value)
            return f"{base}.{node.attr}" if base else None
        return None


_PATH_TYPES = {"pathlib.Path", "pathlib.PosixPath", "Path", "PosixPath"}


def _arg(node: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(node.args) > position:
        return node.args[position]
    return next((k.value for k in node.keywords if k.arg == keyword), None)


def _is_literal_str(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _escapes(node: ast.expr | None) -> bool:
    """A literal path that is absolute, home-relative or climbs out with `..`."""
    text: str | None = None
    if _is_literal_str(node):
        assert isinstance(node, ast.Constant)
        text = node.value
    elif isinstance(node, ast.JoinedStr) and node.values and _is_literal_str(node.values[0]):
        first = node.values[0]
        assert isinstance(first, ast.Constant)
        text = first.value
    if text is None:
        return False
    return text.startswith(("/", "~")) or ".." in Path(text).parts


def _secret_findings(name: str, source: str) -> Iterator[SecurityFinding]:
    for number, line in enumerate(source.splitlines(), start=1):
        for label, pattern in _SECRETS:
            if pattern.search(line):
                yield SecurityFinding(
                    rule="embedded-secret",
                    severity="high",
                    file=name,
                    line=number,
                    message=f"looks like an embedded {label}",
                    source="ast",
                )
                break


def _bandit_manager() -> Any:
    # bandit's plugin loader passes an argument stevedore has deprecated, and logs an error for
    # each optional report formatter (sarif) that is not installed; neither concerns a scan.
    stevedore_log = logging.getLogger("stevedore")
    previous = stevedore_log.level
    stevedore_log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from bandit.core import config as bandit_config
            from bandit.core import manager as bandit_manager

            return bandit_manager.BanditManager(bandit_config.BanditConfig(), "file")
    finally:
        stevedore_log.setLevel(previous)


def _bandit_findings(files: Mapping[str, str]) -> list[SecurityFinding]:
    if not files:
        return []
    # bandit logs every file it skips or parses at INFO; our report carries what matters.
    logging.getLogger("bandit").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="tf-scan-") as tmp:
        paths = {}
        for name, source in files.items():
            path = Path(tmp) / name
            path.write_text(source, encoding="utf-8")
            paths[str(path.resolve())] = name
        manager = _bandit_manager()
        manager.discover_files(list(paths))
        manager.run_tests()
        issues = manager.get_issue_list()
    findings = []
    for issue in issues:
        name = paths.get(str(Path(issue.fname).resolve()), Path(issue.fname).name)
        findings.append(
            SecurityFinding(
                rule=f"bandit-{issue.test_id}-{issue.test}",
                severity=_BANDIT_SEVERITY.get(issue.severity, "medium"),
                file=name,
                line=issue.lineno or 1,
                message=f"{issue.text} (confidence {issue.confidence.lower()})",
                source="bandit",
            )
        )
    return findings
