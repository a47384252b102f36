"""The names model APIs accept for tools (`^[a-zA-Z0-9_-]{1,64}$`), in one place.

OpenAI and Anthropic reject dots in function names, so `stats.mean` is offered as `stats__mean`.
Describe, the gateway and the agent render names with `provider_tool_name` (through
`registry/presentation.py`); the dispatcher accepts them back, so a name any of them showed a
model can be called.
"""

from __future__ import annotations

import hashlib
import re

_PROVIDER_NAME_MAX = 64
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def provider_tool_name(tool_id: str) -> str:
    """The name OpenAI and Anthropic accept (`^[a-zA-Z0-9_-]{1,64}$`): `text.count` → `text__count`.

    Distinct ids give distinct names, so every name shown to a model leads back to one tool:
    an id the plain `.` → `__` mapping could confuse with another (`a.b__c` and `a__b.c`, an
    `_` next to a dot, a character that becomes `_`) and an over-long one are cut to fit and
    suffixed with a hash of the id.
    """
    name = _NOT_ALLOWED.sub("_", tool_id.replace(".", "__"))
    if len(name) > _PROVIDER_NAME_MAX or _ambiguous(tool_id):
        digest = hashlib.sha256(tool_id.encode()).hexdigest()[:8]
        name = f"{name[: _PROVIDER_NAME_MAX - 9]}_{digest}"
    return name


def _ambiguous(tool_id: str) -> bool:
    """Whether another id could map to the same plain name. Without `__`, without `_` beside a
    dot and with only allowed characters, each `__` of the name is exactly one dot of the id."""
    return (
        "__" in tool_id
        or "_." in tool_id
        or "._" in tool_id
        or _NOT_ALLOWED.search(tool_id.replace(".", "")) is not None
    )


def tool_id_from_provider_name(name: str) -> str:
    """Inverse of `provider_tool_name` for names without a hash suffix (ids of `[A-Za-z0-9_-]`
    parts without `__` or an `_` beside a dot that fit in 64 characters); use
    `provider_name_map` for the rest."""
    return name.replace("__", ".")
