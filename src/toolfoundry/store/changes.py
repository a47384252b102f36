"""What a catalog change is, and how every write records one in its own transaction.

Writers do nothing special: a `before_flush` hook turns the catalog rows a flush inserts,
updates or deletes into `catalog_changes` rows of the same transaction, so a change and its
record commit (or roll back) together. Bulk statements, which bypass the ORM's unit of work,
call `record_change` themselves. `store/feed.py` follows the table from every process.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from toolfoundry.store.tables import (
    CatalogChangeRow,
    McpServerRow,
    ToolkitRow,
    ToolRow,
    ToolVersionRow,
)


class ChangeEvent(StrEnum):
    TOOL_REGISTERED = "tool_registered"
    VERSION_ADDED = "version_added"
    TOOL_STATE_CHANGED = (
        "tool_state_changed"  # enabled/deprecated/tags/timeout of a tool or version
    )
    TOOL_REMOVED = "tool_removed"
    TOOL_LEARNED = "tool_learned"  # usage taught the tool something (scores, served requests)
    TOOLKIT_CHANGED = "toolkit_changed"
    MCP_SERVER_ADDED = "mcp_server_added"
    MCP_SERVER_UPDATED = "mcp_server_updated"  # its config changed: reconnect
    MCP_SERVER_REMOVED = "mcp_server_removed"
    MCP_TOOLS_REFRESHED = "mcp_tools_refreshed"


TOOL_EVENTS = frozenset(
    {
        ChangeEvent.TOOL_REGISTERED,
        ChangeEvent.VERSION_ADDED,
        ChangeEvent.TOOL_STATE_CHANGED,
        ChangeEvent.TOOL_REMOVED,
    }
)
SERVER_EVENTS = frozenset(
    {
        ChangeEvent.MCP_SERVER_ADDED,
        ChangeEvent.MCP_SERVER_UPDATED,
        ChangeEvent.MCP_SERVER_REMOVED,
        ChangeEvent.MCP_TOOLS_REFRESHED,
    }
)


def new_origin() -> str:
    """Who wrote a change: host, pid and a random part (two libraries in one process differ)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# Sessions made without an origin (scripts, migrations) record this process's.
PROCESS_ORIGIN = new_origin()


@dataclass(frozen=True, slots=True)
class CatalogChange:
    id: int
    event: ChangeEvent
    subject: str  # a tool id, toolkit name or MCP server name
    origin: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: CatalogChangeRow) -> CatalogChange:
        created = row.created_at
        if created.tzinfo is None:  # SQLite keeps no offset; every change is stored in UTC
            created = created.replace(tzinfo=UTC)
        return cls(row.id, ChangeEvent(row.event), row.subject, row.origin, created)


def record_change(session: Session, change: ChangeEvent, subject: str) -> None:
    """Record a change the flush hook cannot see (bulk UPDATE/DELETE statements)."""
    session.add(
        CatalogChangeRow(
            event=change.value,
            subject=subject,
            origin=session.info.get("origin", PROCESS_ORIGIN),
        )
    )


def _changed(obj: object, *names: str) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _changes_of(session: Session) -> list[tuple[ChangeEvent, str]]:
    found: list[tuple[ChangeEvent, str]] = []
    for obj in session.new:
        if isinstance(obj, ToolRow):
            found.append((ChangeEvent.TOOL_REGISTERED, obj.id))
        elif isinstance(obj, ToolVersionRow):
            found.append((ChangeEvent.VERSION_ADDED, obj.tool_id))
        elif isinstance(obj, ToolkitRow):
            found.append((ChangeEvent.TOOLKIT_CHANGED, obj.id))
        elif isinstance(obj, McpServerRow):
            found.append((ChangeEvent.MCP_SERVER_ADDED, obj.name))
    for obj in session.dirty:
        if not session.is_modified(obj):
            continue
        if isinstance(obj, ToolRow):
            others = {a.key for a in inspect(obj).attrs} - {"effectiveness_score", "updated_at"}
            learned = _changed(obj, "effectiveness_score") and not _changed(obj, *others)
            event_ = ChangeEvent.TOOL_LEARNED if learned else ChangeEvent.TOOL_STATE_CHANGED
            found.append((event_, obj.id))
        elif isinstance(obj, ToolVersionRow):
            found.append((ChangeEvent.TOOL_STATE_CHANGED, obj.tool_id))
        elif isinstance(obj, ToolkitRow):
            found.append((ChangeEvent.TOOLKIT_CHANGED, obj.id))
        elif isinstance(obj, McpServerRow):
            updated = _changed(obj, "config", "transport", "toolkit_id")
            found.append(
                (
                    ChangeEvent.MCP_SERVER_UPDATED if updated else ChangeEvent.MCP_TOOLS_REFRESHED,
                    obj.name,
                )
            )
    for obj in session.deleted:
        if isinstance(obj, ToolRow):
            found.append((ChangeEvent.TOOL_REMOVED, obj.id))
        elif isinstance(obj, ToolVersionRow):
            found.append((ChangeEvent.TOOL_STATE_CHANGED, obj.tool_id))
        elif isinstance(obj, ToolkitRow):
            found.append((ChangeEvent.TOOLKIT_CHANGED, obj.id))
        elif isinstance(obj, McpServerRow):
            found.append((ChangeEvent.MCP_SERVER_REMOVED, obj.name))
    return list(dict.fromkeys(found))  # one record per (event, subject), in order


@event.listens_for(Session, "before_flush")
def _record_catalog_writes(session: Session, _context: object, _instances: object) -> None:
    for change, subject in _changes_of(session):
        record_change(session, change, subject)
