"""`toolfoundry --help` stays fast: the CLI's entry point imports no heavy layer.

Start-up time is a benchmark (benchmarks/cli_startup.py); this guards the cause of a regression —
a command module importing the catalog, the library or fastmcp at module level."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "fastmcp", "toolfoundry.library", "toolfoundry.registry", "numpy")


def test_the_cli_entry_point_imports_no_heavy_module() -> None:
    probe = (
        "import json, sys; import toolfoundry.cli.main; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == [], "import these inside the commands that use them"
