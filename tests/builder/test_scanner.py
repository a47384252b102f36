"""The security scanner: each AST rule with its line number, bandit's findings, clean code."""

from __future__ import annotations

import pytest

from toolfoundry.builder import SecurityReport, scan

CLEAN = '''\
from fastmcp import FastMCP

mcp = FastMCP("clean")


@mcp.tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


if __name__ == "__main__":
    mcp.run()
'''


def _rules(report: SecurityReport, source: str = "ast") -> set[tuple[str, int]]:
    return {(f.rule, f.line) for f in report.findings if f.source == source}


def test_clean_server_passes_with_no_findings() -> None:
    report = scan({"server.py": CLEAN, "README.md": "# Clean\n"})
    assert report.passed
    assert report.findings == []


@pytest.mark.parametrize(
    ("source", "rule", "line"),
    [
        ("x = 1\ny = eval('x')\n", "dynamic-code", 2),
        ("exec('print(1)')\n", "dynamic-code", 1),
        ("import os\n\nos.system('id')\n", "process-spawn", 3),
        ("from os import popen as p\np('id')\n", "process-spawn", 2),
        ("import subprocess\n", "process-spawn", 1),
        ("import pty\n", "process-spawn", 1),
        ("import socket\n", "raw-socket", 1),
        ("from socket import socket\n", "raw-socket", 1),
        ("f = open('/etc/passwd', 'a')\n", "write-outside-workdir", 1),
        ("open('../../x', mode='w')\n", "write-outside-workdir", 1),
        ("import shutil\nshutil.rmtree('/home')\n", "write-outside-workdir", 2),
        ("import os\nos.remove('/etc/hosts')\n", "write-outside-workdir", 2),
        (
            "from pathlib import Path\nPath('/etc/cron.d/x').write_text('x')\n",
            "write-outside-workdir",
            2,
        ),
        ("m = __import__('o' + 's')\n", "dynamic-import", 1),
        ("import importlib\nname = 'os'\nimportlib.import_module(name)\n", "dynamic-import", 3),
        ("KEY = 'AKIAIOSFODNN7EXAMPLE'\n", "embedded-secret", 1),
        ("k = '''\n-----BEGIN RSA PRIVATE KEY-----\n'''\n", "embedded-secret", 2),
        ("client = 'sk-abcdefghijklmnopqrstuvwxyz123456'\n", "embedded-secret", 1),
        ("api_key = 'a8f5f167f44f4964e6c998dee827110c'\n", "embedded-secret", 1),
    ],
)
def test_each_rule_is_high_severity_with_its_line(source: str, rule: str, line: int) -> None:
    report = scan({"server.py": source})
    assert (rule, line) in _rules(report), report.summary()
    assert not report.passed


def test_allowed_patterns_are_not_flagged() -> None:
    source = (
        "import importlib\n"
        "json = importlib.import_module('json')\n"  # a literal name is a plain import
        "with open('out.txt', 'w') as f:\n"  # relative path: inside the work dir
        "    f.write('x')\n"
        "with open('/etc/hostname') as f:\n"  # reading is fine
        "    f.read()\n"
        "api_key = os.environ['API_KEY']\n"
    )
    assert _rules(scan({"server.py": source})) == set()


def test_bandit_findings_are_included_with_mapped_severity() -> None:
    source = "import hashlib\n\n\ndef h(x):\n    return hashlib.md5(x).hexdigest()\n"
    report = scan({"server.py": source})
    bandit = [f for f in report.findings if f.source == "bandit"]
    assert any(f.rule.startswith("bandit-B324") and f.line == 5 for f in bandit)
    assert {f.severity for f in bandit} <= {"low", "medium", "high"}
    assert all(f.file == "server.py" for f in bandit)


def test_low_findings_do_not_fail() -> None:
    report = scan({"test_server.py": "def test_x():\n    assert 1 + 1 == 2\n"})
    assert [f.rule for f in report.findings] == ["bandit-B101-assert_used"]
    assert report.passed


def test_secrets_are_found_in_non_python_files() -> None:
    report = scan({"server.py": CLEAN, "README.md": "token: ghp_" + "a" * 36 + "\n"})
    assert ("embedded-secret", 1) in _rules(report)
    assert report.findings[0].file == "README.md"


def test_unparsable_code_fails() -> None:
    report = scan({"server.py": "def broken(:\n"})
    assert ("syntax-error", 1) in _rules(report)
    assert not report.passed
