"""The persistent catalog: toolkits, tools, their versions and the call log, in the database."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from rapidfuzz import process
from sqlalchemy import Select, case, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from toolfoundry.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ToolNotFoundError,
)
from toolfoundry.core.models import CallRecord, Tool, ToolKind, Toolkit, ToolVersion, utcnow
from toolfoundry.registry.versions import bump_version, newest_first, parse_version
from toolfoundry.store.changes import ChangeEvent, record_change
from toolfoundry.store.tables import (
    ToolCallRow,
    ToolkitRow,
    ToolRow,
    ToolScenarioMetricsRow,
    ToolVersionRow,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise InvalidInputError(
            f"{what} {value!r} is not a valid name",
            hint="Use 1-64 letters, digits, '_' or '-', starting with a letter or digit "
            "(no dots: the tool id is `toolkit.tool`).",
        )
    return value


def effectiveness(calls: int, successes: int, runs: int = 0, run_successes: int = 0) -> float:
    """0..1 from the evidence: the smoothed success rate (a new tool starts at 1/2), scaled by
    how much evidence there is, so three lucky calls do not outrank a thousand good ones.

    Evidence is the call record plus finished agent runs that used the tool: a run that failed
    after the tool "succeeded" says the tool may not have been the right one for the task."""
    seen, good = calls + runs, successes + run_successes
    smoothed = (good + 1) / (seen + 2)
    confidence = seen / (seen + 10)
    return round(smoothed * confidence, 4)


@dataclass(frozen=True)
class ToolDefinition:
    """Everything needed to store one version of a tool."""

    toolkit: str
    name: str
    kind: ToolKind
    version: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    source: str | None = None
    code_hash: str | None = None  # pins a function tool's code (see runtime/function_backend)
    tags: tuple[str, ...] | None = None  # None keeps the tool's tags (e.g. on a refresh)
    examples: tuple[str, ...] | None = None  # likewise: requests the tool serves
    timeout: float | None = None
    retries: int = 0

    @property
    def tool_id(self) -> str:
        return f"{self.toolkit}.{self.name}"


def same_version(row: ToolVersionRow, definition: ToolDefinition) -> bool:
    """Whether a stored version is what `definition` describes (an unknown hash matches)."""
    return not difference(row, definition)


def difference(row: ToolVersionRow, definition: ToolDefinition) -> str:
    """What differs between a stored version and a definition of it, for a 409; "" if none."""
    if row.input_schema != definition.input_schema:
        return "input schema"
    if row.source != definition.source:
        return "import reference"
    if row.code_hash and definition.code_hash and row.code_hash != definition.code_hash:
        return "function body"
    return ""


@dataclass(frozen=True)
class CallLog:
    """A finished call, as the dispatcher hands it to the recorder."""

    tool_id: str
    version: str
    started_at: Any
    duration_ms: float
    success: bool
    error_type: str | None = None
    error_message: str | None = None
    attempts: int = 1


class Usage(NamedTuple):
    calls: int = 0
    successes: int = 0
    runs: int = 0
    run_successes: int = 0


# Here, not in trajectory/: the catalog (a lower layer) ranks tools by this evidence.
async def run_outcomes(session: AsyncSession, tool_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per tool: finished runs that used it, and how many of them succeeded."""
    if not tool_ids:
        return {}
    stmt = (
        select(
            ToolScenarioMetricsRow.tool_id,
            func.sum(ToolScenarioMetricsRow.run_count),
            func.sum(ToolScenarioMetricsRow.run_success_count),
        )
        .where(ToolScenarioMetricsRow.tool_id.in_(tool_ids))
        .group_by(ToolScenarioMetricsRow.tool_id)
    )
    return {t: (int(n or 0), int(ok or 0)) for t, n, ok in (await session.execute(stmt)).all()}


@dataclass
class ToolFilter:
    toolkit: str | None = None
    kind: ToolKind | None = None
    enabled: bool | None = None
    q: str | None = None
    ids: Sequence[str] | None = field(default=None)


