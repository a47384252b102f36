"""Runs inside the sandbox (copied next to its cases.json): calls each candidate on each
example and prints one JSON line per case. Imports are by name because the candidates vary per
build; a method's class is built once, without arguments. Standard library only."""

import importlib
import json
import signal
import sys
from pathlib import Path
from typing import Any


def _timeout(signum: int, frame: object) -> None:
    raise TimeoutError("timed out")


def _target(case: dict[str, Any], cache: dict[tuple[str, str | None], Any]) -> Any:
    # Imports and constructors get their own, longer budget than a call: a first import of a
    # large package on a busy machine is slow, and is paid once.
    key = (case["module"], case["owner"])
    if key not in cache:
        signal.alarm(30)
        try:
            owner = importlib.import_module(case["module"])
            if case["owner"]:
                owner = getattr(owner, case["owner"])()
            cache[key] = owner
        except BaseException as exc:
            what = f"{case['owner']}()" if case["owner"] else f"import {case['module']}"
            cache[key] = RuntimeError(f"{what} failed: {type(exc).__name__}: {exc}")
        finally:
            signal.alarm(0)
    if isinstance(cache[key], BaseException):
        raise cache[key]
    return getattr(cache[key], case["name"])


def main() -> None:
    signal.signal(signal.SIGALRM, _timeout)
    cache: dict[tuple[str, str | None], Any] = {}
    for case in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")):
        record = {k: case[k] for k in ("candidate", "example", "binding")}
        try:
            function = _target(case, cache)
            signal.alarm(10)
            value = function(*case["positional"], **case["keywords"])
            signal.alarm(0)
            record["value"] = json.loads(json.dumps(value, default=str))
        except BaseException as exc:
            signal.alarm(0)
            record["error"] = f"{type(exc).__name__}: {exc}"[:300]
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
