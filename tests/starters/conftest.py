"""Starter tools called directly read files under the test's own directory only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolfoundry.core.policy import ToolPolicy, use_policy


@pytest.fixture(autouse=True)
def files_policy(tmp_path: Path) -> Iterator[ToolPolicy]:
    with use_policy(ToolPolicy(files_roots=(Path(os.path.realpath(tmp_path)),))) as policy:
        yield policy