class Catalog:
    """Database operations of the catalog. Stateless apart from the session factory."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._sessions = sessions

    # --- toolkits -------------------------------------------------------------------------

    async def create_toolkit(
        self, name: str, description: str = "", category: str = "general"
    ) -> Toolkit:
        check_name(name, "toolkit name")
        async with self._sessions() as session:
            session.add(ToolkitRow(id=name, name=name, description=description, category=category))
            try:
                await session.commit()
            except IntegrityError:
                raise ConflictError(
                    f"toolkit {name!r} already exists",
                    hint="Pick another name, or register tools into the existing toolkit.",
                ) from None
        return await self.get_toolkit(name)

    async def ensure_toolkit(
        self, name: str, description: str = "", category: str = "general"
    ) -> None:
        """Create the toolkit unless it exists; safe under concurrent callers."""
        check_name(name, "toolkit name")
        async with self._sessions() as session:
            if await session.get(ToolkitRow, name) is not None:
                return
            session.add(ToolkitRow(id=name, name=name, description=description, category=category))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()  # another writer created it first: fine

    async def get_toolkit(self, name: str) -> Toolkit:
        for toolkit in await self.list_toolkits():
            if toolkit.id == name:
                return toolkit
        raise NotFoundError(
            f"no toolkit named {name!r}", hint="List toolkits with `toolfoundry toolkits list`."
        )

    async def list_toolkits(self, category: str | None = None) -> list[Toolkit]:
        counts = (
            select(ToolRow.toolkit_id, func.count(ToolRow.id).label("n"))
            .group_by(ToolRow.toolkit_id)
            .subquery()
        )
        stmt = (
            select(ToolkitRow, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.toolkit_id == ToolkitRow.id)
            .order_by(ToolkitRow.id)
        )
        if category:
            stmt = stmt.where(ToolkitRow.category == category)
        async with self._sessions() as session:
            rows = (await session.execute(stmt)).all()
        return [
            Toolkit(
                id=row.id,
                name=row.name,
                description=row.description,
                category=row.category,
                created_at=row.created_at,
                tool_count=count,
            )
            for row, count in rows
        ]

    # --- tools and versions -----------------------------------------------------------------

    async def add_version(self, definition: ToolDefinition, *, bump: str | None = None) -> bool:
        """Store a tool version. Returns False when the identical version already exists.

        The same version with a different schema, source or code is a conflict: versions are
        immutable, so a changed tool needs a new version number. `bump` (patch, minor, major)
        picks that number instead: the newest stored version, bumped — unless an identical
        version is stored already.
        """
        parse_version(definition.version)
        check_name(definition.name, "tool name")
        await self.ensure_toolkit(definition.toolkit)
        for _attempt in range(3):  # a concurrent writer may create the tool row between our reads
            async with self._sessions() as session:
                stored = {
                    row.version: row
                    for row in await session.scalars(
                        select(ToolVersionRow).where(ToolVersionRow.tool_id == definition.tool_id)
                    )
                }
                if bump is not None and stored:
                    if any(same_version(row, definition) for row in stored.values()):
                        return False
                    newest = newest_first(list(stored))[0]
                    if parse_version(definition.version) <= parse_version(newest):
                        definition = replace(definition, version=bump_version(newest, bump))
                existing = stored.get(definition.version)
                if existing is not None:
                    if same_version(existing, definition):
                        return False
                    newest = newest_first(list(stored))[0]
                    raise ConflictError(
                        f"{definition.tool_id}@{definition.version} is already registered "
                        f"with a different {difference(existing, definition)}",
                        hint="Versions are immutable: register the changed tool as "
                        f"{bump_version(newest, 'patch')} (e.g. @tool(version=...)), or let "
                        "toolfoundry pick it with `--bump patch` (bump='patch').",
                    )
                tool_row = await session.get(ToolRow, definition.tool_id)
                if tool_row is None:
                    session.add(
                        ToolRow(
                            id=definition.tool_id,
                            toolkit_id=definition.toolkit,
                            name=definition.name,
                            kind=definition.kind.value,
                            tags=list(definition.tags or ()),
                            examples=list(definition.examples or ()),
                            timeout=definition.timeout,
                            retries=definition.retries,
                        )
                    )
                elif tool_row.kind != definition.kind.value:
                    raise ConflictError(
                        f"{definition.tool_id} is a {tool_row.kind} tool; "
                        f"cannot add a {definition.kind.value} version",
                        hint="Register it under another name or toolkit.",
                    )
                else:
                    if definition.tags is not None:
                        tool_row.tags = list(definition.tags)
                    if definition.examples is not None:
                        tool_row.examples = list(definition.examples)
                    tool_row.timeout = definition.timeout
                    tool_row.retries = definition.retries
                    tool_row.updated_at = utcnow()
                session.add(
                    ToolVersionRow(
                        tool_id=definition.tool_id,
                        version=definition.version,
                        description=definition.description,
                        input_schema=definition.input_schema,
                        output_schema=definition.output_schema,
                        source=definition.source,
                        code_hash=definition.code_hash,
                    )
                )
                try:
                    await session.commit()
                    return True
                except IntegrityError:
                    await session.rollback()
        raise ConflictError(
            f"could not store {definition.tool_id}@{definition.version}: concurrent writers",
            hint="Retry the registration.",
        )

    async def add_versions(self, definitions: list[ToolDefinition]) -> list[str]:
        """Store many versions in one transaction (start-up registers dozens of starter tools).
        Identical existing versions are skipped; a version whose schema or source changed is
        left as stored and its id returned, for the caller to report. Falls back to one at a
        time when another writer races this one."""
        for definition in definitions:
            parse_version(definition.version)
            check_name(definition.name, "tool name")
            check_name(definition.toolkit, "toolkit name")
        ids = list({d.tool_id for d in definitions})
        try:
            async with self._sessions() as session:
                kits = set((await session.scalars(select(ToolkitRow.id))).all())
                tools = {
                    row.id: row
                    for row in (await session.scalars(select(ToolRow).where(ToolRow.id.in_(ids))))
                }
                stored = {
                    (row.tool_id, row.version): row
                    for row in await session.scalars(
                        select(ToolVersionRow).where(ToolVersionRow.tool_id.in_(ids))
                    )
                }
                changed: list[str] = []
                for d in definitions:
                    if d.toolkit not in kits:
                        session.add(ToolkitRow(id=d.toolkit, name=d.toolkit))
                        kits.add(d.toolkit)
                    existing = stored.get((d.tool_id, d.version))
                    if existing is not None:
                        if not same_version(existing, d):
                            changed.append(d.tool_id)
                        continue
                    if d.tool_id not in tools:
                        tools[d.tool_id] = ToolRow(
                            id=d.tool_id,
                            toolkit_id=d.toolkit,
                            name=d.name,
                            kind=d.kind.value,
                            tags=list(d.tags or ()),
                            examples=list(d.examples or ()),
                            timeout=d.timeout,
                            retries=d.retries,
                        )
                        session.add(tools[d.tool_id])
                    session.add(
                        ToolVersionRow(
                            tool_id=d.tool_id,
                            version=d.version,
                            description=d.description,
                            input_schema=d.input_schema,
                            output_schema=d.output_schema,
                            source=d.source,
                            code_hash=d.code_hash,
                        )
                    )
                await session.commit()
                return changed
        except IntegrityError:
            changed = []
            for d in definitions:
                try:
                    await self.add_version(d)
                except ConflictError:
                    changed.append(d.tool_id)
            return changed

    async def set_state(
        self,
        tool_id: str,
        *,
        version: str | None = None,
        enabled: bool | None = None,
        deprecated: bool | None = None,
    ) -> None:
        """Enable/disable or (un)deprecate a whole tool, or one version when `version` is set."""
        async with self._sessions() as session:
            tool_row = await session.get(ToolRow, tool_id)
            if tool_row is None:
                raise ToolNotFoundError(tool_id, await self.suggest(tool_id))
            target: ToolRow | ToolVersionRow = tool_row
            if version is not None:
                version_row = await session.scalar(
                    select(ToolVersionRow).where(
                        ToolVersionRow.tool_id == tool_id, ToolVersionRow.version == version
                    )
                )
                if version_row is None:
                    raise NotFoundError(
                        f"{tool_id} has no version {version!r}",
                        hint=f"See its versions with `toolfoundry tools show {tool_id}`.",
                    )
                target = version_row
            if enabled is not None:
                target.enabled = enabled
            if deprecated is not None:
                target.deprecated = deprecated
            tool_row.updated_at = utcnow()
            await session.commit()

    async def set_generated_examples(self, tool_id: str, examples: list[str]) -> None:
        """Replace the requests a model wrote for ``tool_id`` (the author's stay as they are)."""
        async with self._sessions() as session:
            tool_row = await session.get(ToolRow, tool_id)
            if tool_row is None:
                raise ToolNotFoundError(tool_id, await self.suggest(tool_id))
            tool_row.generated_examples = list(examples)
            tool_row.updated_at = utcnow()
            await session.commit()

    async def remove_tool(self, tool_id: str) -> None:
        async with self._sessions() as session:
            tool_row = await session.get(ToolRow, tool_id)
            if tool_row is None:
                raise ToolNotFoundError(tool_id, await self.suggest(tool_id))
            await session.delete(tool_row)
            await session.commit()

    async def list_tools(self, flt: ToolFilter | None = None) -> list[Tool]:
        flt = flt or ToolFilter()
        stmt: Select[tuple[ToolRow]] = select(ToolRow).order_by(ToolRow.id)
        if flt.toolkit:
            stmt = stmt.where(ToolRow.toolkit_id == flt.toolkit)
        if flt.kind:
            stmt = stmt.where(ToolRow.kind == flt.kind.value)
        if flt.enabled is not None:
            stmt = stmt.where(ToolRow.enabled == flt.enabled)
        if flt.ids is not None:
            stmt = stmt.where(ToolRow.id.in_(list(flt.ids)))
        async with self._sessions() as session:
            tool_rows = list((await session.scalars(stmt)).all())
            ids = [row.id for row in tool_rows]
            versions = await self._versions_by_tool(session, ids)
            usage = await self._usage(session, ids)
        tools = [
            self._to_model(row, versions.get(row.id, []), usage.get(row.id)) for row in tool_rows
        ]
        if flt.q:
            needle = flt.q.lower()
            tools = [
                t
                for t in tools
                if needle in t.id.lower()
                or needle in t.description.lower()
                or any(needle in tag.lower() for tag in t.tags)
            ]
        return tools

    async def get_tool(self, tool_id: str) -> Tool:
        tools = await self.list_tools(ToolFilter(ids=[tool_id]))
        if not tools:
            raise ToolNotFoundError(tool_id, await self.suggest(tool_id))
        return tools[0]

    async def all_versions(
        self, tool_ids: Iterable[str] | None = None
    ) -> list[tuple[ToolRow, ToolVersionRow]]:
        """Every stored version with its tool row (of the given tools only, if named)."""
        stmt = select(ToolRow, ToolVersionRow).join(
            ToolVersionRow, ToolVersionRow.tool_id == ToolRow.id
        )
        if tool_ids is not None:
            stmt = stmt.where(ToolRow.id.in_(list(tool_ids)))
        async with self._sessions() as session:
            return [(t, v) for t, v in (await session.execute(stmt)).all()]

    async def suggest(self, tool_id: str, limit: int = 3) -> list[str]:
        """Close tool ids for a 404, so a typo gets a useful answer."""
        async with self._sessions() as session:
            ids = list((await session.scalars(select(ToolRow.id))).all())
        base = tool_id.split("@", 1)[0]
        matches = process.extract(base, ids, limit=limit, score_cutoff=60)
        return [match for match, _score, _index in matches]

    async def record_changes(self, change: ChangeEvent, subjects: Iterable[str]) -> None:
        """Record changes that are no catalog row (what a finished run taught its tools)."""
        async with self._sessions() as session:
            for subject in subjects:
                record_change(session.sync_session, change, subject)
            await session.commit()

    # --- call log ---------------------------------------------------------------------------

    async def record_calls(self, calls: Iterable[CallLog]) -> None:
        # One multi-row INSERT, without ORM objects: every gateway call waits for this commit.
        rows = [dict(call.__dict__) for call in calls]
        if not rows:
            return
        async with self._sessions() as session:
            await session.execute(insert(ToolCallRow), rows)
            await session.commit()

    async def recent_calls(self, limit: int = 50, tool_id: str | None = None) -> list[CallRecord]:
        stmt = select(ToolCallRow).order_by(ToolCallRow.id.desc()).limit(limit)
        if tool_id:
            stmt = stmt.where(ToolCallRow.tool_id == tool_id)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [CallRecord.model_validate(row) for row in rows]

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    async def _versions_by_tool(
        session: AsyncSession, ids: list[str]
    ) -> dict[str, list[ToolVersionRow]]:
        if not ids:
            return {}
        rows = (
            await session.scalars(select(ToolVersionRow).where(ToolVersionRow.tool_id.in_(ids)))
        ).all()
        grouped: dict[str, list[ToolVersionRow]] = {}
        for row in rows:
            grouped.setdefault(row.tool_id, []).append(row)
        return grouped

    @staticmethod
    async def _usage(session: AsyncSession, ids: list[str]) -> dict[str, Usage]:
        """Per tool: recorded calls and successes, finished runs that used it and successes."""
        if not ids:
            return {}
        stmt = (
            select(
                ToolCallRow.tool_id,
                func.count(),
                func.sum(case((ToolCallRow.success, 1), else_=0)),
            )
            .where(ToolCallRow.tool_id.in_(ids))
            .group_by(ToolCallRow.tool_id)
        )
        calls = {t: (n, int(ok or 0)) for t, n, ok in (await session.execute(stmt)).all()}
        runs = await run_outcomes(session, ids)
        return {
            tool_id: Usage(*calls.get(tool_id, (0, 0)), *runs.get(tool_id, (0, 0)))
            for tool_id in calls.keys() | runs.keys()
        }

    @staticmethod
    def _to_model(row: ToolRow, version_rows: list[ToolVersionRow], usage: Usage | None) -> Tool:
        by_version = {v.version: v for v in version_rows}
        ordered = [by_version[v] for v in newest_first(list(by_version))]
        # The current version is the newest enabled one; a tool whose versions are all disabled
        # still shows its newest version so it stays inspectable.
        current = next((v for v in ordered if v.enabled), ordered[0])
        usage = usage or Usage()
        calls, ok = usage.calls, usage.successes
        return Tool(
            id=row.id,
            name=row.name,
            description=current.description,
            toolkit=row.toolkit_id,
            kind=ToolKind(row.kind),
            input_schema=current.input_schema,
            output_schema=current.output_schema,
            version=current.version,
            enabled=row.enabled and any(v.enabled for v in ordered),
            deprecated=row.deprecated or current.deprecated,
            tags=list(row.tags or []),
            examples=list(row.examples or []),
            generated_examples=list(row.generated_examples or []),
            usage_count=calls,
            success_rate=(ok / calls) if calls else None,
            effectiveness_score=effectiveness(*usage)
            if calls or usage.runs
            else row.effectiveness_score,
            source=current.source,
            created_at=row.created_at,
            updated_at=row.updated_at,
            versions=[ToolVersion.model_validate(v) for v in ordered],
        )
