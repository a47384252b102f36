"""The security scanner: each AST rule with its line number, bandit's findings, clean code."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolfoundry.builder.models import BuildRequirement, GeneratedFiles, SecurityReport
from toolfoundry.builder.stages.environment import BuildEnvironment
from toolfoundry.builder.stages.sandbox import UnsandboxedRunner
from toolfoundry.builder.stages.scanner import scan
from toolfoundry.builder.stages.workspace import BuildWorkspace

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


# The issue's one-liners that used to pass with no high finding, and close relatives.
BYPASSES = [
    ("import os\ngetattr(os, 'sys' + 'tem')('id')\n", "dynamic-attribute", 2),
    ("import os\nf = getattr(os, 'system')\n", "dynamic-attribute", 2),
    ("import os as o\nname = 'system'\ngetattr(o, name)('id')\n", "dynamic-attribute", 3),
    ("import os\nalias = os\ngetattr(alias, 'sy' 'stem' + '')('id')\n", "dynamic-attribute", 3),
    ("import importlib\nimportlib.import_module('subprocess')\n", "dynamic-import", 2),
    ("import importlib\nimportlib.import_module('ctypes')\n", "dynamic-import", 2),
    ("import ctypes\nctypes.CDLL(None).system(b'id')\n", "native-code", 1),
    ("import ctypes\nctypes.CDLL(None).system(b'id')\n", "native-code", 2),
    ("from ctypes import CDLL\n", "native-code", 1),
    ("import cffi\n", "native-code", 1),
    ("import os\nvars(os)['system']('id')\n", "dynamic-attribute", 2),
    ("import os\nos.__dict__['system']('id')\n", "dynamic-attribute", 2),
    ("import sys\nsys.modules['os'].system('id')\n", "dynamic-import", 2),
    ("import builtins\ngetattr(builtins, 'ex' + 'ec')('print(1)')\n", "dynamic-attribute", 2),
    ("__builtins__['exec']('print(1)')\n", "dynamic-attribute", 1),
    ("import operator, os\noperator.attrgetter('system')(os)('id')\n", "dynamic-attribute", 2),
    ("import urllib.request\n", "network-access", 1),
    ("from urllib.request import urlopen\n", "network-access", 1),
    ("import http.client\n", "network-access", 1),
    ("import requests\n", "network-access", 1),
    ("import httpx\n", "network-access", 1),
    ("import aiohttp\n", "network-access", 1),
    ("import asyncio\nasyncio.open_connection('example.com', 80)\n", "network-access", 2),
    ("import multiprocessing\n", "process-spawn", 1),
    ("from multiprocessing import Process\n", "process-spawn", 1),
    (
        "from concurrent.futures import ProcessPoolExecutor\nProcessPoolExecutor()\n",
        "process-spawn",
        2,
    ),
    ("def save(path, data):\n    open(path, 'w').write(data)\n", "write-outside-workdir", 2),
    ("def save(path):\n    open(f'out/{path}', mode='a')\n", "write-outside-workdir", 2),
    (
        "from pathlib import Path\ndef w(p):\n    Path(p).write_text('x')\n",
        "write-outside-workdir",
        3,
    ),
]


@pytest.mark.parametrize(("source", "rule", "line"), BYPASSES)
def test_each_bypass_from_the_issue_is_a_high_finding(source: str, rule: str, line: int) -> None:
    report = scan({"server.py": source})
    high = {(f.rule, f.line) for f in report.findings if f.severity == "high"}
    assert (rule, line) in high, report.summary()
    assert not report.passed


def test_network_clients_are_allowed_when_the_requirement_grants_network() -> None:
    source = "import httpx\nimport urllib.request\nimport requests\n"
    assert scan({"server.py": source}, network=True).passed
    assert not scan({"server.py": source}, network=False).passed
    # A raw socket is never expected, grant or not.
    assert not scan({"server.py": "import socket\n"}, network=True).passed


def test_ordinary_dynamic_code_is_not_flagged() -> None:
    source = (
        "import json\n"
        "def text(block, name):\n"
        "    return getattr(block, 'text', '') + str(getattr(block, name, ''))\n"
        "def load(path):\n"
        "    with open(path) as f:\n"  # reading a computed path is fine
        "        return json.load(f)\n"
        "with open('result.json', 'w') as f:\n"
        "    f.write('{}')\n"
    )
    report = scan({"server.py": source})
    assert report.passed
    assert [f for f in report.findings if f.severity == "high"] == []


def test_the_requirement_network_flag_reaches_the_scan(tmp_path: Path) -> None:
    files = GeneratedFiles(files={"server.py": "import httpx\n"})
    verdicts = []
    for network in (False, True):
        workspace = BuildWorkspace(
            tmp_path,
            BuildRequirement(description="fetch a page", network=network),
            sandbox=UnsandboxedRunner(),
            environment=BuildEnvironment(),
            on_phase=lambda phase: None,
            on_progress=lambda line: None,
        )
        verdicts.append(workspace.scan(files).passed)
    assert verdicts == [False, True]
