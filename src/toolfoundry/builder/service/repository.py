"""The MCP repository: built servers kept for reuse, and the failures kept for the healer.

An asset's files (server code, its venv, the sandbox's work directory) live under
`data_dir/mcp_assets/<asset_id>/`; everything else is in the database. A new request reuses an
asset when its requirement hash matches one built in the last 24 hours, or when its text is similar
(cosine of embeddings ≥ 0.7, token overlap without an embedder) and the asset has every dependency
the request names and the network access it needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from toolfoundry.builder.models import BuildRequirement, SecurityReport, ValidationReport
from toolfoundry.core.errors import NotFoundError
from toolfoundry.core.models import UtcDatetime, utcnow
from toolfoundry.store.tables import BuildFailureRow, McpAssetRow

log = logging.getLogger(__name__)

SIMILARITY_THRESHOLD = 0.7
CACHE_TTL = timedelta(hours=24)
_STOP_WORDS = frozenset(
    re.findall(
        r"\w+", "a an and are as at be by for from in into is it of on or that the this to with"
    )
)


class McpAsset(BaseModel):
    """A built, validated MCP server as the repository keeps it."""

    id: str
    name: str
    description: str
    requirement: BuildRequirement
    requirement_hash: str
    dependencies: list[str]
    """Canonical names of the installed dependencies (versions are in `metrics.packages`)."""
    network: bool
    """Whether the server may use the network at run time (granted by the requirement)."""
    provenance: Literal["built"] = "built"
    strategy: str
    path: str
    files: list[str]
    server_name: str
    toolkit: str
    tools: list[str] = Field(default_factory=list, description="Catalog ids of its tools.")
    launch: dict[str, Any] = Field(
        default_factory=dict, description="The stdio command that runs it in the sandbox."
    )
    validation: ValidationReport
    security: SecurityReport
    metrics: dict[str, Any] = Field(default_factory=dict)
    reuse_count: int = 0
    last_used_at: UtcDatetime | None = None
    effectiveness: float = Field(
        0.0, description="Share of the requirement's examples the server reproduced."
    )
    build_id: str
    created_at: UtcDatetime


class SimilarAsset(BaseModel):
    asset: McpAsset
    match: Literal["exact", "similar"]
    """exact: same requirement hash within the cache TTL; similar: by embedding or tokens."""
    similarity: float


class FailureAnalysis(BaseModel):
    build_id: str
    requirement_hash: str
    strategy: str | None
    phase: str
    error_class: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    created_at: UtcDatetime


def requirement_hash(requirement: BuildRequirement) -> str:
    """sha256 of the requirement as normalised JSON: case, spacing and order do not matter."""
    normal = {
        "description": " ".join(requirement.description.lower().split()),
        "technical_specs": sorted(" ".join(s.lower().split()) for s in requirement.technical_specs),
        "dependencies": sorted(_normal_dependency(d) for d in requirement.dependencies),
        "examples": sorted(
            json.dumps(e.model_dump(mode="json"), sort_keys=True) for e in requirement.examples
        ),
        "constraints": sorted(" ".join(c.lower().split()) for c in requirement.constraints),
        "network": requirement.network,
    }
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()


def dependency_names(requirement: BuildRequirement) -> list[str]:
    return sorted({canonicalize_name(Requirement(d).name) for d in requirement.dependencies})


def _normal_dependency(value: str) -> str:
    parsed = Requirement(value)
    parsed.name = canonicalize_name(parsed.name)
    return str(parsed)


def _text(requirement: BuildRequirement) -> str:
    return ". ".join([requirement.description, *requirement.technical_specs])


def _tokens(text: str) -> set[str]:
    tokens = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if len(word) < 2 or word in _STOP_WORDS:
            continue
        tokens.add(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return tokens


def token_similarity(a: str, b: str) -> float:
    """Overlap coefficient of the content words: a short request inside a longer one scores 1."""
    left, right = _tokens(a), _tokens(b)
    if not left or not right:
        return 0.0
    return len(left & right) / min(len(left), len(right))


class McpRepository:
    """Assets and failure analyses in the database, asset files on disk."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        assets_dir: Path,
        *,
        embedder: Any = None,
        similarity_threshold: float = SIMILARITY_THRESHOLD,
        cache_ttl: timedelta = CACHE_TTL,
    ) -> None:
        """`embedder`: anything with `name` and `embed_query(texts) -> ndarray` (the discovery
        embedders); None means token overlap only."""
        self.sessions = self._sessions = sessions
        self.assets_dir = assets_dir
        self.embedder = embedder
        self.similarity_threshold = similarity_threshold
        self.cache_ttl = cache_ttl

    def asset_dir(self, asset_id: str) -> Path:
        return self.assets_dir / asset_id

    async def embed(self, requirement: BuildRequirement) -> np.ndarray | None:
        """The requirement's vector, or None without a working embedder."""
        if self.embedder is None or getattr(self.embedder, "dim", 1) == 0:
            return None
        try:
            vectors = await asyncio.to_thread(self.embedder.embed_query, [_text(requirement)])
        except Exception as exc:  # a missing model must not stop builds: fall back to tokens
            log.warning("embedder %s failed (%s); using token overlap", self.embedder.name, exc)
            self.embedder = None
            return None
        return np.asarray(vectors[0], dtype=np.float32)

    async def store(self, asset: McpAsset) -> McpAsset:
        vector = await self.embed(asset.requirement)
        async with self._sessions() as session:
            session.add(
                McpAssetRow(
                    **asset.model_dump(
                        mode="json",
                        exclude={"tools", "launch", "created_at", "last_used_at", "requirement"},
                    ),
                    requirement=asset.requirement.model_dump(mode="json"),
                    launch={**asset.launch, "tools": asset.tools},
                    embedding=vector.tobytes() if vector is not None else None,
                    embedding_model=self.embedder.name if vector is not None else None,
                    created_at=asset.created_at,
                )
            )
            await session.commit()
        return asset

    async def get(self, asset_id: str) -> McpAsset:
        async with self._sessions() as session:
            row = await session.get(McpAssetRow, asset_id)
        if row is None:
            raise NotFoundError(
                f"no MCP asset {asset_id!r}",
                hint="List built servers with `toolfoundry builds list`.",
            )
        return _to_asset(row)

    async def list(self) -> list[McpAsset]:
        async with self._sessions() as session:
            rows = (
                await session.scalars(select(McpAssetRow).order_by(McpAssetRow.created_at))
            ).all()
        return [_to_asset(row) for row in rows]

    async def find_similar(
        self, requirement: BuildRequirement, limit: int = 5
    ) -> list[SimilarAsset]:
        """Assets that can serve `requirement`, best first: exact hash matches within the TTL,
        then similar ones at or above the threshold."""
        wanted_hash = requirement_hash(requirement)
        wanted_deps = set(dependency_names(requirement))
        async with self._sessions() as session:
            rows = (await session.scalars(select(McpAssetRow))).all()
        candidates = [
            row
            for row in rows
            if wanted_deps <= set(row.dependencies) and (row.network or not requirement.network)
        ]
        if not candidates:
            return []
        now = utcnow()
        vector: np.ndarray | None = None
        if any(row.requirement_hash != wanted_hash for row in candidates):
            vector = await self.embed(requirement)
        found: list[SimilarAsset] = []
        for row in candidates:
            if (
                row.requirement_hash == wanted_hash
                and now - _aware(row.created_at) <= self.cache_ttl
            ):
                found.append(SimilarAsset(asset=_to_asset(row), match="exact", similarity=1.0))
                continue
            similarity = self._similarity(requirement, row, vector)
            if similarity >= self.similarity_threshold:
                found.append(
                    SimilarAsset(asset=_to_asset(row), match="similar", similarity=similarity)
                )
        found.sort(key=lambda s: (s.match != "exact", -s.similarity, -s.asset.effectiveness))
        return found[:limit]

    def _similarity(
        self, requirement: BuildRequirement, row: McpAssetRow, vector: np.ndarray | None
    ) -> float:
        if (
            vector is not None
            and row.embedding is not None
            and row.embedding_model == getattr(self.embedder, "name", None)
        ):
            stored = np.frombuffer(row.embedding, dtype=np.float32)
            if stored.shape == vector.shape:
                norms = float(np.linalg.norm(stored) * np.linalg.norm(vector)) or 1.0
                return round(float(stored @ vector) / norms, 4)
        stored_requirement = BuildRequirement.model_validate(row.requirement)
        return round(token_similarity(_text(requirement), _text(stored_requirement)), 4)

    async def record_use(self, asset_id: str) -> None:
        async with self._sessions() as session:
            await session.execute(
                update(McpAssetRow)
                .where(McpAssetRow.id == asset_id)
                .values(reuse_count=McpAssetRow.reuse_count + 1, last_used_at=utcnow())
            )
            await session.commit()

    async def record_failure(self, failure: FailureAnalysis) -> None:
        async with self._sessions() as session:
            session.add(BuildFailureRow(**failure.model_dump(mode="json", exclude={"created_at"})))
            await session.commit()

    async def failures(
        self,
        *,
        requirement_hash: str | None = None,
        error_class: str | None = None,
        limit: int = 50,
    ) -> list[FailureAnalysis]:
        """Recorded failures, newest first, for a healer choosing what to try next."""
        stmt = select(BuildFailureRow).order_by(BuildFailureRow.id.desc()).limit(limit)
        if requirement_hash is not None:
            stmt = stmt.where(BuildFailureRow.requirement_hash == requirement_hash)
        if error_class is not None:
            stmt = stmt.where(BuildFailureRow.error_class == error_class)
        async with self._sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [
            FailureAnalysis(
                build_id=r.build_id,
                requirement_hash=r.requirement_hash,
                strategy=r.strategy,
                phase=r.phase,
                error_class=r.error_class,
                message=r.message,
                details=r.details,
                created_at=_aware(r.created_at),
            )
            for r in rows
        ]


def _to_asset(row: McpAssetRow) -> McpAsset:
    return McpAsset(
        id=row.id,
        name=row.name,
        description=row.description,
        requirement=BuildRequirement.model_validate(row.requirement),
        requirement_hash=row.requirement_hash,
        dependencies=row.dependencies,
        network=row.network,
        strategy=row.strategy,
        path=row.path,
        files=row.files,
        server_name=row.server_name,
        toolkit=row.toolkit,
        tools=row.launch.get("tools", []),
        launch={k: v for k, v in row.launch.items() if k != "tools"},
        validation=ValidationReport.model_validate(
            {k: v for k, v in row.validation.items() if k != "passed"}
        ),
        security=SecurityReport.model_validate(
            {k: v for k, v in row.security.items() if k != "passed"}
        ),
        metrics=row.metrics,
        reuse_count=row.reuse_count,
        last_used_at=_aware(row.last_used_at) if row.last_used_at else None,
        effectiveness=row.effectiveness,
        build_id=row.build_id,
        created_at=_aware(row.created_at),
    )


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every value we store is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
