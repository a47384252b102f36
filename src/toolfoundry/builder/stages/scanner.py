"""Static security checks on generated code, before any of it runs.

Our own AST rules target what generated MCP servers must not do (run commands, open raw sockets,
reach the network without the requirement's grant, write outside their working directory, import
or look up attributes by computed name, load native code, carry secrets); bandit adds its broader
catalogue. High severity fails the build.

This is defence in depth, not the boundary: Python offers endless ways to hide a call from a
static reader, so everything that passes still runs only inside the sandbox.
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

_PROCESS_MODULES = {"subprocess", "pty", "pexpect", "multiprocessing", "_posixsubprocess"}
_NATIVE_MODULES = {"ctypes", "_ctypes", "cffi"}
# Modules whose attributes reach the OS, the interpreter or native code: computed lookups on them
# (getattr(os, 'sys' + 'tem'), vars(os)[...], os.__dict__) hide what a static reader must see.
_SENSITIVE_MODULES = {
    "os",
    "posix",
    "nt",
    "builtins",
    "__builtins__",
    "sys",
    "subprocess",
    "importlib",
    "ctypes",
    "_ctypes",
    "cffi",
    "shutil",
    "io",
    "pty",
    "socket",
    "multiprocessing",
}
_DANGEROUS_ATTRS = {
    "system",
    "popen",
    "Popen",
    "fork",
    "forkpty",
    "posix_spawn",
    "posix_spawnp",
    "run",
    "call",
    "check_call",
    "check_output",
    "getoutput",
    "getstatusoutput",
    "eval",
    "exec",
    "compile",
    "__import__",
    "import_module",
    "reload",
    "CDLL",
    "PyDLL",
    "cdll",
    "pydll",
    "dlopen",
    "modules",
    "__dict__",
    "__builtins__",
    "__loader__",
    "__spec__",
    "open",
    "remove",
    "unlink",
    "rmtree",
}
_DANGEROUS_PREFIXES = ("exec", "spawn")
# Client libraries and stdlib modules that talk to the network: findings unless it was granted.
_NETWORK_MODULES = {
    "urllib.request",
    "urllib3",
    "http.client",
    "http.server",
    "socketserver",
    "requests",
    "httpx",
    "aiohttp",
    "websocket",
    "websockets",
    "ftplib",
    "smtplib",
    "poplib",
    "imaplib",
    "telnetlib",
    "xmlrpc.client",
    "paramiko",
    "pycurl",
    "grpc",
}
_NETWORK_CALLS = {"asyncio.open_connection", "asyncio.start_server", "urllib.request.urlopen"}
_PROCESS_CALLS = {
    "os.system",
    "os.popen",
    "os.fork",
    "os.forkpty",
    "os.posix_spawn",
    "os.posix_spawnp",
    "asyncio.create_subprocess_exec",
    "asyncio.create_subprocess_shell",
    "concurrent.futures.ProcessPoolExecutor",
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


def scan(files: Mapping[str, str], *, network: bool = False) -> SecurityReport:
    """Scan Python files (name → source) with the AST rules and bandit; non-Python files are
    only checked for secrets. `network`: the requirement grants network access, so HTTP clients
    are expected (raw sockets stay findings)."""
    findings: list[SecurityFinding] = []
    for name, source in files.items():
        findings += _secret_findings(name, source)
        if name.endswith(".py"):
            findings += _ast_findings(name, source, network=network)
    findings += _bandit_findings({n: s for n, s in files.items() if n.endswith(".py")})
    findings.sort(key=lambda f: (f.file, f.line, f.rule))
    return SecurityReport(findings=findings)


def _ast_findings(name: str, source: str, *, network: bool) -> list[SecurityFinding]:
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
    checker = _Checker(name, network=network)
    checker.visit(tree)
    return checker.findings


class _Checker(ast.NodeVisitor):
    def __init__(self, file: str, *, network: bool) -> None:
        self.file = file
        self.network = network
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
        elif root in _NATIVE_MODULES:
            self._add(node, "native-code", "high", f"imports {module}: calls native code")
        elif not self.network and _is_network_module(module):
            self._add(
                node,
                "network-access",
                "high",
                f"imports {module}, but the requirement does not grant network access "
                "(network: false)",
            )

    def visit_Assign(self, node: ast.Assign) -> None:
        # `o = os` then `getattr(o, …)`: the alias keeps pointing at the module.
        value = self._qualified(node.value) if isinstance(node.value, ast.Name) else None
        if value is not None and value.split(".")[0] in _SENSITIVE_MODULES:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.aliases[target.id] = value
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self._add(node, "dynamic-attribute", "high", "uses __builtins__ directly")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = self._qualified(node.value)
        root = base.split(".")[0] if base else None
        if root in _SENSITIVE_MODULES and node.attr in {"__dict__", "__getattribute__"}:
            self._add(node, "dynamic-attribute", "high", f"{base}.{node.attr}: computed lookup")
        elif base == "sys" and node.attr == "modules":
            self._add(node, "dynamic-import", "high", "sys.modules: modules by computed name")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = self._qualified(node.func)
        if name in {"eval", "exec", "compile", "builtins.eval", "builtins.exec"}:
            self._add(node, "dynamic-code", "high", f"{name}() runs code built at run time")
        elif name in {"__import__", "builtins.__import__", "importlib.__import__"}:
            self._add(node, "dynamic-import", "high", "__import__() imports by computed name")
        elif name in {"importlib.import_module", "importlib.reload"}:
            self._check_import_module(node, name)
        elif name in {"getattr", "builtins.getattr", "setattr", "delattr", "hasattr"}:
            self._check_getattr(node, name)
        elif name in {"vars", "builtins.vars"} and node.args:
            target = self._qualified(node.args[0])
            if target is not None and target.split(".")[0] in _SENSITIVE_MODULES:
                self._add(node, "dynamic-attribute", "high", f"vars({target}): computed lookup")
        elif name in {"operator.attrgetter", "operator.methodcaller"}:
            first = _arg(node, 0, "attr")
            if not _is_literal_str(first) or _dangerous_attr(first.value):  # type: ignore[union-attr]
                self._add(node, "dynamic-attribute", "high", f"{name}() looks up by name")
        elif name and name.split(".")[0] in _NATIVE_MODULES:
            self._add(node, "native-code", "high", f"{name}() calls native code")
        elif not self.network and (
            name in _NETWORK_CALLS or (name is not None and _is_network_module(name))
        ):
            self._add(
                node, "network-access", "high", f"{name}() without a network grant (network: false)"
            )
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

    def _check_import_module(self, node: ast.Call, name: str) -> None:
        module = _arg(node, 0, "name")
        if not _is_literal_str(module):
            self._add(node, "dynamic-import", "high", f"{name}() with a computed name")
            return
        assert isinstance(module, ast.Constant)
        root = str(module.value).split(".")[0]
        if root in _PROCESS_MODULES | _NATIVE_MODULES | {"socket", "os", "builtins", "importlib"}:
            self._add(node, "dynamic-import", "high", f"{name}({module.value!r}) hides an import")
        elif not self.network and _is_network_module(str(module.value)):
            self._add(node, "network-access", "high", f"{name}({module.value!r}) without a grant")

    def _check_getattr(self, node: ast.Call, name: str) -> None:
        if not node.args:
            return
        target = self._qualified(node.args[0])
        attribute = node.args[1] if len(node.args) > 1 else None
        sensitive = target is not None and target.split(".")[0] in _SENSITIVE_MODULES
        if _is_literal_str(attribute):
            assert isinstance(attribute, ast.Constant)
            if _dangerous_attr(attribute.value) and (sensitive or attribute.value.startswith("__")):
                self._add(
                    node, "dynamic-attribute", "high", f"{name}({target}, {attribute.value!r})"
                )
        elif sensitive:
            self._add(
                node,
                "dynamic-attribute",
                "high",
                f"{name}() on {target} with a computed name hides which function is called",
            )

    def _check_open(self, node: ast.Call) -> None:
        mode = _arg(node, 1, "mode")
        writes = isinstance(mode, ast.Constant) and isinstance(mode.value, str)
        if not (writes and set(str(mode.value)) & set("wax+")):
            return
        path = _arg(node, 0, "file")
        if _escapes(path):
            self._add(
                node,
                "write-outside-workdir",
                "high",
                "open() for writing on an absolute path or one that leaves the working directory",
            )
        elif not _is_literal_str(path):
            self._add(
                node,
                "write-outside-workdir",
                "high",
                "open() for writing on a computed path: only constant relative paths stay "
                "inside the working directory",
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
        if target.args and (_escapes(target.args[0]) or not _is_literal_str(target.args[0])):
            self._add(
                node,
                "write-outside-workdir",
                "high",
                f"Path.{node.func.attr}() outside the working directory or on a computed path",
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


def _is_network_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in _NETWORK_MODULES)


def _dangerous_attr(name: object) -> bool:
    return isinstance(name, str) and (
        name in _DANGEROUS_ATTRS or name.startswith(_DANGEROUS_PREFIXES)
    )


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
