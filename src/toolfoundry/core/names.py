"""The names model APIs accept for tools (`^[a-zA-Z0-9_-]{1,64}$`), in one place.

OpenAI and Anthropic reject dots in function names, so `stats.mean` is offered as `stats__mean`.
Describe, the gateway and the agent render names with `provider_tool_name`; the dispatcher
accepts them back, so a name any of them showed a model can be called.
"""

from __future__ import annotations

import hashlib
import re

_PROVIDER_NAME_MAX = 64
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def provider_tool_name(tool_id: str) -> str:
    """The name OpenAI and Anthropic accept (`^[a-zA-Z0-9_-]{1,64}$`): `text.count` → `text__count`.

    Other characters become `_`; an over-long name is cut and suffixed with a hash of the id so
    that two long ids stay distinct.
    """
    name = _NOT_ALLOWED.sub("_", tool_id.replace(".", "__"))
    if len(name) > _PROVIDER_NAME_MAX:
        digest = hashlib.sha256(tool_id.encode()).hexdigest()[:8]
        name = f"{name[: _PROVIDER_NAME_MAX - 9]}_{digest}"
    return name


def tool_id_from_provider_name(name: str) -> str:
    """Inverse of `provider_tool_name` for ids made of `[A-Za-z0-9_-]` parts without `__` that fit
    in 64 characters (every catalog id of normal length); use `provider_name_map` for the rest."""
    return name.replace("__", ".")
