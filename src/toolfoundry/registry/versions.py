"""Semantic versions: validation and ordering (newest first when choosing what a call runs)."""

from __future__ import annotations

import re

from toolfoundry.core.errors import InvalidInputError

_SEMVER = re.compile(
    r"^(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)

VersionKey = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]


def parse_version(version: str) -> VersionKey:
    """A sort key for a semantic version; raises InvalidInputError naming the expected form."""
    match = _SEMVER.match(version)
    if match is None:
        raise InvalidInputError(
            f"version {version!r} is not a semantic version",
            hint="Use MAJOR.MINOR.PATCH, e.g. 1.2.0 (optionally -beta.1).",
        )
    pre = match["pre"]
    # A release sorts after its pre-releases; numeric identifiers sort before alphanumeric ones.
    pre_key = tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in (pre or "").split(".") if part
    )
    return (int(match["major"]), int(match["minor"]), int(match["patch"]), 0 if pre else 1, pre_key)


def newest_first(versions: list[str]) -> list[str]:
    return sorted(versions, key=parse_version, reverse=True)


def bump_version(version: str, part: str) -> str:
    """The next release after `version`: `patch`, `minor` or `major` (pre-release tags drop)."""
    major, minor, patch, *_ = parse_version(version)
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    if part == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise InvalidInputError(f"cannot bump {part!r}", hint="Bump patch, minor or major.")
